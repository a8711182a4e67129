"""Fit, predict, score: one variant with one seed, and the classical baseline.

The course's procedure: the test split is the ``validation_data`` Keras reports each epoch,
and the model evaluated is the last epoch's (no choice is made on the test split).
"""

import time
from pathlib import Path

import keras
import numpy as np
from sklearn import metrics
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from labs.reports import atomic_path, atomic_write_json
from labs.spam import models
from labs.spam.data import pad, ragged_dataset, to_ragged
from labs.training import ProgressNote, history_lists

PREDICT_BATCH_SIZE = 512
METRIC_COLUMNS = ("accuracy", "spam_precision", "spam_recall", "spam_f1", "mcc", "roc_auc")


def fit(model, inputs, features, split, settings, seed, callbacks=()):
    """``model.fit`` on the training part, with the test part as validation data."""
    train, test, labels = split["train"], split["test"], split["labels"]
    options = dict(epochs=settings["epochs"], verbose=settings["verbose"],
                   callbacks=list(callbacks))
    if inputs == "padded":
        train_x = pad(features.sequences(train), settings["maxlen"], features.vector_size)
        test_x = pad(features.sequences(test), settings["maxlen"], features.vector_size)
        return model.fit(train_x, labels[train], batch_size=settings["batch_size"],
                         validation_data=(test_x, labels[test]), shuffle=True, **options)
    return model.fit(  # the dataset reshuffles its length buckets itself
        ragged_dataset(features, train, labels[train], settings["batch_size"], seed=seed),
        validation_data=ragged_dataset(features, test, labels[test], settings["batch_size"]),
        shuffle=False, **options)


def predict_probabilities(model, inputs, sequences, maxlen, vector_size,
                          batch_size=PREDICT_BATCH_SIZE):
    """Spam probabilities for a list of per-token vector arrays, in their order."""
    if inputs == "padded":
        padded = pad(sequences, maxlen, vector_size)
        return model.predict(padded, batch_size=batch_size, verbose=0).ravel()
    probabilities = np.zeros(len(sequences), np.float32)
    order = np.argsort([len(sequence) for sequence in sequences], kind="stable")
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        ragged = to_ragged([sequences[row] for row in batch])
        probabilities[batch] = np.asarray(model.predict_on_batch(ragged)).ravel()
    return probabilities


def evaluate(true_labels, probabilities, class_names, threshold=0.5):
    """Test-split metrics of the positive class (spam = 1), scikit-learn throughout."""
    predictions = (np.asarray(probabilities) >= threshold).astype(int)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        true_labels, predictions, average="binary", pos_label=1, zero_division=0)
    return {
        "accuracy": metrics.accuracy_score(true_labels, predictions),
        "spam_precision": precision,
        "spam_recall": recall,
        "spam_f1": f1,
        "mcc": metrics.matthews_corrcoef(true_labels, predictions),
        "roc_auc": metrics.roc_auc_score(true_labels, probabilities),
        "confusion_matrix": metrics.confusion_matrix(true_labels, predictions,
                                                     labels=[0, 1]).tolist(),
        "classification_report": metrics.classification_report(
            true_labels, predictions, labels=[0, 1], target_names=class_names, digits=4,
            zero_division=0),
    }


def train_variant(variant, inputs, features, split, settings, seed):
    """Build, fit and score one variant with one seed; returns the model and its metrics."""
    keras.utils.set_random_seed(seed)
    model = models.build_model(variant, inputs, features.vector_size, maxlen=settings["maxlen"])
    started = time.perf_counter()
    history = fit(model, inputs, features, split, settings, seed,
                  callbacks=[ProgressNote(f"{variant}_{inputs}, seed {seed}")])
    seconds = time.perf_counter() - started
    probabilities = predict_probabilities(model, inputs, features.sequences(split["test"]),
                                          settings["maxlen"], features.vector_size)
    result = evaluate(split["labels"][split["test"]], probabilities, split["class_names"])
    result.update(seed=seed, training_seconds=seconds, parameters=model.count_params(),
                  epochs=settings["epochs"], history=history_lists(history))
    print(f"  {variant:>12} {inputs:<6} seed {seed}: spam F1 {result['spam_f1']:.4f}, "
          f"MCC {result['mcc']:.4f}, {seconds:.1f} s")
    return model, result


def train_baseline(texts, split, seed):
    """TF-IDF + logistic regression on the same split: the number an RNN has to beat."""
    started = time.perf_counter()
    pipeline = make_pipeline(TfidfVectorizer(sublinear_tf=True),
                             LogisticRegression(max_iter=1000, random_state=seed))
    pipeline.fit(texts[split["train"]], split["labels"][split["train"]])
    seconds = time.perf_counter() - started
    probabilities = pipeline.predict_proba(texts[split["test"]])[:, 1]
    result = evaluate(split["labels"][split["test"]], probabilities, split["class_names"])
    result.update(seed=seed, training_seconds=seconds, history={},
                  parameters=int(pipeline[-1].coef_.size + pipeline[-1].intercept_.size))
    return result


def save_model(model, name, metadata, folder):
    """``<run models>/<name>.keras`` plus the JSON that prediction needs."""
    with atomic_path(Path(folder) / f"{name}.keras") as temporary:
        model.save(temporary)
    atomic_write_json(Path(folder) / f"{name}.json", metadata)
