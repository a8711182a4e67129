"""Fine-tuning GPT-2 on a corpus for a time budget, the best checkpoint kept as a preset.

The poetry lab's parts keep every choice away from the reported text: the model learns from
the first 85% (cut into sequences of ``sequence_length`` + 1 tokens), its validation score
on the next 5% after every ``eval_every`` steps chooses the checkpoint (written with
``save_to_preset``, atomically, into the run's models folder), and the held-out last 10% is
scored once, with the chosen checkpoint, at the end. ``fit`` runs with the preprocessor
detached: the sequences are token ids already, and every position is a target (no padding,
so the plain cross-entropy is the per-token loss).
"""

import math
import time

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from labs.gpt2.evaluate import Scorer
from labs.gpt2.presets import save_atomically
from labs.training import without_autotune


def sequences(ids, length):
    """Consecutive, non-overlapping ``length`` + 1 id slices (input and shifted target)."""
    count = (len(ids) - 1) // length
    if count < 1:
        return np.zeros((0, length + 1), "int32")
    ids = np.asarray(ids[:count * length + 1], "int32")
    return np.stack([ids[start:start + length + 1] for start in range(0, count * length, length)])


def training_dataset(rows, batch_size, seed):
    """Shuffled, repeated batches of ``({"token_ids", "padding_mask"}, next ids)``."""
    inputs = {"token_ids": rows[:, :-1], "padding_mask": np.ones_like(rows[:, :-1], bool)}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, rows[:, 1:]))
    dataset = dataset.shuffle(len(rows), seed=seed).repeat().batch(batch_size, drop_remainder=True)
    return without_autotune(dataset)


class Checkpoints(keras.callbacks.Callback):
    """Every ``eval_every`` steps (a Keras "epoch"): the validation score; the best model
    saved. It stops training when the budget of training seconds (evaluations not counted)
    or the step limit is spent, and shows a progress bar over the budget."""

    def __init__(self, scorer, validation_text, folder, budget_seconds, max_steps,
                 preprocessor):
        super().__init__()
        self.scorer, self.validation_text, self.folder = scorer, validation_text, folder
        self.budget_seconds, self.max_steps = budget_seconds, max_steps
        self.preprocessor = preprocessor
        self.training_seconds, self.steps, self.history = 0.0, 0, []
        self.best = math.inf
        self.bar = tqdm(total=round(budget_seconds), unit="s", desc="fine-tuning",
                        bar_format="{desc}: {bar} {n:.0f}/{total:.0f} s of training{postfix}")

    def on_train_batch_begin(self, batch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        seconds = time.perf_counter() - self.started
        self.training_seconds += seconds
        self.steps += 1
        self.bar.update(min(seconds, self.bar.total - self.bar.n))
        self.bar.set_postfix(loss=f"{logs['loss']:.3f}", steps=self.steps)
        if self.training_seconds >= self.budget_seconds or (
                self.max_steps and self.steps >= self.max_steps):
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.evaluate(logs.get("loss"))

    def evaluate(self, loss=None):
        score = self.scorer.bits_per_character(self.validation_text)["bits_per_character"]
        improved = score < self.best
        self.history.append({"step": self.steps, "training_seconds": self.training_seconds,
                             "training_loss": loss, "validation_bits_per_character": score,
                             "saved": improved})
        if improved:
            self.best = score
            self.model.preprocessor = self.preprocessor
            try:
                save_atomically(self.model, self.folder)
            finally:
                self.model.preprocessor = None
        tqdm.write(f"step {self.steps}: validation {score:.3f} bits/char"
                   + (" (best: saved)" if improved else ""))

    def close(self):
        self.bar.close()


def finetune(model, fit_text, validation_text, settings, folder, scorer=None):
    """Fine-tune ``model`` in place; returns the evaluation history (the first entry is the
    model before any step). The best checkpoint is the preset in ``folder``."""
    keras.utils.set_random_seed(settings.seed)
    scorer = scorer or Scorer(model)
    rows = sequences(scorer.encode(fit_text), settings.sequence_length)
    if len(rows) < settings.batch_size:
        raise ValueError(f"the training text makes {len(rows)} sequences of "
                         f"{settings.sequence_length} tokens, fewer than one batch of "
                         f"{settings.batch_size}: use a longer text or shorter sequences")
    preprocessor = model.preprocessor
    callback = Checkpoints(scorer, validation_text, folder, settings.budget_minutes * 60,
                           settings.max_steps, preprocessor)
    model.preprocessor = None
    try:
        callback.set_model(model)
        callback.evaluate()  # step 0: the model as loaded
        model.compile(optimizer=keras.optimizers.AdamW(settings.learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      weighted_metrics=[], sampler="greedy")
        model.fit(training_dataset(rows, settings.batch_size, settings.seed),
                  steps_per_epoch=settings.eval_every, epochs=10**6, verbose=0, shuffle=False,
                  callbacks=[callback])
    finally:
        model.preprocessor = preprocessor
        callback.close()
    return callback.history, len(rows)
