"""SMS spam detector lab: spaCy token vectors → RNN variants, padded and ragged, compared.

    python -m labs.spam train                     # all 6 variants × padded/ragged + baseline
    python -m labs.spam train --variants lstm bi-gru --inputs ragged --seeds 1
    python -m labs.spam predict --model lstm_padded "WINNER!! Claim your prize now"

The pipeline, in order: load the SMS Spam Collection (labs.data) → token vectors from the
best spaCy pipeline installed, cached (labs.embeddings) → LabelEncoder labels and an 80/20
stratified split that keeps copies of a message on one side → padded (course) or ragged
inputs → one builder for every variant (labs.models) → reports (labs.reports).
"""

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from labs import data, embeddings
from labs.cli import LabError, add_folder_options, positive_int
from labs.models import INPUT_KINDS, SPAM_VARIANTS
from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, markdown_table,
                          plot_confusion_matrix, plot_history, write_index_section)

# Course settings: maxlen 50, 64 units, Dropout 0.3, batch 512, 20 epochs.
MAXLEN = 50
UNITS = 64
DROPOUT = 0.3
BATCH_SIZE = 512
EPOCHS = 20
SEEDS = 3
SEED = 42
TEST_SIZE = 0.2
QUICK = {"messages": 1000, "epochs": 3, "seeds": 1, "batch_size": 64}
REPORTS_DIR = Path("reports") / "spam"
MODELS_DIR = Path("models")
BASELINE = "tfidf-logreg"


# ---------------------------------------------------------------- data and features
def split_indices(labels, texts, kind, seed, test_size=TEST_SIZE):
    """Train and test row indices.

    ``grouped`` (default): stratified, and every copy of a text on the same side, so the
    test score is not inflated by messages the model has already seen (the collection
    holds 403 exact duplicates). ``course``: the course's plain
    ``train_test_split(test_size=0.2)``, seeded.
    """
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    indices = np.arange(len(labels))
    if kind == "course":
        return train_test_split(indices, test_size=test_size, random_state=seed)
    if kind != "grouped":
        raise LabError(f"--split: unknown split {kind!r}; choose grouped or course")
    folds = StratifiedGroupKFold(n_splits=round(1 / test_size), shuffle=True, random_state=seed)
    train, test = next(folds.split(indices, labels, groups=texts))
    return train, test


def bucketed_batches(lengths, batch_size, rng):
    """Batches of indices of similar length, in random order.

    Sorting by length (with random tie-breaking) before cutting batches means a ragged
    batch is densified only to its own longest message, not to the longest of all.
    """
    order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def ragged_dataset(token_vectors, indices, labels, batch_size, seed=None):
    """A tf.data pipeline of ragged batches; ``seed`` given → reshuffled every epoch."""
    import tensorflow as tf

    sequences = token_vectors.sequences(indices)
    lengths = np.array([len(sequence) for sequence in sequences])
    targets = np.asarray(labels, np.float32)
    rng = np.random.default_rng(seed)

    def generate():
        if seed is None:
            order = np.argsort(lengths, kind="stable")
            batches = [order[start:start + batch_size]
                       for start in range(0, len(order), batch_size)]
        else:
            batches = bucketed_batches(lengths, batch_size, rng)
        for batch in batches:
            values = np.concatenate([sequences[row] for row in batch])
            yield (tf.RaggedTensor.from_row_lengths(values, lengths[batch]), targets[batch])

    dimension = token_vectors.vector_size
    dataset = tf.data.Dataset.from_generator(generate, output_signature=(
        tf.RaggedTensorSpec(shape=(None, None, dimension), dtype=tf.float32, ragged_rank=1),
        tf.TensorSpec(shape=(None,), dtype=tf.float32)))
    batches = -(-len(indices) // batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    options = tf.data.Options()
    options.autotune.enabled = False  # the autotuner stalled epochs here
    return dataset.with_options(options).prefetch(2)


def to_ragged(sequences):
    import tensorflow as tf

    lengths = [len(sequence) for sequence in sequences]
    values = np.concatenate(sequences) if sequences else np.zeros((0, 0), np.float32)
    return tf.RaggedTensor.from_row_lengths(values, lengths)


def predict_probabilities(model, inputs, sequences, maxlen, vector_size, batch_size=BATCH_SIZE):
    """Spam probabilities for a list of per-token vector arrays, in their order."""
    if inputs == "padded":
        padded = embeddings.pad(sequences, maxlen, vector_size)
        return model.predict(padded, batch_size=batch_size, verbose=0).ravel()
    probabilities = np.zeros(len(sequences), np.float32)
    order = np.argsort([len(sequence) for sequence in sequences], kind="stable")
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        ragged = to_ragged([sequences[row] for row in batch])
        probabilities[batch] = np.asarray(model.predict_on_batch(ragged)).ravel()
    return probabilities


# ---------------------------------------------------------------- evaluation
def evaluate(true_labels, probabilities, class_names):
    """Test-split metrics of the positive class (spam = 1), scikit-learn throughout."""
    from sklearn import metrics

    predictions = (np.asarray(probabilities) >= 0.5).astype(int)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        true_labels, predictions, average="binary", pos_label=1, zero_division=0)
    return {
        "accuracy": metrics.accuracy_score(true_labels, predictions),
        "spam_precision": precision,
        "spam_recall": recall,
        "spam_f1": f1,
        "mcc": metrics.matthews_corrcoef(true_labels, predictions),
        "roc_auc": metrics.roc_auc_score(true_labels, probabilities),
        "confusion_matrix": metrics.confusion_matrix(true_labels, predictions,
                                                     labels=[0, 1]).tolist(),
        "classification_report": metrics.classification_report(
            true_labels, predictions, labels=[0, 1], target_names=class_names, digits=4,
            zero_division=0),
    }


METRIC_COLUMNS = ("accuracy", "spam_precision", "spam_recall", "spam_f1", "mcc", "roc_auc")


# ---------------------------------------------------------------- training
def train_variant(variant, inputs, features, split, settings, seed, log=print):
    """Train one variant with one seed; returns the model, its history and test metrics."""
    import keras

    from labs.models import build_spam_model

    keras.utils.set_random_seed(seed)
    train, test = split["train"], split["test"]
    labels = split["labels"]
    model = build_spam_model(variant, inputs, features.vector_size, maxlen=settings["maxlen"],
                             units=UNITS, dropout=DROPOUT)
    fit_options = dict(epochs=settings["epochs"], verbose=settings["verbose"])
    started = time.perf_counter()
    if inputs == "padded":
        train_x = embeddings.pad(features.sequences(train), settings["maxlen"], features.vector_size)
        test_x = embeddings.pad(features.sequences(test), settings["maxlen"], features.vector_size)
        history = model.fit(train_x, labels[train], batch_size=settings["batch_size"],
                            validation_data=(test_x, labels[test]), shuffle=True, **fit_options)
    else:
        history = model.fit(
            ragged_dataset(features, train, labels[train], settings["batch_size"], seed=seed),
            validation_data=ragged_dataset(features, test, labels[test], settings["batch_size"]),
            shuffle=False, **fit_options)  # the dataset reshuffles its buckets itself
    seconds = time.perf_counter() - started
    probabilities = predict_probabilities(model, inputs, features.sequences(test),
                                          settings["maxlen"], features.vector_size)
    result = evaluate(labels[test], probabilities, split["class_names"])
    result.update(seed=seed, training_seconds=seconds, parameters=model.count_params(),
                  epochs=settings["epochs"],
                  history={key: [float(value) for value in values]
                           for key, values in history.history.items()})
    log(f"  {variant:>12} {inputs:<6} seed {seed}: spam F1 {result['spam_f1']:.4f}, "
        f"MCC {result['mcc']:.4f}, {seconds:.1f} s")
    return model, result


def train_baseline(frame, split, seed):
    """TF-IDF + logistic regression on the same split: the number an RNN has to beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    started = time.perf_counter()
    pipeline = make_pipeline(TfidfVectorizer(sublinear_tf=True),
                             LogisticRegression(max_iter=1000, random_state=seed))
    texts = frame["text"].to_numpy()
    pipeline.fit(texts[split["train"]], split["labels"][split["train"]])
    seconds = time.perf_counter() - started
    probabilities = pipeline.predict_proba(texts[split["test"]])[:, 1]
    result = evaluate(split["labels"][split["test"]], probabilities, split["class_names"])
    result.update(seed=seed, training_seconds=seconds, history={},
                  parameters=int(pipeline[-1].coef_.size + pipeline[-1].intercept_.size))
    return result


def save_model(model, name, metadata, models_dir=MODELS_DIR):
    """``models/spam_<name>.keras`` plus the JSON that prediction needs."""
    with atomic_path(Path(models_dir) / f"spam_{name}.keras") as temporary:
        model.save(temporary)
    atomic_write_json(Path(models_dir) / f"spam_{name}.json", metadata)


# ---------------------------------------------------------------- reports
def write_variant_report(directory, name, runs, class_names, header):
    """history.png, confusion_matrix.png, classification_report.txt, metrics.json."""
    first = runs[0]
    if first["history"]:
        plot_history(first["history"], directory / "history.png",
                     [("loss", "loss (binary cross-entropy)"), ("accuracy", "accuracy")],
                     f"{name}: training history (seed {first['seed']})")
    plot_confusion_matrix(np.array(first["confusion_matrix"]), class_names,
                          directory / "confusion_matrix.png",
                          f"{name} (test split, seed {first['seed']})")
    atomic_write_text(directory / "classification_report.txt",
                      f"{name}, test split, seed {first['seed']}\n{header}\n\n"
                      f"{first['classification_report']}")
    atomic_write_json(directory / "metrics.json", {
        "variant": name, "runs": [{key: value for key, value in run.items()
                                   if key != "classification_report"} for run in runs]})


def summarise(variant, inputs, runs, error=None):
    row = {"variant": variant, "inputs": inputs, "seeds": len(runs),
           "status": "ok" if error is None else f"failed: {error}"}
    for column in (*METRIC_COLUMNS, "training_seconds"):
        values = [run[column] for run in runs]
        row[column] = float(np.mean(values)) if values else float("nan")
        row[f"{column}_std"] = float(np.std(values)) if values else float("nan")
    row["parameters"] = runs[0]["parameters"] if runs else 0
    return row


def write_comparison(rows, header_lines, reports_dir):
    """comparison.csv, comparison.md and comparison.png, sorted by spam F1."""
    import pandas as pd

    from labs.reports import pyplot, save_figure

    frame = pd.DataFrame(rows).sort_values("spam_f1", ascending=False, na_position="last")
    with atomic_path(reports_dir / "comparison.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.4f")

    def mean_std(row, column, digits=4):
        if row[column] != row[column]:
            return "—"
        if row["seeds"] > 1:
            return f"{row[column]:.{digits}f} ± {row[column + '_std']:.{digits}f}"
        return f"{row[column]:.{digits}f}"

    table = pd.DataFrame({
        "variant": frame["variant"], "inputs": frame["inputs"],
        **{column.replace("_", " "): [mean_std(row, column) for _, row in frame.iterrows()]
           for column in METRIC_COLUMNS},
        "parameters": [f"{value:,}" for value in frame["parameters"]],
        "training s": [mean_std(row, "training_seconds", 1) for _, row in frame.iterrows()],
        "status": frame["status"],
    })
    markdown = ("# SMS spam detector: all variants compared\n\n"
                + "\n".join(f"- {line}" for line in header_lines) + "\n\n"
                + "Sorted by spam F1; metrics on the test split, model of the last epoch; "
                "mean ± standard deviation over the seeds.\n\n"
                + markdown_table(table) + "\n![comparison](comparison.png)\n")
    atomic_write_text(reports_dir / "comparison.md", markdown)

    plt = pyplot()
    done = frame[frame["status"] == "ok"].iloc[::-1]
    names = [f"{variant} ({inputs})" for variant, inputs in zip(done["variant"], done["inputs"])]
    colours = ["#999999" if variant == BASELINE else
               ("#1f77b4" if inputs == "padded" else "#ff7f0e")
               for variant, inputs in zip(done["variant"], done["inputs"])]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 0.45 * len(done) + 1.6), sharey=True)
    left.barh(names, done["spam_f1"], xerr=done["spam_f1_std"], color=colours, capsize=3)
    left.set_xlabel("spam F1 on the test split (higher is better)")
    left.set_xlim(max(0.0, float(done["spam_f1"].min()) - 0.1), 1.0)
    right.barh(names, done["training_seconds"], xerr=done["training_seconds_std"],
               color=colours, capsize=3)
    right.set_xlabel("training time, seconds (lower is better)")
    for axis in (left, right):
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle("Spam F1 and training time per variant "
                    "(blue: padded, orange: ragged, grey: TF-IDF baseline)")
    figure.tight_layout()
    save_figure(figure, reports_dir / "comparison.png")
    return frame


def write_index(frame, header_lines, reports_dir):
    relative = Path(reports_dir).relative_to(Path(reports_dir).parent)
    lines = ["## SMS spam detector\n", *[f"- {line}" for line in header_lines], "",
             f"Full table: [{relative}/comparison.md]({relative}/comparison.md) "
             f"([CSV]({relative}/comparison.csv)).\n",
             f"![comparison of the variants]({relative}/comparison.png)\n",
             "| variant | spam F1 | training history | confusion matrix |", "|---|---|---|---|"]
    for _, row in frame.iterrows():
        if row["variant"] == BASELINE or row["status"] != "ok":
            history = confusion = ""
            if row["variant"] == BASELINE:
                confusion = f"[report]({relative}/{BASELINE}/classification_report.txt)"
        else:
            folder = f"{relative}/{row['variant']}_{row['inputs']}"
            history = f'<img src="{folder}/history.png" width="360">'
            confusion = f'<img src="{folder}/confusion_matrix.png" width="200">'
        lines.append(f"| {row['variant']} ({row['inputs']}) | {row['spam_f1']:.4f} | "
                     f"{history} | {confusion} |")
    write_index_section("10-spam", "\n".join(lines), reports_dir.parent)


# ---------------------------------------------------------------- commands
def train_command(args):
    import tensorflow as tf
    from sklearn.preprocessing import LabelEncoder

    if args.quick:
        args.epochs = min(args.epochs, QUICK["epochs"])
        args.seeds = min(args.seeds, QUICK["seeds"])
        args.batch_size = min(args.batch_size, QUICK["batch_size"])
    tf.config.experimental.enable_op_determinism()

    path = data.locate("sms_spam.tsv", args.datasets_dir)
    frame = data.load_sms(path)
    if args.quick:
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(np.arange(len(frame)), train_size=QUICK["messages"],
                                   stratify=frame["label"], random_state=args.seed)
        frame = frame.iloc[np.sort(keep)].reset_index(drop=True)
    encoder = LabelEncoder().fit(frame["label"])
    labels = encoder.transform(frame["label"]).astype(np.float32)
    class_names = [str(name) for name in encoder.classes_]
    train, test = split_indices(labels, frame["text"].to_numpy(), args.split, args.seed)
    split = {"train": train, "test": test, "labels": labels, "class_names": class_names}
    features = embeddings.cached_token_vectors(frame["text"], args.spacy_model,
                                               cache_dir=args.cache_dir)

    texts = frame["text"].to_numpy()
    shared = len(set(texts[train]) & set(texts[test]))
    seeds = [args.seed + offset for offset in range(args.seeds)]
    header = [
        f"Dataset: {path} — {len(frame):,} messages ({int(labels.sum()):,} spam), "
        f"{frame['text'].nunique():,} distinct texts" + (" — QUICK MODE subset" if args.quick else ""),
        f"Split: {args.split}, seed {args.seed}: train {len(train):,} ({int(labels[train].sum())} spam), "
        f"test {len(test):,} ({int(labels[test].sum())} spam); texts on both sides: {shared}",
        f"spaCy pipeline: {features.pipeline} {features.pipeline_version}, "
        f"vector size {features.vector_size}",
        f"RNN settings: {UNITS} units, dropout {DROPOUT}, maxlen {args.maxlen} (padded), "
        f"batch {args.batch_size}, {args.epochs} epochs, Adam; validation data = test split",
        f"Seeds: {', '.join(map(str, seeds))} (model initialisation and shuffling)",
        f"Run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]
    print("\n".join(header))
    reports_dir = Path(args.reports_dir)
    settings = {"maxlen": args.maxlen, "epochs": args.epochs, "batch_size": args.batch_size,
                "verbose": 2 if args.verbose else 0}
    rows = []
    configurations = [(variant, inputs) for inputs in args.inputs for variant in args.variants]
    for number, (variant, inputs) in enumerate(configurations, 1):
        name = f"{variant}_{inputs}"
        print(f"[{number}/{len(configurations)}] {name}")
        runs = []
        try:
            for seed in seeds:
                model, result = train_variant(variant, inputs, features, split, settings, seed)
                runs.append(result)
                if seed == seeds[0]:
                    save_model(model, name, {
                        "variant": variant, "inputs": inputs, "pipeline": features.pipeline,
                        "pipeline_version": features.pipeline_version,
                        "vector_size": features.vector_size, "maxlen": args.maxlen,
                        "classes": class_names, "threshold": 0.5, "seed": seed,
                        "split": args.split, "quick": args.quick,
                        "test_metrics": {key: result[key] for key in METRIC_COLUMNS}},
                        args.models_dir)
            write_variant_report(reports_dir / name, name, runs, class_names, "\n".join(header))
            rows.append(summarise(variant, inputs, runs))
        except Exception as error:  # one failed variant must not stop the comparison
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            print(f"  {name} FAILED: {type(error).__name__}: {message}", file=sys.stderr)
            rows.append(summarise(variant, inputs, [], error=f"{type(error).__name__}: {message}"))
    baseline_runs = [train_baseline(frame, split, seed) for seed in seeds[:1]]
    baseline = baseline_runs[0]
    print(f"  {BASELINE}: spam F1 {baseline['spam_f1']:.4f}, MCC {baseline['mcc']:.4f}")
    write_variant_report(reports_dir / BASELINE, BASELINE, baseline_runs, class_names,
                         "\n".join(header))
    rows.append(summarise(BASELINE, "tf-idf", baseline_runs))
    result = write_comparison(rows, header, reports_dir)
    write_index(result, header, reports_dir)
    print(f"wrote {reports_dir / 'comparison.md'} and {reports_dir.parent / 'index.md'}")
    return result


def read_messages(texts):
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


def predict_command(args):
    import keras

    from labs import models  # noqa: F401  (registers DensifyRagged for loading)

    name = args.model.removeprefix("spam_").removesuffix(".keras")
    model_path = Path(args.models_dir) / f"spam_{name}.keras"
    metadata_path = model_path.with_suffix(".json")
    if not model_path.is_file() or not metadata_path.is_file():
        available = sorted(path.stem.removeprefix("spam_")
                           for path in Path(args.models_dir).glob("spam_*.keras"))
        raise LabError(f"no model {model_path} (with {metadata_path.name}); train it with "
                       f"`make spam` or `python -m labs.spam train`; available: "
                       f"{', '.join(available) or 'none'}")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    if args.spacy_model and args.spacy_model != metadata["pipeline"]:
        raise LabError(f"{model_path} was built for spaCy pipeline {metadata['pipeline']} "
                       f"(vector size {metadata['vector_size']}), not {args.spacy_model}; "
                       "retrain it with --spacy-model or drop the option")
    texts = read_messages(args.texts)
    nlp = embeddings.load_pipeline(metadata["pipeline"])
    vectors = embeddings.extract(nlp, texts, progress=False)
    if vectors.vector_size != metadata["vector_size"] and len(vectors.vectors):
        raise LabError(f"{model_path} expects {metadata['vector_size']}-d vectors but "
                       f"{metadata['pipeline']} now gives {vectors.vector_size}-d; retrain it")
    model = keras.models.load_model(model_path)
    probabilities = predict_probabilities(model, metadata["inputs"],
                                          vectors.sequences(range(len(texts))),
                                          metadata["maxlen"], metadata["vector_size"])
    classes = metadata["classes"]
    for text, probability in zip(texts, probabilities):
        label = classes[1] if probability >= metadata["threshold"] else classes[0]
        print(f"{label}\t{probability:.4f}\t{text}")
    return probabilities


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m labs.spam", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Run `python -m labs.spam train --help` or "
                                            "`... predict --help` for their options.")
    commands = parser.add_subparsers(dest="command", metavar="{train,predict}")
    train = commands.add_parser("train", help="train the variants and write the reports (default)")
    train.add_argument("--variants", nargs="+", choices=SPAM_VARIANTS, default=list(SPAM_VARIANTS),
                       help="which RNN variants to train (default: all six)")
    train.add_argument("--inputs", choices=("padded", "ragged", "both"), default="both",
                       help="padded to --maxlen as in the course, ragged (no truncation), or both "
                            "(default: %(default)s)")
    train.add_argument("--split", choices=("grouped", "course"), default="grouped",
                       help="grouped: stratified 80/20 with no text on both sides (default); "
                            "course: the course's plain train_test_split(test_size=0.2)")
    train.add_argument("--seeds", type=positive_int, default=SEEDS,
                       help="train each variant with this many seeds; the comparison shows "
                            "mean ± std (default: %(default)s)")
    train.add_argument("--seed", type=int, default=SEED,
                       help="seed of the split and of the first run (default: %(default)s)")
    train.add_argument("--epochs", type=positive_int, default=EPOCHS, help="epochs (default: %(default)s)")
    train.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                       help="batch size (default: %(default)s)")
    train.add_argument("--maxlen", type=positive_int, default=MAXLEN,
                       help="tokens kept per message for padded inputs (default: %(default)s)")
    train.add_argument("--spacy-model", default=None,
                       help="spaCy pipeline (default: best installed of "
                            f"{', '.join(embeddings.PREFERRED_PIPELINES)})")
    train.add_argument("--quick", action="store_true",
                       help=f"smoke run: {QUICK['messages']} messages, {QUICK['epochs']} epochs, "
                            f"batch {QUICK['batch_size']}, one seed")
    train.add_argument("--verbose", action="store_true", help="print Keras progress per epoch")
    train.add_argument("--cache-dir", type=Path, default=embeddings.CACHE_DIR,
                       help="token-vector cache (default: %(default)s)")
    add_folder_options(train, REPORTS_DIR, MODELS_DIR)
    predict = commands.add_parser("predict", help="classify messages with a trained model")
    predict.add_argument("texts", nargs="*",
                         help="messages to classify (default: one per line from stdin)")
    predict.add_argument("--model", default="lstm_ragged",
                         help="<variant>_<inputs>, e.g. bi-gru_padded (default: %(default)s)")
    predict.add_argument("--spacy-model", default=None,
                         help="check that the model was built for this spaCy pipeline")
    predict.add_argument("--models-dir", type=Path, default=MODELS_DIR,
                         help="where the models are (default: %(default)s)")
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in ("train", "predict", "-h", "--help")):
        argv.insert(0, "train")
    args = build_parser().parse_args(argv)
    if args.command == "train":
        args.inputs = list(INPUT_KINDS) if args.inputs == "both" else [args.inputs]
    try:
        return train_command(args) if args.command == "train" else predict_command(args)
    except (LabError, data.DatasetError, embeddings.PipelineError) as error:
        sys.exit(f"labs.spam: error: {error}")


if __name__ == "__main__":
    main()
