"""The command-line contract shared by every lab (labs/cli.py)."""

import pytest

from labs import browser, cli, data
from labs.char_rnn import cli as char_rnn
from labs.words import cli as words
from labs.gpt2 import cli as gpt2
from labs.poetry import cli as poetry
from labs.spam import cli as spam

HELP = [(spam.main, []), (spam.main, ["train"]), (spam.main, ["predict"]),
        (poetry.main, []), (poetry.main, ["train"]), (poetry.main, ["generate"]),
        (poetry.main, ["compare"]),
        (gpt2.main, []), *[(gpt2.main, [command]) for command in gpt2.COMMANDS],
        (words.main, []), (char_rnn.main, []), (data.main, []),
        (browser.main, [])]


@pytest.mark.parametrize("main, command", HELP)
def test_every_help_text_renders(main, command, capsys):
    with pytest.raises(SystemExit) as raised:
        main([*command, "--help"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m labs.")


@pytest.mark.parametrize("main, command", [entry for entry in HELP
                                           if entry[0] in (words.main, char_rnn.main,
                                                           data.main) or entry[1]])
def test_every_lab_has_the_same_folder_options(main, command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "--datasets-dir" in capsys.readouterr().out


def test_the_first_command_is_the_default():
    assert cli.with_default_command([], ("train", "predict")) == ["train"]
    assert cli.with_default_command(["--quick"], ("train", "predict")) == ["train", "--quick"]
    assert cli.with_default_command(["predict", "x"], ("train", "predict")) == ["predict", "x"]
    assert cli.with_default_command(["--help"], ("train", "predict")) == ["--help"]


def test_quick_settings_cap_the_options_and_describe_themselves():
    import argparse

    args = argparse.Namespace(quick=True, epochs=20, batch_size=32, seeds=3)
    cli.apply_quick(args, {"messages": 1000, "epochs": 3, "batch_size": 64, "seeds": 1})
    assert (args.epochs, args.batch_size, args.seeds) == (3, 32, 1)
    assert cli.quick_help({"messages": 1000, "epochs": 3}) == "smoke run: 1,000 messages, 3 epochs"


def test_a_lab_error_is_one_line_and_exit_status_1():
    def fails(args):
        raise data.DatasetError("datasets/x.txt: the corpus is empty")

    with pytest.raises(SystemExit) as raised:
        cli.run_lab("labs.test", fails, None)
    assert raised.value.code == "labs.test: error: datasets/x.txt: the corpus is empty"


@pytest.fixture
def python_sigint(monkeypatch):
    """Python's own SIGINT handler, as a lab started from a terminal has it (a test process
    may have another); the test's is restored after."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield signal
    signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_that_python_swallowed_still_ends_the_command_with_130(python_sigint,
                                                                        capsys):
    """The KeyboardInterrupt lands where Python drops it (here a bare except, as in a
    finalizer); the next check raises it again, and run_lab says its one line."""
    import os

    def command(args):
        try:
            os.kill(os.getpid(), python_sigint.SIGINT)
        except BaseException:  # noqa: BLE001  (what a finalizer does to it)
            pass
        cli.check_interrupted()
        raise AssertionError("the interrupt was lost")

    with pytest.raises(SystemExit) as raised:
        cli.run_lab("labs.test", command, None)
    assert raised.value.code == 130
    assert capsys.readouterr().err.strip().startswith("labs.test: interrupted")
    assert python_sigint.getsignal(python_sigint.SIGINT) is python_sigint.default_int_handler


def test_a_remembered_ctrl_c_stops_training_at_the_next_batch(monkeypatch):
    import keras
    import numpy as np
    from keras import layers

    from labs.training import StopOnInterrupt

    class Batches(keras.callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            Batches.seen += 1

    model = keras.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = np.zeros((8, 2), dtype="float32"), np.zeros((8, 1), dtype="float32")
    monkeypatch.setattr(cli, "INTERRUPTED", [2])
    with pytest.raises(KeyboardInterrupt):
        model.fit(*data, batch_size=2, epochs=3, verbose=0,
                  callbacks=[Batches(), StopOnInterrupt()])
    assert Batches.seen == 1
