"""Fit, predict, score: one variant on one fold, and the classical baselines.

Two recipes (``config.RECIPES``). ``course``: the test part is the ``validation_data``
Keras reports each epoch, 20 epochs of batch 512, the last epoch's model, threshold 0.5.
``tuned``: a validation part carved out of the training part chooses the best epoch (early
stopping) and the decision threshold (best F1); the test part is predicted once, at the end,
and nothing is chosen on it. Both report F1 at the standard threshold 0.5 too.
"""

import time

import keras
import numpy as np
from sklearn import metrics

from labs.spam import baselines, models
from labs.spam.data import pad, ragged_dataset, to_ragged
from labs.training import ProgressNote, early_stopping, history_lists

PREDICT_BATCH_SIZE = 512
METRIC_COLUMNS = ("accuracy", "spam_precision", "spam_recall", "spam_f1", "mcc", "roc_auc")


def fit(model, inputs, features, fold, settings, seed, callbacks=()):
    """``model.fit`` on ``fold.fit``, validated on ``fold.validation``."""
    fit_rows, validation, labels = fold.fit, fold.validation, fold.labels
    options = dict(epochs=settings.recipe.epochs, verbose=settings.verbose,
                   callbacks=list(callbacks))
    if inputs == "padded":
        fit_x = pad(features.sequences(fit_rows), settings.maxlen, features.vector_size)
        validation_x = pad(features.sequences(validation), settings.maxlen,
                           features.vector_size)
        return model.fit(fit_x, labels[fit_rows], batch_size=settings.batch_size,
                         validation_data=(validation_x, labels[validation]), shuffle=True,
                         **options)
    return model.fit(  # the dataset reshuffles its length buckets itself
        ragged_dataset(features, fit_rows, labels[fit_rows], settings.batch_size, seed=seed),
        validation_data=ragged_dataset(features, validation, labels[validation],
                                       PREDICT_BATCH_SIZE),
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


def evaluate(true_labels, scores, threshold=0.5):
    """Test metrics of the positive class (spam = 1) at ``threshold``, scikit-learn
    throughout; ``scores`` are probabilities or decision values (ROC AUC needs only order)."""
    predictions = (np.asarray(scores) >= threshold).astype(int)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        true_labels, predictions, average="binary", pos_label=1, zero_division=0)
    return {
        "accuracy": metrics.accuracy_score(true_labels, predictions),
        "spam_precision": precision,
        "spam_recall": recall,
        "spam_f1": f1,
        "mcc": metrics.matthews_corrcoef(true_labels, predictions),
        "roc_auc": metrics.roc_auc_score(true_labels, scores),
        "threshold": float(threshold),
        "confusion_matrix": metrics.confusion_matrix(true_labels, predictions,
                                                     labels=[0, 1]).tolist(),
    }


def best_f1_threshold(labels, probabilities):
    """The probability threshold (0.05 to 0.95) with the best F1 on the validation part."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    scores = [metrics.f1_score(labels, probabilities >= threshold, zero_division=0)
              for threshold in grid]
    return float(grid[int(np.argmax(scores))])


def train_variant(variant, inputs, features, fold, settings, seed, logs=()):
    """Build, fit and score one variant on one ``data.Fold``; returns the model and its
    metrics. ``logs``: the callbacks that log the epochs (``labs.training.training_logs``)."""
    keras.utils.set_random_seed(seed)
    recipe = settings.recipe
    model = models.build_model(variant, inputs, features.vector_size, maxlen=settings.maxlen,
                               mask_padding=recipe.mask_padding, pooling=recipe.pooling)
    fold = fold.for_recipe(recipe, seed)
    callbacks = [ProgressNote(f"{variant}_{inputs}, seed {seed}"), *logs]
    if recipe.patience:
        callbacks.append(early_stopping(recipe.patience))
    started = time.perf_counter()
    history = history_lists(fit(model, inputs, features, fold, settings, seed, callbacks))
    seconds = time.perf_counter() - started

    def probabilities(rows):
        return predict_probabilities(model, inputs, features.sequences(rows), settings.maxlen,
                                     features.vector_size)

    threshold = 0.5
    if recipe.tune_threshold:
        threshold = best_f1_threshold(fold.labels[fold.validation],
                                      probabilities(fold.validation))
    test_probabilities = probabilities(fold.test)  # the test part, predicted once
    result = score(fold, test_probabilities, threshold, 0.5)
    result.update(seed=seed, training_seconds=seconds, parameters=model.count_params(),
                  epochs_run=len(history["loss"]), history=history,
                  best_epoch=(int(np.argmin(history["val_loss"])) + 1 if recipe.patience
                              else len(history["loss"])))  # the epoch whose weights are used
    return model, result


def score(fold, scores, threshold, standard_threshold):
    """Metrics at the chosen threshold, plus F1 at the standard one, with the scores."""
    true_labels = fold.labels[fold.test]
    result = evaluate(true_labels, scores, threshold)
    result["spam_f1_at_standard_threshold"] = evaluate(
        true_labels, scores, standard_threshold)["spam_f1"]
    result["test_scores"] = np.asarray(scores, dtype=float)
    return result


def train_baseline(name, fold, seed):
    """A classical baseline on the same fold: C chosen on the training part only."""
    scores, threshold, c, seconds = baselines.train_baseline(
        name, fold.texts, fold.labels, fold.train, fold.test, seed)
    result = score(fold, scores, threshold, threshold)
    result.update(seed=seed, training_seconds=seconds, C=c, history={}, parameters=0)
    return result
