"""Word-level language model: Embedding → LSTM → softmax over words, with perplexity.

    python -m labs.words                                  # Nietzsche, report and samples
    python -m labs.words --tokens subword                 # a byte-level BPE: nothing unknown
    python -m labs.words --corpus leopardi --seed-phrase "sempre caro mi fu"

``--tokens words``: lowercased words (``\\w+``, an inner apostrophe kept: "don't",
"l'erme") and punctuation marks, each its own token: punctuation carries the rhythm of the
text, and generating it makes samples readable. Words seen fewer than ``--min-count`` times
in the training text become ``<unk>``, which is never sampled. ``--tokens subword``: a
byte-level BPE of ``--vocabulary-size`` tokens learned from the training text only
(``labs.tokens``), so no word is unknown and spaces and line breaks are tokens too.

The text is cut as the poetry lab cuts it (``labs.poetry.data.held_out_parts``): the model
learns from the first 85%, the next 5% chooses its epoch (early stopping), and the last 10%
is scored once, at the end: perplexity per token beside a unigram model's (the number a
language model has to beat) and **bits per character**, the measure every model of the
course shares (``make gpt2``'s comparison).
"""

import argparse
import collections
import math
import re
import time

import keras
import numpy as np
from keras import layers

from labs import measures
from labs import runs
from labs.cli import (LabError, add_keras_options, add_run_options, apply_quick, non_negative_int,
                      positive_int, quick_help, run_lab, whole_number)
from labs.poetry.data import VALIDATION_PART, held_out_parts
from labs.reports import atomic_write_json, atomic_write_text, device_line, plot_history
from labs.sampling import Sampler
from labs.tokens import learn_bpe
from labs.training import (ProgressNote, early_stopping, history_lists, make_dataset, on_devices,
                           replicas, training_logs, write_summary)

CORPORA = ("nietzsche", "leopardi")
TOKENIZATIONS = ("words", "subword")
FRAMEWORKS = ("keras", "pytorch")  # pytorch: the course's RNNModel, native (labs.words_torch)
CELLS = ("lstm", "rnn")  # Keras LSTM / SimpleRNN; PyTorch nn.LSTM / nn.RNN
UNKNOWN = "<unk>"
TOKEN = re.compile(r"\w+(?:'\w+)*'?|[^\w\s]")
WINDOWS = {"words": 5, "subword": 10}  # tokens of context: a subword is ~4 characters, a word ~5
WINDOW = WINDOWS["words"]
MIN_COUNT = 3
VOCABULARY_SIZE = 4000  # of the learned BPE (256 bytes and 3,744 merges)
EMBEDDING_DIM = 128
UNITS = 256
BATCH_SIZE = 256
EPOCHS = 8
PATIENCE = 2  # epochs without a better validation loss before stopping
LEARNING_RATE = 2e-3
SEED = 42
GENERATED_WORDS = 40
TOP_K = 10
COMPARISON_TEMPERATURE = 0.5  # labs.gpt2.compare samples every model at this temperature
SEED_PHRASES = {"nietzsche": "the philosopher is", "leopardi": "sempre caro mi fu"}
QUICK = {"characters": 120_000, "epochs": 1}


def tokenize(text):
    """Lowercased words and punctuation marks, in order."""
    return TOKEN.findall(text.lower())


class Vocabulary:
    """Tokens seen at least ``min_count`` times, most frequent first; index 0 is ``<unk>``."""

    unknown = 0  # the id generation never draws

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


class Tokenization:
    """One way to cut the text into ids: ``encode`` a text, ``decode`` ids, and how many
    characters the first ``window`` ids of a text take (they are context, never scored)."""

    def __init__(self, kind, fit_text, min_count=MIN_COUNT, size=VOCABULARY_SIZE):
        self.kind, self.min_count = kind, min_count
        if kind == "words":
            self.fit_tokens = tokenize(fit_text)
            self.vocabulary = Vocabulary(self.fit_tokens, min_count)
            self.spelling = SpellingCost(self.fit_tokens)
        else:
            self.vocabulary = learn_bpe(fit_text, size)
        self.window = WINDOWS[kind]

    def __len__(self):
        return len(self.vocabulary)

    @property
    def unknown(self):
        return self.vocabulary.unknown if self.kind == "words" else None

    def encode(self, text):
        if self.kind == "words":
            return self.vocabulary.encode(tokenize(text))
        return np.array(self.vocabulary.encode(text), np.int32)

    def decode(self, ids):
        if self.kind == "words":
            return detokenize([self.vocabulary.words[index] for index in ids])
        return self.vocabulary.decode(ids)

    def context_characters(self, text):
        """Characters of ``text`` that its first ``window`` tokens cover."""
        if self.kind == "words":
            spans = [match.end() for match in TOKEN.finditer(text.lower())]
            return spans[self.window - 1] if len(spans) >= self.window else len(text)
        return len(self.vocabulary.decode(self.vocabulary.encode(text)[:self.window]))

    def extra_nats(self, text, targets):
        """What the model's probabilities leave out: for words, each ``<unk>`` target stands
        for a whole rare word, so the cost of spelling that word is added."""
        if self.kind != "words":
            return 0.0
        tokens = tokenize(text)[self.window:]
        return sum(self.spelling(token) for token, target in zip(tokens, targets) if target == 0)

    def describe(self):
        if self.kind == "words":
            return (f"lowercased words and punctuation, vocabulary {len(self):,} with `<unk>` "
                    f"(min count {self.min_count})")
        return (f"a byte-level BPE of {len(self):,} tokens learned from the first 85% (nothing "
                "is unknown)")


class SpellingCost:
    """Nats to spell a word letter by letter with the training words' character frequencies
    (add-one smoothed, an end-of-word mark, one slot for unseen characters): the price of an
    ``<unk>`` in bits per character, so a word model is not credited for the letters it never
    predicts."""

    def __init__(self, tokens):
        self.counts = collections.Counter(character for token in tokens for character in token)
        self.ends = len(tokens)
        self.total = sum(self.counts.values()) + self.ends + len(self.counts) + 2

    def __call__(self, word):
        nats = -math.log((self.ends + 1) / self.total)
        return nats - sum(math.log((self.counts.get(character, 0) + 1) / self.total)
                          for character in word)


def check_token_count(count, path, window=WINDOW):
    """Refuse, before any training, a text too short for one window in its validation part."""
    needed = int((window + 1) / VALIDATION_PART) + 1
    if count < needed:
        raise LabError(f"{path} has {count:,} tokens; its validation part "
                       f"({VALIDATION_PART:.0%}, before the held-out 10%) must hold a window of "
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


def target_probabilities(model, inputs, targets, batch_size=2048):
    """The probability the model gives each target (in batches: all the softmax rows at once
    would be windows × vocabulary floats)."""
    result = []
    for start in range(0, len(inputs), batch_size):
        rows = model.predict_on_batch(inputs[start:start + batch_size])
        result.append(np.asarray(rows)[np.arange(len(rows)), targets[start:start + batch_size]])
    return np.concatenate(result).astype(np.float64)


def build_model(vocabulary_size, window=WINDOW, embedding_dim=EMBEDDING_DIM, units=UNITS,
                learning_rate=LEARNING_RATE, cell="lstm"):
    """Embedding → LSTM (or SimpleRNN) → softmax over the vocabulary, Adam with gradient
    clipping."""
    tokens = keras.Input(shape=(window,), dtype="int32", name="tokens")
    features = layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(tokens)
    recurrent = layers.LSTM if cell == "lstm" else layers.SimpleRNN
    features = recurrent(units, name=cell)(features)
    probabilities = layers.Dense(vocabulary_size, activation="softmax", name="next_word")(features)
    model = keras.Model(tokens, probabilities, name="word_lstm")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy")
    return model


def generate(model, vocabulary, seed_tokens, length, rng, sampler, window=WINDOW):
    """Continue ``seed_tokens`` (words, known or ``<unk>``) by ``length`` words."""
    ids = generate_ids(model, list(vocabulary.encode(seed_tokens)), length, rng, sampler, window,
                       unknown=0)
    return [vocabulary.words[index] for index in ids]


def generate_ids(model, seed_ids, length, rng, sampler, window, unknown=None):
    """``length`` ids after ``seed_ids``.

    ``unknown`` (``<unk>``) is never drawn: it stands for every rare word at once, so the
    model gives it much of its probability and a sample full of ``<unk>`` says nothing. Its
    probability is set to 0 and the rest renormalised (the perplexity still counts it as the
    model gave it). ``predict_on_batch`` per token: one compiled call, not ``predict``'s
    per-call setup.
    """
    context = [0] * max(0, window - len(seed_ids)) + list(seed_ids)
    output = []
    for _ in range(length):
        probabilities = np.asarray(model.predict_on_batch(np.array([context[-window:]])),
                                   np.float64)[0]
        if unknown is not None:
            probabilities[unknown] = 0.0
        index = sampler.draw(probabilities / probabilities.sum(), rng)
        output.append(index)
        context.append(index)
    return output


def detokenize(tokens):
    text = " ".join(tokens)
    return re.sub(r" ([.,;:!?)\]])", r"\1", text)


# ---------------------------------------------------------------- the story
def run(args):
    """Text cut as the poetry lab cuts it → tokens → windows → unigram baseline → LSTM
    (epoch chosen on the validation part) → held-out perplexity and bits/char → samples."""
    keras.utils.set_random_seed(args.seed)
    seed_phrase = args.seed_phrase or SEED_PHRASES[args.corpus]
    if not tokenize(seed_phrase):
        raise LabError(f"--seed-phrase {seed_phrase!r} has no words; give a word or two")
    parts = held_out_parts(args.corpus, args.datasets_dir, args.seed,
                           QUICK["characters"] if args.quick else None, log=lambda *_: None)
    tokens = Tokenization(args.tokens, parts.fit, args.min_count, args.vocabulary_size)
    encoded, pairs = encoded_windows(args, parts, tokens)
    (train_x, train_y), (validation_x, validation_y), (held_x, held_y) = pairs
    unigram = perplexity(unigram_probabilities(encoded[0], len(tokens))[held_y])
    print(f"{sum(map(len, encoded)):,} tokens ({args.tokens}), vocabulary {len(tokens):,}, "
          f"{len(train_x):,} training windows, {len(validation_x):,} validation, "
          f"{len(held_x):,} held out; unigram held-out perplexity {unigram:.1f}")
    lab = lab_name(args.corpus, args.tokens, args.framework)
    run = runs.start(lab, run_description(args), args.quick, args.reports_dir)
    model = build(args, len(tokens), tokens.window)
    started = time.perf_counter()
    history = fit(model, (train_x, train_y), (validation_x, validation_y), args, run)
    training_seconds = time.perf_counter() - started
    model = summarised(model, run.reports / "model_summary.txt")
    metrics = word_metrics(args, tokens, encoded, history, unigram)
    metrics.update(held_out_scores(model, tokens, parts.held_out, held_x, held_y))
    metrics.update(parameters=model.count_params(), training_seconds=training_seconds)
    samples = sample_rows(model, tokens, seed_phrase, args.length, args.seed)
    metrics.update(comparison_sample(model, tokens, parts.prompt, args))
    unknown = (tokens.vocabulary.unknown_in(tokenize(seed_phrase)) if args.tokens == "words"
               else [])
    write_report(run, metrics, history, seed_phrase, unknown, samples)
    runs.publish(run, f"40-{lab.replace('/', '-')}", "\n".join([
        f"## Word-level language model: {args.corpus}, {args.tokens}\n", f"- {run.describe()}",
        *summary_lines(metrics), f"[report]({run.link}/report.md)\n",
        f"![history]({run.link}/history.png)\n"]), args.keep)
    print(f"held-out perplexity {metrics['held_out_perplexity']:.1f} per token vs unigram "
          f"{unigram:.1f}, {metrics['held_out_bits_per_char']:.3f} bits/char (epoch "
          f"{metrics['best_epoch']}); wrote {run.reports / 'report.md'}")
    return metrics


def lab_name(corpus, tokens, framework="keras"):
    """words/<corpus>[-subword][-pytorch]: each model its own runs and index section."""
    return (f"words/{corpus}" + ("-subword" if tokens == "subword" else "")
            + ("-pytorch" if framework == "pytorch" else ""))


def run_description(args):
    name = args.cell if args.tokens == "words" else f"{args.cell}-bpe"
    return f"rnnmodel-pytorch-{name}" if args.framework == "pytorch" else name


def refuse_keras_options(args):
    """One line for a Keras-only option given with ``--framework pytorch``, before the
    devices are set up for it (which would otherwise speak first)."""
    for option, given in (("--distribute", args.distribute), ("--tensorboard", args.tensorboard),
                          ("--cpu-replicas", args.cpu_replicas)):
        if given and args.framework == "pytorch":
            raise LabError(f"{option} is for the Keras model; leave it out with --framework "
                           "pytorch")


def torch_module(args):
    """``labs.words_torch``, or one line when PyTorch is missing or a Keras-only option is
    given with it."""
    refuse_keras_options(args)
    try:
        from labs import words_torch
    except ImportError:
        raise LabError("--framework pytorch needs PyTorch: make words-pytorch installs it "
                       "(requirements-torch.txt), or pip install -r requirements-torch.txt -c "
                       "constraints.txt") from None
    return words_torch


def build(args, vocabulary_size, window):
    """The Keras model, or the course's PyTorch ``RNNModel`` of the same sizes."""
    if args.framework == "keras":
        return build_model(vocabulary_size, window, cell=args.cell)
    words_torch = torch_module(args)
    words_torch.torch.manual_seed(args.seed)
    return words_torch.RNNModel(vocabulary_size, EMBEDDING_DIM, UNITS, cell=args.cell)


def torch_device():
    from labs import words_torch

    return words_torch.device()


def summarised(model, path):
    """model_summary.txt; the model as the scoring and sampling code uses it."""
    if isinstance(model, keras.Model):
        write_summary(model, path)
        return model
    from labs import words_torch

    atomic_write_text(path, words_torch.summary(model))
    return words_torch.TorchPredictor(model)


def encoded_windows(args, parts, tokens):
    """The three parts as ids, checked, and cut into (windows, next token) pairs."""
    encoded = [tokens.encode(text) for text in (parts.fit, parts.validation, parts.held_out)]
    check_token_count(sum(map(len, encoded)), f"{args.corpus}.txt ({args.tokens})",
                      tokens.window)
    return encoded, [windows(ids, tokens.window) for ids in encoded]


def comparison_sample(model, tokens, prompt, args):
    """The continuation of the comparison prompt that ``labs.gpt2.compare`` shows."""
    continuation = generate_ids(model, tokens.encode(prompt), args.length,
                                np.random.RandomState(args.seed),
                                Sampler("temperature", COMPARISON_TEMPERATURE), tokens.window,
                                tokens.unknown)
    separator = " " if args.tokens == "words" else ""
    return {"comparison_prompt": prompt,
            "comparison_sample": prompt + separator + tokens.decode(continuation)}


def fit(model, training, validation, args, run):
    """``model.fit`` with early stopping on the validation part: the model that is scored
    and generates is the best epoch's (the small corpus overfits within a few). The batch
    is per replica under --distribute. The PyTorch model trains the same way by hand."""
    if not isinstance(model, keras.Model):
        from labs import words_torch

        history = words_torch.fit(model, training, validation, args.epochs, args.batch_size,
                                  LEARNING_RATE, PATIENCE, args.seed)
        atomic_write_text(run.reports / "training_log.csv", "epoch,loss,val_loss\n" + "".join(
            f"{epoch},{loss},{held}\n" for epoch, (loss, held)
            in enumerate(zip(history["loss"], history["val_loss"]))))
        return history
    batch_size = args.batch_size * replicas()
    logs = training_logs(run.reports / "training_log.csv",
                         run.tensorboard if args.tensorboard else None)
    return history_lists(model.fit(
        make_dataset(*training, batch_size, seed=args.seed),
        validation_data=make_dataset(*validation, batch_size), epochs=args.epochs, shuffle=False,
        verbose=2, callbacks=[early_stopping(PATIENCE), ProgressNote(args.corpus), *logs]))


def held_out_scores(model, tokens, text, held_x, held_y):
    """Perplexity per token and bits per character of the held-out part, scored once."""
    probabilities = target_probabilities(model, held_x, held_y)
    nats = -float(np.log(probabilities).sum())
    extra = tokens.extra_nats(text, held_y)
    characters = len(text) - tokens.context_characters(text)
    return {"held_out_perplexity": perplexity(probabilities),
            "held_out_bits_per_char": measures.bits_per_character(nats + extra, characters),
            "held_out_characters_scored": characters, "unknown_spelling_nats": extra}


def word_metrics(args, tokens, encoded, history, unigram):
    perplexities = [measures.perplexity(value) for value in history["val_loss"]]
    best = int(np.argmin(history["val_loss"]))
    held_out = encoded[2]
    return {"corpus": args.corpus, "tokenization": tokens.describe(), "tokens_kind": args.tokens,
            "tokens": int(sum(map(len, encoded))), "vocabulary_size": len(tokens),
            "min_count": args.min_count, "window": tokens.window,
            "epochs": len(history["loss"]), "validation_perplexity": perplexities,
            "best_epoch": best + 1, "best_validation_perplexity": perplexities[best],
            "unigram_held_out_perplexity": unigram,
            "held_out_unknown_rate": (float(np.mean(held_out == 0)) if args.tokens == "words"
                                      else 0.0),
            "framework": args.framework, "cell": args.cell,
            "seed": args.seed, "quick": args.quick}


def sample_rows(model, tokens, seed_phrase, length, seed):
    """(method, Markdown-safe text) for greedy, random, temperature 0.7 and top-k."""
    rng = np.random.RandomState(seed)
    methods = [("greedy", Sampler("greedy")),
               ("random (temperature 1.0)", Sampler("temperature", 1.0)),
               ("temperature 0.7", Sampler("temperature", 0.7)),
               (f"top-k (k = {TOP_K})", Sampler("top-k", top_k=TOP_K))]
    seed_ids = tokens.encode(seed_phrase)
    rows = [(title, sample_text(tokens, seed_phrase, generate_ids(
        model, seed_ids, length, rng, sampler, tokens.window, tokens.unknown)))
        for title, sampler in methods]
    if hasattr(model, "model"):  # the PyTorch model: also its own, stateful generation
        from labs import words_torch

        rows.append(("greedy as the course generates (the seed once, then each word fed back "
                     "with the hidden state; `<unk>` allowed)", sample_text(
                         tokens, seed_phrase,
                         words_torch.course_greedy(model.model, list(seed_ids), length))))
    return rows


def sample_text(tokens, seed_phrase, ids):
    """The seed and, in bold, what followed it; Markdown-safe, line breaks as /."""
    start = detokenize(tokenize(seed_phrase)) if tokens.kind == "words" else seed_phrase
    text = (start + " **" + tokens.decode(ids).strip() + "**").replace("\n", " / ")
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


# ---------------------------------------------------------------- report
def summary_lines(metrics):
    unknown = (f"; {metrics['held_out_unknown_rate']:.1%} of held-out tokens are `<unk>`, each "
               "charged the cost of spelling its word" if metrics["tokens_kind"] == "words"
               else "")
    return [f"- {metrics['tokens']:,} tokens: {metrics['tokenization']}{unknown}",
            f"- {architecture(metrics)}, windows of "
            f"{metrics['window']} tokens; {metrics['epochs']} epochs in "
            f"{metrics['training_seconds']:.0f} s (early stopping on the validation part, the "
            f"next 5%, patience {PATIENCE}; the best epoch is scored and samples)"
            + (" — QUICK MODE" if metrics["quick"] else ""),
            f"- held-out (last 10%, scored once): perplexity "
            f"{metrics['held_out_perplexity']:.1f} per token against the unigram model's "
            f"{metrics['unigram_held_out_perplexity']:.1f}; "
            f"**{metrics['held_out_bits_per_char']:.3f} bits per character**\n"]


def architecture(metrics):
    """The model in one phrase, Keras or the course's PyTorch ``RNNModel``."""
    cell = metrics.get("cell", "lstm")
    if metrics.get("framework") == "pytorch":
        return (f"PyTorch `RNNModel`: nn.Embedding({EMBEDDING_DIM}) → "
                f"nn.{'LSTM' if cell == 'lstm' else 'RNN'}({UNITS}) → nn.Linear, Adam and "
                "CrossEntropyLoss (each weight's gradient clipped at norm 1, as Keras clips)")
    return (f"Embedding({EMBEDDING_DIM}) → {'LSTM' if cell == 'lstm' else 'SimpleRNN'}({UNITS}) "
            "→ softmax, Adam")


def beside_keras(metrics, reports_dir):
    """The PyTorch run's table beside the newest complete Keras run of the same text, tokens,
    cell and mode (full or quick), or a line saying how to make one."""
    keras_run = runs.latest_metrics(
        lab_name(metrics["corpus"], metrics["tokens_kind"]), reports_dir,
        lambda other: (other.get("cell", "lstm") == metrics["cell"]
                       and other["quick"] == metrics["quick"] and other["epochs"] > 0))
    lines = ["## Beside the Keras model\n"]
    if keras_run is None:
        return lines + ["No complete Keras run of the same settings yet: `python -m labs.words "
                        f"--corpus {metrics['corpus']} --tokens {metrics['tokens_kind']}"
                        f"{' --quick' if metrics['quick'] else ''}` makes one.\n"]
    rows = [("Keras", keras_run), ("PyTorch (native)", metrics)]
    lines += ["| model | parameters | epochs (best) | training s | held-out perplexity | "
              "bits/char |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} (run {row.get('run', 'this one')}) | {row['parameters']:,} | "
              f"{row['epochs']} ({row['best_epoch']}) | {row['training_seconds']:.0f} | "
              f"{row['held_out_perplexity']:.1f} | {row['held_out_bits_per_char']:.3f} |"
              for name, row in rows]
    ratio = metrics["held_out_perplexity"] / keras_run["held_out_perplexity"]
    return lines + ["", f"The PyTorch model's held-out perplexity is {ratio:.3f} × the Keras "
                    "model's (same windows, same validation part, same held-out text).\n"]


def write_report(run, metrics, history, seed_phrase, unknown, samples):
    """report.md, history.png and metrics.json in the run's folder."""
    directory, corpus = run.reports, metrics["corpus"]
    unigram = metrics["unigram_held_out_perplexity"]
    training = [measures.perplexity(value) for value in history["loss"]]
    plot_history({"perplexity": training, "val_perplexity": metrics["validation_perplexity"],
                  "loss": history["loss"], "val_loss": history["val_loss"]},
                 directory / "history.png",
                 [("loss", "cross-entropy (nats per token)"), ("perplexity", "perplexity")],
                 f"word LSTM on {corpus} ({metrics['tokens_kind']}); validation = the 5% before "
                 f"the held-out text; unigram held-out perplexity {unigram:.0f}")
    atomic_write_json(directory / "metrics.json", metrics)
    unknown_note = (f"Seed words not in the vocabulary, read as `<unk>`: {', '.join(unknown)}."
                    if unknown else "Every seed word is in the vocabulary.")
    if unknown:
        print(f"note: {unknown_note}")
    table = ["| epoch | training perplexity | validation perplexity |", "|---:|---:|---:|"]
    table += [f"| {epoch} | {train:.1f} | {held:.1f} |" for epoch, (train, held)
              in enumerate(zip(training, metrics["validation_perplexity"]), 1)]
    never = ("`<unk>` (every word seen fewer than "
             f"{metrics['min_count']} times) is never drawn: its probability is set to 0 and "
             "the others renormalised." if metrics["tokens_kind"] == "words" else
             "Nothing is unknown: every text is bytes, and the BPE's tokens cover them.")
    pytorch = metrics["framework"] == "pytorch"
    lines = [f"# Word-level {metrics['cell'].upper()}"
             f"{' (the course PyTorch RNNModel)' if pytorch else ''}: {corpus}, "
             f"{metrics['tokens_kind']}\n", f"- {run.describe()}",
             f"- {device_line(None if pytorch else keras)}"
             + (f"; the model: {torch_device()}" if pytorch else ""), *summary_lines(metrics),
             "![history](history.png)\n", *table, "",
             f"## Samples from “{seed_phrase}”\n", unknown_note + "\n",
             "Greedy decoding always takes the most probable token, so it falls into loops; "
             f"sampling trades that for variety. {never} Line breaks show as /.\n",
             "| method | text |", "|---|---|",
             *[f"| {title} | {text} |" for title, text in samples], "",
             f"## From the comparison prompt (temperature {COMPARISON_TEMPERATURE})\n",
             "```text", metrics["comparison_sample"], "```", ""]
    if pytorch:
        lines += beside_keras(metrics, run.reports_root)
    atomic_write_text(directory / "report.md", "\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labs.words",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=CORPORA, default="nietzsche",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--tokens", choices=TOKENIZATIONS, default="words",
                        help="words (rare ones <unk>) or subword (a byte-level BPE learned from "
                             "the training text) (default: %(default)s)")
    parser.add_argument("--vocabulary-size", type=whole_number(300, 100_000),
                        default=VOCABULARY_SIZE,
                        help="tokens of the learned BPE, --tokens subword (default: %(default)s)")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS,
                        help="epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help="batch size (default: %(default)s)")
    parser.add_argument("--min-count", type=positive_int, default=MIN_COUNT,
                        help="rarer words become <unk>, --tokens words (default: %(default)s)")
    parser.add_argument("--seed-phrase", help="beginning for the samples (default: one per corpus)")
    parser.add_argument("--length", type=positive_int, default=GENERATED_WORDS,
                        help="tokens to generate per sample (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="keras",
                        help="keras, or pytorch: the course's RNNModel written natively in "
                             "PyTorch, same sizes and data (default: %(default)s)")
    parser.add_argument("--cell", choices=CELLS, default="lstm",
                        help="lstm, or rnn: a simple RNN (the course's nn.RNN) (default: "
                             "%(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    add_keras_options(parser)
    add_run_options(parser, models=False)
    args = apply_quick(parser.parse_args(argv), QUICK)
    return run_lab("labs.words", words_command, args)


def words_command(args):
    refuse_keras_options(args)
    return on_devices(run)(args)


if __name__ == "__main__":
    main()
