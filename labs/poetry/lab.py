"""Poetry generator lab: the story, from the corpus to the samples, and generation.

    python -m labs.poetry train --corpus leopardi        # model, checkpoints and report
    python -m labs.poetry generate --corpus leopardi --temperature 0.5 --length 400
    python -m labs.poetry generate --corpus nietzsche --interactive
    python -m labs.poetry train --corpus nietzsche --objective every-step --cell gru
    python -m labs.poetry train --corpus nietzsche --resume   # after Ctrl-C or a crash
    python -m labs.poetry compare --corpus nietzsche          # time to quality, ~35 minutes

Training follows the course (windows of ``maxlen`` characters → the next character) with
three changes a student can see in the report: the last 10% of the text is held out for
validation (loss in nats, bits per character, perplexity), the best epoch is kept, and
generation runs the trained weights in NumPy, ~50× faster than one ``model.predict`` per
character, with the same probabilities.
"""

import argparse
import json
from pathlib import Path
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from labs import sampling
from labs import runs
from labs.cli import (MODELS_DIR, REPORTS_DIR, LabError, add_folder_options, add_keras_options,
                      add_run_options, apply_quick,
                      finite_positive_float, non_negative_int, note_progress, positive_int,
                      quick_help, run_lab, with_default_command)
from labs.data import split_holdout
from labs.poetry import compare, data, models, report, train
from labs.poetry.generate import Generator, load_generator, model_paths
from labs.reports import atomic_path, atomic_write_json
from labs.training import on_devices, replicas, training_logs, write_summary

BATCH_SIZE = 256
SEQ_LENGTH = 100  # --objective every-step
EMBEDDING_DIM = 64  # --input embedding
SEED = 42
SAMPLE_EVERY = 1  # epochs between samples in the report
QUICK = {"characters": 30_000, "epochs": 1, "budget_minutes": 0.2}
COMMANDS = ("train", "generate", "compare")
# What a run records in options.json and --resume restores.
RESUMED_OPTIONS = ("maxlen", "step", "lowercase", "epochs", "cell", "layers", "units",
                   "optimizer", "learning_rate", "batch_size", "seed", "quick", "objective",
                   "seq_length", "inputs", "embedding_dim", "heads", "sample_every")


# ---------------------------------------------------------------- train
def train_command(args):
    """Corpus → vocabulary → held-out split → windows → model → fit → save → report."""
    resumed = runs.resume(f"poetry/{args.corpus}", args.reports_dir,
                          args.models_dir) if args.resume else None
    settings = training_settings(restore_options(args, resumed) if resumed else args)
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    corpus, halves = prepare_corpus(settings, args.datasets_dir)
    training, validation = training_data(settings, halves, corpus["vocabulary"])
    run = resumed or start_run(args, settings)
    metadata = {"corpus": args.corpus, "vocabulary": corpus["vocabulary"],
                "characters": QUICK["characters"] if args.quick else None,
                **{key: settings[key] for key in ("maxlen", "step", "lowercase", "cell", "layers",
                                                  "units", "objective", "seq_length", "inputs",
                                                  "embedding_dim", "heads", "quick")}}
    model = build(settings, corpus["vocabulary"])
    validation_text = "".join(half[1] for half in halves)
    epoch_report = train.EpochReport(metadata, validation_text, args.sample_every, args.seed)
    write_summary(model, run.reports / "model_summary.txt")
    logs = training_logs(run.reports / "training_log.csv",
                         run.tensorboard if args.tensorboard else None)
    history, seconds = train.fit(model, training, validation, settings, epoch_report, logs,
                                 checkpoints(run, metadata))
    save_model(model, metadata, run.models)
    generator = Generator(model, metadata)
    examples = (len(training[0]) if settings["objective"] == "next-char" else
                sum((len(text) - settings["seq_length"]) // settings["seq_length"]
                    for text in training), len(validation[0]))
    metrics = train.run_metrics(settings, corpus, examples, model, history, epoch_report, seconds)
    comparison = train.generation_comparison(generator, validation_text, args.seed)
    metrics.update(generation_comparison=comparison,
                   generation_chars_per_second=comparison["window"]["chars_per_second"])
    print_result(metrics)
    index = report.write_report(metrics, epoch_report.samples, generator, validation_text, run)
    runs.publish(run, f"20-poetry-{args.corpus}", index, args.keep)
    print(f"wrote {run.models}, {run.reports} ({run.describe()})")
    return metrics


def build(settings, vocabulary):
    return models.build_model(
        len(vocabulary), settings["maxlen"], settings["cell"], settings["layers"],
        settings["units"], settings["optimizer"], settings["learning_rate"], settings["clipnorm"],
        objective=settings["objective"], inputs=settings["inputs"],
        embedding_dim=settings["embedding_dim"], context=settings["seq_length"],
        heads=settings["heads"])


def start_run(args, settings):
    """A new run, with the options it was trained with (what --resume reads back)."""
    run = runs.start(f"poetry/{args.corpus}", run_description(settings), args.quick,
                     args.reports_dir, args.models_dir)
    atomic_write_json(run.models / "options.json",
                      {name: getattr(args, name) for name in RESUMED_OPTIONS})
    return run


def restore_options(args, run):
    """The options of the run being resumed: it continues as it started."""
    try:
        options = json.loads((run.models / "options.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LabError(f"run {run.run_id} has no readable options.json in {run.models}; it "
                       "cannot be resumed: delete it and train again") from None
    for name in RESUMED_OPTIONS:
        setattr(args, name, options.get(name, getattr(args, name)))
    return args


def checkpoints(run, metadata):
    """Save the best epoch as it happens, into the run's models folder; back up every epoch."""
    model_path = model_paths(run.models)[0]
    return train.Checkpoints(run.models, lambda model: save_model(model, metadata, run.models),
                             lambda: models.load_model(model_path) if model_path.is_file()
                             else None, run.reports / "training_log.csv")


def training_data(settings, halves, vocabulary):
    """What the model learns from, and the held-out windows every objective is scored on:
    next-char, windows of the training part (the course's); every-step, the encoded
    training texts, cut into sequences anew each epoch."""
    maxlen, step = settings["maxlen"], settings["step"]
    validation = data.make_windows([half[1] for half in halves], vocabulary, maxlen, step)
    if settings["objective"] == "every-step":
        training = [data.encode(half[0], vocabulary) for half in halves]
        described = (f"{sum(len(text) for text in training):,} training characters in "
                     f"sequences of {settings['seq_length']}")
    else:
        training = data.make_windows([half[0] for half in halves], vocabulary, maxlen, step)
        described = f"{len(training[0]):,} for training"
    print(f"nb sequences: {described}, {len(validation[0]):,} held-out windows (last 10% of "
          f"the text), maxlen {maxlen}, step {step}")
    return training, validation


def run_description(settings):
    """The short part of the run id: cell and units, then what differs from the course."""
    parts = [f"{settings['cell']}{settings['units']}"]
    if settings["objective"] == "every-step":
        parts.append(f"every-step{settings['seq_length']}")
    if settings["inputs"] == "embedding" and settings["cell"] != "transformer":
        parts.append(f"embedding{settings['embedding_dim']}")
    return "-".join(parts)


def training_settings(args):
    """The options of this run, corpus defaults filled in and quick caps applied."""
    defaults = data.CORPORA[args.corpus]
    for name in ("maxlen", "step", "epochs"):
        if getattr(args, name) is None:
            setattr(args, name, defaults[name])
    if args.lowercase is None:
        args.lowercase = defaults["lowercase"]
    apply_quick(args, {"epochs": QUICK["epochs"]})
    resolve_cell_options(args)
    settings = {name: getattr(args, name) for name in (
        "corpus", "maxlen", "step", "lowercase", "epochs", "cell", "layers", "units", "optimizer",
        "learning_rate", "batch_size", "seed", "quick", "verbose", "objective", "seq_length",
        "inputs", "embedding_dim", "heads")}
    return {**settings, "batch_size": args.batch_size * replicas(), "clipnorm": models.CLIPNORM}


def resolve_cell_options(args):
    """The transformer learns at every position from a character embedding as wide as the
    model (``--units``); recurrent cells default to the course's next-char objective."""
    if args.cell != "transformer":
        args.objective = args.objective or "next-char"
        return
    if args.objective == "next-char":
        raise LabError("--cell transformer trains with --objective every-step (its causal mask "
                       "scores every position at once); leave --objective out")
    if args.units % args.heads:
        raise LabError(f"--units {args.units} must be a multiple of --heads {args.heads}")
    args.objective, args.inputs, args.embedding_dim = "every-step", "embedding", args.units


def prepare_corpus(settings, datasets_dir):
    """The corpus texts (cut for quick runs), their vocabulary, and (train, held-out) halves."""
    texts = data.load_corpus(settings["corpus"], datasets_dir, settings["lowercase"],
                             QUICK["characters"] if settings["quick"] else None)
    data.check_length(texts, settings["maxlen"])
    vocabulary = data.build_vocabulary(texts)
    characters = sum(len(text) for text in texts)
    print(f"corpus length: {characters:,}")
    print(f"total chars: {len(vocabulary)}")
    corpus = {"files": data.CORPORA[settings["corpus"]]["files"], "vocabulary": vocabulary,
              "characters": characters}
    return corpus, [split_holdout(text) for text in texts]


def save_model(model, metadata, folder):
    """<run models>/model.keras (the best epoch's weights) and its metadata, model.json."""
    model_path, metadata_path = model_paths(folder)
    with atomic_path(model_path) as temporary:
        model.save(temporary)
    atomic_write_json(metadata_path, metadata)


def print_result(metrics):
    print(f"best epoch {metrics['best_epoch']}: validation loss "
          f"{metrics['best_validation_loss_nats']:.4f} nats, "
          f"{metrics['best_validation_bits_per_char']:.3f} bits/char, perplexity "
          f"{metrics['best_validation_perplexity']:.2f}; generation "
          f"{metrics['generation_chars_per_second']:,.0f} chars/s")


# ---------------------------------------------------------------- compare
def compare_command(args):
    """Corpus → every configuration for the same budget (the course's to its early stop) →
    one report of held-out loss against seconds of training."""
    budget = min(args.budget_minutes, QUICK["budget_minutes"]) if args.quick else \
        args.budget_minutes
    base = compare_settings(args)
    corpus, halves = prepare_corpus(base, args.datasets_dir)
    validation_text = "".join(half[1] for half in halves)
    seed_text = data.random_window(validation_text, base["maxlen"],
                                   np.random.RandomState(args.seed))
    folder = args.reports_dir / "poetry" / args.corpus
    names = [name for name in compare.CONFIGURATIONS if name in args.configurations]
    if args.reference:
        rows = [compare.reference_row(args.reference)]
        names = [name for name in names if name != compare.COURSE]
    else:
        rows, names = [], [compare.COURSE, *(name for name in names if name != compare.COURSE)]
    for number, name in enumerate(names, 1):
        print(f"[{number}/{len(names)}] {name}" + ("" if name == compare.COURSE else
                                                    f", {budget} minutes"))
        settings = compare.configuration_settings(name, base)
        rows.append(compare.train_configuration(
            name, settings, (corpus, halves, validation_text, seed_text),
            None if name == compare.COURSE else budget * 60, folder / "compare"))
    header = compare.header_lines(base, budget, args.reference)
    frame = compare.write_comparison(rows, folder, header)
    print(frame.to_string(index=False))
    print(f"wrote {folder / 'compare.md'}")
    return frame


def compare_settings(args):
    """The lab's defaults for the corpus: what every configuration starts from."""
    defaults = data.CORPORA[args.corpus]
    return {"corpus": args.corpus, "maxlen": defaults["maxlen"], "step": defaults["step"],
            "lowercase": defaults["lowercase"], "cell": "lstm", "layers": 1,
            "units": models.UNITS, "optimizer": "rmsprop", "learning_rate": models.LEARNING_RATE,
            "clipnorm": models.CLIPNORM, "batch_size": BATCH_SIZE, "seed": args.seed,
            "quick": args.quick, "verbose": False, "objective": "next-char",
            "seq_length": SEQ_LENGTH, "inputs": "one-hot", "embedding_dim": EMBEDDING_DIM,
            "heads": models.HEADS,
            "epochs": QUICK["epochs"] if args.quick else compare.REFERENCE_EPOCHS}


# ---------------------------------------------------------------- generate
def generate_command(args):
    """Saved model → seed text → one sample per temperature, streamed, with its speed."""
    generator = load_generator(args.corpus, args.models_dir, args.run)
    temperatures = args.temperature or [1.0]
    for temperature in temperatures:
        sampling.check(args.method, temperature, args.top_k, args.top_p)
    options = {"method": args.method, "top_k": args.top_k, "top_p": args.top_p,
               "drop_unknown": args.drop_unknown, "generation": args.generation}
    rng = np.random.RandomState(args.random_seed)
    note_progress("", kept="the text so far is above")
    if args.interactive:
        return interactive(generator, args.length, rng, temperatures[0], options)
    seed_text = args.seed_text
    if seed_text is None:
        seed_text = data.random_window(training_text(generator.metadata, args.datasets_dir),
                                       generator.maxlen, rng)
    outputs = []
    for temperature in temperatures:
        label = args.method if args.method != "temperature" else f"temperature {temperature}"
        print(f"--- {label}, seed: {seed_text!r}", file=sys.stderr)
        sys.stdout.write(seed_text)
        started = time.perf_counter()
        text = generator.generate(seed_text, args.length, rng, temperature=temperature,
                                  on_text=stream, **options)
        seconds = time.perf_counter() - started
        sys.stdout.write("\n")
        print(f"--- {len(text)} characters in {seconds:.2f} s ({len(text) / seconds:,.0f} "
              "characters/s)", file=sys.stderr)
        outputs.append(text)
    return outputs


def training_text(metadata, datasets_dir):
    """The text the model was trained on (the corpus as its run read it, less the held-out
    10%): random seeds come from there, so every seed character is in the vocabulary."""
    texts = data.load_corpus(metadata["corpus"], datasets_dir, metadata["lowercase"],
                             metadata.get("characters"), log=lambda message: None)
    return "".join(split_holdout(text)[0] for text in texts)


def stream(character):
    sys.stdout.write(character)
    sys.stdout.flush()


def interactive(generator, length, rng, temperature, options):
    """Type a beginning, watch the continuation stream out; empty line or Ctrl-D exits."""
    print(f"Type the beginning of a text ({generator.metadata['corpus']} model); "
          "an empty line or Ctrl-D quits.", file=sys.stderr)
    while True:
        try:
            seed_text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return
        if not seed_text.strip():
            return
        sys.stdout.write(seed_text)
        try:
            generator.generate(seed_text, length, rng, temperature=temperature, on_text=stream,
                               **options)
        except LabError as error:
            print(f"\nlabs.poetry: {error}", file=sys.stderr)
            continue
        sys.stdout.write("\n")


# ---------------------------------------------------------------- command line
def add_train_parser(commands):
    parser = commands.add_parser("train", help="train a character model and write its report")
    parser.add_argument("--corpus", choices=data.CORPORA, default="leopardi",
                        help="text to learn from (default: %(default)s)")
    defaults = {name: ", ".join(f"{settings[name]} {corpus}" for corpus, settings
                                in data.CORPORA.items()) for name in ("maxlen", "step", "epochs")}
    parser.add_argument("--maxlen", type=positive_int,
                        help=f"window length (default: {defaults['maxlen']})")
    parser.add_argument("--step", type=positive_int,
                        help=f"stride between windows (default: {defaults['step']})")
    case = parser.add_mutually_exclusive_group()
    case.add_argument("--lowercase", dest="lowercase", action="store_true", default=None,
                      help="lowercase the text (default for Nietzsche)")
    case.add_argument("--keep-case", dest="lowercase", action="store_false",
                      help="keep the case (default for Leopardi)")
    add_model_options(parser)
    parser.add_argument("--optimizer", choices=models.OPTIMIZERS, default="rmsprop",
                        help=f"optimizer, with gradient clipping at norm {models.CLIPNORM} "
                             "(default: %(default)s)")
    parser.add_argument("--learning-rate", type=finite_positive_float,
                        default=models.LEARNING_RATE,
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help="batch size (default: %(default)s; the course uses 128)")
    parser.add_argument("--epochs", type=positive_int,
                        help=f"maximum epochs; early stopping after {train.PATIENCE} without "
                             f"improvement (default: {defaults['epochs']})")
    parser.add_argument("--sample-every", type=positive_int, default=SAMPLE_EVERY,
                        help="epochs between samples in the report (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    parser.add_argument("--verbose", action="store_true", help="Keras progress bars")
    parser.add_argument("--resume", action="store_true",
                        help="continue the last interrupted run of --corpus from its last "
                             "complete epoch, with its own options")
    add_keras_options(parser)
    add_run_options(parser)


def add_model_options(parser):
    """The network and what it learns: cell, size, objective, input encoding."""
    parser.add_argument("--cell", choices=models.CELLS, default="lstm",
                        help="recurrent cell, or a small causal transformer (default: "
                             "%(default)s)")
    parser.add_argument("--objective", choices=models.OBJECTIVES,
                        help="next-char: a window → the next character (the course's; default "
                             "for recurrent cells); every-step: sequences → the next character "
                             "at every position (always for the transformer)")
    parser.add_argument("--heads", type=positive_int, default=models.HEADS,
                        help="attention heads of --cell transformer (default: %(default)s)")
    parser.add_argument("--seq-length", type=positive_int, default=SEQ_LENGTH,
                        help="sequence length for --objective every-step (default: %(default)s)")
    parser.add_argument("--input", dest="inputs", choices=models.INPUTS, default="one-hot",
                        help="one-hot characters (the course's, default) or a learned embedding")
    parser.add_argument("--embedding-dim", type=positive_int, default=EMBEDDING_DIM,
                        help="size of the character embedding for --input embedding "
                             "(default: %(default)s)")
    parser.add_argument("--layers", type=positive_int, default=1,
                        help="stacked recurrent layers (default: %(default)s)")
    parser.add_argument("--units", type=positive_int, default=models.UNITS,
                        help="units per layer (default: %(default)s)")


def add_generate_parser(commands):
    parser = commands.add_parser("generate", help="generate text from a trained model")
    parser.add_argument("--corpus", choices=data.CORPORA, default="leopardi",
                        help="which trained model (default: %(default)s)")
    parser.add_argument("--seed-text", help="beginning of the text (default: a random window "
                                            "of the corpus)")
    parser.add_argument("--length", type=positive_int, default=report.REPORT_LENGTH,
                        help="characters to generate (default: %(default)s)")
    parser.add_argument("--temperature", type=finite_positive_float, action="append",
                        help="sampling temperature; repeat for several samples (default: 1.0)")
    parser.add_argument("--method", choices=sampling.METHODS, default="temperature",
                        help="sampling method (default: %(default)s)")
    parser.add_argument("--top-k", type=int, default=report.TOP_K,
                        help="k for --method top-k (default: %(default)s)")
    parser.add_argument("--top-p", type=float, default=report.TOP_P,
                        help="p for --method top-p (default: %(default)s)")
    parser.add_argument("--random-seed", type=non_negative_int, default=SEED,
                        help="same seed, same text (default: %(default)s)")
    parser.add_argument("--drop-unknown", action="store_true",
                        help="drop seed characters outside the vocabulary instead of failing")
    parser.add_argument("--interactive", action="store_true",
                        help="prompt for beginnings and stream the continuations")
    parser.add_argument("--generation", choices=("window", "stateful"), default="window",
                        help="window: re-read the last maxlen characters for each new one, as "
                             "the course does (default); stateful: carry the state forward, "
                             "one step per character (much faster; drifts past maxlen)")
    parser.add_argument("--run", help="run id under models/poetry/<corpus>/runs/ (default: the "
                                      "last full run, else the last quick one)")
    add_folder_options(parser, None, MODELS_DIR)


def add_compare_parser(commands):
    parser = commands.add_parser("compare", help="train several configurations for the same "
                                                 "time and compare their held-out loss curves")
    parser.add_argument("--corpus", choices=data.CORPORA, default="nietzsche",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--budget-minutes", type=finite_positive_float,
                        default=compare.BUDGET_MINUTES,
                        help="minutes of training per configuration (default: %(default)s)")
    parser.add_argument("--configurations", nargs="+", choices=compare.CONFIGURATIONS,
                        default=list(compare.CONFIGURATIONS), metavar="NAME",
                        help="which configurations, by name (default: all: "
                             f"{'; '.join(compare.CONFIGURATIONS)})")
    parser.add_argument("--reference", type=Path,
                        help="a course run's metrics.json (make poetry, same machine) to use as "
                             "the reference curve instead of training the course model again")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: the first {QUICK['characters']:,} characters, "
                             f"{QUICK['budget_minutes']} minutes per configuration")
    add_folder_options(parser, REPORTS_DIR)


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m labs.poetry",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="{train,generate,compare}")
    add_train_parser(commands)
    add_generate_parser(commands)
    add_compare_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(with_default_command(argv, COMMANDS))
    command = {"train": on_devices(train_command), "generate": generate_command,
               "compare": compare_command}[args.command]
    return run_lab("labs.poetry", command, args)


if __name__ == "__main__":
    main()
