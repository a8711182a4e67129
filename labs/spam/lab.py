"""SMS spam detector lab: the story, from the data to the comparison, and prediction.

    python -m labs.spam train                     # all 6 variants × padded/ragged + baseline
    python -m labs.spam train --variants lstm bi-gru --inputs ragged --seeds 1
    python -m labs.spam predict --model lstm_padded "WINNER!! Claim your prize now"
"""

import argparse
import json
import sys
from pathlib import Path

import tensorflow as tf

from labs import embeddings, runs
from labs.cli import (MODELS_DIR, LabError, add_folder_options, add_run_options, apply_quick,
                      non_negative_int, positive_int, quick_help, run_lab, with_default_command)
from labs.spam import data, models, report, train
from labs.spam.report import BASELINE

# Course settings: maxlen 50, batch 512, 20 epochs; the lab adds seeds and a grouped split.
MAXLEN = 50
BATCH_SIZE = 512
EPOCHS = 20
SEEDS = 3
SEED = 42
QUICK = {"messages": 1000, "epochs": 3, "seeds": 1, "batch_size": 64}
COMMANDS = ("train", "predict")


# ---------------------------------------------------------------- train
def train_command(args):
    """Load → split → token vectors → train every variant → baseline → compare → publish."""
    apply_quick(args, QUICK)
    tf.config.experimental.enable_op_determinism()
    messages = data.load_messages(args.datasets_dir, QUICK["messages"] if args.quick else None,
                                  args.seed)
    run = runs.start("spam", run_description(args), args.quick, args.reports_dir,
                     args.models_dir)
    train_part, test_part = data.split_indices(messages.labels, messages.texts, args.split,
                                               args.seed)
    split = {"train": train_part, "test": test_part, "labels": messages.labels,
             "class_names": messages.class_names}
    features = embeddings.cached_token_vectors(messages.frame["text"], args.spacy_model,
                                               cache_dir=args.cache_dir)
    settings = {"maxlen": args.maxlen, "epochs": args.epochs, "batch_size": args.batch_size,
                "verbose": 2 if args.verbose else 0, "quick": args.quick, "split": args.split,
                "seed": args.seed}
    seeds = [args.seed + offset for offset in range(args.seeds)]
    header = report.run_header(messages, split, features, settings, seeds,
                               run.describe() + subset_note(args))
    print("\n".join(header))
    configurations = [(variant, inputs) for inputs in args.inputs for variant in args.variants]
    rows = []
    for number, (variant, inputs) in enumerate(configurations, 1):
        print(f"[{number}/{len(configurations)}] {variant}_{inputs}")
        rows.append(train_configuration(variant, inputs, features, split, settings, seeds,
                                        header, run))
    rows.append(baseline_row(messages, split, seeds[0], header, run.reports))
    frame = report.write_comparison(rows, header, run.reports)
    finish(run, frame, header, args.keep)
    return frame


def subset_note(args):
    """What a run of fewer variants or one input kind left out, for its report header."""
    left_out = [variant for variant in models.VARIANTS if variant not in args.variants]
    left_out += [f"{kind} inputs" for kind in models.INPUT_KINDS if kind not in args.inputs]
    return f"; SUBSET run, without {', '.join(left_out)}" if left_out else ""


def run_description(args):
    """The short part of the run id: split, and which variants and inputs when not all."""
    parts = [args.split]
    if len(args.variants) < len(models.VARIANTS):
        parts.append("+".join(args.variants))
    if len(args.inputs) == 1:
        parts.append(args.inputs[0])
    return "-".join(parts)


def finish(run, frame, header, keep):
    """Publish a complete run; a run with a failed variant stays unpublished and exits 1."""
    failed = frame[frame["status"] != "ok"]
    if len(failed):
        runs.write_status(run, "failed")
        names = ", ".join(f"{row.variant}_{row.inputs}" for row in failed.itertuples())
        raise LabError(f"{len(failed)} of {len(frame)} configurations failed ({names}); the "
                       f"comparison in {run.reports} says why; the last complete run is "
                       "untouched")
    runs.publish(run, "10-spam", report.index_markdown(frame, header, run.link), keep)
    print(f"wrote {run.reports / 'comparison.md'} ({run.describe()}) and "
          f"{run.reports_root / 'index.md'}")


def train_configuration(variant, inputs, features, split, settings, seeds, header, run):
    """Every seed of one variant; the first seed's model is saved. A failure becomes a
    comparison row that says so: one broken variant must not stop the others."""
    name = f"{variant}_{inputs}"
    results = []
    try:
        for seed in seeds:
            model, result = train.train_variant(variant, inputs, features, split, settings, seed)
            results.append(result)
            if seed == seeds[0]:
                train.save_model(model, name, model_metadata(variant, inputs, features, result,
                                                             split, settings), run.models)
        report.write_variant_report(run.reports / name, name, results, split["class_names"],
                                    "\n".join(header))
        return report.summarise(variant, inputs, results)
    except Exception as error:  # noqa: BLE001  (reported in the comparison, never hidden)
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        failure = f"{type(error).__name__}: {message}".rstrip(": ")
        print(f"  {name} FAILED: {failure}", file=sys.stderr)
        return report.summarise(variant, inputs, [], error=failure)


def model_metadata(variant, inputs, features, result, split, settings):
    """What ``predict`` needs besides the weights: pipeline, inputs, classes, threshold."""
    return {"variant": variant, "inputs": inputs, "pipeline": features.pipeline,
            "pipeline_version": features.pipeline_version, "vector_size": features.vector_size,
            "maxlen": settings["maxlen"], "classes": split["class_names"], "threshold": 0.5,
            "seed": result["seed"], "split": settings["split"], "quick": settings["quick"],
            "test_metrics": {key: result[key] for key in train.METRIC_COLUMNS}}


def baseline_row(messages, split, seed, header, reports_dir):
    """TF-IDF + logistic regression on the same split, reported like a variant."""
    result = train.train_baseline(messages.texts, split, seed)
    print(f"  {BASELINE}: spam F1 {result['spam_f1']:.4f}, MCC {result['mcc']:.4f}")
    report.write_variant_report(reports_dir / BASELINE, BASELINE, [result],
                                split["class_names"], "\n".join(header))
    return report.summarise(BASELINE, "tf-idf", [result])


# ---------------------------------------------------------------- predict
def read_messages(texts):
    """Messages from the command line, or one per line from stdin."""
    if not texts:
        if sys.stdin.isatty():
            print("type one message per line, Ctrl-D to finish", file=sys.stderr)
        texts = [line.rstrip("\n") for line in sys.stdin]
    for number, text in enumerate(texts, 1):
        if not text.strip():
            raise LabError(f"message {number} is empty; give the text of an SMS")
    if not texts:
        raise LabError("no message given; pass texts as arguments or one per line on stdin")
    return texts


METADATA_KEYS = ("variant", "inputs", "pipeline", "vector_size", "maxlen", "classes",
                 "threshold")


def load_saved(name, models_dir, run_id=None, spacy_model=None):
    """A saved model of a run and its metadata, checked against each other."""
    folder, run_id, _ = runs.find("spam", models_dir, run_id, "make spam")
    name = name.removeprefix("spam_").removesuffix(".keras")
    model_path, metadata_path = folder / f"{name}.keras", folder / f"{name}.json"
    if not model_path.is_file() or not metadata_path.is_file():
        available = sorted(path.stem for path in folder.glob("*.keras"))
        raise LabError(f"no model {name!r} in run {run_id} ({model_path}); available: "
                       f"{', '.join(available) or 'none'}")
    metadata = read_metadata(metadata_path)
    if spacy_model and spacy_model != metadata["pipeline"]:
        raise LabError(f"{model_path} was built for spaCy pipeline {metadata['pipeline']} "
                       f"(vector size {metadata['vector_size']}), not {spacy_model}; "
                       "retrain it with --spacy-model or drop the option")
    model = models.load_model(model_path)
    models.check_signature(model, metadata, model_path)
    return model, metadata


def read_metadata(path):
    """A model's JSON, with every key prediction needs."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LabError(f"{path} is not valid JSON ({type(error).__name__}); retrain the model "
                       "with `make spam`") from None
    metadata = metadata if isinstance(metadata, dict) else {}
    missing = [key for key in METADATA_KEYS if key not in metadata]
    if missing:
        raise LabError(f"{path} lacks {', '.join(missing)}; retrain the model with `make spam`")
    return metadata


def predict_command(args):
    """Classify messages with a saved model: token vectors → probability → label."""
    model, metadata = load_saved(args.model, args.models_dir, args.run, args.spacy_model)
    texts = read_messages(args.texts)
    vectors = embeddings.extract(embeddings.load_pipeline(metadata["pipeline"]), texts,
                                 progress=False)
    if vectors.vector_size != metadata["vector_size"] and len(vectors.vectors):
        raise LabError(f"the model expects {metadata['vector_size']}-d vectors but "
                       f"{metadata['pipeline']} now gives {vectors.vector_size}-d; retrain it")
    probabilities = train.predict_probabilities(
        model, metadata["inputs"], vectors.sequences(range(len(texts))), metadata["maxlen"],
        metadata["vector_size"])
    classes = metadata["classes"]
    for text, probability in zip(texts, probabilities):
        label = classes[1] if probability >= metadata["threshold"] else classes[0]
        print(f"{label}\t{probability:.4f}\t{text}")
    return probabilities


# ---------------------------------------------------------------- command line
def add_train_parser(commands):
    parser = commands.add_parser("train", help="train the variants and write the reports (default)")
    parser.add_argument("--variants", nargs="+", choices=models.VARIANTS,
                        default=list(models.VARIANTS),
                        help=f"which RNN variants to train (default: all {len(models.VARIANTS)})")
    parser.add_argument("--inputs", choices=(*models.INPUT_KINDS, "both"), default="both",
                        help="padded to --maxlen as in the course, ragged (no truncation), or "
                             "both (default: %(default)s)")
    test_percent = round(100 * data.TEST_SIZE)
    parser.add_argument("--split", choices=data.SPLITS, default="grouped",
                        help=f"grouped: stratified {100 - test_percent}/{test_percent} with no "
                             "text on both sides (default); course: the course's plain "
                             f"train_test_split(test_size={data.TEST_SIZE})")
    parser.add_argument("--seeds", type=positive_int, default=SEEDS,
                        help="train each variant with this many seeds; the comparison shows "
                             "mean ± std (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="seed of the split and of the first run (default: %(default)s)")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS,
                        help="epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help="batch size (default: %(default)s)")
    parser.add_argument("--maxlen", type=positive_int, default=MAXLEN,
                        help="tokens kept per message for padded inputs (default: %(default)s)")
    parser.add_argument("--spacy-model", default=None,
                        help="spaCy pipeline (default: best installed of "
                             f"{', '.join(embeddings.PREFERRED_PIPELINES)})")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    parser.add_argument("--verbose", action="store_true", help="print Keras progress per epoch")
    parser.add_argument("--cache-dir", type=Path, default=embeddings.CACHE_DIR,
                        help="token-vector cache (default: %(default)s)")
    add_run_options(parser)


def add_predict_parser(commands):
    parser = commands.add_parser("predict", help="classify messages with a trained model")
    parser.add_argument("texts", nargs="*",
                        help="messages to classify (default: one per line from stdin)")
    parser.add_argument("--model", default="lstm_ragged",
                        help="<variant>_<inputs>, e.g. bi-gru_padded (default: %(default)s)")
    parser.add_argument("--spacy-model", default=None,
                        help="check that the model was built for this spaCy pipeline")
    parser.add_argument("--run", help="run id under models/spam/runs/ (default: the last full "
                                      "run, else the last quick one)")
    add_folder_options(parser, None, MODELS_DIR)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m labs.spam", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `python -m labs.spam train --help` or `... predict --help` for their options.")
    commands = parser.add_subparsers(dest="command", metavar="{train,predict}")
    add_train_parser(commands)
    add_predict_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(with_default_command(argv, COMMANDS))
    if args.command == "train":
        args.inputs = list(models.INPUT_KINDS) if args.inputs == "both" else [args.inputs]
        return run_lab("labs.spam", train_command, args)
    return run_lab("labs.spam", predict_command, args)


if __name__ == "__main__":
    main()
