"""Where the labs train: MirroredStrategy on two logical CPU devices, TensorBoard logs.

A training on two logical devices runs in a fresh process: TensorFlow can split the CPU
into logical devices only before it starts, and the test process started it long ago. The
training it is compared with runs here meanwhile, in the test's own process.
"""

import csv
import importlib
import os
import subprocess
import sys

import keras
import pytest

from labs.cli import LabError
from labs.training import strategy, training_logs

from conftest import REPOSITORY

pytestmark = pytest.mark.slow


def arguments(lab, options, root):
    """The command line of one quick training of ``lab``, after ``python -m lab``."""
    if lab == "labs.words":
        return ["--quick", *options, "--reports-dir", str(root / "reports")]
    return ["train", "--quick", *options, "--reports-dir", str(root / "reports"),
            "--models-dir", str(root / "models")]


def start(lab, options, root):
    """Start one quick training of ``lab`` in its own process."""
    return subprocess.Popen([sys.executable, "-m", lab, *arguments(lab, options, root)],
                            cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def outcome(root):
    """A training's first epoch's log row and the text of its reports."""
    with sorted((root / "reports").rglob("training_log*.csv"))[0].open() as handle:
        first_epoch = next(csv.DictReader(handle))
    reports = "".join(path.read_text() for path in (root / "reports").rglob("*.md"))
    return first_epoch, reports


def side_by_side(here, elsewhere):
    """Two trainings at once (they compare numbers, never times): ``elsewhere`` in a fresh
    process, ``here`` in this one meanwhile, which spares the suite a TensorFlow start."""
    process = start(*elsewhere)
    lab, options, root = here
    main = importlib.import_module(f"{lab}.cli").main
    try:
        main(arguments(lab, options, root))
    finally:
        _, stderr = process.communicate()
    assert process.returncode == 0, stderr[-2000:]
    return outcome(root), outcome(elsewhere[2])


LABS = {
    "spam": ("labs.spam", ["--variants", "lstm", "--inputs", "padded", "--folds", "1",
                           "--epochs", "1"], 32),
    # Every-step batches of sequences must split evenly between the replicas (a last batch
    # of odd size once failed after the first epoch).
    "poetry every-step": ("labs.poetry", ["--corpus", "leopardi", "--objective", "every-step",
                                          "--units", "16"], 32),
    "poetry transformer": ("labs.poetry", ["--corpus", "leopardi", "--cell", "transformer",
                                           "--units", "16", "--heads", "2", "--layers", "1"], 32),
}


@pytest.mark.parametrize("name", LABS)
def test_two_replicas_train_like_one_device_with_the_same_global_batch(name, tmp_path):
    """One epoch under MirroredStrategy over two logical CPUs, each replica taking half of
    the batch, gives nearly the loss of one device taking the whole batch (the gradient is
    the same mean; initialisation and summation order differ slightly)."""
    lab, options, batch = LABS[name]
    (single, _), (mirrored, reports) = side_by_side(
        (lab, [*options, "--batch-size", str(batch)], tmp_path / "single"),
        (lab, [*options, "--batch-size", str(batch // 2), "--distribute", "--cpu-replicas", "2"],
         tmp_path / "mirrored"))
    assert "MirroredStrategy over 2 replicas (CPU:0, CPU:1)" in reports
    for key in ("loss", "val_loss"):
        assert float(mirrored[key]) == pytest.approx(float(single[key]), rel=0.05), key


def test_tensorboard_logs_only_when_asked(tmp_path):
    """With --tensorboard, Keras's event files of training and validation; without it, no
    TensorBoard callback (a poetry run without the option: tests/test_poetry.py checks that
    it writes no tensorboard folder). The smallest training there is: the callback is the
    same in every lab (labs.training.training_logs)."""
    from labs.poetry import cli as poetry

    poetry.main(arguments("labs.poetry", ["--corpus", "leopardi", "--units", "16",
                                          "--epochs", "1", "--step", "5", "--tensorboard"],
                          tmp_path))
    events = list((tmp_path / "reports" / "tensorboard" / "poetry").rglob(
        "events.out.tfevents.*"))
    assert {event.parent.name for event in events} == {"train", "validation"}
    assert list((tmp_path / "reports").rglob("model_summary.txt"))
    callbacks = training_logs(tmp_path / "log.csv")
    assert not [callback for callback in callbacks
                if isinstance(callback, keras.callbacks.TensorBoard)]


def test_distribute_without_several_devices_is_one_clear_error():
    with pytest.raises(LabError, match="--cpu-replicas 2"):
        strategy(distribute=True)


def test_tensorboard_missing_is_one_clear_error_before_training(monkeypatch):
    from labs.training import require_tensorboard

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import fails as if not installed
    with pytest.raises(LabError, match="make tensorboard"):
        require_tensorboard()
