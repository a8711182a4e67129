"""The poetry tuning run: each trial's time budget, what scores it, what it never reads, and
the report that lists every trial; the cosine schedule the search can choose."""

import json
import math

import numpy as np
import optuna
import pytest

from labs.poetry import cli, compare, tune
from labs.poetry import data as poetry
from labs.poetry.config import Config
from labs.poetry.data import Corpus
from labs.poetry.train import learning_rate_factor

TEXT = "Sempre caro mi fu quest'ermo colle,\nE questa siepe, che da tanto parte\n"
BASE = Config(corpus="leopardi", maxlen=12, step=3, objective="every-step", optimizer="adam",
              epochs=tune.UNLIMITED_EPOCHS)
SMALL_GRU = {"cell": "gru", "units": 128, "layers": 1, "inputs": "embedding",
             "embedding_dim": 32, "learning_rate": 3e-3, "schedule": "cosine",
             "batch_size": 32, "seq_length": 64, "dropout": 0.1, "clipnorm": 1.0}


class Unreadable(list):
    """A held-out text list that fails the moment anything reads it."""

    def _fail(self, *args):
        raise AssertionError("a tuning trial read the held-out text")

    __iter__ = __len__ = __getitem__ = _fail


def small_corpus(held_out_texts=None):
    fit, validation, held_out = poetry.split_text(TEXT * 40)
    return Corpus("leopardi", ("leopardi.txt",), [fit], [validation],
                  [held_out] if held_out_texts is None else held_out_texts,
                  poetry.build_vocabulary([TEXT]))


def test_a_trial_is_a_config_of_the_search_space():
    gru = tune.suggest(optuna.trial.FixedTrial(SMALL_GRU), BASE)
    assert (gru.cell, gru.inputs, gru.embedding_dim, gru.dropout, gru.schedule) == \
        ("gru", "embedding", 32, 0.1, "cosine")
    assert tune.differences(gru) == {
        "cell": "gru", "objective": "every-step", "seq_length": 64, "inputs": "embedding",
        "embedding_dim": 32, "dropout": 0.1, "optimizer": "adam", "learning_rate": 3e-3,
        "schedule": "cosine", "batch_size": 32}
    transformer = tune.suggest(optuna.trial.FixedTrial({
        **SMALL_GRU, "cell": "transformer", "transformer_units": 128, "transformer_layers": 2}),
        BASE)
    assert (transformer.inputs, transformer.embedding_dim, transformer.layers) == \
        ("embedding", 128, 2)
    # The tuned configuration of compare is a valid configuration of the lab.
    assert compare.configuration(compare.TUNED, BASE).objective == "every-step"


def test_the_cosine_schedule_warms_up_then_decays_to_zero():
    assert learning_rate_factor(0.0, 0.05) == pytest.approx(0.02)
    assert learning_rate_factor(0.05, 0.05) == pytest.approx(1.0)
    assert learning_rate_factor(0.525, 0.05) == pytest.approx(0.5)
    assert learning_rate_factor(1.0, 0.05) == pytest.approx(0.0, abs=1e-12)
    factors = [learning_rate_factor(progress, 0.05) for progress in np.linspace(0.05, 1, 50)]
    assert all(later <= earlier for earlier, later in zip(factors, factors[1:]))


@pytest.mark.slow
def test_a_trial_honours_its_budget_and_never_reads_the_held_out_text():
    """A zero budget stops after one epoch; an 8-second budget trains several and stops
    within it (the first epoch, with its graph tracing, can take seconds on a cold machine);
    the held-out text is never touched (reading it fails the test)."""
    config = tune.suggest(optuna.trial.FixedTrial(SMALL_GRU), BASE)
    corpus = small_corpus(Unreadable())
    once = tune.run_trial(config, corpus, 0.0)
    assert once["epochs"] == 1 and len(once["validation_curve"]) == 1
    budgeted = tune.run_trial(config, corpus, 8.0)
    assert budgeted["epochs"] > 1
    assert budgeted["training_seconds"] <= 8.0 * 1.2
    assert budgeted["validation_loss"] == min(budgeted["validation_curve"])
    assert budgeted["validation_loss"] < once["validation_loss"]


@pytest.mark.slow
def test_the_tune_command_lists_every_trial_and_names_the_best(tmp_path):
    reports = tmp_path / "reports"
    frame = cli.main(["tune", "--corpus", "leopardi", "--quick", "--trials", "2",
                      "--trial-minutes", "0", "--seed", "3", "--reports-dir", str(reports)])
    assert sorted(frame["trial"]) == [1, 2] and list(frame["epochs"]) == [1, 1]
    pointer = json.loads((reports / "poetry" / "leopardi" / "tune" / "latest-quick.json")
                         .read_text())
    folder = reports / "poetry" / "leopardi" / "tune" / "runs" / pointer["run"]
    best = json.loads((folder / "best.json").read_text())
    winner = frame.iloc[0]
    assert best["trial"] == winner["trial"]
    assert math.isclose(best["validation_loss"], winner["validation loss (nats)"])
    assert best["configuration"]["objective"] == "every-step"
    markdown = (folder / "tune.md").read_text()
    assert "QUICK smoke run" in markdown and "the held-out text is not read" in markdown
    assert all(f"- trial {number}: " in markdown for number in (1, 2))
    assert len((folder / "trials.csv").read_text().splitlines()) == 3
    assert "## Poetry tuning: leopardi" in (reports / "index.md").read_text()
