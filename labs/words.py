"""Word-level language model: Embedding → LSTM → softmax over words, with perplexity.

    python -m labs.words                                  # Nietzsche, report and samples
    python -m labs.words --corpus leopardi --seed-phrase "sempre caro mi fu"

Tokens are lowercased words (``\\w+``, an inner apostrophe kept: "don't", "l'erme") and
punctuation marks, each its own token: punctuation carries the rhythm of the text, and
generating it makes samples readable. Words seen fewer than ``--min-count`` times in the
training text become ``<unk>``. Each window of 5 tokens predicts the next one. Perplexity
on the held-out last 10% is reported per epoch next to a unigram model's, the number a
language model has to beat.
"""

import argparse
import collections
import math
import re
import time

import keras
import numpy as np
from keras import layers

from labs import data
from labs import runs
from labs.cli import (LabError, add_keras_options, add_run_options, apply_quick,
                      non_negative_int, positive_int, quick_help, run_lab)
from labs.data import split_holdout
from labs.reports import atomic_write_json, atomic_write_text, device_line, plot_history
from labs.sampling import Sampler
from labs.training import (ProgressNote, early_stopping, history_lists, make_dataset, on_devices,
                           replicas, training_logs, write_summary)

CORPORA = {"nietzsche": "nietzsche.txt", "leopardi": "leopardi.txt"}
UNKNOWN = "<unk>"
TOKEN = re.compile(r"\w+(?:'\w+)*'?|[^\w\s]")
WINDOW = 5
MIN_COUNT = 3
EMBEDDING_DIM = 128
UNITS = 256
BATCH_SIZE = 256
EPOCHS = 8
PATIENCE = 2  # epochs without a better held-out loss before stopping
LEARNING_RATE = 2e-3
SEED = 42
GENERATED_WORDS = 40
TOP_K = 10
SEED_PHRASES = {"nietzsche": "the philosopher is", "leopardi": "sempre caro mi fu"}
QUICK = {"tokens": 20_000, "epochs": 1}


def tokenize(text):
    """Lowercased words and punctuation marks, in order."""
    return TOKEN.findall(text.lower())


class Vocabulary:
    """Tokens seen at least ``min_count`` times, most frequent first; index 0 is ``<unk>``."""

    def __init__(self, tokens, min_count=MIN_COUNT):
        if min_count < 1:
            raise LabError(f"--min-count must be at least 1, got {min_count}")
        counts = collections.Counter(tokens)
        kept = sorted((token for token, count in counts.items() if count >= min_count),
                      key=lambda token: (-counts[token], token))
        self.words = [UNKNOWN, *kept]
        self.index = {word: number for number, word in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        return np.array([self.index.get(token, 0) for token in tokens], dtype=np.int32)

    def unknown_in(self, tokens):
        return [token for token in tokens if token not in self.index]


def check_token_count(tokens, path, window=WINDOW):
    """Refuse, before any training, a text too short for one held-out window."""
    needed = int((window + 1) / data.VALIDATION_FRACTION) + 1
    if len(tokens) < needed:
        raise LabError(f"{path} has {len(tokens):,} tokens (words and punctuation marks); the "
                       f"held-out last {data.VALIDATION_FRACTION:.0%} must hold a window of "
                       f"{window + 1}, so at least {needed:,} are needed: use a longer text")


def windows(encoded, window=WINDOW):
    """Every ``window`` consecutive tokens → the token after them (step 1)."""
    if len(encoded) <= window:
        raise LabError(f"need more than {window} tokens, got {len(encoded)}")
    starts = np.arange(len(encoded) - window)
    return encoded[starts[:, None] + np.arange(window)], encoded[starts + window]


def unigram_probabilities(encoded, vocabulary_size):
    """Token frequencies of the training text, add-one smoothed so none is zero."""
    counts = np.bincount(encoded, minlength=vocabulary_size) + 1.0
    return counts / counts.sum()


def perplexity(probabilities_of_targets):
    """exp of the mean cross-entropy, from the probability given to each true token."""
    return float(np.exp(-np.mean(np.log(probabilities_of_targets))))


def build_model(vocabulary_size, window=WINDOW, embedding_dim=EMBEDDING_DIM, units=UNITS,
                learning_rate=LEARNING_RATE):
    """Embedding → LSTM → softmax over the vocabulary, Adam with gradient clipping."""
    tokens = keras.Input(shape=(window,), dtype="int32", name="tokens")
    features = layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(tokens)
    features = layers.LSTM(units, name="lstm")(features)
    probabilities = layers.Dense(vocabulary_size, activation="softmax", name="next_word")(features)
    model = keras.Model(tokens, probabilities, name="word_lstm")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy")
    return model


def generate(model, vocabulary, seed_tokens, length, rng, sampler):
    """Continue ``seed_tokens`` (already known or ``<unk>``) by ``length`` tokens.

    ``<unk>`` is never drawn: it stands for every rare word at once, so the model gives it
    much of its probability and a sample full of ``<unk>`` says nothing. Its probability is
    set to 0 and the rest renormalised (the perplexity still counts it as the model gave it).
    ``predict_on_batch`` per token: one compiled call, not ``predict``'s per-call setup.
    """
    window = list(vocabulary.encode(seed_tokens))
    window = [0] * max(0, WINDOW - len(window)) + window
    output = []
    for _ in range(length):
        probabilities = np.asarray(model.predict_on_batch(np.array([window[-WINDOW:]])),
                                   np.float64)[0]
        probabilities[0] = 0.0  # <unk>
        index = sampler.draw(probabilities / probabilities.sum(), rng)
        output.append(vocabulary.words[index])
        window.append(index)
    return output


def detokenize(tokens):
    text = " ".join(tokens)
    return re.sub(r" ([.,;:!?)\]])", r"\1", text)


# ---------------------------------------------------------------- the story
def run(args):
    """Tokens → vocabulary → windows → unigram baseline → LSTM → perplexity → samples."""
    keras.utils.set_random_seed(args.seed)
    seed_phrase = args.seed_phrase or SEED_PHRASES[args.corpus]
    seed_tokens = tokenize(seed_phrase)
    if not seed_tokens:
        raise LabError("the seed phrase has no words")
    path = data.locate(CORPORA[args.corpus], args.datasets_dir)
    tokens = tokenize(data.load_text(path))[:QUICK["tokens"] if args.quick else None]
    check_token_count(tokens, path)
    train_tokens, held_out_tokens = split_holdout(tokens)
    vocabulary = Vocabulary(train_tokens, args.min_count)
    train_encoded = vocabulary.encode(train_tokens)
    held_out_encoded = vocabulary.encode(held_out_tokens)
    (train_x, train_y), (held_x, held_y) = windows(train_encoded), windows(held_out_encoded)
    unigram = perplexity(unigram_probabilities(train_encoded, len(vocabulary))[held_y])
    print(f"{len(tokens):,} tokens, vocabulary {len(vocabulary):,} (min count {args.min_count}), "
          f"{len(train_x):,} training windows, {len(held_x):,} held out; unigram perplexity "
          f"{unigram:.1f}")
    run = runs.start(f"words/{args.corpus}", "lstm", args.quick, args.reports_dir)
    model = build_model(len(vocabulary))
    started = time.perf_counter()
    history = fit(model, (train_x, train_y), (held_x, held_y), args, run)
    write_summary(model, run.reports / "model_summary.txt")
    metrics = word_metrics(args, tokens, vocabulary, held_out_encoded, history, unigram)
    metrics.update(parameters=model.count_params(), training_seconds=time.perf_counter() - started)
    samples = sample_rows(model, vocabulary, seed_tokens, args.length, args.seed)
    write_report(run, metrics, history, seed_phrase, vocabulary.unknown_in(seed_tokens), samples)
    runs.publish(run, f"40-words-{args.corpus}", "\n".join([
        f"## Word-level language model: {args.corpus}\n", f"- {run.describe()}",
        *summary_lines(metrics), f"[report]({run.link}/report.md)\n",
        f"![history]({run.link}/history.png)\n"]), args.keep)
    print(f"held-out perplexity {metrics['best_held_out_perplexity']:.1f} (epoch "
          f"{metrics['best_epoch']}) vs unigram {unigram:.1f}; wrote {run.reports / 'report.md'}")
    return metrics


def fit(model, training, held_out, args, run):
    """``model.fit`` with early stopping: the model that generates is the best epoch's (the
    small corpus overfits within a few). The batch is per replica under --distribute."""
    batch_size = args.batch_size * replicas()
    logs = training_logs(run.reports / "training_log.csv",
                         run.tensorboard if args.tensorboard else None)
    return history_lists(model.fit(
        make_dataset(*training, batch_size, seed=args.seed),
        validation_data=make_dataset(*held_out, batch_size), epochs=args.epochs, shuffle=False,
        verbose=2, callbacks=[early_stopping(PATIENCE), ProgressNote(args.corpus), *logs]))


def word_metrics(args, tokens, vocabulary, held_out_encoded, history, unigram):
    perplexities = [math.exp(value) for value in history["val_loss"]]
    best = int(np.argmin(history["val_loss"]))
    return {"corpus": args.corpus, "tokens": len(tokens), "vocabulary_size": len(vocabulary),
            "min_count": args.min_count, "window": WINDOW, "epochs": len(history["loss"]),
            "held_out_perplexity": perplexities, "best_epoch": best + 1,
            "best_held_out_perplexity": perplexities[best],
            "unigram_held_out_perplexity": unigram,
            "held_out_unknown_rate": float(np.mean(held_out_encoded == 0)),
            "seed": args.seed, "quick": args.quick}


def sample_rows(model, vocabulary, seed_tokens, length, seed):
    """(method, Markdown-safe text) for greedy, random, temperature 0.7 and top-k."""
    rng = np.random.RandomState(seed)
    methods = [("greedy", Sampler("greedy")),
               ("random (temperature 1.0)", Sampler("temperature", 1.0)),
               ("temperature 0.7", Sampler("temperature", 0.7)),
               (f"top-k (k = {TOP_K})", Sampler("top-k", top_k=TOP_K))]
    rows = []
    for title, sampler in methods:
        words = generate(model, vocabulary, seed_tokens, length, rng, sampler)
        text = detokenize(seed_tokens) + " **" + detokenize(words) + "**"
        rows.append((title, text.replace("<", "&lt;").replace(">", "&gt;")))
    return rows


# ---------------------------------------------------------------- report
def summary_lines(metrics):
    return [f"- {metrics['tokens']:,} tokens (lowercased words and punctuation), vocabulary "
            f"{metrics['vocabulary_size']:,} with `<unk>` (min count {metrics['min_count']}; "
            f"{metrics['held_out_unknown_rate']:.1%} of held-out tokens are `<unk>`)",
            f"- Embedding({EMBEDDING_DIM}) → LSTM({UNITS}) → softmax, Adam, windows of {WINDOW} "
            f"tokens; {metrics['epochs']} epochs in {metrics['training_seconds']:.0f} s (early "
            f"stopping, patience {PATIENCE}; the samples come from the best epoch)"
            + (" — QUICK MODE" if metrics["quick"] else ""),
            f"- best held-out perplexity {metrics['best_held_out_perplexity']:.1f} (epoch "
            f"{metrics['best_epoch']}) against the unigram model's "
            f"{metrics['unigram_held_out_perplexity']:.1f}\n"]


def write_report(run, metrics, history, seed_phrase, unknown, samples):
    """report.md, history.png and metrics.json in the run's folder."""
    directory, corpus = run.reports, metrics["corpus"]
    unigram = metrics["unigram_held_out_perplexity"]
    training = [math.exp(value) for value in history["loss"]]
    plot_history({"perplexity": training, "val_perplexity": metrics["held_out_perplexity"],
                  "loss": history["loss"], "val_loss": history["val_loss"]},
                 directory / "history.png",
                 [("loss", "cross-entropy (nats per token)"), ("perplexity", "perplexity")],
                 f"word LSTM on {corpus}; unigram held-out perplexity {unigram:.0f}")
    atomic_write_json(directory / "metrics.json", metrics)
    unknown_note = (f"Seed words not in the vocabulary, read as `<unk>`: {', '.join(unknown)}."
                    if unknown else "Every seed word is in the vocabulary.")
    if unknown:
        print(f"note: {unknown_note}")
    table = ["| epoch | training perplexity | held-out perplexity | unigram perplexity |",
             "|---:|---:|---:|---:|"]
    table += [f"| {epoch} | {train:.1f} | {held:.1f} | {unigram:.1f} |" for epoch, (train, held)
              in enumerate(zip(training, metrics["held_out_perplexity"]), 1)]
    lines = [f"# Word-level LSTM: {corpus}\n", f"- {run.describe()}",
             f"- {device_line(keras)}", *summary_lines(metrics),
             "![history](history.png)\n", *table, "",
             f"## Samples from “{seed_phrase}”\n", unknown_note + "\n",
             "Greedy decoding always takes the most probable word, so it falls into loops; "
             "sampling trades that for variety. `<unk>` (every word seen fewer than "
             f"{metrics['min_count']} times) is never drawn: its probability is set to 0 and "
             "the others renormalised.\n",
             "| method | text |", "|---|---|",
             *[f"| {title} | {text} |" for title, text in samples]]
    atomic_write_text(directory / "report.md", "\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labs.words",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=CORPORA, default="nietzsche",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS,
                        help="epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help="batch size (default: %(default)s)")
    parser.add_argument("--min-count", type=positive_int, default=MIN_COUNT,
                        help="rarer words become <unk> (default: %(default)s)")
    parser.add_argument("--seed-phrase", help="beginning for the samples (default: one per corpus)")
    parser.add_argument("--length", type=positive_int, default=GENERATED_WORDS,
                        help="tokens to generate per sample (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    add_keras_options(parser)
    add_run_options(parser, models=False)
    args = apply_quick(parser.parse_args(argv), QUICK)
    return run_lab("labs.words", on_devices(run), args)


if __name__ == "__main__":
    main()
