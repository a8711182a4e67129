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
import tensorflow as tf
from sklearn import metrics

from labs.spam import baselines, models, text_models
from labs.spam.data import bucketed_dataset, pad, ragged_dataset, to_ragged
from labs.training import ProgressNote, early_stopping, history_lists

PREDICT_BATCH_SIZE = 512
METRIC_COLUMNS = ("accuracy", "spam_precision", "spam_recall", "spam_f1", "mcc", "roc_auc")


def fit(model, inputs, features, fold, settings, seed, callbacks=(), reader=None):
    """``model.fit`` on ``fold.fit``, validated on ``fold.validation``; ``reader``: a text
    model's ``TextReader``."""
    fit_rows, validation, labels = fold.fit, fold.validation, fold.labels
    options = dict(epochs=settings.recipe.epochs, verbose=settings.verbose,
                   callbacks=list(callbacks))
    if reader is not None:
        return model.fit(reader.dataset(fit_rows, labels, settings.batch_size, seed),
                         validation_data=reader.dataset(validation, labels, PREDICT_BATCH_SIZE),
                         shuffle=False, **options)  # the batches are reshuffled already
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


class TextReader:
    """How a text model (``text_models``) reads rows of a fold: raw strings (and, for the
    hybrid, padded spaCy vectors; for ``tfidf-mlp``, TF-IDF rows), in batches of similar
    length, so a batch is padded only to its own longest message."""

    def __init__(self, variant, texts, features, settings, preprocessor=None):
        self.variant, self.texts, self.features = variant, np.asarray(texts), features
        self.maxlen, self.preprocessor = settings.maxlen, preprocessor
        # TF-IDF rows are computed once, not again for every batch of every epoch.
        self.tfidf = preprocessor(self.texts) if preprocessor is not None else None

    def inputs(self, rows):
        if self.tfidf is not None:
            return self.tfidf[rows]
        sequences = self.features.sequences(rows) if self.variant == "hybrid" else None
        vector_size = self.features.vector_size if self.features is not None else 0
        return text_models.model_inputs(self.variant, self.texts[rows], sequences,
                                        self.preprocessor, self.maxlen, vector_size)

    def dataset(self, rows, labels, batch_size, seed=None):
        """Batches of rows; ``seed`` given → reshuffled every epoch."""
        lengths = np.array([len(text) for text in self.texts[rows]])
        signature = (tf.nest.map_structure(spec_of, self.batch_inputs(rows[:1])),
                     tf.TensorSpec((None,), tf.float32))
        return bucketed_dataset(
            lengths, batch_size,
            lambda batch: (self.batch_inputs(rows[batch]), labels[rows[batch]]), signature, seed)

    def batch_inputs(self, rows):
        inputs = self.inputs(rows)
        return sparse_tensor(inputs) if self.variant == "tfidf-mlp" else inputs

    def probabilities(self, model, rows):
        return predict_text(model, self.inputs(rows))


def sparse_tensor(matrix):
    """A SciPy CSR matrix as a ``tf.SparseTensor``."""
    coordinates = matrix.tocoo()
    indices = np.stack([coordinates.row, coordinates.col], axis=1).astype(np.int64)
    return tf.sparse.reorder(tf.SparseTensor(indices, coordinates.data.astype(np.float32),
                                             coordinates.shape))


def spec_of(value):
    """The TensorSpec of a batch, with the batch dimension left free."""
    if isinstance(value, tf.SparseTensor):
        return tf.SparseTensorSpec((None, value.shape[1]), value.dtype)
    value = tf.convert_to_tensor(value)
    return tf.TensorSpec((None, *value.shape[1:]), value.dtype)


def predict_text(model, inputs, batch_size=PREDICT_BATCH_SIZE):
    """A text model's spam probabilities for ``text_models.model_inputs``, in their order."""
    count = inputs.shape[0] if not isinstance(inputs, dict) else len(inputs["text"])
    probabilities = np.zeros(count, np.float32)
    for start in range(0, count, batch_size):
        part = slice(start, start + batch_size)
        batch = ({key: value[part] for key, value in inputs.items()}
                 if isinstance(inputs, dict) else inputs[part])
        if hasattr(batch, "tocoo"):
            batch = sparse_tensor(batch)
        probabilities[part] = np.asarray(model.predict_on_batch(batch)).ravel()
    return probabilities


def build(variant, inputs, features, fold, settings):
    """The model, and the text reader of a text model (``None`` for spaCy-vector models)."""
    recipe = settings.recipe
    if variant not in text_models.TEXT_VARIANTS:
        return models.build_model(variant, inputs, features.vector_size,
                                  maxlen=settings.maxlen, mask_padding=recipe.mask_padding,
                                  pooling=recipe.pooling), None
    vector_size = features.vector_size if features is not None else 0
    model, preprocessor = text_models.build_text_model(
        variant, fold.texts[fold.fit], fold.labels[fold.fit], settings.maxlen, vector_size)
    return model, TextReader(variant, fold.texts, features, settings, preprocessor)


def train_variant(variant, inputs, features, fold, settings, seed, logs=()):
    """Build, fit and score one variant on one ``data.Fold``; returns the model and its
    metrics (a text model's fitted TF-IDF vectorizer, if any, as ``result["preprocessor"]``).
    ``logs``: the callbacks that log the epochs (``labs.training.training_logs``)."""
    keras.utils.set_random_seed(seed)
    recipe = settings.recipe
    fold = fold.for_recipe(recipe, seed)  # vocabularies are learned from fold.fit only
    model, reader = build(variant, inputs, features, fold, settings)
    callbacks = [ProgressNote(f"{variant}_{inputs}, seed {seed}"), *logs]
    if recipe.patience:
        callbacks.append(early_stopping(recipe.patience))
    started, cpu_started = time.perf_counter(), time.process_time()
    history = history_lists(fit(model, inputs, features, fold, settings, seed, callbacks,
                                reader))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started

    def probabilities(rows):
        if reader is not None:
            return reader.probabilities(model, rows)
        return predict_probabilities(model, inputs, features.sequences(rows), settings.maxlen,
                                     features.vector_size)

    threshold = 0.5
    if recipe.tune_threshold:
        threshold = best_f1_threshold(fold.labels[fold.validation],
                                      probabilities(fold.validation))
    test_probabilities = probabilities(fold.test)  # the test part, predicted once
    result = score(fold, test_probabilities, threshold, 0.5)
    result.update(seed=seed, training_seconds=seconds, cpu_seconds=cpu_seconds,
                  parameters=model.count_params(), epochs_run=len(history["loss"]),
                  history=history, preprocessor=reader and reader.preprocessor,
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
    cpu_started = time.process_time()
    scores, threshold, c, seconds, parameters, fitted = baselines.train_baseline(
        name, fold.texts, fold.labels, fold.train, fold.test, seed)
    result = score(fold, scores, threshold, threshold)
    result.update(seed=seed, training_seconds=seconds, C=c, history={}, parameters=parameters,
                  cpu_seconds=time.process_time() - cpu_started, fitted=fitted)
    return result
