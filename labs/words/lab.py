"""The story of the word-level lab, in the order it runs: the text cut as the poetry lab
cuts it → tokens → windows → the unigram baseline → the model (epoch chosen on the validation
part) → held-out perplexity and bits per character → samples."""

import time

import keras
import numpy as np

from labs import measures, runs
from labs.cli import LabError
from labs.poetry.data import held_out_parts
from labs.reports import atomic_write_text
from labs.sampling import Sampler
from labs.training import (ProgressNote, early_stopping, history_lists, make_dataset, on_devices,
                           replicas, training_logs, write_summary)
from labs.words.config import (COMPARISON_TEMPERATURE, EMBEDDING_DIM, LEARNING_RATE, PATIENCE,
                               QUICK, SEED_PHRASES, TOP_K, UNITS, lab_name)
from labs.words.data import (Tokenization, check_token_count, detokenize, tokenize,
                             unigram_probabilities, windows)
from labs.words.model import build_model, generate_ids, perplexity, target_probabilities
from labs.words.report import results_table, summary_lines, write_report


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
    write_outputs(run, args, metrics, history, seed_phrase, unknown, samples)
    print(f"held-out perplexity {metrics['held_out_perplexity']:.1f} per token vs unigram "
          f"{unigram:.1f}, {metrics['held_out_bits_per_char']:.3f} bits/char (epoch "
          f"{metrics['best_epoch']}); wrote {run.reports / 'report.md'}")
    return metrics


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
    """``torch_model``, or one line when PyTorch is missing or a Keras-only option is
    given with it."""
    refuse_keras_options(args)
    try:
        from labs.words import torch_model
    except ImportError:
        raise LabError("--framework pytorch needs PyTorch: make words-pytorch installs it "
                       "(requirements-torch.txt), or pip install -r requirements-torch.txt -c "
                       "constraints.txt") from None
    return torch_model


def build(args, vocabulary_size, window):
    """The Keras model, or the course's PyTorch ``RNNModel`` of the same sizes."""
    if args.framework == "keras":
        return build_model(vocabulary_size, window, cell=args.cell)
    torch_model = torch_module(args)
    torch_model.torch.manual_seed(args.seed)
    return torch_model.RNNModel(vocabulary_size, EMBEDDING_DIM, UNITS, cell=args.cell)


def summarised(model, path):
    """model_summary.txt; the model as the scoring and sampling code uses it."""
    if isinstance(model, keras.Model):
        write_summary(model, path)
        return model
    from labs.words import torch_model

    atomic_write_text(path, torch_model.summary(model))
    return torch_model.TorchPredictor(model)


def encoded_windows(args, parts, tokens):
    """The three parts as ids, checked, and cut into (windows, next token) pairs."""
    encoded = [tokens.encode(text) for text in (parts.fit, parts.validation, parts.held_out)]
    check_token_count(sum(map(len, encoded)), f"{args.corpus}.txt ({args.tokens})",
                      tokens.window)
    if args.tokens == "words":
        tokens.vocabulary.check_kept()
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
        from labs.words import torch_model

        history = torch_model.fit(model, training, validation, args.epochs, args.batch_size,
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


def write_outputs(run, args, metrics, history, seed_phrase, unknown, samples):
    """The run's report, its results (with the page's samples), and its publication."""
    write_report(run, metrics, history, seed_phrase, unknown,
                 [(title, sample_text(start, text)) for title, start, text in samples])
    runs.write_results(run, *results_table(metrics), samples=page_samples(samples, seed_phrase))
    runs.publish(run, f"40-{run.lab.replace('/', '-')}", "\n".join([
        f"## Word-level language model: {args.corpus}, {args.tokens}\n", f"- {run.describe()}",
        *summary_lines(metrics), f"[report]({run.link}/report.md)\n",
        f"![history]({run.link}/history.png)\n"]), args.keep)


def page_samples(rows, seed_phrase):
    """The lab page's samples (``runs.write_results``), as plain text: greedy and
    temperature 0.7."""
    return [{"label": f"{title}, from the seed phrase {seed_phrase!r}",
             "text": f"{start} {generated}"}
            for title, start, generated in rows if title in ("greedy", "temperature 0.7")]


def sample_rows(model, tokens, seed_phrase, length, seed):
    """(method, the seed as the tokens read it, the text generated after it) for greedy,
    random, temperature 0.7 and top-k."""
    rng = np.random.RandomState(seed)
    methods = [("greedy", Sampler("greedy")),
               ("random (temperature 1.0)", Sampler("temperature", 1.0)),
               ("temperature 0.7", Sampler("temperature", 0.7)),
               (f"top-k (k = {TOP_K})", Sampler("top-k", top_k=TOP_K))]
    seed_ids = tokens.encode(seed_phrase)
    start = detokenize(tokenize(seed_phrase)) if tokens.kind == "words" else seed_phrase
    rows = [(title, start, tokens.decode(generate_ids(
        model, seed_ids, length, rng, sampler, tokens.window, tokens.unknown)).strip())
        for title, sampler in methods]
    if hasattr(model, "model"):  # the PyTorch model: also its own, stateful generation
        from labs.words import torch_model

        rows.append(("greedy as the course generates (the seed once, then each word fed back "
                     "with the hidden state; `<unk>` allowed)", start, tokens.decode(
                         torch_model.course_greedy(model.model, list(seed_ids), length)).strip()))
    return rows


def sample_text(start, generated):
    """The seed and, in bold, what followed it; Markdown-safe, line breaks as /."""
    text = (start + " **" + generated + "**").replace("\n", " / ")
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def words_command(args):
    refuse_keras_options(args)
    return on_devices(run)(args)
