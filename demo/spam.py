"""The spam tab: one message, every published model's score and decision.

The published run is ``models/spam/latest.json`` (else ``latest-quick.json``), as ``python
-m labs.spam predict`` reads it; each model is loaded the first time it is asked for and
kept. The scores are ``labs.spam.lab.scores``: the same code as ``predict``, so the page and
the command line agree to the last digit.
"""

import json
import threading
from pathlib import Path

from labs import runs
from labs.cli import LabError
from labs.spam import baselines, lab
from demo.inputs import check_text

SPAM_LIMIT = 2_000  # characters: ten long SMS; a pasted page is not a message
CONTRIBUTIONS = 10
EXPLAINED = "tfidf-logreg_text"  # the model whose decision is shown n-gram by n-gram
COLUMNS = ["model", "input", "spam F1 on held-out folds", "score", "score is", "threshold",
           "decision"]


class SpamModels:
    """The published spam run's models, loaded once each, shared by every browser session
    (Keras models and fitted scikit-learn models are safe to call from several threads
    for prediction; loading is serialised)."""

    def __init__(self, models_dir):
        self.models_dir = Path(models_dir)
        self.loaded = {}
        self.lock = threading.Lock()
        self.scoring = threading.Lock()  # one message at a time through spaCy and Keras
        self._run = None

    def run(self):
        """``(folder, run id, quick)`` of the published run; ``LabError`` when none."""
        if self._run is None:
            self._run = runs.latest(self.models_dir / "spam", "make spam")
        return self._run

    def order(self):
        """The comparison's rows (model name, input, F1) for the saved models, in the
        comparison's order; models without a row (a run from before the demo) at the end."""
        folder = self.run()[0]
        saved = lab.saved_models(folder)
        try:
            rows = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            rows = []
        ordered = [row for row in rows if row.get("model") in saved]
        ordered += [{"model": name} for name in saved
                    if name not in {row["model"] for row in ordered}]
        return ordered

    def examples(self):
        try:
            examples = json.loads((self.run()[0] / "examples.json").read_text(encoding="utf-8"))
            return [[example["text"]] for example in examples]
        except (OSError, ValueError, KeyError, TypeError, LabError):
            return []

    def model(self, name):
        with self.lock:
            if name not in self.loaded:
                self.loaded[name] = lab.load_saved(name, self.models_dir, self.run()[1])
        return self.loaded[name]

    def answer(self, text):
        """``(rows, contributions or None)`` for one message; ``LabError`` for bad input."""
        text = check_text(text, "the message", SPAM_LIMIT)
        with self.scoring:
            return self.scored(text)

    def scored(self, text):
        rows, explanation = [], None
        for entry in self.order():
            model, metadata = self.model(entry["model"])
            score = float(lab.scores(model, metadata, [text])[0])
            classes = metadata["classes"]
            decision = classes[1] if score >= metadata["threshold"] else classes[0]
            rows.append([entry["model"], entry.get("input", metadata["inputs"]),
                         f1_cell(entry), round(score, 4), metadata.get("score", "probability"),
                         metadata["threshold"], decision])
            if entry["model"] == EXPLAINED and isinstance(model, baselines.FittedBaseline):
                explanation = model.contributions(text, CONTRIBUTIONS)
        return rows, explanation


def f1_cell(entry):
    if entry.get("spam_f1") is None:
        return ""
    if entry.get("spam_f1_low") is None:
        return f"{entry['spam_f1']:.3f} (no usable interval: fewer than 3 folds)"
    return f"{entry['spam_f1']:.3f} ({entry['spam_f1_low']:.3f}–{entry['spam_f1_high']:.3f})"


def explanation_markdown(explanation):
    """The logistic regression's n-grams that moved this decision most, exactly."""
    if explanation is None:
        return ""
    contributions, logit = explanation
    lines = [f"**Why `{EXPLAINED}` decided so**: its logit {logit:+.3f} is the intercept plus "
             "each n-gram's TF-IDF value × weight; the largest of those terms:", "",
             "| n-gram | contribution to the logit |", "|---|---|"]
    lines += [f"| `{name}` | {value:+.3f} |" for name, value in contributions]
    return "\n".join(lines)
