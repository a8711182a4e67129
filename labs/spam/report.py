"""The spam lab's reports: one folder per model, one comparison that says how sure it is.

Every model is scored on the same folds. ``comparison.md`` opens with three lines written
from the measured numbers (the best model; whether the best neural model beats the
strongest baseline; which neural differences are real), then the table of means with 95%
intervals over the folds, then each model against the best one with the corrected paired
t-test of ``labs.spam.stats``.
"""

from datetime import datetime, timezone

import keras
import numpy as np
import pandas as pd
from sklearn import metrics

from labs.cli import LabError
from labs.embeddings import TOKEN_ATTRIBUTES
from labs.reports import (atomic_path, atomic_write_json, atomic_write_text, device_line,
                          markdown_table, plot_confusion_matrix, plot_history, pyplot,
                          save_figure)
from labs.spam import stats
from labs.spam.baselines import BASELINES
from labs.spam.models import DROPOUT, UNITS
from labs.spam.text_models import describe_text_models
from labs.spam.train import METRIC_COLUMNS

GOAL = 0.01  # the goal: a neural model within 0.01 F1 of the strongest baseline


def run_header(messages, folds, features, settings, run_description):
    """The lines every report of a run starts with: data, folds, pipeline, recipe, run."""
    labels, texts = messages.labels, messages.texts
    quick = " — QUICK MODE subset" if settings.quick else ""
    shared = sum(len(set(texts[fold.train]) & set(texts[fold.test])) for fold in folds)
    repeats = (f" × {settings.repeats} repeats (seeds {settings.seed}–"
               f"{settings.seed + settings.repeats - 1}): every message is tested once per "
               "repeat" if settings.repeats > 1 else f" (seed {settings.seed}): every message "
               "is tested once")
    split = (f"{settings.folds} stratified grouped folds{repeats}, ~{len(folds[0].test):,} per "
             "fold" if len(folds) > 1 else
             f"one {settings.split} split (seed {settings.seed}): train "
             f"{len(folds[0].train):,}, test {len(folds[0].test):,}")
    return [
        f"Dataset: {messages.path} — {len(texts):,} messages ({int(labels.sum()):,} spam), "
        f"{messages.frame['text'].nunique():,} distinct texts{quick}",
        f"Folds: {split}; texts on both sides of a fold: {shared}; the same folds for every "
        "model, baselines included",
        f"spaCy pipeline: {features.pipeline} {features.pipeline_version}, vector size "
        f"{features.vector_size}" + (
            f" ({features.vector_size - len(TOKEN_ATTRIBUTES)} from spaCy + "
            f"{len(TOKEN_ATTRIBUTES)} token attributes: {', '.join(TOKEN_ATTRIBUTES)}; "
            "--token-features)" if settings.recipe.token_features else " (--no-token-features)"),
        f"Recipe: {settings.recipe.name} — {settings.recipe.description}",
        f"Neural models: RNN {UNITS} units ({settings.recipe.pooling} hidden state"
        f"{'s' if settings.recipe.pooling == 'max' else ''}) / transformer, dropout {DROPOUT}, "
        f"Adam; inputs {', '.join(settings.inputs)} (padded: maxlen {settings.maxlen})",
        f"Text models (their input learned from the fit part of each fold only): "
        f"{describe_text_models()}",
        f"Baselines: {'; '.join(f'{name}: {text}' for name, text in BASELINES.items())}",
        f"Run: {run_description}, started {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        device_line(keras),
    ]


# ---------------------------------------------------------------- one model
def pooled_predictions(results, folds, labels):
    """Every message's test label and prediction, each from the fold that tested it."""
    true = np.concatenate([labels[fold.test] for fold in folds[:len(results)]])
    predicted = np.concatenate([result["test_scores"] >= result["threshold"]
                                for result in results]).astype(int)
    return true, predicted


def write_model_report(directory, name, results, folds, labels, class_names, header):
    """history.png (first fold), confusion_matrix.png and classification_report.txt (all
    folds' test predictions pooled), metrics.json (every fold)."""
    if results[0]["history"]:
        plot_history(results[0]["history"], directory / "history.png",
                     [("loss", "loss (binary cross-entropy)"), ("accuracy", "accuracy")],
                     f"{name}: training history, fold 1 (best epoch "
                     f"{results[0].get('best_epoch', '—')})")
    true, predicted = pooled_predictions(results, folds, labels)
    plot_confusion_matrix(metrics.confusion_matrix(true, predicted, labels=[0, 1]), class_names,
                          directory / "confusion_matrix.png",
                          f"{name} (test predictions of {len(results)} fold(s))")
    report = metrics.classification_report(true, predicted, labels=[0, 1],
                                           target_names=class_names, digits=4, zero_division=0)
    atomic_write_text(directory / "classification_report.txt",
                      f"{name}, test predictions of {len(results)} fold(s)\n" + "\n".join(header)
                      + f"\n\n{report}")
    atomic_write_json(directory / "metrics.json", {"model": name, "folds": [
        {key: value for key, value in result.items() if key != "test_scores"}
        for result in results]})


def summarise(name, kind, inputs, results, error=None, family=""):
    """One comparison row: every metric's mean over the folds, F1 with its 95% interval.
    ``family``: what the model reads (spaCy vectors, learned words, ...)."""
    row = {"model": name, "kind": kind, "input": family, "inputs": inputs,
           "folds": len(results), "status": "ok" if error is None else f"failed: {error}"}
    for column in (*METRIC_COLUMNS, "spam_f1_at_standard_threshold", "threshold",
                   "training_seconds", "cpu_seconds"):
        values = [result[column] for result in results]
        row[column] = float(np.mean(values)) if values else float("nan")
    row["spam_f1_low"], row["spam_f1_high"] = stats.mean_interval(
        [result["spam_f1"] for result in results])[1:]
    row["fold_f1"] = [float(result["spam_f1"]) for result in results]
    row["epochs"] = (float(np.mean([result["best_epoch"] for result in results]))
                     if results and "best_epoch" in results[0] else float("nan"))
    row["parameters"] = results[0]["parameters"] if results else 0
    return row


# ---------------------------------------------------------------- the comparison
def pairwise(frame, test_fraction):
    """Each model against the best one: F1 difference, interval, p-value, verdict."""
    done = frame[frame["status"] == "ok"]
    best = done.iloc[0]
    rows = []
    for _, row in done.iloc[1:].iterrows():
        test = stats.corrected_paired_test(row["fold_f1"], best["fold_f1"], test_fraction)
        rows.append({"model": row["model"], "inputs": row["inputs"],
                     "difference": test["difference"], "low": test["low"],
                     "high": test["high"], "p_value": test["p_value"],
                     "verdict": stats.verdict(test)})
    return best, pd.DataFrame(rows)


def reading_guide(frame, test_fraction):
    """Three lines a student can act on, from the measured numbers."""
    done = frame[frame["status"] == "ok"]
    neural = done[done["kind"] != "baseline"]
    baseline = done[done["kind"] == "baseline"]
    best = done.iloc[0]
    lines = [f"**Best model: {label(best)}**, spam F1 {interval(best)} over {int(best['folds'])} "
             "fold(s)."]
    if len(neural) and len(baseline):
        top, strongest = neural.iloc[0], baseline.iloc[0]
        test = stats.corrected_paired_test(top["fold_f1"], strongest["fold_f1"], test_fraction)
        ahead = sum(a > b for a, b in zip(top["fold_f1"], strongest["fold_f1"]))
        lines.append(f"**Best neural model vs the strongest baseline:** {label(top)} − "
                     f"{label(strongest)} = {difference(test)} F1: "
                     f"{plain(stats.verdict(test), 'the neural model')}; the neural model is "
                     f"ahead on {ahead} of {len(top['fold_f1'])} fold(s).")
    if len(neural) > 1:
        lines.append(neural_differences(neural, test_fraction))
    if len(neural) and len(baseline) and neural["input"].nunique() > 1:
        lines.append(input_families(neural, baseline.iloc[0], test_fraction))
    return lines


def input_families(neural, strongest, test_fraction):
    """Which input closes the gap: each input family's best model against the strongest
    baseline, closest first, and whether it is within ``GOAL``."""
    parts = []
    for family, rows in neural.groupby("input", sort=False):  # sorted by F1 already
        top = rows.iloc[0]
        test = stats.corrected_paired_test(top["fold_f1"], strongest["fold_f1"], test_fraction)
        parts.append(f"{family} ({top['model']}) {top['spam_f1']:.3f}, {difference(test)}")
    top = neural.iloc[0]
    gap = top["spam_f1"] - strongest["spam_f1"]
    reached = (f"within {GOAL} of it: {top['input']} ({top['model']}, {gap:+.3f})"
               if gap >= -GOAL else f"no input family comes within {GOAL} of it; the "
               f"closest is {top['input']} ({top['model']}, {gap:+.3f})")
    return (f"**Which input closes the gap to {label(strongest)}?** Best model of each input, "
            f"mean spam F1 and its difference from the baseline: {'; '.join(parts)}. "
            f"{reached[0].upper()}{reached[1:]}.")


def neural_differences(neural, test_fraction):
    top = neural.iloc[0]
    verdicts = {row["model"] + f" ({row['inputs']})": stats.verdict(stats.corrected_paired_test(
        row["fold_f1"], top["fold_f1"], test_fraction)) for _, row in neural.iloc[1:].iterrows()}
    if len(top["fold_f1"]) < stats.MIN_FOLDS:
        return (f"**Between the neural models:** {label(top)} has the best score; with "
                f"{stats.NO_INTERVAL}, so no difference between them can be called real "
                "(use --folds 5).")
    worse = [name for name, verdict in verdicts.items() if verdict == "worse"]
    tied = [name for name, verdict in verdicts.items() if verdict != "worse"]
    return (f"**Between the neural models:** {label(top)} has the best mean; detectably worse: "
            f"{', '.join(worse) or 'none'}; no detectable difference from it: "
            f"{', '.join(tied) or 'none'}.")


def numbered(lines):
    return [f"{number}. {line}" for number, line in enumerate(lines, 1)]


def label(row):
    return f"{row['model']} ({row['inputs']})"


def interval(row):
    if np.isnan(row["spam_f1_low"]):
        return f"{row['spam_f1']:.3f} ({stats.NO_INTERVAL})"
    return f"{row['spam_f1']:.3f} (95% CI {row['spam_f1_low']:.3f}–{row['spam_f1_high']:.3f})"


def difference(test):
    if np.isnan(test["low"]):
        return f"{test['difference']:+.3f}"
    return f"{test['difference']:+.3f} (95% CI {test['low']:+.3f} to {test['high']:+.3f})"


def plain(verdict, subject):
    return {"better": f"{subject} is better", "worse": f"{subject} is worse",
            "no detectable difference": "no detectable difference at 95% (the interval "
                                        "contains 0; it does not show the two are equal)"
            }.get(verdict, verdict)


def comparison_markdown(frame, header_lines, test_fraction):
    best, pairs = pairwise(frame, test_fraction)
    strongest = baseline_f1(frame)
    table = pd.DataFrame({
        "model": frame["model"], "kind": frame["kind"], "input": frame["input"],
        "format": frame["inputs"],
        "spam F1 (95% CI)": [interval(row) if row["status"] == "ok" else "—"
                             for _, row in frame.iterrows()],
        **{column.replace("_", " "): frame[column] for column in METRIC_COLUMNS
           if column != "spam_f1"},
        "F1 at standard threshold": frame["spam_f1_at_standard_threshold"],
        "threshold": frame["threshold"], "epoch used": frame["epochs"],
        "parameters": [f"{value:,}" if value else "—" for value in frame["parameters"]],
        "training s per fold": frame["training_seconds"],
        "CPU s per fold": frame["cpu_seconds"],
        f"folds ahead of {strongest[0]}": [folds_ahead(row, strongest)
                                           for _, row in frame.iterrows()],
        "status": frame["status"]})
    pairs_table = pd.DataFrame({
        "model": pairs.get("model", []), "inputs": pairs.get("inputs", []),
        f"F1 − {label(best)} (95% CI)": [difference(row) for _, row in pairs.iterrows()],
        "p": pairs.get("p_value", []), "verdict": pairs.get("verdict", [])})
    return "\n".join([
        "# SMS spam detector: every model on the same folds\n",
        *numbered(reading_guide(frame, test_fraction)), "",
        *[f"- {line}" for line in header_lines], "",
        "Sorted by mean spam F1 over the folds, at each model's decision threshold (neural "
        "models: chosen on the validation part under the tuned recipe; baselines: their standard "
        "one); other metrics are means over the folds.\n", markdown_table(table),
        f"## Each model against the best ({label(best)})\n",
        "Difference of spam F1 fold by fold, with the Nadeau–Bengio corrected resampled t-test "
        "(the folds share training data, so a plain t-test would be overconfident). A difference "
        "whose interval contains 0 is *no detectable difference*.\n",
        markdown_table(pairs_table, float_format="{:.3f}") if len(pairs) else "(one model)\n",
        "![comparison](comparison.png)\n"])


def plot_comparison(frame, path):
    """Mean spam F1 per model with its 95% interval, and training time, coloured by what
    the model reads."""
    plt = pyplot()
    done = frame[frame["status"] == "ok"].iloc[::-1]
    names = [label(row) for _, row in done.iterrows()]
    families = list(dict.fromkeys(frame["input"]))
    learned = [family for family in families
               if family not in set(frame.loc[frame["kind"] == "baseline", "input"])]
    palette = {family: "#999999" for family in families}  # baselines in grey
    palette.update(zip(learned, plt.get_cmap("tab10").colors))
    colours = [palette[family] for family in done["input"]]
    errors = np.nan_to_num(np.array([done["spam_f1"] - done["spam_f1_low"],
                                     done["spam_f1_high"] - done["spam_f1"]]))
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(done) + 2.4), sharey=True)
    left.barh(names, done["spam_f1"], xerr=errors, color=colours, capsize=3)
    left.set_xlabel("spam F1, mean over folds with 95% CI (higher is better)")
    left.set_xlim(max(0.0, float(np.nanmin(done["spam_f1_low"].fillna(done["spam_f1"]))) - 0.05),
                  1.0)
    right.barh(names, done["training_seconds"], color=colours)
    right.set_xlabel("training seconds per fold (lower is better)")
    for axis in (left, right):
        axis.grid(axis="x", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=palette[family]) for family in families]
    figure.legend(handles, families, loc="lower center", ncol=min(4, len(families)),
                  title="input", frameon=False)
    figure.suptitle("Spam F1 per model, coloured by what it reads")
    figure.tight_layout(rect=(0, 0.4 / (0.45 * len(done) + 2.4) + 0.06, 1, 1))
    save_figure(figure, path)


def baseline_f1(frame):
    """The strongest baseline's name and its per-fold F1 (no F1 without a baseline)."""
    baselines = frame[(frame["kind"] == "baseline") & (frame["status"] == "ok")]
    if not len(baselines):
        return "the strongest baseline", []
    return baselines.iloc[0]["model"], baselines.iloc[0]["fold_f1"]


def folds_ahead(row, strongest):
    """"k/n": the folds on which ``row`` scores a higher F1 than the strongest baseline
    (``baseline_f1``)."""
    name, reference = strongest
    if row["status"] != "ok" or not len(reference) or row["model"] == name:
        return "—"
    ahead = sum(mine > theirs for mine, theirs in zip(row["fold_f1"], reference))
    return f"{ahead}/{len(reference)}"


def write_comparison(rows, header_lines, reports_dir, test_fraction, repeats=1):
    """comparison.csv, comparison.md and comparison.png, sorted by mean spam F1. With
    ``repeats`` > 1 the intervals of the means use the corrected variance."""
    frame = pd.DataFrame(rows).sort_values("spam_f1", ascending=False, na_position="last")
    frame = frame.reset_index(drop=True)
    if repeats > 1:
        for column, values in zip(("spam_f1_low", "spam_f1_high"), zip(*[
                stats.mean_interval(folds, test_fraction=test_fraction)[1:]
                for folds in frame["fold_f1"]])):
            frame[column] = values
    if not (frame["status"] == "ok").any():
        first = frame.iloc[0]
        raise LabError(f"every configuration failed; {first['model']}_{first['inputs']}: "
                       f"{first['status']}")
    with atomic_path(reports_dir / "comparison.csv") as temporary:
        frame.drop(columns="fold_f1").to_csv(temporary, index=False, float_format="%.4f")
    atomic_write_text(reports_dir / "comparison.md",
                      comparison_markdown(frame, header_lines, test_fraction))
    plot_comparison(frame, reports_dir / "comparison.png")
    return frame


def results_table(frame, test_fraction):
    """The page's table (labs/spam/README.md, through ``runs.write_results``): every model
    with its mean spam F1 and interval, and its difference from the best with the verdict."""
    best, pairs = pairwise(frame, test_fraction)
    against = {(row["model"], row["inputs"]): f"{difference(row)}: {row['verdict']}"
               for _, row in pairs.iterrows()}
    columns = ["model", "input", "spam F1 (95% CI)", "F1 at the standard threshold",
               "parameters", "training s per fold", f"against the best ({label(best)})"]
    rows = [[label(row), row["input"], interval(row),
             f"{row['spam_f1_at_standard_threshold']:.3f}",
             f"{row['parameters']:,}" if row["parameters"] else "—",
             f"{row['training_seconds']:.1f}", against.get((row["model"], row["inputs"]), "—")]
            for _, row in frame[frame["status"] == "ok"].iterrows()]
    neural = frame[(frame["status"] == "ok") & (frame["kind"] != "baseline")]
    headline = f"best: {label(best)}, spam F1 {interval(best)}"
    if len(neural) and neural.index[0] != frame.index[0]:
        top = neural.iloc[0]
        headline += (f"; best neural: {label(top)}, {interval(top)}, "
                     f"{against[(top['model'], top['inputs'])]}")
    return columns, rows, headline


# ---------------------------------------------------------------- the index
def index_row(row, folder):
    """One line of the index table: F1, and the model's plots as thumbnails."""
    history = confusion = ""
    model_folder = f"{folder}/{row['model']}_{row['inputs']}"
    if row["kind"] == "baseline":
        confusion = f"[report]({model_folder}/classification_report.txt)"
    elif row["status"] == "ok":
        history = f'<img src="{model_folder}/history.png" width="360">'
        confusion = f'<img src="{model_folder}/confusion_matrix.png" width="200">'
    cells = [label(row), row["kind"], interval(row) if row["status"] == "ok" else row["status"],
             f"{row['training_seconds']:.1f}", f"{row['parameters']:,}" if row["parameters"] else
             "—", history, confusion]
    return "| " + " | ".join(cells) + " |"


def index_markdown(frame, header_lines, folder, test_fraction):
    """The spam section of reports/index.md; ``folder`` is the run's, relative to reports/."""
    lines = ["## SMS spam detector\n",
             *numbered(reading_guide(frame, test_fraction)), "",
             *[f"- {line}" for line in header_lines], "",
             f"Full table and pairwise tests: [{folder}/comparison.md]({folder}/comparison.md) "
             f"([CSV]({folder}/comparison.csv)).\n",
             f"![comparison of the models]({folder}/comparison.png)\n",
             "| model | kind | spam F1 | training s per fold | parameters | training history "
             "(fold 1) | confusion matrix (all folds) |",
             "|---|---|---|---|---|---|---|"]
    lines += [index_row(row, folder) for _, row in frame.iterrows()]
    return "\n".join(lines)
