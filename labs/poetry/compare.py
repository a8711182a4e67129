"""Time to quality: which character model learns fastest per second of training?

    python -m labs.poetry compare --corpus nietzsche --budget-minutes 2.5

The configurations: the course's, the tutorials' untuned every-step ones, and the winner of
``make poetry-tune`` (``labs.poetry.tune``, chosen on the validation part). Every
configuration trains on the same text for the same budget of training seconds (the course's
next-char LSTM trains to its early stop instead: its curve is the reference) and is scored
after every epoch by the one held-out measure all objectives share (``train.next_char_loss``:
the next character after exactly ``maxlen`` characters). A comparison is a run like a
training (``labs.runs``): ``reports/poetry/<corpus>/compare/runs/<run id>/compare.{md,png,csv}``
plots held-out loss against seconds of training, one curve per configuration, and tabulates
best loss, the time each needs to reach the course model's best loss (and that time as a
ratio of the course's), parameters, generation speed and samples at two temperatures. It is
published (``latest.json`` beside its runs, a section of ``reports/index.md``) only when
complete; a quick or subset comparison never replaces a full one.
"""

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from labs import runs
from labs.cli import LabError, note_progress
from labs.poetry import data, models, train
from labs.poetry.config import CELLS, INPUTS, OBJECTIVES, OPTIMIZERS, QUICK, SCHEDULES, Config
from labs.poetry.generate import Generator
from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, device_line,
                          markdown_table, pyplot, save_figure, table_cells)
from labs.training import training_logs, write_summary

COURSE = "course next-char LSTM"
# name → the settings that differ from the lab's defaults (``Config``: lstm, 128 units,
# one-hot, next-char, RMSprop 0.01, batch 256). The every-step settings are the tutorials'.
EVERY_STEP = {"objective": "every-step", "seq_length": 100, "optimizer": "adam",
              "learning_rate": 3e-3, "batch_size": 32}
CONFIGURATIONS = {
    COURSE: {},
    "every-step LSTM": EVERY_STEP,
    "every-step GRU": {**EVERY_STEP, "cell": "gru"},
    "every-step LSTM, embedding 64": {**EVERY_STEP, "inputs": "embedding"},
    "every-step transformer": {**EVERY_STEP, "cell": "transformer", "layers": 2,
                               "learning_rate": 1e-3},
}
# The tuned configuration is the best.json of the last complete `make poetry-tune` run on
# this corpus (else on Nietzsche, where make poetry-tune runs). Without one, the winner of
# the run committed in labs/poetry/results/ (20261207-032815-16x2.5min, trial 15 of 16: 1.342
# nats on the validation part after 148 s of training; the poetry page's tuning table): a
# wider GRU on one-hot characters, a high peak learning rate that a cosine brings to 0 at the
# end of the budget, gradients clipped at norm 0.5.
# Its name names no cell: the search chooses one (an LSTM won in 2026-12-01's run, a GRU in
# this one), and the comparison's header says which settings it used.
TUNED = "every-step, tuned (make poetry-tune)"
COMMITTED_TUNING = "20261207-032815-16x2.5min"
CONFIGURATIONS[TUNED] = {"cell": "gru", "units": 256, "objective": "every-step",
                         "seq_length": 128, "inputs": "one-hot", "optimizer": "adam",
                         "learning_rate": 0.009389874909357087, "clipnorm": 0.5,
                         "schedule": "cosine", "batch_size": 32}
# Minutes of training per budgeted configuration (and per tuning trial): with the course
# model to its early stop on both corpora, make poetry-compare takes 45 minutes to an hour
# (44 min on 2026-12-01's Intel Xeon, 59 min on 2026-12-07's AMD EPYC, where the course
# model trained 557 s and 1,213 s on Nietzsche).
BUDGET_MINUTES = {"nietzsche": 2.5, "leopardi": 1.0}
COURSE_BUDGET = "course"  # --budget-minutes course: the course model's time to its best
REFERENCE_EPOCHS = 20  # the course model stops early before this on both corpora
UNLIMITED_EPOCHS = 10_000
SAMPLE_TEMPERATURES = (0.5, 1.0)
# The loss this lab aims at (issue #21): reached within the course model's time to its best?
GOALS = {"nietzsche": 1.35}
OVERFIT_NATS = 0.01
SAMPLE_LENGTH = 300


def compare_command(args):
    """Corpus → every configuration for the same budget (the course's to its early stop) →
    one report of held-out loss against seconds of training, in a run of its own."""
    goal = goal_options(args)
    budget = args.budget_minutes or BUDGET_MINUTES[args.corpus]
    if args.quick and budget != COURSE_BUDGET:
        budget = min(budget, QUICK["budget_minutes"])
    base = Config(corpus=args.corpus, seed=args.seed, quick=args.quick,
                  epochs=QUICK["epochs"] if args.quick else REFERENCE_EPOCHS)
    common = base.resolved()  # the corpus settings every configuration shares
    reference = read_reference(args.reference, common) if args.reference else None
    names = chosen_configurations(args.configurations, reference)
    tuned, tuned_from = tuned_for(args, names)
    corpus = data.read_corpus(common.corpus, args.datasets_dir, common.lowercase,
                              common.characters, common.maxlen)
    seed_text = data.random_window(corpus.held_out_text, common.maxlen,
                                   np.random.RandomState(args.seed))
    run = start_run(args, goal, budget, names, reference)
    rows = [reference] if reference else []
    for number, name in enumerate(names, 1):
        seconds = budget_seconds(budget, rows)
        print(f"[{number}/{len(names)}] {name}" + ("" if name == COURSE else
                                                    f", {seconds:.0f} s of training"))
        rows.append(train_configuration(name, configuration(name, base, tuned), corpus,
                                        seed_text, None if name == COURSE else seconds,
                                        run.reports))
        note_progress(f"after configuration {number} of {len(names)} ({name})")
    header = header_lines(common, budget, budget_seconds(budget, rows), rows[0], names, run)
    if TUNED in names:
        header["lines"].insert(-1, f"Tuned configuration: {tuned_from}")
    header["lines"][-1:-1] = verdict_lines(rows, GOALS.get(args.corpus))
    frame = write_comparison(rows, run.reports, header)
    runs.write_results(run, *table_cells(frame, formats=seconds_formats(frame)),
                       notes=header["lines"])
    runs.publish(run, f"21-poetry-{'goal' if goal else 'compare'}-{args.corpus}",
                 index_section(frame, header, run), args.keep)
    print(frame.to_string(index=False))
    print(f"wrote {run.reports / 'compare.md'} ({run.describe()})")
    return frame


def goal_options(args):
    """``--goal``: the course model and the tuned configuration, for the course model's
    time (options that would change that are refused); whether it was given."""
    if not getattr(args, "goal", False):
        return False
    if args.budget_minutes not in (None, COURSE_BUDGET) or set(args.configurations) not in (
            set(CONFIGURATIONS), {COURSE, TUNED}):
        raise LabError("--goal trains the course model and the tuned configuration for the "
                       "course model's time: drop --budget-minutes and --configurations")
    args.budget_minutes, args.configurations = COURSE_BUDGET, [COURSE, TUNED]
    return True


def start_run(args, goal, budget, names, reference):
    """The comparison's run: the goal's own lab (two configurations are all it is), or the
    comparison's, partial when it trains fewer than every configuration."""
    if goal:
        return runs.start(f"poetry/{args.corpus}/goal", COURSE_BUDGET, args.quick,
                          args.reports_dir, partial=bool(reference))
    return runs.start(f"poetry/{args.corpus}/compare", f"{budget}" if budget == COURSE_BUDGET
                      else f"{budget:g}min", args.quick, args.reports_dir,
                      partial=len(names) + bool(reference) < len(CONFIGURATIONS))


def valid_settings(settings):
    """A ``LabError`` unless ``settings`` are fields of ``Config`` with values it can take."""
    choices = {"cell": CELLS, "objective": OBJECTIVES, "inputs": INPUTS,
               "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
    wrong = [name for name, allowed in choices.items()
             if name in settings and settings[name] not in allowed]
    if wrong:
        raise LabError(f"not a configuration of the lab: {', '.join(wrong)}")
    replace(Config(), **settings).resolved()  # unknown fields: a TypeError


def budget_seconds(budget, rows):
    """Seconds of training per budgeted configuration: ``budget`` minutes, or with
    ``--budget-minutes course`` the course row's time to its best epoch."""
    if budget != COURSE_BUDGET:
        return budget * 60
    return time_to_reach(rows[0], rows[0]["best_loss"]) if rows else math.inf


def tuned_configuration(reports_dir, corpus):
    """The tuned configuration's settings and where they come from: the best.json of the
    last complete full tuning run on ``corpus`` (else Nietzsche), or the committed one."""
    for tuned_on in dict.fromkeys((corpus, "nietzsche")):
        folder = Path(reports_dir) / "poetry" / tuned_on / "tune"
        try:
            pointer = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
            best = json.loads((folder / "runs" / pointer["run"] / "best.json").read_text(
                encoding="utf-8"))
            settings = dict(best["configuration"])
            valid_settings(settings)
        except (OSError, ValueError, KeyError, TypeError, LabError):
            continue
        return settings, (f"the best.json of make poetry-tune run {pointer['run']} on "
                          f"{tuned_on}: {', '.join(f'{k} {v}' for k, v in settings.items())}")
    return CONFIGURATIONS[TUNED], (f"the committed winner of make poetry-tune run "
                                   f"{COMMITTED_TUNING} on nietzsche (no complete tuning run "
                                   f"in {reports_dir})")


def tuned_for(args, names):
    """The tuned configuration this comparison trains and where it comes from: ``--tuned``'s
    best.json if given (refused when the configuration is not among ``names``), else the
    last tuning run's, else the committed one."""
    if not getattr(args, "tuned", None):
        return tuned_configuration(args.reports_dir, args.corpus)
    if TUNED not in names:
        raise LabError(f"--tuned names the configuration of {TUNED!r}, which --configurations "
                       "leaves out: add it, or drop --tuned")
    return given_tuned_configuration(args.tuned)


def given_tuned_configuration(path):
    """``--tuned``: the configuration of a tuning run's best.json (the file, or the run
    folder that holds it); anything else is one line that names the file."""
    path = Path(path)
    best_json = path / "best.json" if path.is_dir() else path
    try:
        best = json.loads(best_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LabError(f"--tuned {best_json}: not a readable JSON file ({type(error).__name__}); "
                       "give the best.json of a tuning run (make poetry-tune or "
                       "make poetry-tune-long)") from None
    try:
        settings = dict(best["configuration"])
        valid_settings(settings)
    except (KeyError, TypeError, ValueError, LabError):
        raise LabError(f"--tuned {best_json}: no configuration of this lab in it; give the "
                       "best.json of a tuning run (make poetry-tune or make poetry-tune-long)"
                       ) from None
    run = best_json.parent.name
    trial = f" (trial {best['trial']})" if isinstance(best, dict) and "trial" in best else ""
    return settings, (f"--tuned {best_json}, the winner of tuning run {run}{trial}: "
                      f"{', '.join(f'{k} {v}' for k, v in settings.items())}")


def chosen_configurations(chosen, reference):
    """The configurations to train, in the table's order; the course's first unless a
    ``--reference`` run stands in for it."""
    names = [name for name in CONFIGURATIONS if name in chosen and name != COURSE]
    if reference is None:
        return [COURSE, *names]
    if not names:
        raise LabError("nothing to train: --reference stands in for the course configuration; "
                       "name at least one other with --configurations")
    return names


def configuration(name, base, tuned=None):
    """One configuration's ``Config``: ``base`` (the command's, not yet resolved) with the
    configuration's differences (``tuned``: the tuned one's, if read from a tuning run),
    resolved."""
    config = replace(base, **(tuned if name == TUNED and tuned else CONFIGURATIONS[name]))
    if name != COURSE:  # the budget ends these, not an epoch count
        config = replace(config, epochs=UNLIMITED_EPOCHS)
    return config.resolved()


def train_configuration(name, config, corpus, seed_text, budget_seconds, folder):
    """One configuration, trained to its budget (or, for the course, to its early stop):
    its curve, best loss, parameters, generation speed and samples. It starts from a fresh
    Keras session, as if alone: without it, the last configuration's epochs took twice as
    long as the same configuration's alone."""
    keras.backend.clear_session(free_memory=True)
    keras.utils.set_random_seed(config.seed)
    prepared = train.training_data(config, corpus)
    model = models.build(config, len(corpus.vocabulary))
    metadata = config.model_metadata(corpus.vocabulary)
    report = train.EpochReport(metadata, corpus.held_out_text, 10**6, config.seed)
    logs = training_logs(folder / slug(name) / "training_log.csv")
    write_summary(model, folder / slug(name) / "model_summary.txt")
    history, _ = train.fit(model, prepared, config, report, logs, budget_seconds=budget_seconds)
    return result_row(name, config, model, metadata, history, report, seed_text)


def result_row(name, config, model, metadata, history, report, seed_text):
    generator = Generator(model, metadata)
    samples, started = {}, time.perf_counter()
    for temperature in SAMPLE_TEMPERATURES:
        samples[temperature] = seed_text + generator.generate(
            seed_text, SAMPLE_LENGTH, np.random.RandomState(config.seed),
            temperature=temperature, generation="stateful")
    speed = SAMPLE_LENGTH * len(SAMPLE_TEMPERATURES) / (time.perf_counter() - started)
    return {"configuration": name, "objective": config.objective, "cell": config.cell,
            "inputs": config.inputs, "optimizer": config.optimizer,
            "learning_rate": config.learning_rate, "batch_size": config.global_batch_size,
            "parameters": model.count_params(), "epochs": len(history["val_loss"]),
            "seconds": list(np.cumsum(report.training_seconds)),
            **curve(history), "chars_per_second": speed,
            "samples": samples}


REFERENCE_KEYS = ("corpus", "maxlen", "cell", "objective", "layers", "units", "optimizer",
                  "learning_rate", "batch_size", "parameters", "epochs_run",
                  "training_seconds_per_epoch", "history", "generation_comparison")


def read_reference(path, base):
    """A course next-char run's metrics.json (``make poetry``, same corpus settings) as the
    reference row, every field compare reads checked for type and range; anything else is
    one line that names the field."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LabError(f"--reference {path}: not a readable JSON file ({type(error).__name__}); "
                       "give the metrics.json of a `make poetry` run") from None
    missing = [key for key in REFERENCE_KEYS if key not in metrics] if isinstance(
        metrics, dict) else list(REFERENCE_KEYS)
    if missing:
        raise LabError(f"--reference {path} is not a poetry run's metrics.json (no "
                       f"{', '.join(missing[:3])}); give the metrics.json of a `make poetry` run")
    expected = {"corpus": base.corpus, "maxlen": base.maxlen, "cell": "lstm",
                "objective": "next-char", "layers": 1, "units": base.units,
                "inputs": "one-hot"}
    actual = {"inputs": "one-hot", **metrics}  # runs before --input had none: one-hot
    wrong = [f"{key} {actual[key]!r} (not {value!r})" for key, value in expected.items()
             if actual[key] != value]
    if wrong:
        raise LabError(f"--reference {path} is not the course model on {base.corpus}: "
                       f"{', '.join(wrong)}; train one with `python -m labs.poetry train "
                       f"--corpus {base.corpus}`")
    problem = reference_problem(metrics, base)
    if problem:
        raise LabError(f"--reference {path}: {problem}; give the metrics.json of a complete "
                       f"`python -m labs.poetry train --corpus {base.corpus}` run")
    return reference_row(metrics, path)


def reference_problem(metrics, base):
    """What makes a course run's metrics unusable as this comparison's reference (a field
    of the wrong type or range, other corpus settings, a quick run for a full comparison),
    or None."""
    for key, value in (("step", base.step), ("lowercase", base.lowercase),
                       ("quick", base.quick)):
        given = metrics.get(key, value)
        if type(given) is not type(value):
            kind = "true or false" if isinstance(value, bool) else "a whole number"
            return f"{key} is {given!r}, not {kind}"
        if given != value:
            why = ""
            if key == "quick":
                why = (" (a QUICK run cannot stand in for a full one)" if given else
                       " (a quick comparison is measured against a quick course run)")
            return f"{key} is {given!r}, this comparison's is {value!r}{why}"
    epochs = metrics["epochs_run"]
    if not (isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0):
        return f"epochs_run is {epochs!r}, not a whole number above 0"
    history = metrics["history"]
    if not isinstance(history, dict) or not {"loss", "val_loss"} <= set(history):
        return "history is not a dict of per-epoch losses (loss, val_loss)"
    for name, values in history.items():
        if not positive_numbers(values, epochs, minimum=0):
            return (f"history[{name!r}] is not {epochs} finite numbers (one per epoch, "
                    "epochs_run)")
    if not positive_numbers(metrics["training_seconds_per_epoch"], epochs):
        return f"training_seconds_per_epoch is not {epochs} numbers above 0"
    stateful = metrics["generation_comparison"]
    speed = stateful.get("stateful", {}).get("chars_per_second") if isinstance(
        stateful, dict) and isinstance(stateful.get("stateful"), dict) else None
    if not positive_numbers([speed], 1):
        return "generation_comparison has no stateful chars_per_second above 0"
    if not positive_numbers([metrics["parameters"], metrics["batch_size"],
                             metrics["learning_rate"]], 3):
        return "parameters, batch_size and learning_rate must be numbers above 0"
    return None


def positive_numbers(values, count, minimum=None):
    """``values`` is a list of ``count`` finite numbers above 0 (or at least ``minimum``)."""
    return isinstance(values, list) and len(values) == count and all(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        and (value >= minimum if minimum is not None else value > 0) for value in values)


def reference_row(metrics, path):
    """The reference row of a course run's ``metrics``, read from ``path``."""
    return {"configuration": f"{COURSE} ({path.parent.name})", "objective": "next-char",
            "cell": metrics["cell"], "inputs": "one-hot", "optimizer": metrics["optimizer"],
            "learning_rate": metrics["learning_rate"], "batch_size": metrics["batch_size"],
            "parameters": metrics["parameters"], "epochs": metrics["epochs_run"],
            "seconds": list(np.cumsum(metrics["training_seconds_per_epoch"])),
            **curve(metrics["history"]),
            "chars_per_second": metrics["generation_comparison"]["stateful"]["chars_per_second"],
            "samples": {}, "reference": str(path)}


def curve(history):
    """A row's held-out curve, the held-out loss at its chosen epoch and what chose it."""
    chosen = train.loss_metrics(history)
    return {"held_out_loss": train.held_out_curve(history),
            "best_loss": chosen["held_out_loss_nats"], "chosen_on": chosen["chosen_on"]}


def slug(name):
    return "".join(character if character.isalnum() else "-" for character in name).strip("-")


def time_to_reach(row, target):
    """Seconds of training until the held-out loss first reaches ``target`` (None: never)."""
    for seconds, loss in zip(row["seconds"], row["held_out_loss"]):
        if loss <= target + 1e-12:
            return float(seconds)
    return None


def summary_frame(rows, goal=None):
    """The comparison table: the course reference first, then the others in order; the
    loss is the held-out loss at each one's chosen epoch, and at its last (above it: the
    model was overfitting when it stopped). ``goal``: also the time to reach that loss, and
    that time over the course's time to its own best."""
    course = rows[0]
    target, course_time = course["best_loss"], time_to_reach(course, course["best_loss"])
    table = []
    for row in rows:
        reached = time_to_reach(row, target)
        line = {
            "configuration": row["configuration"], "parameters": f"{row['parameters']:,}",
            "epochs": row["epochs"], "training s": row["seconds"][-1],
            "held-out loss (nats)": row["best_loss"], "bits/char": row["best_loss"] / math.log(2),
            "last epoch's loss": row["held_out_loss"][-1],
            f"s to reach {target:.3f}": seconds_or_nan(reached),
            "× course time": ratio_or_nan(reached, course_time)}
        if goal is not None:
            at_goal = time_to_reach(row, goal)
            line[f"s to reach {goal:g} (goal)"] = seconds_or_nan(at_goal)
            line["goal: × course time"] = ratio_or_nan(at_goal, course_time)
        table.append({**line, "generation chars/s": round(row["chars_per_second"])})
    return pd.DataFrame(table)


def seconds_formats(frame):
    """Whole seconds in the table: a training time is not measured to the millisecond."""
    return {column: "{:.0f}" for column in frame.columns
            if column == "training s" or column.startswith("s to reach")}


def seconds_or_nan(seconds):
    return float("nan") if seconds is None else seconds


def ratio_or_nan(seconds, course_seconds):
    return float("nan") if seconds is None else seconds / course_seconds


def plot_curves(rows, path, corpus):
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(9, 5.5))
    for row in rows:
        style = "k--" if row is rows[0] else "-"
        axis.plot(row["seconds"], row["held_out_loss"], style, marker="o", markersize=3,
                  label=row["configuration"])
    axis.axhline(rows[0]["best_loss"], color="grey", linewidth=0.8, linestyle=":")
    axis.set_xlabel("seconds of training (held-out evaluation excluded)")
    axis.set_ylabel("held-out loss, nats per character (next character after maxlen)")
    axis.set_title(f"{corpus}: held-out loss against training time")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def write_comparison(rows, folder, header):
    """compare.md, compare.csv and compare.png in ``folder``; the summary table."""
    frame = summary_frame(rows, GOALS.get(header["corpus"]))
    with atomic_path(folder / "compare.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.4f")
    atomic_write_json(folder / "compare.json", rows)
    plot_curves(rows, folder / "compare.png", header["corpus"])
    lines = [f"# Time to quality: {header['corpus']}\n", *[f"- {line}" for line in
                                                          header["lines"]], "",
             markdown_table(frame, formats=seconds_formats(frame)),
             "![held-out loss against seconds](compare.png)\n",
             f"## Samples (stateful generation from the same held-out seed, temperatures "
             f"{' and '.join(map(str, SAMPLE_TEMPERATURES))})\n"]
    for row in rows:
        for temperature, sample in row["samples"].items():
            lines += [f"### {row['configuration']}, temperature {temperature}\n", "```text",
                      sample, "```\n"]
    atomic_write_text(folder / "compare.md", "\n".join(lines))
    return frame


def header_lines(config, budget, seconds, course, names, run):
    """What this comparison ran, as measured: the course row's epochs and how they ended,
    and a QUICK or SUBSET mark."""
    if "reference" in course:
        course_text = (f"the curve of the run in {course['reference']}, not retrained here")
    else:
        ended = ("stopped early" if course["epochs"] < config.epochs else
                 "ran every epoch, no early stop")
        course_text = f"trained {course['epochs']} epoch(s) of at most {config.epochs}: {ended}"
    lines = [f"Run {run.describe()}",
             f"Budget: {seconds / 60:.3g} minutes of training per configuration"
             + (" (the course model's time to its best epoch in this run, --budget-minutes "
                "course)" if budget == COURSE_BUDGET else "") + "; the course's "
             f"next-char LSTM: {course_text}",
             "Held-out loss: next character after exactly "
             f"{config.maxlen} characters, on the held-out last 10% (every objective alike), at "
             "each configuration's chosen epoch; the every-step configurations choose it on a "
             "validation part (the 5% of the text before the held-out 10%, learning from the "
             "first 85%), the course's model on the held-out text, as the course does",
             f"Seed {config.seed}; generation speed: stateful, {SAMPLE_LENGTH} characters",
             device_line(keras)]
    if config.quick:
        lines.insert(1, f"QUICK smoke run: the first {QUICK['characters']:,} characters of "
                        "each text; its numbers are not results")
    if run.partial:
        lines.insert(1, f"SUBSET run: {'; '.join(names)} (a full comparison trains all "
                        f"{len(CONFIGURATIONS)} configurations)")
    return {"corpus": config.corpus, "lines": lines}


def verdict_lines(rows, goal):
    """What the table says about the goal (if the corpus has one) and about overfitting:
    a held-out loss that rose after its best epoch by more than ``OVERFIT_NATS``."""
    course_time = time_to_reach(rows[0], rows[0]["best_loss"])
    lines = []
    if goal is not None:
        reached = sorted((time_to_reach(row, goal), row["configuration"]) for row in rows
                         if time_to_reach(row, goal) is not None)
        in_time = [(seconds, name) for seconds, name in reached if seconds <= course_time]
        best = min(rows, key=lambda row: row["best_loss"])
        lines.append(
            f"Goal: ≤ {goal:g} nats within the course model's time to its best "
            f"({course_time:.0f} s): " +
            (f"reached by {in_time[0][1]} after {in_time[0][0]:.0f} s "
             f"({in_time[0][0] / course_time:.2f}× the course's time)" if in_time else
             f"not reached; the lowest held-out loss is {best['best_loss']:.3f} "
             f"({best['configuration']})" + (f", and {reached[0][1]} reached it only after "
                                            f"{reached[0][0]:.0f} s" if reached else "")))
    rises = [(row["held_out_loss"][-1] - min(row["held_out_loss"]), row["configuration"])
             for row in rows]
    overfit = sorted([rise for rise in rises if rise[0] > OVERFIT_NATS], reverse=True)
    lines.append(f"Overfitting: the held-out loss rose after its best epoch by more than "
                 f"{OVERFIT_NATS} nats in {len(overfit)} of {len(rows)} configurations" +
                 (f" (most: +{overfit[0][0]:.3f}, {overfit[0][1]})" if overfit else ""))
    return lines


def index_section(frame, header, run):
    """The comparison's section of reports/index.md: its header, table and plot."""
    return "\n".join([f"## Poetry time to quality: {header['corpus']}\n",
                      *[f"- {line}" for line in header["lines"]],
                      f"- [compare.md]({run.link}/compare.md), "
                      f"[compare.csv]({run.link}/compare.csv)\n",
                      markdown_table(frame, formats=seconds_formats(frame)),
                      f"![held-out loss against seconds]({run.link}/compare.png)\n"])
