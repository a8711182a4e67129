"""SMS spam detector lab: the story, from the data to the comparison, and prediction.

    python -m labs.spam train                     # 7 models + 3 baselines on 5 folds
    python -m labs.spam train --variants lstm bi-gru --folds 3
    python -m labs.spam predict --model lstm_padded "WINNER!! Claim your prize now"
"""

import argparse
import json
import sys
from pathlib import Path

import tensorflow as tf

from labs import embeddings, runs
from labs.cli import (MODELS_DIR, LabError, add_folder_options, add_keras_options,
                      add_run_options, apply_quick,
                      non_negative_int, positive_int, quick_help, run_lab, with_default_command)
from labs.spam import baselines, data, models, report, train
from labs.training import on_devices, replicas, training_logs, write_summary

# The course pads to 50 tokens; the recipes (labs.spam.train.RECIPES) hold the rest.
MAXLEN = 50
FOLDS = 5
SEED = 42
QUICK = {"messages": 1000, "folds": 2, "epochs": 3}
COMMANDS = ("train", "predict")


# ---------------------------------------------------------------- train
def train_command(args):
    """Load → folds → token vectors → every model on every fold → baselines → compare."""
    settings = training_settings(args)
    tf.config.experimental.enable_op_determinism()
    messages = data.load_messages(args.datasets_dir, QUICK["messages"] if args.quick else None,
                                  args.seed)
    folds = data.make_folds(messages.labels, messages.texts, args.folds, args.split, args.seed)
    features = embeddings.cached_token_vectors(messages.frame["text"], args.spacy_model,
                                               cache_dir=args.cache_dir)
    if args.token_features:
        features = features.with_attributes()
    run = runs.start("spam", run_description(args), args.quick, args.reports_dir,
                     args.models_dir)
    header = report.run_header(messages, folds, features, settings,
                               run.describe() + subset_note(args))
    print("\n".join(header))
    context = {"messages": messages, "folds": folds, "features": features, "header": header,
               "settings": settings, "run": run}
    configurations = [(variant, inputs) for inputs in args.inputs for variant in args.variants]
    rows = []
    for number, (variant, inputs) in enumerate(configurations, 1):
        print(f"[{number}/{len(configurations)}] {variant}_{inputs} on {len(folds)} fold(s)")
        rows.append(train_configuration(variant, inputs, context))
    rows += [baseline_row(name, context) for name in args.baselines]
    test_fraction = len(folds[0][1]) / len(messages.labels)
    frame = report.write_comparison(rows, header, run.reports, test_fraction)
    finish(run, frame, header, args.keep, test_fraction)
    return frame


def training_settings(args):
    """The recipe's settings, with the options that override it and the quick caps."""
    recipe = train.RECIPES[args.recipe]
    args.epochs = args.epochs or recipe["epochs"]
    args.batch_size = args.batch_size or recipe["batch_size"]
    args.inputs = resolve_inputs(args.inputs, args.recipe)
    if args.token_features is None:
        args.token_features = recipe["token_features"]
    apply_quick(args, QUICK)
    if replicas() > 1 and "ragged" in args.inputs:
        raise LabError("--distribute needs --inputs padded: MirroredStrategy cannot split "
                       "ragged batches between replicas")
    return {**recipe, "recipe": args.recipe, "epochs": args.epochs,
            "pooling": args.pooling or recipe["pooling"],
            "batch_size": args.batch_size * replicas(), "maxlen": args.maxlen,
            "inputs": args.inputs, "tensorboard": args.tensorboard,
            "verbose": 2 if args.verbose else 0, "quick": args.quick, "split": args.split,
            "seed": args.seed, "token_features": args.token_features}


def resolve_inputs(inputs, recipe):
    """``--inputs``: the course pads (as it does); the tuned recipe reads ragged batches."""
    if inputs is None:
        return ["padded"] if recipe == "course" else ["ragged"]
    return list(models.INPUT_KINDS) if inputs == "both" else [inputs]


def subset_note(args):
    """What a run of fewer models left out, for its report header."""
    left_out = [variant for variant in models.VARIANTS if variant not in args.variants]
    left_out += [name for name in baselines.BASELINES if name not in args.baselines]
    return f"; SUBSET run, without {', '.join(left_out)}" if left_out else ""


def run_description(args):
    """The short part of the run id: recipe, folds, and which variants when not all."""
    parts = [args.recipe, f"{args.folds}fold", args.split]
    if len(args.variants) < len(models.VARIANTS):
        parts.append("+".join(args.variants))
    return "-".join(parts)


def finish(run, frame, header, keep, test_fraction):
    """Publish a complete run; a run with a failed model stays unpublished and exits 1."""
    failed = frame[frame["status"] != "ok"]
    if len(failed):
        runs.write_status(run, "failed")
        names = ", ".join(f"{row.model}_{row.inputs}" for row in failed.itertuples())
        raise LabError(f"{len(failed)} of {len(frame)} configurations failed ({names}); the "
                       f"comparison in {run.reports} says why; the last complete run is "
                       "untouched")
    runs.publish(run, "10-spam", report.index_markdown(frame, header, run.link, test_fraction),
                 keep)
    print(f"wrote {run.reports / 'comparison.md'} ({run.describe()}) and "
          f"{run.reports_root / 'index.md'}")


def fold_data(context, number):
    train_rows, test_rows = context["folds"][number]
    messages = context["messages"]
    return {"train": train_rows, "test": test_rows, "labels": messages.labels,
            "texts": messages.texts, "class_names": messages.class_names}


def train_configuration(variant, inputs, context):
    """One variant on every fold; the first fold's model is saved. A failure becomes a
    comparison row that says so: one broken variant must not stop the others."""
    name, settings, run = f"{variant}_{inputs}", context["settings"], context["run"]
    kind = "attention" if variant == "transformer" else "RNN"
    results = []
    try:
        for number in range(len(context["folds"])):
            logs = training_logs(
                run.reports / name / f"training_log_fold{number + 1}.csv",
                run.tensorboard / name / f"fold{number + 1}" if settings["tensorboard"] else None)
            model, result = train.train_variant(variant, inputs, context["features"],
                                                fold_data(context, number), settings,
                                                settings["seed"] + number, logs)
            results.append(result)
            print(f"  fold {number + 1}: spam F1 {result['spam_f1']:.4f} (threshold "
                  f"{result['threshold']:.2f}, best epoch {result['best_epoch']} of "
                  f"{result['epochs_run']}), {result['training_seconds']:.1f} s")
            if number == 0:
                train.save_model(model, name, model_metadata(variant, inputs, result, context),
                                 run.models)
                write_summary(model, run.reports / name / "model_summary.txt")
        write_model_report(name, results, context)
        return report.summarise(variant, kind, inputs, results)
    except Exception as error:  # noqa: BLE001  (reported in the comparison, never hidden)
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        failure = f"{type(error).__name__}: {message}".rstrip(": ")
        print(f"  {name} FAILED: {failure}", file=sys.stderr)
        return report.summarise(variant, kind, inputs, [], error=failure)


def write_model_report(name, results, context):
    messages = context["messages"]
    report.write_model_report(context["run"].reports / name, name, results, context["folds"],
                              messages.labels, messages.class_names, context["header"])


def model_metadata(variant, inputs, result, context):
    """What ``predict`` needs besides the weights: pipeline, inputs, classes, threshold."""
    features, settings = context["features"], context["settings"]
    return {"variant": variant, "inputs": inputs, "pipeline": features.pipeline,
            "pipeline_version": features.pipeline_version, "vector_size": features.vector_size,
            "maxlen": settings["maxlen"], "classes": context["messages"].class_names,
            "threshold": result["threshold"], "recipe": settings["recipe"],
            "token_features": settings["token_features"],
            "seed": result["seed"], "split": settings["split"], "quick": settings["quick"],
            "test_metrics_fold_1": {key: result[key] for key in train.METRIC_COLUMNS}}


def baseline_row(name, context):
    """A classical baseline on the same folds, reported like a model."""
    results = [train.train_baseline(name, fold_data(context, number),
                                    context["settings"]["seed"])
               for number in range(len(context["folds"]))]
    mean_f1 = sum(result["spam_f1"] for result in results) / len(results)
    print(f"  {name}: mean spam F1 {mean_f1:.4f} (C {', '.join(str(r['C']) for r in results)})")
    write_model_report(f"{name}_text", results, context)
    return report.summarise(name, "baseline", "text", results)


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
    if metadata.get("token_features"):
        vectors = vectors.with_attributes()
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
    parser = commands.add_parser("train", help="train and compare every model (default)")
    parser.add_argument("--recipe", choices=train.RECIPES, default="tuned",
                        help="tuned: validation part, early stopping, threshold on validation "
                             "(default); course: the course's procedure exactly")
    parser.add_argument("--folds", type=positive_int, default=FOLDS,
                        help="stratified grouped folds; every model sees the same ones; 1 = one "
                             "80/20 split (default: %(default)s)")
    parser.add_argument("--variants", nargs="+", choices=models.VARIANTS,
                        default=list(models.VARIANTS),
                        help=f"which neural models (default: all {len(models.VARIANTS)})")
    parser.add_argument("--baselines", nargs="*", choices=baselines.BASELINES,
                        default=list(baselines.BASELINES),
                        help="which classical baselines (default: all; none with no name)")
    parser.add_argument("--inputs", choices=(*models.INPUT_KINDS, "both"),
                        help="padded to --maxlen, ragged (no truncation), or both (default: "
                             "ragged for the tuned recipe, padded for the course's)")
    test_percent = round(100 * data.TEST_SIZE)
    parser.add_argument("--split", choices=data.SPLITS, default="grouped",
                        help=f"with --folds 1: grouped (stratified {100 - test_percent}/"
                             f"{test_percent}, no text on both sides; default) or course (the "
                             f"course's plain train_test_split(test_size={data.TEST_SIZE}))")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="seed of the folds; fold k trains with seed + k (default: "
                             "%(default)s)")
    parser.add_argument("--epochs", type=positive_int,
                        help="maximum epochs (default: the recipe's, 40 tuned, 20 course)")
    parser.add_argument("--batch-size", type=positive_int,
                        help="batch size (default: the recipe's, 32 tuned, 512 course)")
    add_input_options(parser)
    add_keras_options(parser)
    add_run_options(parser)


def add_input_options(parser):
    parser.add_argument("--maxlen", type=positive_int, default=MAXLEN,
                        help="tokens kept per message for padded inputs (default: %(default)s)")
    parser.add_argument("--spacy-model", default=None,
                        help="spaCy pipeline (default: best installed of "
                             f"{', '.join(embeddings.PREFERRED_PIPELINES)})")
    parser.add_argument("--token-features", action=argparse.BooleanOptionalAction,
                        help="append spaCy token attributes to each vector ("
                             f"{', '.join(embeddings.TOKEN_ATTRIBUTES)}) (default: the "
                             "recipe's, on tuned, off course)")
    parser.add_argument("--pooling", choices=models.POOLINGS,
                        help="what an RNN passes on: its last hidden state, or the maximum of "
                             "each unit over time (default: the recipe's, max tuned, last course)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    parser.add_argument("--verbose", action="store_true", help="print Keras progress per epoch")
    parser.add_argument("--cache-dir", type=Path, default=embeddings.CACHE_DIR,
                        help="token-vector cache (default: %(default)s)")


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
        return run_lab("labs.spam", on_devices(train_command), args)
    return run_lab("labs.spam", predict_command, args)


if __name__ == "__main__":
    main()
