"""Training the character model: fit with early stopping, samples every epoch, metrics."""

import math
import time

import numpy as np

from labs.poetry.data import random_window
from labs.poetry.generate import Generator
from labs.training import (EpochTimer, ProgressNote, early_stopping, history_lists,
                           make_dataset)

PATIENCE = 3
SAMPLE_LENGTH = 200
TRAINING_TEMPERATURES = (0.2, 0.5, 1.0)
COMPARISON_LENGTH = 1000  # characters of each generation method in the comparison


class EpochReport(EpochTimer):
    """Seconds per epoch, the losses in nats and bits, and short samples every few epochs
    so the student sees the model learn (as the Keras example prints them)."""

    def __init__(self, metadata, validation_text, sample_every, seed):
        super().__init__()
        self.metadata, self.validation_text = metadata, validation_text
        self.sample_every = sample_every
        self.samples = []
        self.rng = np.random.RandomState(seed)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        logs = logs or {}
        loss, validation = logs.get("loss", float("nan")), logs.get("val_loss", float("nan"))
        print(f"epoch {epoch + 1}: loss {loss:.4f}, validation loss {validation:.4f} nats "
              f"({validation / math.log(2):.3f} bits/char), {self.seconds[-1]:.1f} s")
        if (epoch + 1) % self.sample_every == 0:
            self.samples.append(self.sample(epoch + 1))

    def sample(self, epoch):
        generator = Generator(self.model, self.metadata)
        seed_text = random_window(self.validation_text, self.metadata["maxlen"], self.rng)
        samples = {temperature: generator.generate(seed_text, SAMPLE_LENGTH, self.rng,
                                                   temperature=temperature)
                   for temperature in TRAINING_TEMPERATURES}
        return {"epoch": epoch, "seed_text": seed_text, "samples": samples}


def fit(model, windows, settings, report, logs):
    """``model.fit`` on the training windows, validated on the held-out ones; the model
    keeps the best epoch's weights (early stopping restores them); Keras's CSVLogger writes
    every epoch (``logs``: ``labs.training.training_logs``)."""
    (train_inputs, train_targets), (validation_inputs, validation_targets) = windows
    started = time.perf_counter()
    history = model.fit(
        make_dataset(train_inputs, train_targets, settings["batch_size"], seed=settings["seed"]),
        validation_data=make_dataset(validation_inputs, validation_targets,
                                     settings["batch_size"]),
        epochs=settings["epochs"],
        callbacks=[ProgressNote(settings["corpus"]), report, early_stopping(PATIENCE),
                   *logs],
        shuffle=False, verbose=2 if settings["verbose"] else 0)  # tf.data shuffles
    return history_lists(history), time.perf_counter() - started


def generation_comparison(generator, validation_text, seed, length=COMPARISON_LENGTH):
    """Window re-feed against stateful generation, in one process, from one held-out seed
    at temperature 0.5: characters per second of each, and the two texts."""
    seed_text = random_window(validation_text, generator.maxlen, np.random.RandomState(seed))
    result = {"seed_text": seed_text, "length": length}
    for generation in ("window", "stateful"):
        rng = np.random.RandomState(seed)
        started = time.perf_counter()
        text = generator.generate(seed_text, length, rng, temperature=0.5, generation=generation)
        result[generation] = {"chars_per_second": length / (time.perf_counter() - started),
                              "text": text}
    return result


def loss_metrics(history):
    """The best epoch by validation loss, in nats, bits per character and perplexity."""
    best = int(np.argmin(history["val_loss"]))
    loss = history["val_loss"][best]
    return {"epochs_run": len(history["loss"]), "best_epoch": best + 1,
            "best_validation_loss_nats": loss, "best_validation_bits_per_char": loss / math.log(2),
            "best_validation_perplexity": math.exp(loss),
            "training_loss_at_best_nats": history["loss"][best]}


def run_metrics(settings, corpus, windows, model, history, report, seconds):
    """Everything metrics.json records about a run, in one flat dict."""
    (train_inputs, _), (validation_inputs, _) = windows
    return {
        "corpus": settings["corpus"], "files": list(corpus["files"]),
        "corpus_characters": corpus["characters"], "vocabulary_size": len(corpus["vocabulary"]),
        "lowercase": settings["lowercase"], "maxlen": settings["maxlen"], "step": settings["step"],
        "training_windows": len(train_inputs), "validation_windows": len(validation_inputs),
        "cell": settings["cell"], "layers": settings["layers"], "units": settings["units"],
        "parameters": model.count_params(), "optimizer": settings["optimizer"],
        "learning_rate": settings["learning_rate"], "clipnorm": settings["clipnorm"],
        "batch_size": settings["batch_size"], **loss_metrics(history),
        "epochs_max": settings["epochs"],
        "uniform_loss_nats": math.log(len(corpus["vocabulary"])),
        "seconds_per_epoch": report.seconds,
        "median_seconds_per_epoch": float(np.median(report.seconds[1:] or report.seconds)),
        "training_seconds": seconds, "seed": settings["seed"], "quick": settings["quick"],
        "history": history,
    }
