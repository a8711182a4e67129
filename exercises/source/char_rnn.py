# %% [markdown]
# # Exercise: a character-level RNN language model in NumPy
#
# You will write, function by function, the model of `labs/char_rnn/`: a vocabulary,
# input and target sequences, the parameters, the forward pass, the loss, the backward pass
# through time, gradient clipping, Adagrad, sampling with a temperature, and a training loop.
# Each function has a check right below it that compares it with the lab's own on random
# inputs and says what is wrong; run it as often as you like. When you grade the notebook,
# more checks run (other seeds, other sizes).
#
# Replace every `# TODO` and `raise NotImplementedError()` with your code. Keep the function
# names and signatures: the checks call them.

# %% [markdown]
# ## Set-up
# Run this cell first. In a clone of the repository (after `make venv`, with the `.venv`
# kernel) it finds the repository; on Colab it fetches it and the requirements it needs.

# %% locked=true
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = "https://github.com/rnn-labs/rnn-labs"
if "google.colab" in sys.modules and "RNN_LABS_ROOT" not in os.environ:
    if not Path("rnn-labs").is_dir():
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", REPOSITORY], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r",
                    "rnn-labs/requirements-colab.txt"], check=True)
    os.environ["RNN_LABS_ROOT"] = str(Path("rnn-labs").resolve())
ROOT = os.environ.get("RNN_LABS_ROOT") or next(
    (str(folder) for folder in [Path.cwd(), *Path.cwd().parents]
     if (folder / "exercises" / "checks.py").is_file()), None)
if ROOT is None:
    raise RuntimeError("open this notebook inside a clone of rnn-labs, or set RNN_LABS_ROOT")
sys.path.insert(0, ROOT)

import numpy as np

from exercises import checks

EMBED_DIM = 32  # the lab's sizes: embedding, hidden state, characters per training chunk
HIDDEN_DIM = 128
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP = 5.0

# %% [markdown]
# ## 1. Vocabulary and encoding
# A character model reads integers. Build `char_to_idx` over the **sorted** distinct
# characters of the text (indices from 0) and `idx_to_char`, its inverse (a dict from index
# to character), then encode a text as a NumPy array of indices.

# %% solution="vocabulary"
def build_vocabulary(text):
    """(char_to_idx, idx_to_char) over the sorted distinct characters of ``text``."""
    ### BEGIN SOLUTION
    characters = sorted(set(text))
    char_to_idx = {character: index for index, character in enumerate(characters)}
    idx_to_char = dict(enumerate(characters))
    return char_to_idx, idx_to_char
    ### END SOLUTION


def encode_text(text, char_to_idx):
    """``text`` as an integer array of its characters' indices."""
    ### BEGIN SOLUTION
    return np.array([char_to_idx[character] for character in text], dtype=np.int64)
    ### END SOLUTION


# %% check="vocabulary" points=1
checks.check_vocabulary(build_vocabulary, encode_text)
### BEGIN HIDDEN TESTS
checks.check_vocabulary(build_vocabulary, encode_text, texts=("a", "Zebra, zebra!\n\t", "ààb"))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Input and target sequences
# The model learns to predict the next character, so the target of a chunk is its input
# shifted by one. Cut the encoded text into consecutive chunks of `seq_length`: chunk `k`
# has inputs `encoded[s:s + seq_length]` and targets `encoded[s + 1:s + seq_length + 1]`
# with `s = k * seq_length`, as long as the targets fit in the text. Return a list of
# `(inputs, targets)` pairs.

# %% solution="targets"
def make_input_target(encoded, seq_length):
    """Consecutive (inputs, targets) chunks, the targets shifted by one character."""
    ### BEGIN SOLUTION
    pairs = []
    for start in range(0, len(encoded) - seq_length, seq_length):
        pairs.append((encoded[start:start + seq_length],
                      encoded[start + 1:start + seq_length + 1]))
    return pairs
    ### END SOLUTION


# %% check="targets" points=1
checks.check_targets(make_input_target)
### BEGIN HIDDEN TESTS
checks.check_targets(make_input_target,
                     seeds=checks.hidden_seeds("targets", 2), lengths=(1, 11, 22))
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Parameters
# An embedding row per character (`vocab_size × embed_dim`), the input-to-hidden `W_xh`
# (`embed_dim × hidden_dim`), the recurrent `W_hh` (`hidden_dim × hidden_dim`), the output
# `W_hy` (`hidden_dim × vocab_size`), and the biases `b_h`, `b_y`. Draw the weights from
# `rng.normal(0, 0.01, shape)` with `rng = np.random.default_rng(seed)`, in the order
# embedding, `W_xh`, `W_hh`, `W_hy`; start the biases at zero. Small weights keep `tanh` in
# its linear range at the start, where gradients flow.

# %% solution="init"
def init_char_rnn_model(vocab_size, embed_dim, hidden_dim, seed=0):
    """A dict with embedding, W_xh, W_hh, b_h, W_hy and b_y."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    return {
        "embedding": rng.normal(0, 0.01, (vocab_size, embed_dim)),
        "W_xh": rng.normal(0, 0.01, (embed_dim, hidden_dim)),
        "W_hh": rng.normal(0, 0.01, (hidden_dim, hidden_dim)),
        "b_h": np.zeros(hidden_dim),
        "W_hy": rng.normal(0, 0.01, (hidden_dim, vocab_size)),
        "b_y": np.zeros(vocab_size),
    }
    ### END SOLUTION


# %% check="init" points=1
checks.check_init(init_char_rnn_model)
### BEGIN HIDDEN TESTS
checks.check_init(init_char_rnn_model, sizes=((1, 1, 1), (60, 16, 32)))
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The forward pass
# For each input index `x_t`, look up its embedding `e_t`, update the hidden state
# `h_t = tanh(e_t @ W_xh + h_{t-1} @ W_hh + b_h)` (starting from `h0`), and compute the
# logits `h_t @ W_hy + b_y`. Return the logits of every step as one `(seq_len, vocab_size)`
# array and the list of hidden states `h_1 … h_T`.

# %% solution="forward"
def char_rnn_forward(input_seq, h0, params):
    """(logits_seq, h_states): logits per step (seq_len × vocab_size), states h_1 … h_T."""
    ### BEGIN SOLUTION
    h = h0
    logits, h_states = [], []
    for index in input_seq:
        h = np.tanh(params["embedding"][index] @ params["W_xh"] + h @ params["W_hh"]
                    + params["b_h"])
        h_states.append(h)
        logits.append(h @ params["W_hy"] + params["b_y"])
    return np.array(logits), h_states
    ### END SOLUTION


# %% check="forward" points=2
checks.check_forward(char_rnn_forward)
### BEGIN HIDDEN TESTS
checks.check_forward(char_rnn_forward, seeds=checks.hidden_seeds("forward", 3))
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The loss
# The average over the steps of the cross-entropy `-log softmax(logits_t)[target_t]`, in
# nats per character. Subtract each row's largest logit before `np.exp`: the softmax does
# not change, and large logits no longer overflow.

# %% solution="loss"
def sequence_cross_entropy_loss(logits_seq, target_seq):
    """Average cross-entropy (nats per character) of the targets under the logits."""
    ### BEGIN SOLUTION
    shifted = logits_seq - logits_seq.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probabilities[np.arange(len(target_seq)), target_seq]))
    ### END SOLUTION


# %% check="loss" points=1
checks.check_loss(sequence_cross_entropy_loss)
### BEGIN HIDDEN TESTS
checks.check_loss(sequence_cross_entropy_loss, seeds=checks.hidden_seeds("loss", 3))
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Backpropagation through time
# The gradients of the average loss with respect to every parameter, for one chunk that
# starts from the state `h0`. Run the forward pass (your `char_rnn_forward`), then walk the
# steps backwards: the gradient of the logits is `softmax(logits_t) - onehot(target_t)`
# divided by the number of steps; a hidden state receives gradient from its output and from
# the next step (`dh_next`), and `tanh` passes `1 - h_t ** 2` of it. Return a dict with the
# same keys as `params`. The check compares every gradient with numerical ones
# (`(L(w + ε) - L(w - ε)) / 2ε`, as CS231n's gradient checks do).

# %% solution="backward"
def char_rnn_backward(input_seq, target_seq, h0, params):
    """Gradients of the average loss over the chunk, a dict keyed like ``params``."""
    ### BEGIN SOLUTION
    logits, h_states = char_rnn_forward(input_seq, h0, params)
    steps = len(input_seq)
    states = [h0, *h_states]
    shifted = logits - logits.max(axis=1, keepdims=True)
    d_logits = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    d_logits[np.arange(steps), target_seq] -= 1
    d_logits /= steps
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(steps)):
        grads["W_hy"] += np.outer(states[t + 1], d_logits[t])
        grads["b_y"] += d_logits[t]
        dh = d_logits[t] @ params["W_hy"].T + dh_next
        d_raw = (1 - states[t + 1] ** 2) * dh
        grads["b_h"] += d_raw
        grads["W_xh"] += np.outer(params["embedding"][input_seq[t]], d_raw)
        grads["W_hh"] += np.outer(states[t], d_raw)
        grads["embedding"][input_seq[t]] += d_raw @ params["W_xh"].T
        dh_next = d_raw @ params["W_hh"].T
    return grads
    ### END SOLUTION


# %% check="backward" points=3
checks.check_backward(char_rnn_backward)
### BEGIN HIDDEN TESTS
checks.check_backward(char_rnn_backward, seeds=checks.hidden_seeds("backward", 2))
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Clipping
# Gradients through many steps can explode. Clip every element of every gradient to
# `[-limit, limit]` (`np.clip`) and return the dict of clipped gradients.

# %% solution="clip"
def clip_gradients(grads, limit):
    """Every gradient clipped element-wise to [-limit, limit]."""
    ### BEGIN SOLUTION
    return {name: np.clip(value, -limit, limit) for name, value in grads.items()}
    ### END SOLUTION


# %% check="clip" points=1
checks.check_clip(clip_gradients)
### BEGIN HIDDEN TESTS
checks.check_clip(clip_gradients, seeds=checks.hidden_seeds("clip", 2), limit=0.5)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Adagrad
# Each parameter gets its own step size: accumulate the squared gradients in `memory`
# (`memory += grad ** 2`) and move the parameter by
# `-learning_rate * grad / np.sqrt(memory + 1e-8)`. Update `params` and `memory` **in
# place** (the training loop keeps using the same arrays).

# %% solution="adagrad"
def adagrad_update(params, grads, memory, learning_rate):
    """One Adagrad step, in place; returns params."""
    ### BEGIN SOLUTION
    for name in params:
        memory[name] += grads[name] ** 2
        params[name] -= learning_rate * grads[name] / np.sqrt(memory[name] + 1e-8)
    return params
    ### END SOLUTION


# %% check="adagrad" points=1
checks.check_adagrad(adagrad_update)
### BEGIN HIDDEN TESTS
checks.check_adagrad(adagrad_update, seeds=checks.hidden_seeds("adagrad", 2), learning_rate=0.01)
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Temperature
# Sampling reweights the model's distribution: divide the logits by the temperature
# **before** the softmax (below 1 sharper, above 1 flatter). Return the probabilities.

# %% solution="temperature"
def temperature_probabilities(logits, temperature):
    """softmax(logits / temperature)."""
    ### BEGIN SOLUTION
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    weights = np.exp(scaled - scaled.max())
    return weights / weights.sum()
    ### END SOLUTION


# %% check="temperature" points=1
checks.check_temperature(temperature_probabilities)
### BEGIN HIDDEN TESTS
checks.check_temperature(temperature_probabilities,
                         seeds=checks.hidden_seeds("temperature", 1), temperatures=(0.1, 0.7, 5.0))
### END HIDDEN TESTS

# %% [markdown]
# ## 10. Sampling
# Generate text from a start character: from a zero hidden state, feed the current index,
# take the probabilities of the next character (`temperature_probabilities` of the logits
# at temperature 1), draw one with `np.argmax(rng.multinomial(1, probabilities))`, append
# its character and feed it back, carrying the hidden state along. Return the
# `sample_length` drawn characters as a string (without the start character). `rng` is a
# `np.random.RandomState`: the check compares your draws with the lab's under the same seed.

# %% solution="sample"
def sample_char_rnn(start_char_idx, params, char_to_idx, idx_to_char, sample_length, rng):
    """``sample_length`` characters drawn after the start character."""
    ### BEGIN SOLUTION
    h = np.zeros(params["W_hh"].shape[0])
    index = start_char_idx
    characters = []
    for _ in range(sample_length):
        logits, states = char_rnn_forward(np.array([index]), h, params)
        h = states[-1]
        probabilities = temperature_probabilities(logits[-1], 1.0)
        index = int(np.argmax(rng.multinomial(1, probabilities)))
        characters.append(idx_to_char[index])
    return "".join(characters)
    ### END SOLUTION


# %% check="sample" points=2
checks.check_sample(sample_char_rnn)
### BEGIN HIDDEN TESTS
checks.check_sample(sample_char_rnn, seeds=checks.hidden_seeds("sample", 3), length=80)
### END HIDDEN TESTS

# %% [markdown]
# ## 11. Training
# Put it together: build the vocabulary, encode the text, cut it into chunks of
# `SEQ_LENGTH`, initialise the parameters (`EMBED_DIM`, `HIDDEN_DIM`, seed 0) and an Adagrad
# memory of zeros, then for each of `steps` steps take the next chunk (back to the first
# after the last, with a fresh zero state), compute its loss and gradients from the current
# state, clip them to `CLIP`, update with `LEARNING_RATE`, and carry the last hidden state
# to the next chunk. Return the parameters and the list of the losses, one per step.
#
# The check trains on a small repetitive text: after 300 steps the text's loss must be
# below 1.5 nats per character. A uniform guess over its 14 characters costs 2.64 and the
# characters' frequencies alone 2.33: below 1.5, the model has learned from the context.

# %% solution="training"
def train_char_rnn(text, steps):
    """(params, losses) after ``steps`` steps of truncated backpropagation through time."""
    ### BEGIN SOLUTION
    char_to_idx, _ = build_vocabulary(text)
    chunks = make_input_target(encode_text(text, char_to_idx), SEQ_LENGTH)
    params = init_char_rnn_model(len(char_to_idx), EMBED_DIM, HIDDEN_DIM, seed=0)
    memory = {name: np.zeros_like(value) for name, value in params.items()}
    losses = []
    for step in range(steps):
        position = step % len(chunks)
        if position == 0:
            h = np.zeros(HIDDEN_DIM)
        inputs, targets = chunks[position]
        logits, h_states = char_rnn_forward(inputs, h, params)
        losses.append(sequence_cross_entropy_loss(logits, targets))
        grads = char_rnn_backward(inputs, targets, h, params)
        adagrad_update(params, clip_gradients(grads, CLIP), memory, LEARNING_RATE)
        h = h_states[-1]
    return params, losses
    ### END SOLUTION


# %% check="training" points=2
checks.check_training(train_char_rnn)

# %% [markdown]
# ## Try it
# Your model on the first lines of a real text, and what it writes (this cell is not graded;
# on Leopardi's *Canti*, `make char-rnn` trains the lab's model for 300,000 steps).

# %%
text = "the cat sat on the mat. the dog sat on the log. " * 8
params, losses = train_char_rnn(text, 300)
char_to_idx, idx_to_char = build_vocabulary(text)
print(f"loss {losses[0]:.2f} at the first step, {np.mean(losses[-15:]):.2f} over the last 15")
print(sample_char_rnn(char_to_idx["t"], params, char_to_idx, idx_to_char, 60,
                      np.random.RandomState(0)))
