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
which ``compare`` names as its tuned configuration.
"""

import math
import time
import warnings
from dataclasses import asdict, replace

import keras
import optuna
import pandas as pd

from labs import runs
from labs.cli import note_progress
from labs.poetry import data, models, train
from labs.poetry.compare import BUDGET_MINUTES
from labs.poetry.config import QUICK, Config
from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, device_line,
                          markdown_table)

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
UNLIMITED_EPOCHS = 10_000  # the budget ends a trial (or early stopping)


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


def run_trial(config, corpus, budget_seconds):
    """Train ``config`` for ``budget_seconds`` of training on the fitting part; its
    validation curve, seconds, epochs and parameters. The held-out windows are not built."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)
    prepared = train.training_data(config, corpus, held_out=False)
    model = models.build(config, len(corpus.vocabulary))
    report = train.EpochReport(config.model_metadata(corpus.vocabulary), "", math.inf,
                               config.seed)
    history, _ = train.fit(model, prepared, config, report, [], budget_seconds=budget_seconds)
    return {"validation_loss": min(history["val_loss"]), "epochs": len(history["val_loss"]),
            "training_seconds": float(sum(report.training_seconds)),
            "parameters": model.count_params(), "validation_curve": history["val_loss"]}


class Objective:
    """What Optuna minimises: a trial's best validation loss; every result is kept in the
    trial's user attributes for the report."""

    def __init__(self, base, corpus, budget_seconds, trials):
        self.base, self.corpus, self.trials = base, corpus, trials
        self.budget_seconds = budget_seconds

    def __call__(self, trial):
        config = suggest(trial, self.base)
        print(f"[trial {trial.number + 1}/{self.trials}] {describe(differences(config))}")
        result = run_trial(config, self.corpus, self.budget_seconds)
        for name, value in result.items():
            trial.set_user_attr(name, value)
        trial.set_user_attr("configuration", differences(config))
        print(f"  validation loss {result['validation_loss']:.4f} nats after "
              f"{result['epochs']} epoch(s), {result['training_seconds']:.0f} s of training")
        return result["validation_loss"]


def describe(settings):
    return ", ".join(f"{name} {shown(value)}" for name, value in settings.items())


def shown(value):
    """A setting as the report prints it (a learning rate keeps its digits)."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def tune_command(args):
    """Corpus → ``--trials`` configurations, each trained for ``--trial-minutes`` and scored
    on the validation part → the trial table and the winner, in a run of its own."""
    minutes = BUDGET_MINUTES[args.corpus] if args.trial_minutes is None else args.trial_minutes
    minutes = min(minutes, QUICK["budget_minutes"]) if args.quick else minutes
    base = Config(corpus=args.corpus, seed=args.seed, quick=args.quick, objective="every-step",
                  optimizer="adam", epochs=UNLIMITED_EPOCHS)  # each trial resolves its own
    common = base.resolved()
    corpus = data.read_corpus(common.corpus, args.datasets_dir, common.lowercase,
                              common.characters, common.maxlen)
    run = runs.start(f"poetry/{args.corpus}/tune", f"{args.trials}x{minutes:g}min", args.quick,
                     args.reports_dir)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(
        seed=args.seed, n_startup_trials=RANDOM_TRIALS, multivariate=True, group=True))
    for point in STARTING_POINTS[:args.trials]:
        study.enqueue_trial(point)
    started = time.perf_counter()

    def after_trial(study, trial):
        write_report(study, run, common, minutes, args.trials, time.perf_counter() - started)
        note_progress(f"after trial {trial.number + 1} of {args.trials}")

    study.optimize(Objective(base, corpus, minutes * 60, args.trials), n_trials=args.trials,
                   callbacks=[after_trial], catch=())
    frame, header = write_report(study, run, common, minutes, args.trials,
                                 time.perf_counter() - started)
    runs.publish(run, f"22-poetry-tune-{args.corpus}",
                 index_section(frame, header, run, args.corpus), args.keep)
    print(frame.to_string(index=False))
    print(f"best: {describe(study.best_trial.user_attrs['configuration'])}")
    print(f"wrote {run.reports / 'tune.md'} ({run.describe()})")
    return frame


def trial_frame(study):
    """Every finished trial, best validation loss first."""
    rows = []
    for trial in study.trials:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        attributes = trial.user_attrs
        rows.append({"trial": trial.number + 1, "validation loss (nats)": trial.value,
                     "epochs": attributes["epochs"],
                     "training s": round(attributes["training_seconds"], 1),
                     "parameters": f"{attributes['parameters']:,}",
                     **{name: shown(value) for name, value in trial.params.items()},
                     "validation curve": " ".join(f"{loss:.3f}" for loss in
                                                  attributes["validation_curve"])})
    frame = pd.DataFrame(rows)
    return frame.sort_values("validation loss (nats)", kind="stable") if rows else frame


def write_report(study, run, base, minutes, trials, seconds):
    """tune.md, trials.csv and best.json of the trials finished so far."""
    frame = trial_frame(study)
    best = study.best_trial
    header = [f"Run {run.describe()}",
              f"{len(frame)} of {trials} trials, each {minutes:g} minutes of training "
              f"(validation evaluation excluded); the whole run took {seconds / 60:.1f} minutes",
              f"Score: the best next-character loss on the validation part (the 5% of "
              f"{base.corpus} before the held-out 10%, windows of {base.maxlen}); the held-out "
              "text is not read",
              f"Search: Optuna {optuna.__version__}, multivariate TPE seeded {base.seed}: "
              f"trials 1-{len(STARTING_POINTS)} are the comparison's untuned every-step GRU "
              f"and LSTM with an embedding (sequences of 128, not 100), trials up to "
              f"{RANDOM_TRIALS} at random, then TPE; every-step objective, Adam",
              f"Best: trial {best.number + 1}, {best.value:.4f} nats on the validation part: "
              f"{describe(best.user_attrs['configuration'])}",
              device_line(keras)]
    if base.quick:
        header.insert(1, f"QUICK smoke run: the first {QUICK['characters']:,} characters; its "
                         "numbers are not results")
    with atomic_path(run.reports / "trials.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.4f")
    atomic_write_json(run.reports / "best.json", {
        "trial": best.number + 1, "validation_loss": best.value,
        "configuration": best.user_attrs["configuration"], "trial_minutes": minutes})
    table = frame.drop(columns=["validation curve"])
    atomic_write_text(run.reports / "tune.md", "\n".join([
        f"# Tuning on {base.corpus}: learning per second\n",
        *[f"- {line}" for line in header], "", markdown_table(table),
        "Validation curves (nats, one value per epoch):\n",
        *[f"- trial {row['trial']}: {row['validation curve']}" for _, row in frame.iterrows()],
        ""]))
    return table, header


def index_section(frame, header, run, corpus):
    """The tuning run's section of reports/index.md: its header and trial table."""
    return "\n".join([f"## Poetry tuning: {corpus}\n",
                      *[f"- {line}" for line in header],
                      f"- [tune.md]({run.link}/tune.md), [trials.csv]({run.link}/trials.csv)\n",
                      markdown_table(frame)])

