"""The poetry tuning run: each trial's time budget, what scores it, what it never reads, and
the report that lists every trial; the cosine schedule the search can choose."""

import json
import math
import signal

import numpy as np
import optuna
import pytest

from labs.cli import LabError
from labs.poetry import cli, compare, tune
from labs.poetry import data as poetry
from labs.poetry.config import Config
from labs.poetry.data import Corpus
from labs.poetry.train import learning_rate_factor
from conftest import load_docs_build, start_lab, wait_for

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
    asked = []  # every setting suggest can ask for has its column in trials.csv

    class Recording(optuna.trial.FixedTrial):
        def _suggest(self, name, distribution):
            asked.append(name)
            return super()._suggest(name, distribution)

    for cell in ("gru", "transformer"):
        tune.suggest(Recording({**SMALL_GRU, "cell": cell, "transformer_units": 128,
                                "transformer_layers": 2}), BASE)
    assert sorted(set(asked)) == sorted(tune.SEARCHED)
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
    """A zero budget stops after one epoch; a budget of a few first epochs (at least 8 s)
    trains several and stops within it (the first epoch, with its graph tracing, took over
    8 s in a CI run on a busy machine: the budget follows this machine's speed); the
    held-out text is never touched (reading it fails the test)."""
    config = tune.suggest(optuna.trial.FixedTrial(SMALL_GRU), BASE)
    corpus = small_corpus(Unreadable())
    once = tune.run_trial(config, corpus, 0.0)
    assert once["epochs"] == 1 and len(once["validation_curve"]) == 1
    budget = max(8.0, 3 * once["training_seconds"])
    budgeted = tune.run_trial(config, corpus, budget)
    assert budgeted["epochs"] > 1
    assert budgeted["training_seconds"] <= budget * 1.2
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


def test_the_committed_tuned_configuration_is_the_winner_of_the_committed_tuning_run():
    """compare's fallback (no tuning run on this machine) is the first row of the tuning table
    on the poetry page: the newest committed results of make poetry-tune."""
    newest = load_docs_build().newest("poetry/nietzsche/tune")
    assert newest["run"] == compare.COMMITTED_TUNING
    winner = dict(zip(newest["columns"], newest["rows"][0]))
    chosen = {setting: value for setting, value in winner.items()
              if setting in tune.SEARCHED and value != ""}
    committed = {setting: value for setting, value in compare.CONFIGURATIONS[compare.TUNED].items()
                 if setting in tune.SEARCHED}
    assert committed.keys() <= chosen.keys()
    defaults = Config()
    for setting, text in chosen.items():
        value = committed.get(setting, getattr(defaults, setting))
        if isinstance(value, str):
            assert text == value, setting
        else:
            assert math.isclose(float(text), value, rel_tol=1e-3), setting


def test_compare_reads_the_tuned_configuration_of_the_last_complete_tuning_run(tmp_path):
    folder = tmp_path / "poetry" / "nietzsche" / "tune"
    (folder / "runs" / "20261204-120000-4x1min").mkdir(parents=True)
    settings, source = compare.tuned_configuration(tmp_path, "leopardi")
    assert settings == compare.CONFIGURATIONS[compare.TUNED]
    assert source.startswith(f"the committed winner of make poetry-tune run "
                             f"{compare.COMMITTED_TUNING}")
    (folder / "latest.json").write_text(json.dumps({"run": "20261204-120000-4x1min"}))
    best = folder / "runs" / "20261204-120000-4x1min" / "best.json"
    best.write_text(json.dumps({"configuration": SMALL_GRU}))
    settings, source = compare.tuned_configuration(tmp_path, "leopardi")
    assert settings == SMALL_GRU
    assert source.startswith("the best.json of make poetry-tune run 20261204-120000-4x1min on "
                             "nietzsche")
    assert compare.configuration(compare.TUNED, BASE, settings).cell == "gru"
    best.write_text(json.dumps({"configuration": {**SMALL_GRU, "cell": "rnn-of-my-own"}}))
    assert compare.tuned_configuration(tmp_path, "leopardi")[1].startswith("the committed")


def test_tuned_names_a_best_json_or_its_run_folder_and_a_bad_one_is_one_line(tmp_path, capsys):
    """``compare --tuned``: how the long search's winner is measured at the goal's budget
    before it may become the committed configuration."""
    run = tmp_path / "tune-long" / "runs" / "20261207-193943-8x18.9min"
    run.mkdir(parents=True)
    (run / "best.json").write_text(json.dumps({"trial": 8, "configuration": SMALL_GRU}))
    for given in (run, run / "best.json"):
        settings, source = compare.given_tuned_configuration(given)
        assert settings == SMALL_GRU
        assert f"the winner of tuning run {run.name} (trial 8)" in source
    bad = {"not json": "{", "no configuration": "{}",
           "not the lab's": json.dumps({"configuration": {**SMALL_GRU, "cell": "mine"}}),
           "an unknown field": json.dumps({"configuration": {**SMALL_GRU, "colour": 1}})}
    for name, text in bad.items():
        (tmp_path / "best.json").write_text(text)
        with pytest.raises(SystemExit) as raised:
            cli.main(["compare", "--corpus", "leopardi", "--tuned", str(tmp_path / "best.json"),
                      "--reports-dir", str(tmp_path / "reports")])
        message = str(raised.value.code)
        assert message.startswith("labs.poetry: error: --tuned ") and "\n" not in message, name
        assert "best.json of a tuning run" in message, name
    with pytest.raises(SystemExit) as raised:
        cli.main(["compare", "--corpus", "leopardi", "--tuned", str(run), "--configurations",
                  "every-step GRU", "--reports-dir", str(tmp_path / "reports")])
    assert "which --configurations leaves out" in str(raised.value.code)
    assert not (tmp_path / "reports").exists()  # refused before a run was started


def test_the_course_budget_is_the_course_models_time_to_its_best():
    course = {"seconds": [10.0, 21.0, 33.0], "held_out_loss": [2.0, 1.5, 1.6],
              "best_loss": 1.5}
    assert compare.budget_seconds(compare.COURSE_BUDGET, [course]) == 21.0
    assert compare.budget_seconds(2.5, [course]) == 150.0
    assert cli.build_parser().parse_args(["compare", "--budget-minutes", "course"]) \
        .budget_minutes == "course"


def test_successive_halving_prunes_and_the_winner_trained_the_whole_budget(tmp_path):
    """--halving: trials report each epoch; those not among the best at a rung stop there,
    are listed with the seconds they trained, and never win."""
    reports = tmp_path / "reports"
    frame = cli.main(["tune", "--corpus", "leopardi", "--quick", "--halving", "--trials", "3",
                      "--trial-minutes", "0.1", "--seed", "3", "--reports-dir", str(reports)])
    assert sorted(frame["trial"]) == [1, 2, 3]
    pruned = frame[frame["pruned at s"] != ""]
    assert len(pruned) >= 1 and all(value < 6 for value in pruned["pruned at s"])
    assert not (reports / "poetry" / "leopardi" / "tune").exists()  # compare never reads it
    folder = next((reports / "poetry" / "leopardi" / "tune-long" / "runs").iterdir())
    best = json.loads((folder / "best.json").read_text())
    assert best["trial"] not in set(pruned["trial"])
    assert best["trial"] == frame.iloc[0]["trial"]
    markdown = (folder / "tune.md").read_text()
    assert f"{len(pruned)} of 3 trials pruned" in markdown
    assert "trial 1 is the committed tuned configuration" in markdown
    first = json.loads((folder / "options.json").read_text())
    assert first["halving"] is True and first["trial_minutes"] == 0.1


def test_successive_halving_compares_trials_at_the_rungs_own_second():
    """A rung compares what each trial had reached by the rung's second. Trial 1's epochs
    take 8 s: at the 10 s rung it had 2.2; its next epoch ends at 16 s with 1.8. Trial 2's
    take 5 s and it had 2.0 at 10 s: ahead at equal time, it goes on (judged at trial 1's
    first epoch past the rung, 1.8, it was pruned)."""
    import types

    study = optuna.create_study(pruner=tune.halving_pruner(90))  # rungs at 10 s and 30 s
    assert tune.rungs(90) == [10, 30]

    def run(epochs):
        trial = study.ask()
        report = types.SimpleNamespace(training_seconds=[])
        callback = tune.ReportToTrial(trial, report, 90)
        callback.set_model(types.SimpleNamespace(stop_training=False))
        for seconds, loss in epochs:
            report.training_seconds.append(seconds)
            callback.on_epoch_end(len(report.training_seconds), {"val_loss": loss})
            if callback.model.stop_training:
                break
        return trial, callback

    first, _ = run([(8, 2.2), (8, 1.8), (8, 1.7)])
    assert study.trials[0].intermediate_values == {8: 2.2, 10: 2.2, 16: 1.8, 24: 1.7}
    study.tell(first, 1.7)
    second, callback = run([(5, 2.1), (5, 2.0), (5, 1.95)])
    assert callback.pruned_at is None and not callback.model.stop_training
    third, callback = run([(5, 2.3), (5, 2.25), (5, 2.2)])
    assert callback.pruned_at == 10  # behind both at 10 s


def test_the_long_search_takes_its_budget_from_the_last_goal_run(tmp_path):
    with pytest.raises(LabError, match="no complete goal run on nietzsche"):
        tune.course_minutes(tmp_path, "nietzsche")
    folder = tmp_path / "poetry" / "nietzsche" / "goal"
    (folder / "runs" / "20261207-170000-course").mkdir(parents=True)
    (folder / "latest.json").write_text(json.dumps({"run": "20261207-170000-course"}))
    course = {"seconds": [300.0, 600.0, 900.0], "held_out_loss": [2.0, 1.5, 1.6],
              "best_loss": 1.5}
    (folder / "runs" / "20261207-170000-course" / "compare.json").write_text(
        json.dumps([course, {**course, "best_loss": 1.4}]))
    assert tune.course_minutes(tmp_path, "nietzsche") == 10.0
    assert tune.rungs(600.0) == [66, 198]
    parser = cli.build_parser()
    assert parser.parse_args(["tune", "--trial-minutes", "course"]).trial_minutes == "course"
    with pytest.raises(SystemExit):
        parser.parse_args(["tune", "--trial-minutes", "soon"])


# ---------------------------------------------------------------- a study that survives
TUNE = ["tune", "--corpus", "leopardi", "--quick", "--trial-minutes", "0", "--seed", "3"]


def tune_folder(reports):
    (run,) = (reports / "poetry" / "leopardi" / "tune" / "runs").iterdir()
    return run


def rows_by_trial(run):
    lines = (run / "trials.csv").read_text().splitlines()
    return {line.split(",")[0]: line for line in lines[1:]}


def journal_study(run):
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(run / "backup" / tune.JOURNAL)))
    return optuna.load_study(study_name=tune.STUDY, storage=storage)


@pytest.mark.slow
@pytest.mark.parametrize("workers, trials, killed_in", [(1, 3, 2), (2, 3, 2)])
def test_a_tune_killed_in_trial_k_of_n_resumes_without_repeating_itself(tmp_path, workers,
                                                                        trials, killed_in):
    """Killed in trial k of n (SIGKILL: nothing said goodbye), resumed: the finished trials
    are kept byte for byte, each cut-off one is retried with its settings, and the study
    ends with exactly n complete trials, no two alike, labelled 1 to n (with two workers:
    together they make exactly the requested number, none drawn twice)."""
    reports = tmp_path / "reports"
    arguments = [*TUNE, "--trials", str(trials), "--workers", str(workers), "--reports-dir",
                 str(reports)]
    process = start_lab("labs.poetry", arguments)
    wait_for(process, f"[trial {killed_in}/{trials}]")
    with pytest.raises(SystemExit) as raised:  # while it runs: which run, which process
        cli.main(["tune", "--corpus", "leopardi", "--resume", "--reports-dir", str(reports)])
    run = tune_folder(reports)
    assert f"run {run.name} of poetry/leopardi/tune is still running (process " \
           f"{process.pid})" in str(raised.value.code)
    process.kill()
    process.communicate()
    before = rows_by_trial(run) if (run / "trials.csv").exists() else {}
    cut_off = [trial for trial in journal_study(run).trials
               if trial.state == optuna.trial.TrialState.RUNNING]
    assert cut_off
    files = {path: path.read_bytes() for path in run.rglob("*") if path.is_file()}
    with pytest.raises(SystemExit) as raised:  # refused for its options: nothing changes
        cli.main(["tune", "--corpus", "leopardi", "--resume", "--trials", "9", "--reports-dir",
                  str(reports)])
    assert f"--trials 9 (it has {trials}) would change it" in str(raised.value.code)
    assert {path: path.read_bytes() for path in run.rglob("*") if path.is_file()} == files
    frame = cli.main(["tune", "--corpus", "leopardi", "--resume", "--reports-dir", str(reports)])
    assert len(frame) == trials and sorted(frame["trial"]) == list(range(1, trials + 1))
    after = rows_by_trial(run)
    assert {trial: after[trial] for trial in before} == before  # byte for byte
    study = journal_study(run)
    complete = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    assert len(complete) == trials
    assert len({json.dumps(trial.params, sort_keys=True) for trial in complete}) == trials
    for trial in cut_off:  # retried with its own settings
        assert any(other.params == trial.params for other in complete)
    assert json.loads((run / "run.json").read_text())["status"] == "complete"


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["[trial 2/3]", "validation loss"])
def test_ctrl_c_at_a_trial_boundary_or_inside_a_trial_exits_130_in_one_line(tmp_path, moment):
    """Inside a trial (the second, as it starts) and at a trial boundary (the first's result
    printed, the study being told); either way the run is marked interrupted, not lost."""
    reports = tmp_path / "reports"
    process = start_lab("labs.poetry", [*TUNE, "--trials", "3", "--reports-dir", str(reports)])
    wait_for(process, moment)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "Exception ignored" not in err
    assert [line for line in err.splitlines() if "interrupted" in line] == [
        err.strip().splitlines()[-1]]
    assert err.strip().splitlines()[-1].startswith("labs.poetry: interrupted")
    run = tune_folder(reports)
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert "[trial 3/3]" not in out  # nothing trained after the interrupt
    assert len(journal_study(run).trials) >= 1


def test_an_in_memory_storage_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(SystemExit) as raised:
        cli.main([*TUNE, "--storage", "sqlite:///", "--reports-dir", str(tmp_path)])
    assert str(raised.value.code).startswith("labs.poetry: error: --storage sqlite:/// is a "
                                             "database in memory")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("delay", [0.5, 2.0])
def test_ctrl_c_while_the_lab_is_still_starting_is_one_line(delay, tmp_path):
    """SIGINT during the imports (TensorFlow takes seconds): one line, status 130."""
    import time

    process = start_lab("labs.poetry", [*TUNE, "--trials", "2", "--reports-dir",
                                        str(tmp_path)])
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.strip().startswith("labs.poetry: interrupted")


def test_a_new_tuning_run_never_joins_another_runs_study_in_a_shared_storage(tmp_path):
    """Two runs on one --storage (a quick one, then a full one): each gets a study of its
    own, which records its run; --resume (and a worker) continues only its run's study. It
    was one study for every run: the second trained nothing and published the first's
    trials, a quick study's as a full run's."""
    from labs import runs

    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    quick = runs.start("poetry/leopardi/tune", "1x0min", True, tmp_path)
    full = runs.start("poetry/leopardi/tune", "1x0min", False, tmp_path)
    runs.ON_FAILURE.clear()  # no command runs here to mark them
    first = tune.open_study(storage, quick, 3, 1)
    second = tune.open_study(storage, full, 4, 1)
    first.tell(first.ask(), 1.0)
    assert first.study_name != second.study_name and len(second.trials) == 1  # its own start
    assert first.user_attrs == {"run": quick.run_id, "quick": True}
    assert second.user_attrs == {"run": full.run_id, "quick": False}
    assert len(tune.open_study(storage, quick, 3, 1, resume=True).trials) == 1
    with pytest.raises(tune.LabError, match="a new tuning run never joins another's"):
        tune.open_study(storage, quick, 3, 1)


@pytest.mark.slow
def test_a_budgeted_cosine_run_is_not_stopped_before_its_schedule_ends():
    """On a text with nothing to learn the validation loss stops improving within a few
    epochs, and patience 3 ended the run there, its learning rate still near the peak; with
    a cosine schedule over a budget the budget ends it, the best epoch kept."""
    rng = np.random.default_rng(0)
    noise = "".join(rng.choice(list("abcdefgh \n"), 4000))
    fit, validation, held_out = poetry.split_text(noise)
    corpus = Corpus("leopardi", ("leopardi.txt",), [fit], [validation], [held_out],
                    poetry.build_vocabulary([noise]))
    config = tune.suggest(optuna.trial.FixedTrial({**SMALL_GRU, "learning_rate": 0.02}), BASE)
    budget = 8.0  # about twenty epochs of this small model, the first's tracing included
    budgeted = tune.run_trial(config, corpus, budget)
    curve = budgeted["validation_curve"]
    assert int(np.argmin(curve)) < len(curve) - 4  # patience 3 would have stopped it
    # The budget ends it: before an epoch that would pass it, the slowest (the first, with
    # its tracing) the estimate, so at least half the budget is trained.
    assert budgeted["training_seconds"] >= 0.5 * budget, (budgeted, budget)
    assert budgeted["validation_loss"] == min(curve)


def test_the_goal_run_refuses_a_budget_or_configurations_of_its_own(tmp_path):
    with pytest.raises(SystemExit) as raised:
        cli.main(["compare", "--goal", "--budget-minutes", "2", "--reports-dir",
                  str(tmp_path)])
    assert "--goal trains the course model and the tuned configuration" in str(
        raised.value.code)
    assert not any(tmp_path.iterdir())
