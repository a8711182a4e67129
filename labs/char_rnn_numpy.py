"""A character RNN from scratch in NumPy: what the Keras layers do, one function a step.

    python -m labs.char_rnn_numpy --corpus leopardi          # train, sample, report
    python -m labs.char_rnn_numpy --iterations 2000 --hidden 64

Embedding lookup → tanh RNN → logits, trained with truncated backpropagation through
time (25-character chunks, the hidden state carried from one chunk to the next), gradient
clipping and Adagrad, as in Karpathy's min-char-rnn. The report compares the loss with
two baselines every model must beat: the uniform guess (ln V nats) and the unigram model
(the entropy of the character frequencies).
"""

import argparse
import math
import sys
import time

import numpy as np
from tqdm import tqdm

from labs import data
from labs import runs
from labs.cli import (LabError, add_run_options, apply_quick, finite_positive_float,
                      non_negative_int, note_progress, positive_int, quick_help, run_lab)
from labs.data import split_holdout
from labs.reports import atomic_write_json, atomic_write_text, device_line, pyplot, save_figure
from labs.sampling import Sampler

CORPORA = {"leopardi": "leopardi.txt", "nietzsche": "nietzsche.txt"}
EMBED_DIM = 32
HIDDEN_DIM = 128
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP = 5.0
ITERATIONS = 300_000
SAMPLE_EVERY = 5_000
SAMPLE_LENGTH = 200
SEED = 42
QUICK = {"iterations": 1_000}
PARAMETER_NAMES = ("embedding", "W_xh", "W_hh", "b_h", "W_hy", "b_y")


# ---------------------------------------------------------------- data
def index_characters(text):
    """char → index and index → char, over the sorted distinct characters of ``text``."""
    if not text:
        raise LabError("the text is empty: nothing to learn from")
    characters = sorted(set(text))
    char_to_index = {character: index for index, character in enumerate(characters)}
    return char_to_index, characters


def encode(text, char_to_index):
    unknown = sorted(set(text) - set(char_to_index))
    if unknown:
        raise LabError(f"characters outside the vocabulary: {' '.join(map(repr, unknown))}")
    return np.array([char_to_index[character] for character in text], dtype=np.int64)


def make_chunks(encoded, seq_length):
    """Consecutive chunks: inputs ``encoded[i:i+L]``, targets shifted by one character."""
    if seq_length < 1:
        raise LabError(f"seq_length must be at least 1, got {seq_length}")
    starts = range(0, len(encoded) - 1 - seq_length + 1, seq_length)
    return [(encoded[start:start + seq_length], encoded[start + 1:start + seq_length + 1])
            for start in starts]


# ---------------------------------------------------------------- model
def init_params(vocab_size, embed_dim, hidden_dim, rng):
    """Small random weights (0.01 scale as min-char-rnn), zero biases."""
    return {
        "embedding": rng.normal(0, 0.01, (vocab_size, embed_dim)),
        "W_xh": rng.normal(0, 0.01, (embed_dim, hidden_dim)),
        "W_hh": rng.normal(0, 0.01, (hidden_dim, hidden_dim)),
        "b_h": np.zeros(hidden_dim),
        "W_hy": rng.normal(0, 0.01, (hidden_dim, vocab_size)),
        "b_y": np.zeros(vocab_size),
    }


def softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def cross_entropy(probabilities, targets):
    """Average cross-entropy in nats per character: ``-mean(log p_t[target_t])``."""
    return -np.mean(np.log(probabilities[np.arange(len(targets)), targets]))


def forward(params, inputs, targets, h_prev):
    """Run the RNN over one sequence.

    h_t = tanh(E[x_t] W_xh + h_{t-1} W_hh + b_h), y_t = h_t W_hy + b_y. Returns the
    average cross-entropy (nats per character), the hidden states (h_0 … h_T, h_0 being
    ``h_prev``) and what backward needs.
    """
    steps = len(inputs)
    embedded = params["embedding"][inputs]                      # (T, E)
    hidden = np.zeros((steps + 1, len(h_prev)))
    hidden[0] = h_prev
    for t in range(steps):
        hidden[t + 1] = np.tanh(embedded[t] @ params["W_xh"] + hidden[t] @ params["W_hh"]
                                + params["b_h"])
    logits = hidden[1:] @ params["W_hy"] + params["b_y"]       # (T, V)
    probabilities = softmax(logits)
    loss = cross_entropy(probabilities, targets)
    cache = {"inputs": inputs, "targets": targets, "embedded": embedded, "hidden": hidden,
             "logits": logits, "probabilities": probabilities}
    return loss, hidden, cache


def backward(params, cache):
    """Backpropagation through time for the average loss that ``forward`` returned."""
    inputs, targets = cache["inputs"], cache["targets"]
    hidden, embedded = cache["hidden"], cache["embedded"]
    steps = len(inputs)
    d_logits = cache["probabilities"].copy()
    d_logits[np.arange(steps), targets] -= 1
    d_logits /= steps                                         # the loss is a mean
    grads = {"W_hy": hidden[1:].T @ d_logits, "b_y": d_logits.sum(axis=0)}
    d_hidden_from_output = d_logits @ params["W_hy"].T         # (T, H)
    grads.update({name: np.zeros_like(params[name])
                  for name in ("embedding", "W_xh", "W_hh", "b_h")})
    d_next = np.zeros(hidden.shape[1])
    for t in reversed(range(steps)):
        d_h = d_hidden_from_output[t] + d_next
        d_raw = (1 - hidden[t + 1] ** 2) * d_h                # through tanh
        grads["b_h"] += d_raw
        grads["W_xh"] += np.outer(embedded[t], d_raw)
        grads["W_hh"] += np.outer(hidden[t], d_raw)
        grads["embedding"][inputs[t]] += d_raw @ params["W_xh"].T
        d_next = d_raw @ params["W_hh"].T
    return grads


def numerical_gradient(params, inputs, targets, h_prev, name, step=1e-5):
    """The loss's gradient with respect to ``params[name]`` by central differences: slow,
    but independent of ``backward``, which is checked against it."""
    gradient = np.zeros_like(params[name])
    for index in np.ndindex(gradient.shape):
        saved = params[name][index]
        params[name][index] = saved + step
        plus = forward(params, inputs, targets, h_prev)[0]
        params[name][index] = saved - step
        minus = forward(params, inputs, targets, h_prev)[0]
        params[name][index] = saved
        gradient[index] = (plus - minus) / (2 * step)
    return gradient


def clip_gradients(grads, limit=CLIP):
    """Clip each gradient element to [-limit, limit] against exploding gradients."""
    return {name: np.clip(grad, -limit, limit) for name, grad in grads.items()}


def adagrad_step(params, grads, memory, learning_rate):
    """Adagrad: each parameter's step shrinks with its accumulated squared gradients."""
    for name in PARAMETER_NAMES:
        memory[name] += grads[name] ** 2
        params[name] -= learning_rate * grads[name] / np.sqrt(memory[name] + 1e-8)


def step_probabilities(params, index, h):
    h = np.tanh(params["embedding"][index] @ params["W_xh"] + h @ params["W_hh"] + params["b_h"])
    return softmax(h @ params["W_hy"] + params["b_y"]), h


def generate_text(params, start_character, char_to_index, characters, length, rng,
                  method="temperature", temperature=1.0, top_k=None, top_p=None):
    """Generate ``length`` characters after ``start_character``, the state carried along."""
    if start_character not in char_to_index:
        raise LabError(f"start character {start_character!r} is not in the vocabulary")
    sampler = Sampler(method, temperature, top_k, top_p)
    h = np.zeros(params["W_hh"].shape[0])
    index = char_to_index[start_character]
    output = []
    for _ in range(length):
        probabilities, h = step_probabilities(params, index, h)
        index = sampler.draw(probabilities, rng)
        output.append(characters[index])
    return "".join(output)


def evaluate(params, encoded, seq_length=SEQ_LENGTH):
    """Average loss over a whole text, hidden state carried across chunks (no training)."""
    h = np.zeros(params["W_hh"].shape[0])
    total, count = 0.0, 0
    for inputs, targets in make_chunks(encoded, seq_length):
        loss, hidden, _ = forward(params, inputs, targets, h)
        h = hidden[-1]
        total += loss * len(inputs)
        count += len(inputs)
    return total / count


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
    smooth, curve, samples = math.log(len(characters)), [], []
    started = time.perf_counter()
    for iteration in tqdm(range(1, iterations + 1), desc="char-RNN", unit="it", mininterval=2,
                          file=sys.stderr, disable=None):
        position = (iteration - 1) % len(chunks)
        if position == 0:
            h = np.zeros(hidden_dim)  # a new pass over the text starts from a blank state
        inputs, targets = chunks[position]
        loss, h = train_step(params, memory, inputs, targets, h, learning_rate)
        note_progress(f"after iteration {iteration:,}")
        smooth = 0.999 * smooth + 0.001 * loss
        if iteration % 100 == 0 or iteration == iterations:
            curve.append((iteration, smooth))
        if sample_every and (iteration % sample_every == 0 or iteration == iterations):
            start = characters[inputs[0]]
            samples.append({"iteration": iteration, "loss": smooth, "start": start,
                            "text": generate_text(params, start, char_to_index, characters,
                                                  SAMPLE_LENGTH, sample_rng, temperature=0.7)})
            log(f"iteration {iteration}: smoothed loss {smooth:.4f}")
    seconds = time.perf_counter() - started
    return {"params": params, "characters": characters, "char_to_index": char_to_index,
            "curve": curve, "samples": samples, "seconds": seconds,
            "tokens_per_second": iterations * seq_length / seconds}


# ---------------------------------------------------------------- report
def plot_loss(corpus, result, metrics, path):
    """The smoothed training loss against the uniform and unigram baselines."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.5))
    iterations, losses = zip(*result["curve"])
    axis.plot(iterations, losses, label="training loss (smoothed)")
    axis.axhline(metrics["uniform_loss"], color="grey", linestyle=":",
                 label=f"uniform guess, ln {metrics['vocabulary_size']} = "
                       f"{metrics['uniform_loss']:.2f}")
    axis.axhline(metrics["unigram_loss_train"], color="tab:red", linestyle="--",
                 label=f"unigram model = {metrics['unigram_loss_train']:.2f}")
    axis.axhline(metrics["validation_loss"], color="tab:green", linestyle="-.",
                 label=f"held-out loss at the end = {metrics['validation_loss']:.2f}")
    axis.set_xlabel(f"iteration (one {metrics['seq_length']}-character chunk each)")
    axis.set_ylabel("cross-entropy, nats per character")
    axis.set_title(f"NumPy char-RNN on {corpus}")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def summary_lines(metrics):
    return [f"- {metrics['iterations']:,} iterations of {metrics['seq_length']} characters, "
            f"embedding {metrics['embed_dim']}, hidden {metrics['hidden_dim']}, Adagrad lr "
            f"{metrics['learning_rate']}, clipping ±{CLIP}, seed {metrics['seed']}",
            f"- final smoothed training loss {metrics['final_loss']:.4f} nats/char; held-out "
            f"(last 10%) {metrics['validation_loss']:.4f}; unigram "
            f"{metrics['unigram_loss_validation']:.4f} on the held-out text; uniform "
            f"{metrics['uniform_loss']:.4f}",
            f"- {metrics['tokens_per_second']:,.0f} characters/s of training "
            f"({metrics['seconds']:.0f} s)\n"]


def write_report(corpus, result, metrics, run):
    """loss.png, metrics.json and report.md (with samples taken during training) in the
    run's folder; returns the run's section of reports/index.md."""
    reports_dir = run.reports
    plot_loss(corpus, result, metrics, reports_dir / "loss.png")
    atomic_write_json(reports_dir / "metrics.json", metrics)
    lines = [f"# NumPy char-RNN: {corpus}\n", f"- {run.describe()}", f"- {device_line()}",
             *summary_lines(metrics),
             "![loss](loss.png)\n",
             "## Samples during training\n"]
    for entry in result["samples"]:
        lines += [f"### Iteration {entry['iteration']:,} (loss {entry['loss']:.3f}, "
                  f"temperature 0.7)\n", "```text", entry["start"] + entry["text"], "```\n"]
    atomic_write_text(reports_dir / "report.md", "\n".join(lines))
    return "\n".join([f"## Character RNN from scratch (NumPy): {corpus}\n",
                      f"- {run.describe()}", *summary_lines(metrics),
                      f"[report]({run.link}/report.md)\n", f"![loss]({run.link}/loss.png)\n"])


# ---------------------------------------------------------------- the story
def run(args):
    """Text → held-out split → train → evaluate against the baselines → report."""
    path = data.locate(CORPORA[args.corpus], args.datasets_dir)
    text = data.load_text(path)
    train_text, validation_text = split_holdout(text)
    check_length(path, text, validation_text, args.seq_length)
    run_folder = runs.start(f"char_rnn_numpy/{args.corpus}", f"h{args.hidden}", args.quick,
                            args.reports_dir)
    result = train(train_text, args.iterations, args.embed_dim, args.hidden, args.seq_length,
                   args.learning_rate, args.seed, sample_every=max(1, args.iterations // 8))
    metrics = run_metrics(args, text, validation_text, result)
    index = write_report(args.corpus, result, metrics, run_folder)
    runs.publish(run_folder, f"30-char-rnn-{args.corpus}", index, args.keep)
    print(f"final smoothed loss {metrics['final_loss']:.4f}, held-out "
          f"{metrics['validation_loss']:.4f} nats/char; unigram "
          f"{metrics['unigram_loss_validation']:.4f}, uniform {metrics['uniform_loss']:.4f}; "
          f"{metrics['tokens_per_second']:,.0f} chars/s")
    return metrics


def check_length(path, text, validation_text, seq_length):
    """Refuse, before training, a text whose held-out part cannot hold one chunk."""
    needed = int((seq_length + 1) / data.VALIDATION_FRACTION) + 1
    if len(validation_text) < seq_length + 1:
        raise LabError(f"{path} has {len(text):,} characters: too short for --seq-length "
                       f"{seq_length}, since the held-out last 10% must hold one chunk of "
                       f"{seq_length + 1} characters; at least {needed:,} characters are "
                       "needed (or a smaller --seq-length)")


def run_metrics(args, text, validation_text, result):
    """Final and held-out loss next to the uniform and unigram baselines."""
    train_text = text[:len(text) - len(validation_text)]
    # Training saw the vocabulary of the first 90% only; map the held-out text onto it.
    validation = "".join(c for c in validation_text if c in result["char_to_index"])
    validation_encoded = encode(validation, result["char_to_index"])
    train_encoded = encode(train_text, result["char_to_index"])
    vocab_size = len(result["characters"])
    return {
        "corpus": args.corpus, "characters": len(text), "vocabulary_size": vocab_size,
        "iterations": args.iterations, "seq_length": args.seq_length,
        "embed_dim": args.embed_dim, "hidden_dim": args.hidden,
        "learning_rate": args.learning_rate, "seed": args.seed,
        "final_loss": result["curve"][-1][1],
        "validation_loss": evaluate(result["params"], validation_encoded, args.seq_length),
        "unigram_loss_train": unigram_loss(train_encoded, train_encoded, vocab_size),
        "unigram_loss_validation": unigram_loss(train_encoded, validation_encoded, vocab_size),
        "uniform_loss": math.log(vocab_size),
        "held_out_characters_dropped": len(validation_text) - len(validation),
        "seconds": result["seconds"], "tokens_per_second": result["tokens_per_second"],
        "quick": args.quick,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labs.char_rnn_numpy",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=CORPORA, default="leopardi",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--iterations", type=positive_int, default=ITERATIONS,
                        help="training chunks (default: %(default)s)")
    parser.add_argument("--embed-dim", type=positive_int, default=EMBED_DIM,
                        help="embedding size (default: %(default)s)")
    parser.add_argument("--hidden", type=positive_int, default=HIDDEN_DIM,
                        help="hidden units (default: %(default)s)")
    parser.add_argument("--seq-length", type=positive_int, default=SEQ_LENGTH,
                        help="characters per BPTT chunk (default: %(default)s)")
    parser.add_argument("--learning-rate", type=finite_positive_float, default=LEARNING_RATE,
                        help="Adagrad learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    add_run_options(parser, models=False)
    args = apply_quick(parser.parse_args(argv), QUICK)
    return run_lab("labs.char_rnn_numpy", run, args)


if __name__ == "__main__":
    main()
