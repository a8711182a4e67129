"""Classical baselines, as strong as standard practice makes them, on the same folds.

Word 1–2-grams plus ``char_wb`` 2–5-grams, TF-IDF weighted, into a linear model is what a
practitioner tries first on short texts; its ``C`` is chosen by grouped cross-validation
(F1) inside the training part only, and it decides at its standard threshold (decision
function 0). The course's default logistic regression on word unigrams stays as a labelled
row, so the report shows what a weak baseline hides.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.svm import LinearSVC

SVM_C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
LOGREG_C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
INNER_FOLDS = 4
BASELINES = {
    "tfidf-svm": "TF-IDF words 1–2 + chars 2–5, LinearSVC (C by grouped CV)",
    "tfidf-logreg": "TF-IDF words 1–2 + chars 2–5, logistic regression (C by grouped CV)",
    "tfidf-words-default-lr": "TF-IDF words, default LR (the course's baseline: C = 1, "
                              "threshold 0.5)",
}


def word_and_char_features(train_texts, test_texts, vectorizers=False):
    """TF-IDF of word 1–2-grams and char_wb 2–5-grams, fitted on the training texts only;
    with ``vectorizers``, the two fitted vectorizers instead of the test features."""
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    train = sparse.hstack([words.fit_transform(train_texts), chars.fit_transform(train_texts)])
    if vectorizers:
        return train.tocsr(), words, chars
    test = sparse.hstack([words.transform(test_texts), chars.transform(test_texts)])
    return train.tocsr(), test.tocsr()


def tuned_linear_model(name, features, labels, groups, seed):
    """GridSearchCV over C with grouped folds of the training part; the refitted best model
    and its C."""
    if name == "tfidf-svm":
        estimator, grid = LinearSVC(random_state=seed), SVM_C_GRID
    else:
        estimator = LogisticRegression(solver="liblinear", max_iter=1000, random_state=seed)
        grid = LOGREG_C_GRID
    folds = StratifiedGroupKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed)
    search = GridSearchCV(estimator, {"C": grid}, scoring="f1", cv=folds)
    with warnings.catch_warnings():  # liblinear may stop early at large C: it then scores lower
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(features, labels, groups=groups)
    return search.best_estimator_, search.best_params_["C"]


@dataclass
class FittedBaseline:
    """A fitted baseline as ``predict`` and the demo use it: its vectorizers (fitted on the
    training part), its linear model and the threshold its scores are judged against.
    ``scores`` are spam probabilities for the logistic regressions (threshold 0.5: the
    comparison's decision, which judged the tuned one's logit at 0) and the margin of the
    SVM, which has no probability (threshold 0)."""

    name: str
    vectorizers: tuple
    model: object
    threshold: float

    def features(self, texts):
        return sparse.hstack([vectorizer.transform(texts) for vectorizer in self.vectorizers]
                             ).tocsr()

    @property
    def score_name(self):
        return "probability" if hasattr(self.model, "predict_proba") else "SVM margin"

    def scores(self, texts):
        features = self.features(texts)
        if hasattr(self.model, "predict_proba"):
            return self.model.predict_proba(features)[:, 1]
        return self.model.decision_function(features)

    def feature_names(self):
        prefixes = ("words", "chars") if len(self.vectorizers) == 2 else ("words",)
        return [f"{prefix}: {name!r}" for prefix, vectorizer in zip(prefixes, self.vectorizers)
                for name in vectorizer.get_feature_names_out()]

    def contributions(self, text, top=10):
        """A linear model's exact account of one decision: each n-gram's TF-IDF value times
        its weight. They and the intercept sum to the decision function (the logit)."""
        row = self.features([text])
        weights = self.model.coef_.ravel()
        values = row.data * weights[row.indices]
        names = self.feature_names()
        order = np.argsort(-np.abs(values), kind="stable")[:top]
        return [(names[row.indices[index]], float(values[index])) for index in order], float(
            self.model.intercept_[0] + values.sum())


def train_baseline(name, texts, labels, train, test, seed):
    """Fit on ``train`` (everything chosen there), score ``test`` once. Returns the test
    scores, the decision threshold, the chosen C, the seconds it took, the model's
    parameters (its weights and bias) and the fitted ``FittedBaseline``."""
    started = time.perf_counter()
    if name == "tfidf-words-default-lr":
        vectorizer = TfidfVectorizer(sublinear_tf=True)
        model = LogisticRegression(max_iter=1000, random_state=seed)
        model.fit(vectorizer.fit_transform(texts[train]), labels[train])
        scores = model.predict_proba(vectorizer.transform(texts[test]))[:, 1]
        return (scores, 0.5, 1.0, time.perf_counter() - started, parameters(model),
                FittedBaseline(name, (vectorizer,), model, 0.5))
    train_features, words, chars = word_and_char_features(texts[train], None, vectorizers=True)
    test_features = sparse.hstack([words.transform(texts[test]), chars.transform(texts[test])])
    model, c = tuned_linear_model(name, train_features, labels[train], texts[train], seed)
    return (model.decision_function(test_features.tocsr()), 0.0, c,
            time.perf_counter() - started, parameters(model),
            FittedBaseline(name, (words, chars), model,
                           0.5 if hasattr(model, "predict_proba") else 0.0))


def parameters(model):
    """A linear model's weights and bias: its parameter count beside a network's."""
    return int(model.coef_.size + model.intercept_.size)
