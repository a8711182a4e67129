"""Fine-tuning GPT-2 on a corpus for a time budget, the best checkpoint kept as a preset.

The poetry lab's parts keep every choice away from the reported text: the model learns from
the first 85% (cut into sequences of ``sequence_length`` + 1 tokens), its validation score
on the next 5% after every ``eval_every`` steps chooses the checkpoint (written with
``save_to_preset``, atomically, into the run's models folder), and the held-out last 10% is
scored once, with the chosen checkpoint, at the end. ``fit`` runs with the preprocessor
detached: the sequences are token ids already, and every position is a target (no padding,
so the plain cross-entropy is the per-token loss).

A run survives interruption: at every evaluation the run's ``backup/`` folder gets the
weights and optimizer state of that step (``last-<step>.weights.h5``) and ``state.json``
(steps, training seconds, evaluations so far), in that order, so a kill at any moment
leaves a state that names complete weights. ``--resume`` rebuilds the model from the
run's preset, loads that state and skips the batches already seen: the run continues with
its own options, its own data order and what is left of its budget.
"""

import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from labs.cli import LabError
from labs.gpt2.evaluate import Scorer
from labs.gpt2.presets import save_atomically
from labs.reports import atomic_write_json
from labs.training import without_autotune

STATE = "state.json"  # in the backup folder: what --resume continues from


def sequences(ids, length):
    """Consecutive, non-overlapping ``length`` + 1 id slices (input and shifted target)."""
    count = (len(ids) - 1) // length
    if count < 1:
        return np.zeros((0, length + 1), "int32")
    ids = np.asarray(ids[:count * length + 1], "int32")
    return np.stack([ids[start:start + length + 1] for start in range(0, count * length, length)])


def training_rows(ids, settings, context):
    """The fit part's sequences, or a one-line error when the options cannot make a batch
    of them or exceed the model's context."""
    if settings.sequence_length > context:
        raise LabError(f"--sequence-length {settings.sequence_length} is longer than the "
                       f"model's context of {context} tokens; give at most {context}")
    rows = sequences(ids, settings.sequence_length)
    if len(rows) < settings.batch_size:
        raise LabError(f"--batch-size {settings.batch_size}: the training text makes only "
                       f"{len(rows)} sequences of {settings.sequence_length} tokens; give a "
                       f"batch of at most {len(rows)} or shorter --sequence-length")
    return rows


def training_dataset(rows, batch_size, seed, skip=0):
    """Shuffled, repeated batches of ``({"token_ids", "padding_mask"}, next ids)``; the
    first ``skip`` batches left out (a resumed run has seen them)."""
    inputs = {"token_ids": rows[:, :-1], "padding_mask": np.ones_like(rows[:, :-1], bool)}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, rows[:, 1:]))
    dataset = dataset.shuffle(len(rows), seed=seed).repeat().batch(batch_size, drop_remainder=True)
    return without_autotune(dataset.skip(skip))


def read_state(backup):
    """The state a run left in ``backup`` (see the module), checked; ``None`` for none."""
    try:
        state = json.loads((backup / STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise LabError(f"{backup / STATE} is damaged") from None
    weights = state.get("weights") if isinstance(state, dict) else None
    if not isinstance(state, dict) or not isinstance(state.get("history"), list) or (
            weights and not (backup / weights).is_file()):
        raise LabError(f"{backup / STATE} is damaged")
    return state


class Checkpoints(keras.callbacks.Callback):
    """Every ``eval_every`` steps (a Keras "epoch"): the validation score; the best model
    saved. It stops training when the budget of training seconds (evaluations not counted)
    or the step limit is spent, and shows a progress bar over the budget."""

    def __init__(self, scorer, validation_text, folder, budget_seconds, max_steps,
                 preprocessor, backup=None, state=None):
        super().__init__()
        self.scorer, self.validation_text, self.folder = scorer, validation_text, folder
        self.budget_seconds, self.max_steps = budget_seconds, max_steps
        self.preprocessor, self.backup = preprocessor, backup
        state = state or {"steps": 0, "training_seconds": 0.0, "history": []}
        self.steps, self.training_seconds = state["steps"], state["training_seconds"]
        self.history = list(state["history"])
        self.best = min((row["validation_bits_per_character"] for row in self.history),
                        default=math.inf)
        self.bar = tqdm(total=round(budget_seconds), unit="s", desc="fine-tuning",
                        initial=min(round(self.training_seconds), round(budget_seconds)),
                        bar_format="{desc}: {bar} {n:.0f}/{total:.0f} s of training{postfix}")

    def on_train_batch_begin(self, batch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        seconds = time.perf_counter() - self.started
        self.training_seconds += seconds
        self.steps += 1
        self.bar.update(min(seconds, self.bar.total - self.bar.n))
        self.bar.set_postfix(loss=f"{logs['loss']:.3f}", steps=self.steps)
        if self.finished():
            self.model.stop_training = True

    def finished(self):
        """The budget of training seconds, or the step limit, is spent."""
        return self.training_seconds >= self.budget_seconds or bool(
            self.max_steps and self.steps >= self.max_steps)

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
        self.save_state()
        tqdm.write(f"step {self.steps}: validation {score:.3f} bits/char"
                   + (" (best: saved)" if improved else ""))

    def save_state(self):
        """This step's weights and optimizer state, then ``state.json`` naming them (see the
        module), then the older weights removed."""
        if self.backup is None:
            return
        self.backup.mkdir(parents=True, exist_ok=True)
        weights = None
        if self.steps:
            weights = f"last-{self.steps}.weights.h5"
            temporary = self.backup / f".last.tmp-{os.getpid()}.weights.h5"
            self.model.save_weights(temporary)
            temporary.replace(self.backup / weights)
        atomic_write_json(self.backup / STATE, {
            "steps": self.steps, "training_seconds": self.training_seconds,
            "history": self.history, "weights": weights})
        for old in self.backup.glob("last-*.weights.h5"):
            if old.name != weights:
                old.unlink(missing_ok=True)

    def close(self):
        self.bar.close()


def compile_for_training(model, learning_rate):
    """AdamW on the per-token cross-entropy of the logits; the model's preprocessor must be
    detached (the batches are token ids)."""
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  weighted_metrics=[], sampler="greedy")


def finetune(model, fit_text, validation_text, settings, folder, scorer=None, backup=None):
    """Fine-tune ``model`` in place; returns the evaluation history (the first entry is the
    model before any step) and the number of training sequences. The best checkpoint is the
    preset in ``folder``; ``backup`` (a folder) keeps the state that ``--resume`` continues
    from, and is where a resumed run's state is read."""
    keras.utils.set_random_seed(settings.seed)
    scorer = scorer or Scorer(model)
    rows = training_rows(scorer.encode(fit_text), settings, int(model.backbone.max_sequence_length))
    state = read_state(backup) if backup is not None else None
    preprocessor = model.preprocessor
    callback = Checkpoints(scorer, validation_text, folder, settings.budget_minutes * 60,
                           settings.max_steps, preprocessor, backup, state)
    model.preprocessor = None
    try:
        callback.set_model(model)
        compile_for_training(model, settings.learning_rate)
        if state is None:
            callback.evaluate()  # step 0: the model as loaded
        elif state["weights"]:
            model.optimizer.build(model.trainable_variables)
            try:
                model.load_weights(backup / state["weights"])
            except (OSError, ValueError) as error:
                raise LabError(f"{backup / state['weights']} is damaged ({str(error)[:80]})") \
                    from None
        if not callback.finished():
            model.fit(training_dataset(rows, settings.batch_size, settings.seed,
                                       skip=callback.steps),
                      steps_per_epoch=settings.eval_every, epochs=10**6, verbose=0,
                      shuffle=False, callbacks=[callback])
    finally:
        model.preprocessor = preprocessor
        callback.close()
    return callback.history, len(rows)
