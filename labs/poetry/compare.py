"""Time to quality: which character model learns fastest per second of training?

    python -m labs.poetry compare --corpus nietzsche --budget-minutes 4

Every configuration trains on the same text for the same wall-clock budget (the course's
next-char LSTM trains to its early stop instead: its curve is the reference) and is scored
after every epoch by the one held-out measure all objectives share (``train.next_char_loss``:
the next character after exactly ``maxlen`` characters). The report,
``reports/poetry/<corpus>/compare.{md,png,csv}``, plots held-out loss against seconds of
training, one curve per configuration, and tabulates best loss, the time each needs to reach
the course model's best loss (and that time as a ratio of the course's), parameters,
generation speed and a sample at one temperature.
"""

import json
import math
import time
from dataclasses import replace

import keras
import numpy as np
import pandas as pd

from labs.poetry import data, models, train
from labs.poetry.config import QUICK, Config
from labs.poetry.generate import Generator
from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, device_line,
                          markdown_table, pyplot, save_figure)
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
BUDGET_MINUTES = 4  # with the course to its early stop, make poetry-compare stays near 40 min
REFERENCE_EPOCHS = 20  # the course model stops early before this on both corpora
UNLIMITED_EPOCHS = 10_000
SAMPLE_TEMPERATURE = 0.5
SAMPLE_LENGTH = 300


class TimeBudget(keras.callbacks.Callback):
    """Stop before an epoch that would end past ``seconds`` of training, held-out evaluation
    excluded (the slowest epoch so far is the estimate); ``None``: no budget."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.spent, self.longest = seconds, 0.0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # Training time, as the comparison counts it (EpochTimer ran first), else wall time.
        elapsed = (logs or {}).get("training_seconds", time.perf_counter() - self.started)
        self.spent, self.longest = self.spent + elapsed, max(self.longest, elapsed)
        if self.seconds is not None and self.spent + self.longest > self.seconds:
            self.model.stop_training = True


def compare_command(args):
    """Corpus → every configuration for the same budget (the course's to its early stop) →
    one report of held-out loss against seconds of training."""
    budget = min(args.budget_minutes, QUICK["budget_minutes"]) if args.quick else \
        args.budget_minutes
    base = Config(corpus=args.corpus, seed=args.seed, quick=args.quick,
                  epochs=QUICK["epochs"] if args.quick else REFERENCE_EPOCHS).resolved()
    corpus = data.read_corpus(base.corpus, args.datasets_dir, base.lowercase, base.characters,
                              base.maxlen)
    seed_text = data.random_window(corpus.held_out_text, base.maxlen,
                                   np.random.RandomState(args.seed))
    folder = args.reports_dir / "poetry" / args.corpus
    names = [name for name in CONFIGURATIONS if name in args.configurations]
    if args.reference:
        rows = [reference_row(args.reference)]
        names = [name for name in names if name != COURSE]
    else:
        rows, names = [], [COURSE, *(name for name in names if name != COURSE)]
    for number, name in enumerate(names, 1):
        print(f"[{number}/{len(names)}] {name}" + ("" if name == COURSE else
                                                    f", {budget} minutes"))
        rows.append(train_configuration(name, configuration(name, base), corpus, seed_text,
                                        None if name == COURSE else budget * 60,
                                        folder / "compare"))
    frame = write_comparison(rows, folder, header_lines(base, budget, args.reference))
    print(frame.to_string(index=False))
    print(f"wrote {folder / 'compare.md'}")
    return frame


def configuration(name, base):
    """One configuration's ``Config``: ``base`` with the configuration's differences."""
    config = replace(base, **CONFIGURATIONS[name])
    if name != COURSE:  # the budget ends these, not an epoch count
        config = replace(config, epochs=UNLIMITED_EPOCHS)
    return config.resolved()


def train_configuration(name, config, corpus, seed_text, budget_seconds, folder):
    """One configuration, trained to its budget (or, for the course, to its early stop):
    its curve, best loss, parameters, generation speed and a sample."""
    keras.utils.set_random_seed(config.seed)
    prepared = train.training_data(config, corpus)
    model = models.build(config, len(corpus.vocabulary))
    metadata = config.model_metadata(corpus.vocabulary)
    report = train.EpochReport(metadata, corpus.held_out_text, 10**6, config.seed)
    budget = TimeBudget(budget_seconds)
    logs = [budget, *training_logs(folder / slug(name) / "training_log.csv")]
    write_summary(model, folder / slug(name) / "model_summary.txt")
    history, _ = train.fit(model, prepared, config, report, logs)
    return result_row(name, config, model, metadata, history, report, seed_text)


def result_row(name, config, model, metadata, history, report, seed_text):
    generator = Generator(model, metadata)
    started = time.perf_counter()
    sample = generator.generate(seed_text, SAMPLE_LENGTH, np.random.RandomState(config.seed),
                                temperature=SAMPLE_TEMPERATURE, generation="stateful")
    speed = SAMPLE_LENGTH / (time.perf_counter() - started)
    return {"configuration": name, "objective": config.objective, "cell": config.cell,
            "inputs": config.inputs, "optimizer": config.optimizer,
            "learning_rate": config.learning_rate, "batch_size": config.global_batch_size,
            "parameters": model.count_params(), "epochs": len(history["val_loss"]),
            "seconds": list(np.cumsum(report.training_seconds)), "val_loss": history["val_loss"],
            "best_loss": min(history["val_loss"]), "chars_per_second": speed,
            "sample": seed_text + sample}


def reference_row(path):
    """A course next-char run from ``make poetry`` (its metrics.json) as the reference curve."""
    metrics = json.loads(path.read_text(encoding="utf-8"))
    return {"configuration": f"{COURSE} ({path.parent.name})", "objective": "next-char",
            "cell": metrics["cell"], "inputs": "one-hot", "optimizer": metrics["optimizer"],
            "learning_rate": metrics["learning_rate"], "batch_size": metrics["batch_size"],
            "parameters": metrics["parameters"], "epochs": metrics["epochs_run"],
            "seconds": list(np.cumsum(metrics["training_seconds_per_epoch"])),
            "val_loss": metrics["history"]["val_loss"],
            "best_loss": metrics["best_validation_loss_nats"],
            "chars_per_second": metrics["generation_comparison"]["stateful"]["chars_per_second"],
            "sample": ""}


def slug(name):
    return "".join(character if character.isalnum() else "-" for character in name).strip("-")


def time_to_reach(row, target):
    """Seconds of training until the held-out loss first reaches ``target`` (None: never)."""
    for seconds, loss in zip(row["seconds"], row["val_loss"]):
        if loss <= target + 1e-12:
            return float(seconds)
    return None


def summary_frame(rows):
    """The comparison table: the course reference first, then by best loss."""
    course = rows[0]
    target, course_time = course["best_loss"], time_to_reach(course, course["best_loss"])
    table = []
    for row in rows:
        reached = time_to_reach(row, target)
        table.append({
            "configuration": row["configuration"], "parameters": f"{row['parameters']:,}",
            "epochs": row["epochs"], "training s": row["seconds"][-1],
            "best loss (nats)": row["best_loss"], "bits/char": row["best_loss"] / math.log(2),
            f"s to reach {target:.3f}": reached if reached is not None else float("nan"),
            "× course time": reached / course_time if reached is not None else float("nan"),
            "generation chars/s": round(row["chars_per_second"])})
    return pd.DataFrame(table)


def plot_curves(rows, path, corpus):
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(9, 5.5))
    for row in rows:
        style = "k--" if row is rows[0] else "-"
        axis.plot(row["seconds"], row["val_loss"], style, marker="o", markersize=3,
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
    frame = summary_frame(rows)
    with atomic_path(folder / "compare.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.4f")
    atomic_write_json(folder / "compare.json", rows)
    plot_curves(rows, folder / "compare.png", header["corpus"])
    lines = [f"# Time to quality: {header['corpus']}\n", *[f"- {line}" for line in
                                                          header["lines"]], "",
             markdown_table(frame), "![held-out loss against seconds](compare.png)\n",
             f"## Samples (temperature {SAMPLE_TEMPERATURE}, stateful generation)\n"]
    for row in rows:
        if row["sample"]:
            lines += [f"### {row['configuration']}\n", "```text", row["sample"], "```\n"]
    atomic_write_text(folder / "compare.md", "\n".join(lines))
    return frame


def header_lines(config, budget_minutes, reference):
    return {"corpus": config.corpus, "lines": [
        f"Budget: {budget_minutes} minutes of training per configuration; the course's "
        "next-char LSTM " + (f"from {reference}" if reference else
                             f"trained to its early stop (at most {REFERENCE_EPOCHS} epochs)"),
        "Held-out loss: next character after exactly "
        f"{config.maxlen} characters, on the held-out last 10% (every objective alike)",
        f"Seed {config.seed}; generation speed: stateful, {SAMPLE_LENGTH} characters",
        device_line(keras)]}
