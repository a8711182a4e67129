"""The spam lab's reports: one folder per variant, one comparison, one index section."""

from datetime import datetime, timezone

import numpy as np
import pandas as pd

from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, markdown_table,
                          plot_confusion_matrix, plot_history, pyplot, save_figure)
from labs.spam.models import DROPOUT, UNITS
from labs.spam.train import METRIC_COLUMNS

BASELINE = "tfidf-logreg"


def run_header(messages, split, features, settings, seeds, run_description):
    """The lines every report of a run starts with: data, split, pipeline, settings, seeds."""
    labels, train, test = messages.labels, split["train"], split["test"]
    texts = messages.texts
    shared = len(set(texts[train]) & set(texts[test]))
    quick = " — QUICK MODE subset" if settings["quick"] else ""
    return [
        f"Dataset: {messages.path} — {len(texts):,} messages ({int(labels.sum()):,} spam), "
        f"{messages.frame['text'].nunique():,} distinct texts{quick}",
        f"Split: {settings['split']}, seed {settings['seed']}: train {len(train):,} "
        f"({int(labels[train].sum())} spam), test {len(test):,} ({int(labels[test].sum())} "
        f"spam); texts on both sides: {shared}",
        f"spaCy pipeline: {features.pipeline} {features.pipeline_version}, "
        f"vector size {features.vector_size}",
        f"RNN settings: {UNITS} units, dropout {DROPOUT}, maxlen {settings['maxlen']} (padded), "
        f"batch {settings['batch_size']}, {settings['epochs']} epochs, Adam; validation data = "
        "test split",
        f"Seeds: {', '.join(map(str, seeds))} (model initialisation and shuffling)",
        f"Run: {run_description}, started {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]


def write_variant_report(directory, name, runs, class_names, header):
    """history.png, confusion_matrix.png, classification_report.txt, metrics.json."""
    first = runs[0]
    if first["history"]:
        plot_history(first["history"], directory / "history.png",
                     [("loss", "loss (binary cross-entropy)"), ("accuracy", "accuracy")],
                     f"{name}: training history (seed {first['seed']})")
    plot_confusion_matrix(np.array(first["confusion_matrix"]), class_names,
                          directory / "confusion_matrix.png",
                          f"{name} (test split, seed {first['seed']})")
    atomic_write_text(directory / "classification_report.txt",
                      f"{name}, test split, seed {first['seed']}\n{header}\n\n"
                      f"{first['classification_report']}")
    atomic_write_json(directory / "metrics.json", {
        "variant": name, "runs": [{key: value for key, value in run.items()
                                   if key != "classification_report"} for run in runs]})


def summarise(variant, inputs, runs, error=None):
    """One comparison row: mean and standard deviation of every metric over the seeds."""
    row = {"variant": variant, "inputs": inputs, "seeds": len(runs),
           "status": "ok" if error is None else f"failed: {error}"}
    for column in (*METRIC_COLUMNS, "training_seconds"):
        values = [run[column] for run in runs]
        row[column] = float(np.mean(values)) if values else float("nan")
        row[f"{column}_std"] = float(np.std(values)) if values else float("nan")
    row["parameters"] = runs[0]["parameters"] if runs else 0
    return row


def mean_std(row, column, digits=4):
    """``0.9012 ± 0.0034`` over several seeds, ``0.9012`` for one, ``—`` when missing."""
    if row[column] != row[column]:
        return "—"
    if row["seeds"] > 1:
        return f"{row[column]:.{digits}f} ± {row[column + '_std']:.{digits}f}"
    return f"{row[column]:.{digits}f}"


def comparison_markdown(frame, header_lines):
    table = pd.DataFrame({
        "variant": frame["variant"], "inputs": frame["inputs"],
        **{column.replace("_", " "): [mean_std(row, column) for _, row in frame.iterrows()]
           for column in METRIC_COLUMNS},
        "parameters": [f"{value:,}" for value in frame["parameters"]],
        "training s": [mean_std(row, "training_seconds", 1) for _, row in frame.iterrows()],
        "status": frame["status"],
    })
    return ("# SMS spam detector: all variants compared\n\n"
            + "\n".join(f"- {line}" for line in header_lines) + "\n\n"
            + "Sorted by spam F1; metrics on the test split, model of the last epoch; "
            "mean ± standard deviation over the seeds.\n\n"
            + markdown_table(table) + "\n![comparison](comparison.png)\n")


def plot_comparison(frame, path):
    """Spam F1 and training time per variant, as horizontal bars with their spread."""
    plt = pyplot()
    done = frame[frame["status"] == "ok"].iloc[::-1]
    names = [f"{variant} ({inputs})" for variant, inputs in zip(done["variant"], done["inputs"])]
    colours = ["#999999" if variant == BASELINE else
               ("#1f77b4" if inputs == "padded" else "#ff7f0e")
               for variant, inputs in zip(done["variant"], done["inputs"])]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 0.45 * len(done) + 1.6), sharey=True)
    left.barh(names, done["spam_f1"], xerr=done["spam_f1_std"], color=colours, capsize=3)
    left.set_xlabel("spam F1 on the test split (higher is better)")
    left.set_xlim(max(0.0, float(done["spam_f1"].min()) - 0.1), 1.0)
    right.barh(names, done["training_seconds"], xerr=done["training_seconds_std"],
               color=colours, capsize=3)
    right.set_xlabel("training time, seconds (lower is better)")
    for axis in (left, right):
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle("Spam F1 and training time per variant "
                    "(blue: padded, orange: ragged, grey: TF-IDF baseline)")
    figure.tight_layout()
    save_figure(figure, path)


def write_comparison(rows, header_lines, reports_dir):
    """comparison.csv, comparison.md and comparison.png, sorted by spam F1."""
    frame = pd.DataFrame(rows).sort_values("spam_f1", ascending=False, na_position="last")
    with atomic_path(reports_dir / "comparison.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.4f")
    atomic_write_text(reports_dir / "comparison.md", comparison_markdown(frame, header_lines))
    plot_comparison(frame, reports_dir / "comparison.png")
    return frame


def index_row(row, folder):
    """One line of the index table: F1, and the variant's plots as thumbnails."""
    history = confusion = ""
    if row["variant"] == BASELINE:
        confusion = f"[report]({folder}/{BASELINE}/classification_report.txt)"
    elif row["status"] == "ok":
        variant_folder = f"{folder}/{row['variant']}_{row['inputs']}"
        history = f'<img src="{variant_folder}/history.png" width="360">'
        confusion = f'<img src="{variant_folder}/confusion_matrix.png" width="200">'
    name = f"{row['variant']} ({row['inputs']})"
    return f"| {name} | {row['spam_f1']:.4f} | {history} | {confusion} |"


def index_markdown(frame, header_lines, folder):
    """The spam section of reports/index.md; ``folder`` is the run's, relative to reports/."""
    lines = ["## SMS spam detector\n", *[f"- {line}" for line in header_lines], "",
             f"Full table: [{folder}/comparison.md]({folder}/comparison.md) "
             f"([CSV]({folder}/comparison.csv)).\n",
             f"![comparison of the variants]({folder}/comparison.png)\n",
             "| variant | spam F1 | training history | confusion matrix |", "|---|---|---|---|"]
    lines += [index_row(row, folder) for _, row in frame.iterrows()]
    return "\n".join(lines)
