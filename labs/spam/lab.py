"""SMS spam detector lab: the story, from the data to the comparison, and prediction.

    python -m labs.spam train                     # 11 models + 3 baselines on 5 folds
    python -m labs.spam train --variants lstm bi-gru tfidf-mlp --folds 3 --repeats 2
    python -m labs.spam predict --model lstm_padded "WINNER!! Claim your prize now"
    python -m labs.spam predict --model words-gru_text "WINNER!! Claim your prize now"
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labs import backends, embeddings, runs, saving
from labs.cli import LabError, decoded, utf8_text
from labs.reports import atomic_write_json
from labs.spam import baselines, data, models, report, text_models, train
from labs.spam.config import Settings
from labs.training import replicas, training_logs, write_summary


ALL_VARIANTS = (*models.VARIANTS, *text_models.TEXT_VARIANTS)
DEFAULT_VARIANTS = tuple(name for name in ALL_VARIANTS if name not in text_models.OPT_IN)
SPACY_INPUT = "spaCy vectors"
CLASSICAL_INPUT = "classical: TF-IDF n-grams"


@dataclass(frozen=True)
class Experiment:
    """What every configuration of a run shares: the data, its folds and vectors, the
    settings, the report header and the run's folders."""
    messages: data.Messages
    folds: list  # data.Fold, the same for every model
    features: embeddings.TokenVectors
    settings: Settings
    header: list
    run: runs.Run


# ---------------------------------------------------------------- train
def train_command(args):
    """Load → folds → token vectors → every model on every fold → baselines → compare."""
    settings = Settings.from_args(args, replicas())
    check_backend(settings.inputs, args.variants)
    backends.deterministic()
    messages = data.load_messages(args.datasets_dir, settings.messages, settings.seed)
    folds = data.make_folds(messages.labels, messages.texts, settings.folds, settings.split,
                            settings.seed, settings.repeats)
    features = embeddings.cached_token_vectors(messages.frame["text"], args.spacy_model,
                                               cache_dir=args.cache_dir)
    if settings.recipe.token_features:
        features = features.with_attributes()
    run = runs.start("spam", run_description(settings, args.variants), settings.quick,
                     args.reports_dir, args.models_dir)
    header = report.run_header(messages, folds, features, settings,
                               run.describe() + subset_note(args))
    print("\n".join(header))
    experiment = Experiment(messages, folds, features, settings, header, run)
    configurations = [(variant, inputs) for inputs in settings.inputs
                      for variant in args.variants if variant in models.VARIANTS]
    configurations += [(variant, "text") for variant in args.variants
                       if variant in text_models.TEXT_VARIANTS]
    rows = []
    for number, (variant, inputs) in enumerate(configurations, 1):
        print(f"[{number}/{len(configurations)}] {variant}_{inputs} on {len(folds)} fold(s)")
        rows.append(train_configuration(variant, inputs, experiment))
    rows += [baseline_row(name, experiment) for name in args.baselines]
    test_fraction = len(folds[0].test) / len(messages.labels)
    frame = report.write_comparison(rows, header, run.reports, test_fraction,
                                    settings.repeats)
    finish(run, frame, header, args.keep, test_fraction, experiment)
    frame.attrs["run"] = run.run_id  # which run a caller (a notebook) should show
    return frame


def subset_note(args):
    """What a run of fewer models left out, for its report header."""
    left_out = [variant for variant in DEFAULT_VARIANTS if variant not in args.variants]
    left_out += [name for name in baselines.BASELINES if name not in args.baselines]
    return f"; SUBSET run, without {', '.join(left_out)}" if left_out else ""


def run_description(settings, variants):
    """The short part of the run id: recipe, folds, and which variants when not all."""
    parts = [settings.recipe.name, f"{settings.folds}fold", settings.split]
    if settings.repeats > 1:
        parts.append(f"x{settings.repeats}")
    if set(variants) != set(DEFAULT_VARIANTS):
        parts.append("+".join(variants))
    return "-".join(parts)


def finish(run, frame, header, keep, test_fraction, experiment):
    """Publish a complete run; a run with a failed model stays unpublished and exits 1."""
    failed = frame[frame["status"] != "ok"]
    if len(failed):
        runs.write_status(run, "failed")
        names = ", ".join(f"{row.model}_{row.inputs}" for row in failed.itertuples())
        raise LabError(f"{len(failed)} of {len(frame)} configurations failed ({names}); the "
                       f"comparison in {run.reports} says why; the last complete run is "
                       "untouched")
    examples = write_demo_files(run, frame, experiment)
    runs.write_results(run, *report.results_table(frame, test_fraction), notes=header[1:],
                       samples=prediction_samples(run, frame, examples)
                       if run.kind == "full" else ())  # only a full run's are shown
    runs.publish(run, "10-spam", report.index_markdown(frame, header, run.link, test_fraction),
                 keep)
    print(f"wrote {run.reports / 'comparison.md'} ({run.describe()}) and "
          f"{run.reports_root / 'index.md'}")


EXAMPLES_PER_CLASS = 3


def write_demo_files(run, frame, experiment):
    """Beside the saved models: the comparison's order and F1s (``comparison.json``) and a
    few messages of the first fold's test part (``examples.json``): held out from every
    saved model, which all learned on that fold. ``make demo`` shows both."""
    def number(value):
        return None if value is None or np.isnan(value) else round(float(value), 4)

    order = [{"model": f"{row.model}_{row.inputs}", "kind": row.kind, "input": row.input,
              "spam_f1": number(row.spam_f1), "spam_f1_low": number(row.spam_f1_low),
              "spam_f1_high": number(row.spam_f1_high)} for row in frame.itertuples()]
    atomic_write_json(run.models / "comparison.json", order)
    fold, messages = experiment.folds[0], experiment.messages
    rng = np.random.default_rng(experiment.settings.seed)
    examples = []
    for value in (1, 0):
        rows = fold.test[messages.labels[fold.test] == value]
        for row in rng.choice(rows, min(EXAMPLES_PER_CLASS, len(rows)), replace=False):
            examples.append({"text": str(messages.texts[row]),
                             "label": messages.class_names[value]})
    atomic_write_json(run.models / "examples.json", examples)
    return examples


SHOWN_CHARACTERS = 90  # of a message, on the page's sample


def prediction_samples(run, frame, examples):
    """The lab's page's sample of what it produces: every saved model's ``predict`` answer
    (its label at its threshold, and its score) for one spam and one ham message of the first
    fold's test part, which none of the saved models learned from, in the comparison's
    order."""
    chosen = [next(example for example in examples if example["label"] == label)
              for label in dict.fromkeys(example["label"] for example in examples)]
    texts = [example["text"] for example in chosen]
    lines = []
    for number, example in enumerate(chosen, 1):
        text = " ".join(example["text"].split())
        shown = text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS - 1] + "…"
        lines.append(f"message {number} ({example['label']}): {shown}")
    names = [f"{row.model}_{row.inputs}" for row in frame.itertuples()]
    width = max(map(len, names), default=0) + 2
    lines += ["", "model".ljust(width) + "   ".join(
        f"message {number}".ljust(16) for number in range(1, len(chosen) + 1)).rstrip()]
    for name in names:
        model, metadata = load_saved_from(run.models, name, run.run_id)
        answers = []
        for score in scores(model, metadata, texts):
            label = metadata["classes"][1] if score >= metadata["threshold"] else \
                metadata["classes"][0]
            answers.append(f"{label} {score:.4f}".ljust(16))
        lines.append(name.ljust(width) + "   ".join(answers).rstrip())
    return [{"label": "python -m labs.spam predict, every saved model, on two held-out "
                      "messages (its label at its own threshold, and its score: a "
                      "probability, or the LinearSVC's margin)", "text": "\n".join(lines)}]


def train_configuration(variant, inputs, experiment):
    """One variant on every fold; the first fold's model is saved. A failure becomes a
    comparison row that says so: one broken variant must not stop the others."""
    name, settings, run = f"{variant}_{inputs}", experiment.settings, experiment.run
    kind, family = variant_kind(variant)
    results = []
    try:
        for number, fold in enumerate(experiment.folds):
            logs = training_logs(
                run.reports / name / f"training_log_fold{number + 1}.csv",
                run.tensorboard / name / f"fold{number + 1}" if settings.tensorboard else None)
            model, result = train.train_variant(variant, inputs, experiment.features, fold,
                                                settings, settings.seed + number, logs)
            preprocessor = result.pop("preprocessor")
            results.append(result)
            print(f"  fold {number + 1}: spam F1 {result['spam_f1']:.4f} (threshold "
                  f"{result['threshold']:.2f}, best epoch {result['best_epoch']} of "
                  f"{result['epochs_run']}), {result['training_seconds']:.1f} s")
            if number == 0:
                model_path = saving.model_paths(run.models, name)[0]
                saving.save_model(model, model_metadata(variant, inputs, result, experiment),
                                  model_path)
                if preprocessor is not None:
                    text_models.save_preprocessor(preprocessor, model_path)
                write_summary(model, run.reports / name / "model_summary.txt")
        write_model_report(name, results, experiment)
        return report.summarise(variant, kind, inputs, results, family=family)
    except Exception as error:  # noqa: BLE001  (reported in the comparison, never hidden)
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        failure = f"{type(error).__name__}: {message}".rstrip(": ")
        print(f"  {name} FAILED: {failure}", file=sys.stderr)
        return report.summarise(variant, kind, inputs, [], error=failure, family=family)


def variant_kind(variant):
    """The comparison's kind (RNN, attention, CNN, ...) and input family of a variant."""
    if variant in text_models.TEXT_VARIANTS:
        family, kind = text_models.TEXT_VARIANTS[variant]
        return kind, family
    return ("attention" if variant == "transformer" else "RNN"), SPACY_INPUT


def write_model_report(name, results, experiment):
    messages = experiment.messages
    report.write_model_report(experiment.run.reports / name, name, results, experiment.folds,
                              messages.labels, messages.class_names, experiment.header)


def model_metadata(variant, inputs, result, experiment):
    """What ``predict`` needs besides the weights: pipeline, inputs, classes, threshold."""
    features, settings = experiment.features, experiment.settings
    return {"variant": variant, "inputs": inputs, "pipeline": features.pipeline,
            "pipeline_version": features.pipeline_version, "vector_size": features.vector_size,
            "maxlen": settings.maxlen, "classes": experiment.messages.class_names,
            "threshold": result["threshold"], "recipe": settings.recipe.name,
            "token_features": settings.recipe.token_features,
            "seed": result["seed"], "split": settings.split, "quick": settings.quick,
            "test_metrics_fold_1": {key: result[key] for key in train.METRIC_COLUMNS}}


def baseline_row(name, experiment):
    """A classical baseline on the same folds, reported like a model; the first fold's is
    saved, as the networks' are, for ``predict`` and the demo."""
    results = []
    for number, fold in enumerate(experiment.folds):
        result = train.train_baseline(name, fold, experiment.settings.seed)
        fitted = result.pop("fitted")
        if number == 0:
            metadata = model_metadata(name, "text", result, experiment)
            metadata.update(threshold=fitted.threshold, score=fitted.score_name)
            saving.save_fitted(fitted, metadata, experiment.run.models / f"{name}_text.joblib")
        results.append(result)
    mean_f1 = sum(result["spam_f1"] for result in results) / len(results)
    print(f"  {name}: mean spam F1 {mean_f1:.4f} (C {', '.join(str(r['C']) for r in results)})")
    write_model_report(f"{name}_text", results, experiment)
    return report.summarise(name, "baseline", "text", results, family=CLASSICAL_INPUT)


# ---------------------------------------------------------------- predict
def read_messages(texts):
    """Messages from the command line, or one per line from stdin, as UTF-8 text."""
    if not texts:
        if sys.stdin.isatty():
            print("type one message per line, Ctrl-D to finish", file=sys.stderr)
        texts = [decoded(line, number) for number, line in enumerate(
            getattr(sys.stdin, "buffer", sys.stdin), 1)]
    for number, text in enumerate(texts, 1):
        if not text.strip():
            raise LabError(f"message {number} is empty; give the text of an SMS")
        utf8_text(text, f"message {number}")  # bytes that were not UTF-8, in an argument
    if not texts:
        raise LabError("no message given; pass texts as arguments or one per line on stdin")
    return texts


METADATA_KEYS = ("variant", "inputs", "pipeline", "vector_size", "maxlen", "classes",
                 "threshold")


def load_saved(name, models_dir, run_id=None, spacy_model=None):
    """A saved model of a run and its metadata (plus its ``path``), checked against each
    other."""
    folder, run_id, _ = runs.find("spam", models_dir, run_id, "make spam")
    return load_saved_from(folder, name, run_id, spacy_model)


def load_saved_from(folder, name, run_id, spacy_model=None):
    """``load_saved`` from a run's models folder."""
    name = name.removeprefix("spam_").removesuffix(".keras")
    model_path, metadata_path = folder / f"{name}.keras", folder / f"{name}.json"
    if (folder / f"{name}.joblib").is_file():
        model_path = folder / f"{name}.joblib"
    if not model_path.is_file() or not metadata_path.is_file():
        available = saved_models(folder)
        raise LabError(f"no model {name!r} in run {run_id} ({model_path}); available: "
                       f"{', '.join(available) or 'none'}")
    metadata = saving.read_metadata(metadata_path, METADATA_KEYS, "make spam")
    metadata["path"] = str(model_path)
    if model_path.suffix == ".joblib":
        fitted = saving.load_fitted(model_path, "make spam")
        if not isinstance(fitted, baselines.FittedBaseline):
            raise LabError(f"{model_path} is not a baseline saved by the spam lab; retrain "
                           "it with `make spam`")
        return fitted, metadata
    if spacy_model and spacy_model != metadata["pipeline"]:
        raise LabError(f"{model_path} was built for spaCy pipeline {metadata['pipeline']} "
                       f"(vector size {metadata['vector_size']}), not {spacy_model}; "
                       "retrain it with --spacy-model or drop the option")
    model = saving.load_model(model_path, "make spam")
    models.check_signature(model, metadata, model_path)
    return model, metadata


def saved_models(folder):
    """The names of the models a run folder holds (networks and baselines)."""
    return sorted({path.stem for pattern in ("*.keras", "*.joblib")
                   for path in Path(folder).glob(pattern) if "." not in path.stem})


def check_backend(inputs, variants):
    """On PyTorch or JAX, only padded spaCy-vector models run: ragged batches are
    ``tf.RaggedTensor``s and the text models read raw text with ``tf.strings`` (and the
    tfidf-mlp sparse TF-IDF rows), all TensorFlow's own. One line names every part that
    needs TensorFlow and the options that run without it."""
    if backends.is_tensorflow():
        return
    needs = []
    if "ragged" in inputs:
        needs.append("--inputs ragged (the tuned recipe's default)")
    text = [variant for variant in variants if variant in text_models.TEXT_VARIANTS]
    if text:
        needs.append(f"the text models {', '.join(text)}")
    if needs:
        vector_variants = [variant for variant in variants if variant in models.VARIANTS]
        backends.require_tensorflow(
            " and ".join(needs), "give --inputs padded --variants "
            + " ".join(vector_variants or models.VARIANTS))


def predict_command(args):
    """Classify messages with a saved model: raw text → probability → label. spaCy-vector
    models (and the hybrid) get token vectors first; text models read the text itself; a
    saved baseline prints a probability (the logistic regressions) or its margin (the
    LinearSVC, judged at 0)."""
    variant, _, inputs = args.model.rpartition("_")
    if inputs != "padded" and variant not in baselines.BASELINES:
        backends.require_tensorflow(
            f"--model {args.model} ({'ragged batches' if inputs == 'ragged' else 'raw text'})",
            "give a padded model, e.g. --model lstm_padded (make spam ARGS=\"--inputs padded\")")
    model, metadata = load_saved(args.model, args.models_dir, args.run, args.spacy_model)
    texts = read_messages(args.texts)
    probabilities = scores(model, metadata, texts)
    classes = metadata["classes"]
    for text, probability in zip(texts, probabilities):
        label = classes[1] if probability >= metadata["threshold"] else classes[0]
        print(f"{label}\t{probability:.4f}\t{text}")
    return probabilities


def scores(model, metadata, texts):
    """A saved model's scores of ``texts``, judged against ``metadata["threshold"]``."""
    if metadata["variant"] in baselines.BASELINES:
        return model.scores(list(texts))
    if metadata["inputs"] == "text":
        return text_probabilities(model, metadata, texts)
    return train.predict_probabilities(
        model, metadata["inputs"], token_vectors(metadata, texts).sequences(range(len(texts))),
        metadata["maxlen"], metadata["vector_size"])


def token_vectors(metadata, texts):
    """The spaCy token vectors a saved model was trained on, for new messages."""
    vectors = embeddings.extract(embeddings.load_pipeline(metadata["pipeline"]), texts,
                                 progress=False)
    if metadata.get("token_features"):
        vectors = vectors.with_attributes()
    if vectors.vector_size != metadata["vector_size"] and len(vectors.vectors):
        raise LabError(f"the model expects {metadata['vector_size']}-d vectors but "
                       f"{metadata['pipeline']} now gives {vectors.vector_size}-d; retrain it")
    return vectors


def text_probabilities(model, metadata, texts):
    """A text model's probabilities: its vectorizer (``tfidf-mlp``) is saved beside it."""
    variant, preprocessor, sequences = metadata["variant"], None, None
    if variant == "tfidf-mlp":
        path = Path(metadata["path"])
        if not text_models.preprocessor_path(path).is_file():
            raise LabError(f"{text_models.preprocessor_path(path)} is missing: tfidf-mlp "
                           "reads TF-IDF features through it; retrain it with `make spam`")
        preprocessor = text_models.load_preprocessor(path)
    if variant == "hybrid":
        sequences = token_vectors(metadata, texts).sequences(range(len(texts)))
    inputs = text_models.model_inputs(variant, texts, sequences, preprocessor,
                                      metadata["maxlen"], metadata["vector_size"])
    return train.predict_text(model, inputs)
