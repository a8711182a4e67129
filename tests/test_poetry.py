import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from labs import course
from labs.cli import LabError
from labs.data import split_holdout
from labs.poetry import data as poetry
from labs.poetry import cli
from labs.poetry.generate import load_generator
from labs.poetry.models import NumpyCharModel, build_model
from labs.poetry.report import final_samples
from labs.reports import table_cells

TEXT = "Sempre caro mi fu quest'ermo colle,\nE questa siepe, che da tanto parte\n"


@pytest.mark.parametrize("maxlen, step", [(10, 1), (7, 3)])
def test_vocabulary_and_windows_match_the_course_loop(maxlen, step):
    chars, x, y = course.vectorise(TEXT, maxlen, step)
    vocabulary = poetry.build_vocabulary([TEXT])
    assert vocabulary == chars
    inputs, targets = poetry.windows(poetry.encode(TEXT, vocabulary), maxlen, step)
    assert inputs.dtype == np.uint8 and inputs.shape == x.shape[:2]
    np.testing.assert_array_equal(inputs, x.argmax(axis=-1))
    np.testing.assert_array_equal(targets, y.argmax(axis=-1))


def test_windows_never_cross_from_one_text_into_the_next():
    vocabulary = poetry.build_vocabulary(["abc", "xyz"])
    inputs, targets = poetry.make_windows(["abcabc", "xyzxyz"], vocabulary, 3, 1)
    decoded = ["".join(vocabulary[i] for i in row) + vocabulary[t]
               for row, t in zip(inputs, targets)]
    assert decoded == ["abca", "bcab", "cabc", "xyzx", "yzxy", "zxyz"]


def test_holdout_is_the_last_tenth():
    from labs.data import split_holdout

    train, validation = split_holdout("a" * 90 + "b" * 10)
    assert train == "a" * 90 and validation == "b" * 10


def test_one_hot_inside_the_model_equals_the_course_input():
    chars, x, _ = course.vectorise(TEXT, 12, 2)
    course_model = build_model(len(chars), 12, units=16, one_hot_inside=False)
    lab_model = build_model(len(chars), 12, units=16)
    lab_model.set_weights(course_model.get_weights())
    indices = x.argmax(axis=-1).astype(np.uint8)
    np.testing.assert_allclose(lab_model.predict_on_batch(indices),
                               course_model.predict_on_batch(x.astype(np.float32)), atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("gru", 1), ("simplernn", 1), ("lstm", 2)])
def test_numpy_forward_pass_matches_keras_probabilities(cell, layers):
    import keras

    keras.utils.set_random_seed(0)
    vocabulary_size, maxlen = 23, 15
    model = build_model(vocabulary_size, maxlen, cell, layers, units=32)
    rng = np.random.default_rng(0)
    # Random weights are too tame; train a few steps so gates leave their initial range.
    inputs = rng.integers(0, vocabulary_size, size=(64, maxlen)).astype(np.uint8)
    model.fit(inputs, rng.integers(0, vocabulary_size, size=64), epochs=3, verbose=0)
    expected = model.predict_on_batch(inputs[:8])
    np.testing.assert_allclose(NumpyCharModel(model).probabilities(inputs[:8]), expected, atol=1e-5)


def test_seed_text_is_lowercased_padded_and_checked():
    vocabulary = poetry.build_vocabulary(["ab c\n"])
    text, indices = poetry.prepare_seed("AB", vocabulary, 5, lowercase=True)
    assert text == "ab" and "".join(vocabulary[i] for i in indices) == "\n\n\nab"
    _, indices = poetry.prepare_seed("abcabcab", vocabulary, 5, lowercase=False)
    assert "".join(vocabulary[i] for i in indices) == "abcab"
    with pytest.raises(LabError, match="outside the vocabulary: 'x' 'z'"):
        poetry.prepare_seed("zax", vocabulary, 5, lowercase=False)
    text, _ = poetry.prepare_seed("zax", vocabulary, 5, lowercase=False, drop_unknown=True)
    assert text == "a"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):  # used by slow tests only
    root = tmp_path_factory.mktemp("poetry")
    metrics = cli.main(["train", "--corpus", "leopardi", "--quick", "--maxlen", "12",
                        "--step", "4", "--units", "32", "--models-dir", str(root / "models"),
                        "--reports-dir", str(root / "reports")])
    return root, metrics


@pytest.mark.slow
def test_train_writes_model_and_report(trained, known_edition):
    root, metrics = trained
    text = known_edition("leopardi.txt").read_text(encoding="utf-8")[:30_000]
    assert metrics["vocabulary_size"] == len(set(text)) == 59
    assert metrics["corpus_characters"] == 30_000
    assert metrics["held_out_loss_nats"] < metrics["uniform_loss_nats"]
    assert metrics["chosen_on"] == "held-out text (the course's procedure)"
    assert not (root / "reports" / "tensorboard").exists()  # only with --tensorboard
    pointer_path = root / "models" / "poetry" / "leopardi" / "latest-quick.json"
    pointer = json.loads(pointer_path.read_text())
    report = root / "reports" / "poetry" / "leopardi" / "runs" / pointer["run"]
    assert report == Path(pointer["reports"])
    stored = json.loads((report / "metrics.json").read_text())
    assert stored == json.loads(json.dumps(metrics))  # the run's own numbers, all of them
    image = plt.imread(report / "history.png")
    assert image.shape[0] > 200 and image.shape[1] > 400 and image.std() > 0.05
    # The samples in the report are what the saved model writes from the same seed.
    generator = load_generator("leopardi", root / "models")
    held_out = split_holdout(text)[1]
    seed_text, samples = final_samples(stored, generator, held_out, stored["seed"])
    written = (report / "samples.md").read_text()
    for title, sample in samples:
        assert f"### {title}\n\nSeed: `{seed_text!r}`\n\n```text\n{seed_text + sample}\n```" \
            in written
    log = (report / "training_log.csv").read_text().splitlines()
    header = log[0].split(",")
    assert header == ["epoch", "loss", "seconds", "training_seconds", "val_loss"]
    first = dict(zip(header, map(float, log[1].split(","))))
    assert len(log) == 2 and first["val_loss"] == pytest.approx(metrics["history"]["val_loss"][0])
    assert first["seconds"] == pytest.approx(metrics["seconds_per_epoch"][0])
    assert 0 < first["training_seconds"] < first["seconds"]  # validation excluded
    assert set(metrics["history"]) == {"loss", "val_loss"}
    summary = (report / "model_summary.txt").read_text()
    assert "lstm_1 (LSTM)" in summary and f"{metrics['parameters']:,}" in summary
    samples = (report / "samples.md").read_text()
    for title in ("temperature 0.2", "temperature 1.2", "greedy", "top-k", "top-p", "Epoch 1"):
        assert title in samples
    index = (root / "reports" / "index.md").read_text()
    assert f"poetry/leopardi/runs/{pointer['run']}/history.png" in index
    assert "- Device: " in index and "TensorFlow" in samples


@pytest.mark.slow
def test_generate_from_the_saved_model_is_reproducible(trained, capsys):
    root, _ = trained
    argv = ["generate", "--corpus", "leopardi", "--models-dir", str(root / "models"),
            "--seed-text", "Sempre caro", "--length", "60", "--random-seed", "3"]
    first = cli.main(argv)
    second = cli.main(argv)
    assert first == second and len(first[0]) == 60
    assert capsys.readouterr().out.startswith("Sempre caro")
    generator = load_generator("leopardi", root / "models")
    window = poetry.prepare_seed("Sempre caro", generator.vocabulary, 12, False)[1]
    assert generator.maxlen == 12
    np.testing.assert_allclose(generator.numpy_model.probabilities(window[None]),
                               generator.model.predict_on_batch(window[None]), atol=1e-5)


@pytest.mark.slow
def test_interactive_mode_streams_and_exits_on_an_empty_line(trained, monkeypatch, capsys):
    root, _ = trained
    answers = iter(["Sempre", ""])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    cli.main(["generate", "--corpus", "leopardi", "--models-dir", str(root / "models"),
                 "--interactive", "--length", "20"])
    output = capsys.readouterr().out
    assert output.startswith("Sempre") and output.endswith("\n")
    assert len(output) == len("Sempre") + 20 + 1


@pytest.mark.slow
@pytest.mark.parametrize("argv, message", [
    (["--method", "top-p", "--top-p", "1.5"], r"top-p needs p in (0, 1]"),
    (["--method", "top-k", "--top-k", "0"], "top-k needs an integer k >= 1"),
    (["--seed-text", "Sempre ☃"], "outside the vocabulary: '☃'"),
    (["--seed-text", "日本"], "outside the vocabulary: '日' '本'"),
])
def test_generate_errors_are_one_line(trained, argv, message, capsys):
    """The one line comes before anything else: no header, no seed printed first."""
    root, _ = trained
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        cli.main(["generate", "--corpus", "leopardi", "--models-dir", str(root / "models"),
                     *argv])
    text = str(raised.value.code)
    assert text.startswith("labs.poetry: error:") and message in text and "\n" not in text
    printed = capsys.readouterr()
    assert printed.out == "" and "---" not in printed.err


@pytest.mark.parametrize("argv", [["generate", "--length", "0"], ["train", "--maxlen", "0"],
                                  ["train", "--units", "many"], ["generate", "--temperature", "0"],
                                  ["train", "--learning-rate", "inf"]])
def test_numeric_options_are_checked_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit):
        cli.main(argv)
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m labs.poetry") and (
        "must be at least 1" in error or "expected a whole number" in error
        or "must be a finite number above 0" in error)


def test_missing_model_names_the_make_target(tmp_path):
    with pytest.raises(SystemExit) as raised:
        cli.main(["generate", "--corpus", "nietzsche", "--models-dir", str(tmp_path)])
    text = str(raised.value.code)
    assert text.startswith("labs.poetry: error: no trained run in") and "\n" not in text
    assert "train one with `make poetry`" in text


@pytest.mark.slow
@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("gru", 1), ("simplernn", 1), ("lstm", 2)])
def test_stateful_first_step_matches_keras_and_the_window(cell, layers):
    import keras

    from labs.poetry.generate import generate_indices, generate_stateful
    from labs.sampling import Sampler

    keras.utils.set_random_seed(1)
    model = build_model(19, 11, cell, layers, units=24)
    rng = np.random.default_rng(1)
    inputs = rng.integers(0, 19, size=(64, 11)).astype(np.uint8)
    model.fit(inputs, rng.integers(0, 19, size=64), epochs=2, verbose=0)
    numpy_model = NumpyCharModel(model)
    seed = list(inputs[0])
    states = numpy_model.initial_states()
    for index in seed:
        probabilities, states = numpy_model.step(index, states)
    np.testing.assert_allclose(probabilities, model.predict_on_batch(inputs[:1])[0], atol=1e-5)
    sampler = Sampler(temperature=0.7)
    window = generate_indices(numpy_model, seed, 1, sampler, np.random.RandomState(5))
    stateful = generate_stateful(numpy_model, seed, 1, sampler, np.random.RandomState(5))
    assert window == stateful  # the same first character from the same generator
    # Two characters on, the stateful model has read a context that keeps growing
    # (maxlen + 2), where the course re-reads only the last maxlen characters.
    grown = seed + generate_stateful(numpy_model, seed, 2, sampler, np.random.RandomState(5))
    states = numpy_model.initial_states()
    for index in grown:
        probabilities, states = numpy_model.step(index, states)
    np.testing.assert_allclose(probabilities, numpy_model.probabilities(np.array([grown]))[0],
                               atol=1e-5)
    assert not np.allclose(probabilities, numpy_model.probabilities(np.array([grown[-11:]]))[0],
                           atol=1e-5)


# ---------------------------------------------------------------- every-step objective
def test_every_step_targets_are_the_inputs_shifted_by_one():
    encoded = np.arange(50, dtype=np.uint8)
    for offset in (0, 3, 9):
        inputs, targets = poetry.every_step_sequences(encoded, 10, offset)
        assert inputs.shape == targets.shape == ((49 - offset) // 10, 10)
        np.testing.assert_array_equal(targets, inputs + 1)
        assert inputs[0, 0] == offset


def test_every_step_batches_move_their_offset_and_keep_their_size():
    from labs.poetry.train import EveryStepBatches

    texts = [np.arange(200, dtype=np.uint8) % 250, np.arange(95, dtype=np.uint8)]
    batches = EveryStepBatches(texts, seq_length=10, batch_size=4, seed=0)
    starts, sizes = set(), set()
    for _ in range(12):
        inputs, targets = (np.concatenate(part) for part in zip(*(
            batches[index] for index in range(len(batches)))))
        np.testing.assert_array_equal(targets, inputs + 1)  # nothing crosses between texts
        sizes.add(len(inputs))
        starts |= {int(start) % 10 for start in inputs[:, 0]}
        batches.on_epoch_end()
    assert sizes == {(200 - 10) // 10 + (95 - 10) // 10}
    assert len(starts) > 5  # new offsets, so every character is early in some sequence


@pytest.mark.slow
def test_the_shared_evaluation_is_keras_val_loss_for_a_next_char_model():
    import keras

    from labs.poetry.train import next_char_loss

    keras.utils.set_random_seed(0)
    vocabulary = poetry.build_vocabulary([TEXT])
    inputs, targets = poetry.windows(poetry.encode(TEXT * 3, vocabulary), 12, 1)
    model = build_model(len(vocabulary), 12, units=16)
    model.fit(inputs, targets, epochs=2, batch_size=32, verbose=0)
    expected = model.evaluate(inputs, targets, batch_size=64, verbose=0)
    assert next_char_loss(model, inputs, targets, batch_size=50) == pytest.approx(expected,
                                                                                  rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("inputs_kind", ["one-hot", "embedding"])
def test_every_step_models_run_in_numpy_and_score_their_last_position(inputs_kind):
    """An every-step model (sequence output, any length) trains on shifted sequences; the
    NumPy twin, the held-out score and stateful generation all read its last position."""
    import keras

    from labs.poetry.train import next_char_loss

    keras.utils.set_random_seed(0)
    vocabulary = poetry.build_vocabulary([TEXT])
    encoded = poetry.encode(TEXT * 4, vocabulary)
    model = build_model(len(vocabulary), 12, "gru", 2, units=24, objective="every-step",
                        inputs=inputs_kind, embedding_dim=8)
    model.fit(*poetry.every_step_sequences(encoded, 20), epochs=3, verbose=0)
    windows, targets = poetry.windows(encoded, 12, 5)
    expected = model.predict_on_batch(windows)[:, -1]
    numpy_model = NumpyCharModel(model)
    np.testing.assert_allclose(numpy_model.probabilities(windows), expected, atol=1e-5)
    chosen = expected[np.arange(len(targets)), targets]
    assert next_char_loss(model, windows, targets) == pytest.approx(-np.log(chosen).mean(),
                                                                    rel=1e-5)
    states = numpy_model.initial_states()
    for index in windows[0]:
        first, states = numpy_model.step(index, states)
    np.testing.assert_allclose(first, expected[0], atol=1e-5)


# ---------------------------------------------------------------- the transformer
@pytest.fixture(scope="module")
def small_transformer():
    """A 2-block transformer trained a few steps, so its weights leave their initial range."""
    import keras

    keras.utils.set_random_seed(0)
    vocabulary = poetry.build_vocabulary([TEXT])
    encoded = poetry.encode(TEXT * 4, vocabulary)
    model = build_model(len(vocabulary), 12, "transformer", 2, units=32, optimizer="adam",
                        learning_rate=3e-3, objective="every-step", context=16, heads=4)
    model.fit(*poetry.every_step_sequences(encoded, 16), epochs=4, verbose=0)
    return model, encoded


@pytest.mark.slow
def test_a_transformer_with_a_context_of_one_generates_statefully():
    """With one position the cache is cut to the newest character at every step (half of
    one is one, not none), so long stateful generation takes time in proportion."""
    import time

    from labs.poetry.generate import generate_stateful
    from labs.poetry.transformer import NumpyTransformer
    from labs.sampling import Sampler

    model = build_model(5, 1, "transformer", 1, units=8, optimizer="adam",
                        objective="every-step", inputs="embedding", context=1, heads=2)
    twin, started = NumpyTransformer(model), time.perf_counter()
    text = generate_stateful(twin, [0], 3000, Sampler(), np.random.RandomState(0))
    assert len(text) == 3000 and time.perf_counter() - started < 60
    states = twin.initial_states()
    for index in text[:5]:
        _, states = twin.step(index, states)
    assert states["indices"] == [text[4]]


@pytest.mark.slow
def test_numpy_transformer_matches_keras_and_its_cache_matches_the_window(small_transformer):
    from labs.poetry.transformer import NumpyTransformer

    model, encoded = small_transformer
    windows, _ = poetry.windows(encoded, 12, 7)
    expected = model.predict_on_batch(windows)[:, -1]
    numpy_model = NumpyTransformer(model)
    np.testing.assert_allclose(numpy_model.probabilities(windows), expected, atol=1e-5)
    states = numpy_model.initial_states()
    for index in encoded[:40]:  # past the 16-position context: the cache is rebuilt
        probabilities, states = numpy_model.step(index, states)
        np.testing.assert_allclose(
            probabilities, numpy_model.probabilities(np.array([states["indices"]]))[0],
            atol=1e-5)
        assert len(states["indices"]) <= 16


@pytest.mark.slow
def test_transformer_save_load_generate_round_trip(small_transformer, tmp_path):
    from labs.poetry.generate import Generator
    from labs.saving import load_model

    model, _ = small_transformer
    model.save(tmp_path / "model.keras")
    metadata = {"corpus": "leopardi", "vocabulary": poetry.build_vocabulary([TEXT]),
                "maxlen": 12, "lowercase": False}
    reloaded = Generator(load_model(tmp_path / "model.keras", "the test"), metadata)
    original = Generator(model, metadata)
    for generation in ("window", "stateful"):
        texts = [generator.generate("Sempre caro", 30, np.random.RandomState(1),
                                    temperature=0.5, generation=generation)
                 for generator in (original, reloaded)]
        assert texts[0] == texts[1] and len(texts[0]) == 30
        assert set(texts[0]) <= set(metadata["vocabulary"])


# ---------------------------------------------------------------- compare
def test_time_to_quality_is_read_from_the_curves():
    from labs.poetry import compare

    course = {"configuration": "course", "parameters": 10, "epochs": 4,
              "seconds": [60.0, 120.0, 180.0, 240.0], "held_out_loss": [2.0, 1.7, 1.6, 1.62],
              "best_loss": 1.6, "chars_per_second": 100.0}
    faster = {**course, "configuration": "faster", "seconds": [20.0, 40.0, 60.0],
              "held_out_loss": [1.9, 1.58, 1.5], "best_loss": 1.5}
    never = {**course, "configuration": "never", "seconds": [30.0], "held_out_loss": [1.9],
             "best_loss": 1.9}
    assert compare.time_to_reach(course, 1.6) == 180.0
    assert compare.time_to_reach(never, 1.6) is None
    frame = compare.summary_frame([course, faster, never], goal=1.55).set_index("configuration")
    assert frame.loc["faster", "× course time"] == pytest.approx(40.0 / 180.0)
    assert frame.loc["course", "× course time"] == 1.0
    assert np.isnan(frame.loc["never", "× course time"])
    assert frame.loc["faster", "s to reach 1.55 (goal)"] == 60.0
    assert frame.loc["faster", "goal: × course time"] == pytest.approx(60.0 / 180.0)
    assert np.isnan(frame.loc["course", "goal: × course time"])
    # The page's table: whole seconds (not "1213.026 s" beside "10797 chars/s"), ratios and
    # losses to three places, a time never reached left empty.
    columns, rows = table_cells(frame.reset_index(), formats=compare.seconds_formats(frame))
    faster_row = dict(zip(columns, rows[1]))
    assert faster_row["training s"] == "60" and faster_row["s to reach 1.600"] == "40"
    assert faster_row["× course time"] == "0.222" and faster_row["bits/char"] == "2.164"
    assert dict(zip(columns, rows[2]))["s to reach 1.600"] == ""
    assert frame.loc["course", "last epoch's loss"] == 1.62
    goal, overfitting = compare.verdict_lines([course, faster, never], 1.55)
    assert goal == ("Goal: ≤ 1.55 nats within the course model's time to its best (180 s): "
                    "reached by faster after 60 s (0.33× the course's time)")
    assert overfitting.endswith("in 1 of 3 configurations (most: +0.020, course)")
    late = {**faster, "seconds": [100.0, 200.0, 300.0]}
    assert compare.verdict_lines([course, late], 1.55)[0].endswith(
        "not reached; the lowest held-out loss is 1.500 (faster), and faster reached it only "
        "after 300 s")


@pytest.mark.slow
def test_a_time_budget_stops_training_before_an_epoch_would_overrun_it():
    from labs.poetry.train import TimeBudget

    model = build_model(19, 11, units=8)
    inputs = np.random.default_rng(0).integers(0, 19, size=(64, 11)).astype(np.uint8)
    history = model.fit(inputs, inputs[:, 0], epochs=50, verbose=0,
                        callbacks=[TimeBudget(0.0)])
    assert len(history.history["loss"]) == 1
    history = model.fit(inputs, inputs[:, 0], epochs=3, verbose=0, callbacks=[TimeBudget(None)])
    assert len(history.history["loss"]) == 3


# ---------------------------------------------------------------- checkpoints and --resume
SMALL_RUN = ["train", "--corpus", "leopardi", "--maxlen", "12", "--step", "25", "--units", "16",
             "--epochs", "3", "--sample-every", "100"]


@pytest.mark.slow
def test_a_run_killed_after_one_epoch_keeps_its_model_and_resumes_to_one_history(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import REPOSITORY
    from conftest import interruptible

    folders = ["--reports-dir", str(tmp_path / "reports"), "--models-dir",
               str(tmp_path / "models")]
    process = subprocess.Popen([sys.executable, "-m", "labs.poetry", *SMALL_RUN, *folders],
                               cwd=REPOSITORY, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    runs_folder = tmp_path / "models" / "poetry" / "leopardi" / "runs"
    deadline = time.monotonic() + 180
    while not list(runs_folder.glob("*/backup/training_metadata.json")):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGINT)  # during the second epoch
    assert process.wait(timeout=120) == 130
    (run_folder,) = runs_folder.iterdir()
    assert (run_folder / "model.keras").is_file()  # the first epoch's model, saved as it came

    metrics = cli.main([*SMALL_RUN[:3], "--resume", *folders])
    assert metrics["epochs_run"] == 3 and len(metrics["history"]["val_loss"]) == 3
    assert len(metrics["seconds_per_epoch"]) == 3
    assert [path.name for path in runs_folder.iterdir()] == [run_folder.name]
    assert not (run_folder / "backup").exists()
    log = (tmp_path / "reports" / "poetry" / "leopardi" / "runs" / run_folder.name /
           "training_log.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in log[1:]] == ["0", "1", "2"]


def test_resume_without_an_interrupted_run_is_one_clear_error(tmp_path):
    with pytest.raises(SystemExit) as raised:
        cli.main([*SMALL_RUN[:3], "--resume", "--reports-dir", str(tmp_path),
                  "--models-dir", str(tmp_path)])
    assert "no interrupted run of poetry/leopardi to resume" in str(raised.value.code)


@pytest.mark.slow
def test_budgeted_configurations_are_not_capped_by_the_reference_epochs(tmp_path):
    """The course model trains to its early stop within the reference epochs; every other
    configuration trains until its time budget ends it, however few epochs the reference
    has (here 2, as in a quick compare)."""
    from dataclasses import replace

    from labs.poetry import compare
    from labs.poetry.config import Config
    from labs.poetry.data import Corpus

    fit, validation, held_out = poetry.split_text(TEXT * 40)
    corpus = Corpus("leopardi", ("leopardi.txt",), [fit], [validation], [held_out],
                    poetry.build_vocabulary([TEXT]))
    base = Config(corpus="leopardi", maxlen=12, step=3, units=8, epochs=2, quick=True)
    seed_text = held_out[:12]
    course = compare.train_configuration(
        compare.COURSE, compare.configuration(compare.COURSE, base), corpus, seed_text, None,
        tmp_path)
    assert course["epochs"] <= 2
    budgeted = compare.configuration("every-step GRU", base)
    budgeted = replace(budgeted, units=8, seq_length=20)
    row = compare.train_configuration("every-step GRU", budgeted, corpus, seed_text, 8.0,
                                      tmp_path)
    assert row["epochs"] > 2


# ---------------------------------------------------------------- what chooses, what scores
def test_the_three_parts_of_a_text_are_contiguous_disjoint_and_fixed():
    text = "".join(chr(ord("a") + number % 26) for number in range(1000))
    fit, validation, held_out = poetry.split_text(text)
    assert fit + validation + held_out == text
    assert (len(fit), len(validation), len(held_out)) == (850, 50, 100)
    assert split_holdout(text)[1] == held_out  # the held-out 10% every lab uses
    assert poetry.split_text(text) == (fit, validation, held_out)


@pytest.mark.slow
def test_the_held_out_text_chooses_nothing_in_an_every_step_run(tmp_path):
    """Replace every held-out character by another: the chosen epoch, the validation curve
    and the trained weights stay the same; only the held-out loss moves."""
    from dataclasses import replace

    import keras

    from labs.poetry import models, train
    from labs.poetry.config import Config
    from labs.poetry.data import Corpus

    fit, validation, held_out = poetry.split_text(TEXT * 60)
    vocabulary = poetry.build_vocabulary([TEXT])
    scrambled = "".join(sorted(held_out))  # the same characters, another text
    config = Config(corpus="leopardi", maxlen=12, step=3, units=16, objective="every-step",
                    seq_length=24, optimizer="adam", learning_rate=0.01, batch_size=16,
                    epochs=8).resolved()
    config = replace(config, sample_every=100)
    results = []
    for text in (held_out, scrambled):
        corpus = Corpus("leopardi", ("leopardi.txt",), [fit], [validation], [text], vocabulary)
        keras.utils.set_random_seed(0)
        model = models.build(config, len(vocabulary))
        report = train.EpochReport(config.model_metadata(vocabulary), text, 100, 0)
        history, _ = train.fit(model, train.training_data(config, corpus), config, report, [])
        results.append((history, train.loss_metrics(history), model.get_weights()))
    (first, first_metrics, first_weights), (second, second_metrics, second_weights) = results
    assert first_metrics["chosen_on"] == "validation part"
    assert first["val_loss"] == second["val_loss"] and first["loss"] == second["loss"]
    assert first_metrics["best_epoch"] == second_metrics["best_epoch"]
    for a, b in zip(first_weights, second_weights):
        np.testing.assert_array_equal(a, b)
    assert first["held_out_loss"] != second["held_out_loss"]
