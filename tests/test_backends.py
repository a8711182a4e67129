"""Keras 3's three backends: the same weights predict the same on TensorFlow, PyTorch and
JAX, a model saved under one loads under the others, and training from the same initial
weights ends at the same held-out loss (natively in PyTorch too). TensorFlow runs here, in
the suite's process; PyTorch and JAX each in a process of their own (``backend_worker.py``,
``bench/backends.py``)."""

import subprocess
import sys

import keras
import numpy as np
import pytest

import backend_worker
from conftest import REPOSITORY, subprocess_env
from labs import backends, runs
from labs.words import cli as words
from labs.poetry import cli as poetry_cli
from labs.poetry.models import build_model
from labs.reports import device_line
from labs.spam import cli as spam_cli
from test_bad_inputs import one_line_error

TOLERANCE = 1e-4  # largest difference between two backends' probabilities
VOCABULARY = 60
MAXLEN = 20


def saved_models(folder):
    """The course model, an every-step LSTM and the transformer, built and saved under
    TensorFlow, and the inputs each is checked on."""
    keras.utils.set_random_seed(7)
    built = {"course": build_model(VOCABULARY, MAXLEN, units=64),
             "every-step-lstm": build_model(VOCABULARY, MAXLEN, units=64,
                                            objective="every-step", inputs="embedding"),
             "transformer": build_model(VOCABULARY, MAXLEN, cell="transformer", units=64,
                                        heads=4, layers_count=2, objective="every-step",
                                        context=MAXLEN)}
    (folder / "tensorflow").mkdir()
    for name, model in built.items():
        model.optimizer.build(model.trainable_variables)  # its state saved: loads as it is
        model.save(folder / "tensorflow" / f"{name}.keras")
    rng = np.random.default_rng(0)
    inputs = {name: rng.integers(0, VOCABULARY, (16, MAXLEN)).astype("int32") for name in built}
    np.savez(folder / "inputs.npz", **inputs)


def run_worker(folder, backend, *sources):
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "tests" / "backend_worker.py"), str(folder), *sources],
        cwd=REPOSITORY, env=subprocess_env(KERAS_BACKEND=backend, PYTHONPATH=str(REPOSITORY)),
        capture_output=True,
        text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_three_backends_predict_alike_and_load_each_others_models(tmp_path):
    saved_models(tmp_path)
    tensorflow_models, expected = backend_worker.predictions(tmp_path, "tensorflow")
    run_worker(tmp_path, "torch", "tensorflow")
    run_worker(tmp_path, "jax", "tensorflow", "torch")
    predicted = {backend: dict(np.load(tmp_path / f"predictions-{backend}.npz"))
                 for backend in ("torch", "jax")}
    predicted["tensorflow"] = {  # and back: TensorFlow loads what they saved
        f"{backend}/{name}": values for backend in ("torch", "jax")
        for name, values in backend_worker.predictions(tmp_path, backend)[1].items()}
    checked = 0
    for backend, results in predicted.items():
        for key, values in results.items():
            difference = float(np.max(np.abs(values - expected[key.split("/")[1]])))
            assert difference < TOLERANCE, (f"{key} predicted on {backend}", difference)
            checked += 1
    assert checked == 3 * 5  # torch ← tf, jax ← tf, jax ← torch, tf ← torch, tf ← jax
    # A compiled call (backends.compiled: tf.function, jax.jit, no-gradient PyTorch) reads
    # the weights as they are now: jax.jit alone would keep the ones it was traced with.
    inputs = np.load(tmp_path / "inputs.npz")["course"]
    compiled = {"tensorflow": backend_worker.compiled_after_new_weights(
        tensorflow_models["course"], inputs),
                **{backend: dict(np.load(tmp_path / f"compiled-{backend}.npz"))
                   for backend in ("torch", "jax")}}
    for backend, values in compiled.items():
        assert np.max(np.abs(values["compiled/after"] - values["compiled/eager"])) < 1e-6, backend
        assert np.max(np.abs(values["compiled/after"] - values["compiled/before"])) > 1e-3, backend


@pytest.mark.parametrize(("main", "arguments", "fragments"), [
    (spam_cli.main, ["train", "--quick", "--reports-dir"],
     ["--inputs ragged", "words-gru", "give --inputs padded --variants simplernn"]),
    (spam_cli.main, ["train", "--quick", "--inputs", "padded", "--variants", "lstm",
                     "chars-cnn", "--reports-dir"],
     ["the text models chars-cnn", "--variants lstm,"]),
    (spam_cli.main, ["predict", "a message", "--models-dir"], ["--model lstm_ragged",
                                                                "--model lstm_padded"]),
    (spam_cli.main, ["train", "--inputs", "padded", "--distribute", "--reports-dir"],
     ["--distribute"]),
    (poetry_cli.main, ["train", "--cpu-replicas", "2", "--reports-dir"], ["--cpu-replicas"]),
    (words.main, ["--tensorboard", "--reports-dir"], ["--tensorboard", "training_log.csv"]),
])
def test_what_needs_tensorflow_stops_in_one_line_on_another_backend(monkeypatch, tmp_path, main,
                                                                    arguments, fragments):
    monkeypatch.setattr(backends, "name", lambda: "torch")
    with pytest.raises(SystemExit) as raised:
        main([*arguments, str(tmp_path)])  # the last option names the output folder
    one_line_error(raised, main.__module__.removesuffix(".cli"),
                   "only on the TensorFlow backend, and KERAS_BACKEND is torch",
                   "KERAS_BACKEND=tensorflow", *fragments)
    assert not any(tmp_path.iterdir())  # stopped before any run began


@pytest.mark.parametrize(("value", "fragment"), [
    ("pytorch", "KERAS_BACKEND=pytorch is not a backend the labs run on"),
    ("tensorflow", None)])
def test_an_unknown_backend_is_one_line_before_anything_loads(value, fragment):
    result = subprocess.run([sys.executable, "-c", "import labs"], cwd=REPOSITORY,
                            env=subprocess_env(KERAS_BACKEND=value), capture_output=True,
                            text=True, timeout=60)
    if fragment is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1 and result.stderr.strip().count("\n") == 0, result.stderr
        assert result.stderr.startswith("rnn-labs: error: ") and fragment in result.stderr


def test_runs_and_reports_name_the_backend_and_its_version():
    fields = runs.backend_fields()
    assert fields["backend"] == "tensorflow" and fields["keras_version"] == keras.__version__
    assert fields["backend_version"] == backends.version() and backends.version()[0].isdigit()
    assert f"TensorFlow {backends.version()}, Keras {keras.__version__}" in device_line(keras)
