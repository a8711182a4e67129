"""Truncated backpropagation through time over the text, start to end and again, and the
losses a model has to beat: the uniform guess and the unigram model."""

import math
import sys
import time

import numpy as np
from tqdm import tqdm

from labs.char_rnn.config import (EMBED_DIM, HIDDEN_DIM, LEARNING_RATE, SAMPLE_EVERY,
                                  SAMPLE_LENGTH, SEED, SEQ_LENGTH, WARM_UP)
from labs.char_rnn.model import (adagrad_step, backward, clip_gradients, encode, forward,
                                 index_characters, init_params, make_chunks)
from labs.char_rnn.sampling import generate_text
from labs.cli import LabError, note_progress


def evaluate(params, encoded, seq_length=SEQ_LENGTH, h=None):
    """Average loss over a whole text, hidden state carried across chunks (no training),
    from ``h`` (a zero state if None)."""
    h = np.zeros(params["W_hh"].shape[0]) if h is None else h
    total, count = 0.0, 0
    for inputs, targets in make_chunks(encoded, seq_length):
        loss, hidden, _ = forward(params, inputs, targets, h)
        h = hidden[-1]
        total += loss * len(inputs)
        count += len(inputs)
    return total / count


def warm_state(params, state, encoded, seq_length=SEQ_LENGTH, characters=WARM_UP):
    """The state to read a held-out text from: the one training ended in, carried over the
    last ``characters`` of the training text, which the held-out text continues.

    Why not a zero state: training starts from one only once a pass, so a model trained
    for a fraction of a pass has hardly met it, and from it (at some texts' first
    characters) a small model can fall into a state it never met and stay there, scoring
    worse than a uniform guess on any text, its own training text included (Nietzsche,
    hidden 64, 5,000 iterations: 11.5 nats from zero against 2.26 from this state)."""
    h = state
    tail = encoded[-(characters + 1):]
    for inputs, targets in make_chunks(tail, seq_length):
        _, hidden, _ = forward(params, inputs, targets, h)
        h = hidden[-1]
    return h


def unigram_loss(train_encoded, evaluated, vocab_size):
    """Cross-entropy of the character-frequency model (add-one smoothed) on ``evaluated``."""
    counts = np.bincount(train_encoded, minlength=vocab_size) + 1.0
    return float(-np.mean(np.log(counts / counts.sum())[evaluated]))


def train_step(params, memory, inputs, targets, h, learning_rate):
    """Forward, backward, clip, Adagrad on one chunk; returns its loss and the last state."""
    loss, hidden, cache = forward(params, inputs, targets, h)
    adagrad_step(params, clip_gradients(backward(params, cache)), memory, learning_rate)
    return loss, hidden[-1]


def train(text, iterations, embed_dim=EMBED_DIM, hidden_dim=HIDDEN_DIM, seq_length=SEQ_LENGTH,
          learning_rate=LEARNING_RATE, seed=SEED, sample_every=SAMPLE_EVERY, log=print):
    """Truncated BPTT over the text, start to end and again, the state carried across chunks."""
    char_to_index, characters = index_characters(text)
    chunks = make_chunks(encode(text, char_to_index), seq_length)
    if not chunks:
        raise LabError(f"the text is shorter than one sequence ({seq_length + 1} characters)")
    rng, sample_rng = np.random.default_rng(seed), np.random.RandomState(seed)
    params = init_params(len(characters), embed_dim, hidden_dim, rng)
    memory = {name: np.zeros_like(value) for name, value in params.items()}
    smooth, curve, samples, losses = math.log(len(characters)), [], [], []
    started = time.perf_counter()
    for iteration in tqdm(range(1, iterations + 1), desc="char-RNN", unit="it", mininterval=2,
                          file=sys.stderr, disable=None):
        position = (iteration - 1) % len(chunks)
        if position == 0:
            h = np.zeros(hidden_dim)  # a new pass over the text starts from a blank state
        inputs, targets = chunks[position]
        loss, h = train_step(params, memory, inputs, targets, h, learning_rate)
        losses.append(float(loss))
        note_progress(f"after iteration {iteration:,}")
        smooth = 0.999 * smooth + 0.001 * loss
        if iteration % 100 == 0 or iteration == iterations:
            curve.append((iteration, smooth))
        if sample_every and (iteration % sample_every == 0 or iteration == iterations):
            start = characters[targets[-1]]  # the next input after this chunk, read from h
            samples.append({"iteration": iteration, "loss": smooth, "start": start,
                            "text": generate_text(params, start, char_to_index, characters,
                                                  SAMPLE_LENGTH, sample_rng, temperature=0.7,
                                                  state=h)})
            log(f"iteration {iteration}: smoothed loss {smooth:.4f}")
    seconds = time.perf_counter() - started
    return {"params": params, "state": h, "losses": losses, "characters": characters,
            "char_to_index": char_to_index,
            "curve": curve, "samples": samples, "seconds": seconds,
            "tokens_per_second": iterations * seq_length / seconds}
