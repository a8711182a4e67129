"""Tuning: which every-step configuration learns most in a fixed number of seconds?

    python -m labs.poetry tune --corpus nietzsche --trials 10 --trial-minutes 2.5

Each trial trains one configuration for the same budget of training seconds (``TimeBudget``:
the budget the comparison gives every configuration) and is scored by its best loss on the
validation part (the 5% of the text before the held-out 10%; ``train.next_char_loss``). The
held-out text is never read: not scored, not plotted, not used to stop. The search is
Optuna's: its define-by-run space holds the choices that only exist for some cells (an
embedding's width, a transformer's depth) without a hypermodel class, its seeded TPE sampler
makes the sequence of trials reproducible from ``--seed``, and each trial is one plain
function call, so the time budget is ours to enforce (KerasTuner counts epochs, not seconds).
Trial timings depend on the CPU, so a rerun on another machine may choose differently.

The run (``reports/poetry/<corpus>/tune/runs/<run id>/``) writes ``tune.md`` and
``trials.csv`` (every trial: its settings, epochs, seconds and validation loss, best first)
after every trial, and ``best.json``: the winning settings as differences from ``Config``,
which ``compare`` reads from the last complete tuning run as its tuned configuration.

``--halving`` searches at a long budget (``make poetry-tune-long``: the course model's time to
its best, the budget the lab's goal names) without training every trial for all of it:
Optuna's successive halving over seconds of training. Each trial reports its best
validation loss after every epoch; at a ninth of the budget, a third and the whole, only
the best third of the trials that got there so far go on (``HALVING_RUNGS``). A pruned
trial is listed with the seconds it trained; the winner is the best trial that trained the
whole budget, chosen on the validation part as always. Its starting points include the
committed tuned configuration, so the long search confirms or beats it.

The study lives in storage, not in memory: Optuna's journal file in the run's ``backup/``
folder (or ``--storage``, a database URL that other machines join). ``--resume`` continues
the last unfinished tuning run: its finished trials are kept as they are, a trial that was
cut off is tried again with the same settings, and the budget per trial stays the same.
``--workers N`` runs N processes on the study, each with its share of the cores: a trial's
budget is still its seconds of training, so a trial learns less in them. Ctrl-C is
honoured at any moment (``labs.cli`` remembers it in a flag that the loop and the training
check, since an interrupt that lands in a finalizer is swallowed by Python): one line, exit
130, the study intact.
"""

import ctypes
import fcntl
import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import keras
import optuna
import pandas as pd
from optuna.trial import TrialState

from labs import runs
from labs.cli import LabError, check_interrupted, note_progress
from labs.poetry import data, models, train
from labs.poetry.compare import (BUDGET_MINUTES, CONFIGURATIONS, COURSE_BUDGET, TUNED,
                                 budget_seconds)
from labs.poetry.config import QUICK, Config
from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, device_line,
                          markdown_table, table_cells)
from labs.training import StopOnInterrupt

TRIALS = 16
# The search starts from the comparison's untuned every-step GRU and LSTM with an embedding
# (so the winner is at least as good as they are on the validation part), then samples at
# random, then lets TPE model the results.
STARTING_POINTS = (
    {"cell": "gru", "units": 128, "layers": 1, "inputs": "one-hot", "learning_rate": 3e-3,
     "schedule": "constant", "batch_size": 32, "seq_length": 128, "dropout": 0.0,
     "clipnorm": 1.0},
    {"cell": "lstm", "units": 128, "layers": 1, "inputs": "embedding", "embedding_dim": 64,
     "learning_rate": 3e-3, "schedule": "constant", "batch_size": 32, "seq_length": 128,
     "dropout": 0.0, "clipnorm": 1.0})
RANDOM_TRIALS = 6  # the starting points included
# Successive halving (--halving): rungs at budget / 3**k; a third of the trials reaching a
# rung go on. Three rungs: a ninth of the budget, a third, the whole.
HALVING_FACTOR = 3
HALVING_RUNGS = 3
UNLIMITED_EPOCHS = 10_000  # the budget ends a trial (or early stopping)
JOURNAL = "study.journal"  # Optuna's journal storage, in the run's backup folder
STUDY = "tune"  # the study's name in its storage
# What a tuning run is started with (options.json): --resume continues with these.
RESUMED_OPTIONS = ("trials", "trial_minutes", "seed", "quick", "storage", "workers", "halving")


# Every setting the search chooses, in the order ``suggest`` asks for them: trials.csv and
# tune.md have a column for each, empty where a trial has no such setting (a transformer has
# no input kind, a one-hot LSTM no embedding width), so that the rows a resumed run keeps are
# never reshaped by the settings of the trials it adds.
SEARCHED = ("cell", "transformer_units", "transformer_layers", "units", "layers", "inputs",
            "embedding_dim", "learning_rate", "schedule", "batch_size", "seq_length",
            "dropout", "clipnorm")


# --halving also starts from the committed tuned configuration: the one at stake.
TUNED_POINT = {"layers": 1, "dropout": 0.0,
               **{name: value for name, value in CONFIGURATIONS[TUNED].items()
                  if name in SEARCHED}}


def suggest(trial, base):
    """One trial's ``Config``: ``base`` (corpus, seed, every-step) with what the trial
    chooses. Cell and size, depth, input, learning rate and its schedule, batch size,
    sequence length, dropout, clipping: what decides how much is learned per second."""
    cell = trial.suggest_categorical("cell", ["lstm", "gru", "transformer"])
    choices = {"cell": cell}
    if cell == "transformer":  # wider or deeper ones train too slowly on a CPU to compete
        choices["units"] = trial.suggest_categorical("transformer_units", [128, 256])
        choices["layers"] = trial.suggest_categorical("transformer_layers", [2, 4])
    else:  # 512 units: one epoch of Nietzsche takes most of a 2.5-minute budget here
        choices["units"] = trial.suggest_categorical("units", [128, 256, 384])
        choices["layers"] = trial.suggest_categorical("layers", [1, 2])
        choices["inputs"] = trial.suggest_categorical("inputs", ["one-hot", "embedding"])
        if choices["inputs"] == "embedding":
            choices["embedding_dim"] = trial.suggest_categorical("embedding_dim", [32, 64, 128])
    choices.update(
        learning_rate=trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True),
        schedule=trial.suggest_categorical("schedule", ["constant", "cosine"]),
        batch_size=trial.suggest_categorical("batch_size", [32, 64, 128]),
        seq_length=trial.suggest_categorical("seq_length", [64, 128, 256]),
        dropout=trial.suggest_categorical("dropout", [0.0, 0.1, 0.2, 0.3]),
        clipnorm=trial.suggest_categorical("clipnorm", [0.5, 1.0, 5.0]))
    return replace(base, **choices).resolved()


def differences(config):
    """A configuration as the settings that differ from ``Config``'s defaults (what
    ``compare.CONFIGURATIONS`` lists), corpus-specific and run settings left out."""
    defaults = asdict(Config())
    skipped = ["corpus", "maxlen", "step", "lowercase", "epochs", "seed", "quick", "verbose",
               "replicas", "sample_every"]
    if config.inputs == "one-hot" or config.cell == "transformer":  # no width of its own
        skipped.append("embedding_dim")
    return {name: value for name, value in asdict(config).items()
            if name not in skipped and value != defaults[name]}


def run_trial(config, corpus, budget_seconds, trial=None):
    """Train ``config`` for ``budget_seconds`` of training on the fitting part; its
    validation curve, seconds, epochs and parameters. The held-out windows are not built.
    ``trial`` (successive halving): told the best validation loss after every epoch, it may
    stop the training (``pruned_at``: the seconds trained by then)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)
    prepared = train.training_data(config, corpus, held_out=False)
    model = models.build(config, len(corpus.vocabulary))
    report = train.EpochReport(config.model_metadata(corpus.vocabulary), "", math.inf,
                               config.seed)
    halving = [ReportToTrial(trial, report, budget_seconds)] if trial is not None \
        else []
    history, _ = train.fit(model, prepared, config, report, [StopOnInterrupt(), *halving],
                           budget_seconds=budget_seconds)
    return {"validation_loss": min(history["val_loss"]), "epochs": len(history["val_loss"]),
            "training_seconds": float(sum(report.training_seconds)),
            "parameters": model.count_params(), "validation_curve": history["val_loss"],
            "pruned_at": halving[0].pruned_at if halving else None}


class ReportToTrial(keras.callbacks.Callback):
    """Successive halving's view of a trial: after each epoch, the best validation loss so
    far at the seconds trained so far (its step); training stops when the pruner says the
    trial is not among the best of those that reached its rung. From the whole budget's
    rung on nothing is pruned: a trial that trained its budget is complete.

    Trials are compared at equal time: when an epoch crosses a rung, the trial first reports
    at the rung's own second what it had reached by then (its best before that epoch).
    Optuna compares the value at the first step past the rung, so a trial whose epochs are
    long would otherwise be judged up to one epoch later than the others (the first long
    search's trial 1, epochs of 30 s, was judged at 155 s against a small GRU at 129 s)."""

    def __init__(self, trial, report, budget_seconds):
        super().__init__()
        self.trial, self.report, self.best, self.pruned_at = trial, report, math.inf, None
        self.rungs = rungs(budget_seconds)
        self.compared_until = self.rungs[-1] * HALVING_FACTOR
        self.seconds, self.step = 0.0, -1

    def on_epoch_end(self, epoch, logs=None):
        seconds = float(sum(self.report.training_seconds))
        crossed = [rung for rung in self.rungs if self.seconds < rung < int(seconds)]
        self.seconds = seconds
        for rung in crossed:  # what it had reached at the rung's second
            self.step = rung
            self.trial.report(self.best, step=rung)
            if self.trial.should_prune():
                return self.prune(seconds)
        self.best = min(self.best, (logs or {}).get("val_loss", math.inf))
        if int(seconds) <= self.step:
            return  # an epoch under a second: its second is reported already
        self.step = int(seconds)
        self.trial.report(self.best, step=self.step)
        if seconds < self.compared_until and self.trial.should_prune():
            self.prune(seconds)

    def prune(self, seconds):
        self.pruned_at = seconds
        self.model.stop_training = True


def rungs(budget_seconds):
    """The seconds at which successive halving compares trials: a ninth of the budget and
    a third (whole seconds)."""
    first = max(1, int(budget_seconds / HALVING_FACTOR ** (HALVING_RUNGS - 1)))
    return [first * HALVING_FACTOR ** rung for rung in range(HALVING_RUNGS - 1)]


def halving_pruner(budget_seconds):
    """Optuna's successive halving over whole seconds of training, at ``rungs``."""
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=rungs(budget_seconds)[0],
                                                  reduction_factor=HALVING_FACTOR,
                                                  min_early_stopping_rate=0)


class Objective:
    """What Optuna minimises: a trial's best validation loss; every result is kept in the
    trial's user attributes for the report."""

    def __init__(self, base, corpus, budget_seconds, trials, halving=False):
        self.base, self.corpus, self.trials = base, corpus, trials
        self.budget_seconds, self.halving = budget_seconds, halving

    def __call__(self, trial, position):
        config = suggest(trial, self.base)
        if tried(trial):
            trial.set_user_attr("repeat", True)
            raise optuna.TrialPruned("a configuration this study has already tried")
        trial.set_user_attr("position", position)
        print(f"[trial {position}/{self.trials}] {describe(differences(config))}")
        result = run_trial(config, self.corpus, self.budget_seconds,
                           trial if self.halving else None)
        for name, value in result.items():
            trial.set_user_attr(name, value)
        trial.set_user_attr("configuration", differences(config))
        print(f"  validation loss {result['validation_loss']:.4f} nats after "
              f"{result['epochs']} epoch(s), {result['training_seconds']:.0f} s of training"
              + (f": pruned at {result['pruned_at']:.0f} s" if result["pruned_at"] else ""))
        if result["pruned_at"] is not None:
            raise optuna.TrialPruned(f"pruned at {result['pruned_at']:.0f} s")
        return result["validation_loss"]


def tried(trial):
    """Whether another finished, pruned or running trial of the study has ``trial``'s
    settings (a cut-off trial retried has the settings of a failed one, which do not
    count)."""
    for other in trained(trial.study, TrialState.RUNNING):
        if other.number != trial.number and other.params == trial.params:
            return True
    return False


def trained(study, *also):
    """The trials that trained: complete, or stopped by successive halving (a repeat is
    pruned without training); ``also``: trials in these states too."""
    return [trial for trial in study.get_trials(deepcopy=False)
            if trial.state in (TrialState.COMPLETE, *also) or
            (trial.state == TrialState.PRUNED and not trial.user_attrs.get("repeat"))]


def describe(settings):
    return ", ".join(f"{name} {shown(value)}" for name, value in settings.items())


def shown(value):
    """A setting as the report prints it (a learning rate keeps its digits)."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def tune_command(args):
    """Corpus → ``--trials`` configurations, each trained for ``--trial-minutes`` and scored
    on the validation part → the trial table and the winner, in a run of its own."""
    if args.worker:
        return worker_command(args)
    refuse_memory_storage(args.storage)
    run = resumed_run(args) if args.resume else None
    minutes, base, corpus = settings(args)
    run = run or start_run(args, minutes)
    study = open_study(args.storage, run, args.seed, args.trials, resume=args.resume,
                       halving=minutes * 60 if args.halving else None)
    if args.resume:
        retry_cut_off(study)
    common = base.resolved()
    note_progress("during the first trial", "the study is kept; continue with `python -m "
                  f"labs.poetry tune --corpus {args.corpus} --resume`")
    started = time.perf_counter()

    def after_trial(completed):
        write_report(study, run, common, minutes, args.trials, time.perf_counter() - started,
                     args.halving)
        note_progress(f"after trial {completed} of {args.trials}",
                      "the finished trials are kept in the study; continue with `python -m "
                      f"labs.poetry tune --corpus {args.corpus} --resume`")

    if args.workers > 1:
        run_workers(args, run, study, after_trial)
    else:
        work(study, Objective(base, corpus, minutes * 60, args.trials, args.halving),
             args.trials, run.reports / BACKUP_LOCK, after_trial)
    check_interrupted()
    frame, header = write_report(study, run, common, minutes, args.trials,
                                 time.perf_counter() - started, args.halving)
    runs.write_results(run, *table_cells(frame, formats=SECONDS), notes=header)
    runs.publish(run, f"22-poetry-{tune_lab(args).rsplit('/', 1)[1]}-{args.corpus}",
                 index_section(frame, header, run, args.corpus), args.keep)
    print(frame.to_string(index=False))
    print(f"best: {describe(study.best_trial.user_attrs['configuration'])}")
    print(f"wrote {run.reports / 'tune.md'} ({run.describe()})")
    return frame


BACKUP_LOCK = f"{runs.BACKUP}/ask.lock"  # one worker at a time counts and asks


def start_run(args, minutes):
    """A new tuning run, with the options that --resume continues with."""
    run = runs.start(tune_lab(args), f"{args.trials}x{minutes:.3g}min", args.quick,
                     args.reports_dir)
    atomic_write_json(run.reports / "options.json",
                      {name: getattr(args, name) for name in RESUMED_OPTIONS})
    return run


def tune_lab(args):
    """The runs' lab: ``poetry/<corpus>/tune``, or ``tune-long`` for the search at the
    goal's budget (``--halving``), so that its winner never becomes ``compare``'s tuned
    configuration without a measurement at that budget (``make poetry-goal``)."""
    return f"poetry/{args.corpus}/tune" + ("-long" if args.halving else "")


def refuse_memory_storage(url):
    """An in-memory database ends with the process: nothing would be left to resume."""
    if url and url.split("?")[0] in ("sqlite://", "sqlite:///", "sqlite:///:memory:"):
        raise LabError(f"--storage {url} is a database in memory: the study would end with this "
                       "process and nothing could be resumed; give a file (sqlite:///tune.db) or "
                       "a server (postgresql://user@host/database)")


def settings(args):
    """The trial budget in minutes, the base ``Config`` and the corpus. ``--trial-minutes
    course`` is resolved here, once: a resumed run keeps the minutes it started with."""
    if args.trial_minutes == COURSE_BUDGET:
        args.trial_minutes = course_minutes(args.reports_dir, args.corpus)
    minutes = BUDGET_MINUTES[args.corpus] if args.trial_minutes is None else args.trial_minutes
    minutes = min(minutes, QUICK["budget_minutes"]) if args.quick else minutes
    base = Config(corpus=args.corpus, seed=args.seed, quick=args.quick, objective="every-step",
                  optimizer="adam", epochs=UNLIMITED_EPOCHS)  # each trial resolves its own
    common = base.resolved()
    corpus = data.read_corpus(common.corpus, args.datasets_dir, common.lowercase,
                              common.characters, common.maxlen)
    return minutes, base, corpus


def course_minutes(reports_dir, corpus):
    """The course model's time to its best, in minutes, in the last complete goal run on
    ``corpus`` (``make poetry-goal``): the budget the lab's goal names."""
    folder = Path(reports_dir) / "poetry" / corpus / "goal"
    try:
        pointer = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
        rows = json.loads((folder / "runs" / pointer["run"] / "compare.json").read_text(
            encoding="utf-8"))
        seconds = budget_seconds(COURSE_BUDGET, rows)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        seconds = None
    if not seconds or not math.isfinite(seconds):
        raise LabError(f"--trial-minutes course: no complete goal run on {corpus} in "
                       f"{reports_dir} to take the course model's time from; run `make "
                       "poetry-goal` first, or give the minutes (--trial-minutes 14)")
    print(f"trial budget: the course model's time to its best in goal run {pointer['run']}: "
          f"{seconds:.0f} s")
    return seconds / 60


def resumed_run(args):
    """The last unfinished tuning run, running again; ``args`` given its options (an option
    given on this command line that would change one is refused)."""
    def check(run):  # before the run is touched: a refused command changes nothing
        runs.with_saved_options(args, run, run.reports / "options.json", RESUMED_OPTIONS,
                                "tune anew without --resume")

    return runs.resume(tune_lab(args), args.reports_dir, args.reports_dir,
                       "trial", check)


def storage_of(url, run):
    """The study's storage: ``url`` (an RDB URL such as postgresql://... or sqlite:///...)
    or the journal file in the run's backup folder."""
    if url:
        try:
            return optuna.storages.RDBStorage(url)
        except Exception as error:  # SQLAlchemy's errors for a bad URL, a refused connection
            raise LabError(f"--storage {url}: cannot open it ({type(error).__name__}: "
                           f"{str(error).splitlines()[0][:120]}); give a database URL such as "
                           "sqlite:///tune.db or postgresql://user:password@host/database") \
                from None
    folder = run.reports / runs.BACKUP
    folder.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / JOURNAL)))


def study_name(url, run):
    """The run's own study: in its journal file, ``tune``; in a shared ``--storage``, a name
    with the run's id, so that a new run never joins (and never publishes) another's trials."""
    return STUDY if not url else f"rnn-labs-{run.lab.replace('/', '-')}-{run.run_id}"


def open_study(url, run, seed, trials, worker=None, resume=False, halving=None):
    """The run's study, created with the starting points by the tuning process the first
    time (``worker`` None); each worker's sampler has a seed of its own, so that two
    workers never draw the same random trial. A new run creates its study (one that
    already exists under its name is refused); ``resume`` and the workers join the study
    of the run they were given, and only a study that records that run. ``halving``: the
    trial budget in seconds, pruned by successive halving (the pruner is not stored: each
    process that opens the study sets it)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    name, storage = study_name(url, run), storage_of(url, run)
    existing = {summary.study_name: summary for summary in
                optuna.study.get_all_study_summaries(storage, include_best_trial=False)}
    if worker is None and not resume and name in existing:
        raise LabError(f"--storage {url} already holds a study named {name}: a new tuning run "
                       f"never joins another's; continue that run with --resume, or give "
                       f"another --storage")
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True,
                                direction="minimize", pruner=halving_pruner(halving)
                                if halving else optuna.pruners.NopPruner())
    owner = study.user_attrs.get("run")
    if owner is None and worker is None:
        study.set_user_attr("run", run.run_id)
        study.set_user_attr("quick", bool(run.kind == "quick"))
    elif owner is not None and owner != run.run_id:
        raise LabError(f"the study {name} belongs to the tuning run {owner}, not {run.run_id}: "
                       f"a run only continues its own study")
    # Seeded from the study's state: a fresh study draws as --seed says, and a resumed one
    # (or a second worker) continues from a seed of its own instead of drawing again the
    # trials the study already holds.
    study.sampler = optuna.samplers.TPESampler(
        seed=seed + (worker or 0) + 1000 * len(study.trials), n_startup_trials=RANDOM_TRIALS,
        multivariate=True, group=True)
    if worker is None and not study.trials:
        for point in ((TUNED_POINT, *STARTING_POINTS) if halving else STARTING_POINTS)[:trials]:
            study.enqueue_trial(point)
    return study


def retry_cut_off(study):
    """Trials that a killed or interrupted run left unfinished are marked failed and tried
    again with the same settings (each once: the study remembers which it retried)."""
    retried = set(study.user_attrs.get("retried", []))
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.RUNNING:
            study.tell(trial.number, state=TrialState.FAIL)
        if trial.state in (TrialState.RUNNING, TrialState.FAIL) and \
                trial.number not in retried:
            study.enqueue_trial(trial.params, skip_if_exists=False)
            retried.add(trial.number)
            print(f"trial {trial.number + 1} was cut off: it is tried again with the same "
                  "settings", file=sys.stderr)
    study.set_user_attr("retried", sorted(retried))


@contextmanager
def exclusive(lock_path):
    """One process at a time (a file lock; several workers on one machine)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def work(study, objective, trials, lock_path, after_trial=None):
    """Ask, train, tell, until the study holds ``trials`` finished trials (those running
    elsewhere count, so that workers together make exactly that many; so do trials that
    successive halving stopped, and not repeats). A trial is labelled
    by its place among them, not by Optuna's number (which counts failed ones too)."""
    while True:
        check_interrupted()
        with exclusive(lock_path):
            taken = len(trained(study, TrialState.RUNNING))
            if taken >= trials:
                return
            trial = study.ask()
        try:
            value = objective(trial, taken + 1)
        except optuna.TrialPruned:  # a repeat (asked again, not counted), or halving's
            study.tell(trial, state=TrialState.PRUNED)
            if trial.user_attrs.get("repeat"):
                continue
            value = None
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        if value is not None:
            study.tell(trial, value)
        if after_trial:
            after_trial(len(trained(study)))


def run_workers(args, run, study, after_trial):
    """``--workers`` processes on the study, each with its share of the cores; the report
    is rewritten whenever a trial finishes. Ctrl-C stops them all (each marks its trial
    failed, so that --resume retries it)."""
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    environment = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(threads),
                       TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS=str(threads))
    command = [sys.executable, "-m", "labs.poetry", "tune", "--corpus", args.corpus,
               "--reports-dir", str(args.reports_dir), "--datasets-dir", str(args.datasets_dir),
               "--worker", run.run_id] + (["--halving"] if args.halving else [])
    print(f"{args.workers} workers on the study, {threads} thread(s) each", file=sys.stderr)
    workers = [subprocess.Popen(command + ["--worker-number", str(number)], env=environment,
                                preexec_fn=die_with_parent) for number in range(args.workers)]
    completed = 0
    try:
        while any(worker.poll() is None for worker in workers):
            time.sleep(1)
            done = len(trained(study))
            if done > completed:
                completed = done
                after_trial(completed)
    except KeyboardInterrupt:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGINT)
        for worker in workers:
            worker.wait()
        raise
    failed = [worker.returncode for worker in workers if worker.returncode]
    if failed:
        raise LabError(f"{len(failed)} of {args.workers} tuning workers failed (exit status "
                       f"{failed[0]}); the finished trials are kept: continue with --resume")


def die_with_parent():
    """In a worker, before Python starts: the kernel kills it when the tuning process dies
    (Linux), so that a killed tune never leaves workers training on; Ctrl-C's default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_command(args):
    """One worker of ``run_workers``: trials until the study has enough; Ctrl-C ends it
    quietly (the tuning process says the one line)."""
    run = runs.Run(tune_lab(args), args.worker, False, args.reports_dir,
                   args.reports_dir)
    saved = json.loads((run.reports / "options.json").read_text(encoding="utf-8"))
    for name in RESUMED_OPTIONS:
        setattr(args, name, saved[name])
    minutes, base, corpus = settings(args)
    study = open_study(args.storage, run, args.seed, args.trials, args.worker_number,
                       halving=minutes * 60 if args.halving else None)
    try:
        work(study, Objective(base, corpus, minutes * 60, args.trials, args.halving),
             args.trials, run.reports / BACKUP_LOCK)
    except KeyboardInterrupt:
        sys.exit(130)


def trial_frame(study):
    """Every finished trial, best validation loss first; trials that successive halving
    stopped after them, best first (their loss is at fewer seconds: not comparable)."""
    rows = []
    for number, trial in enumerate(trained(study), 1):
        attributes = trial.user_attrs
        pruned_at = attributes.get("pruned_at")
        rows.append({"trial": attributes.get("position", number),
                     "validation loss (nats)": attributes["validation_loss"],
                     "pruned at s": "" if pruned_at is None else round(pruned_at),
                     "epochs": attributes["epochs"],
                     "training s": round(attributes["training_seconds"], 1),
                     "parameters": f"{attributes['parameters']:,}",
                     **{name: shown(trial.params[name]) if name in trial.params else ""
                        for name in SEARCHED},
                     "validation curve": " ".join(f"{loss:.3f}" for loss in
                                                  attributes["validation_curve"])})
    frame = pd.DataFrame(rows)
    if not rows:
        return frame
    frame["full"] = frame["pruned at s"] == ""
    frame = frame.sort_values(["full", "validation loss (nats)"], ascending=[False, True],
                              kind="stable").drop(columns="full")
    return frame if (frame["pruned at s"] != "").any() else frame.drop(columns="pruned at s")


SECONDS = {"training s": "{:.0f}"}  # a trial's training time, to the second on the page


def write_report(study, run, base, minutes, trials, seconds, halving=False):
    """tune.md, trials.csv and best.json of the trials finished so far."""
    frame = trial_frame(study)
    if frame.empty or not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return frame, []
    best = study.best_trial
    header = [f"Run {run.describe()}",
              f"{len(frame)} of {trials} trials, each {minutes * 60:.0f} s of training "
              f"(validation evaluation excluded); the whole run took {seconds / 60:.1f} minutes",
              f"Score: the best next-character loss on the validation part (the 5% of "
              f"{base.corpus} before the held-out 10%, windows of {base.maxlen}); the held-out "
              "text is not read",
              f"Search: Optuna {optuna.__version__}, multivariate TPE seeded {base.seed}: "
              f"{starting_points(halving)}, trials up to {RANDOM_TRIALS} at random, then TPE; "
              "every-step objective, Adam",
              f"Best: trial {best.user_attrs.get('position', best.number + 1)}, "
              f"{best.value:.4f} nats on the validation part: "
              f"{describe(best.user_attrs['configuration'])}",
              device_line(keras)]
    if halving:
        header.insert(2, halving_line(frame, minutes * 60))
    if base.quick:
        header.insert(1, f"QUICK smoke run: the first {QUICK['characters']:,} characters; its "
                         "numbers are not results")
    with atomic_path(run.reports / "trials.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.4f")
    atomic_write_json(run.reports / "best.json", {
        "trial": best.user_attrs.get("position", best.number + 1), "validation_loss": best.value,
        "configuration": best.user_attrs["configuration"], "trial_minutes": minutes})
    table = frame.drop(columns=["validation curve"])
    atomic_write_text(run.reports / "tune.md", "\n".join([
        f"# Tuning on {base.corpus}: learning per second"
        + (" at the goal's budget (successive halving)" if halving else "") + "\n",
        *[f"- {line}" for line in header], "", markdown_table(table, formats=SECONDS),
        "Validation curves (nats, one value per epoch):\n",
        *[f"- trial {row['trial']}: {row['validation curve']}" for _, row in frame.iterrows()],
        ""]))
    return table, header


def starting_points(halving):
    """The report's words for the trials the search starts from."""
    untuned = ("the comparison's untuned every-step GRU and LSTM with an embedding (sequences "
               "of 128, not 100)")
    if halving:
        return (f"trial 1 is the committed tuned configuration, trials 2-"
                f"{len(STARTING_POINTS) + 1} {untuned}")
    return f"trials 1-{len(STARTING_POINTS)} are {untuned}"


def halving_line(frame, budget):
    """How many trials successive halving stopped, and where."""
    stopped = [value for value in frame["pruned at s"] if value != ""] \
        if "pruned at s" in frame else []
    steps = rungs(budget)
    at_rung = [sum(1 for value in stopped if low <= value < high)
               for low, high in zip(steps, [*steps[1:], math.inf])]
    counts = ", ".join(f"{count} at the {seconds} s rung" for count, seconds in zip(at_rung, steps))
    return (f"Successive halving (Optuna's pruner, reduction factor {HALVING_FACTOR}): rungs at "
            f"{', '.join(f'{seconds} s' for seconds in steps)} of {budget:.0f} s; "
            f"{len(stopped)} of {len(frame)} trials pruned ({counts}), "
            f"{len(frame) - len(stopped)} trained the whole budget")


def index_section(frame, header, run, corpus):
    """The tuning run's section of reports/index.md: its header and trial table."""
    title = "Poetry tuning" + (" at the goal's budget" if run.lab.endswith("-long") else "")
    return "\n".join([f"## {title}: {corpus}\n",
                      *[f"- {line}" for line in header],
                      f"- [tune.md]({run.link}/tune.md), [trials.csv]({run.link}/trials.csv)\n",
                      markdown_table(frame, formats=SECONDS)])

