"""Training the character model: fit with early stopping, samples every epoch, metrics."""

import json
import math
import time
import zipfile
from dataclasses import dataclass

import h5py
import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from labs import measures
from labs import saving
from labs.cli import LabError
from labs.poetry.data import encode, every_step_sequences, make_windows, random_window
from labs.poetry.generate import Generator
from labs.training import (EpochTimer, ProgressNote, early_stopping, history_lists, replicas,
                           make_dataset, without_autotune)

PATIENCE = 3
UNLIMITED_PATIENCE = 1_000_000  # early stopping that never stops: it keeps the best epoch
SAMPLE_LENGTH = 200
TRAINING_TEMPERATURES = (0.2, 0.5, 1.0)
COMPARISON_LENGTH = 1000  # characters of each generation method in the comparison


@dataclass(frozen=True)
class TrainingData:
    """What the model learns from, what chooses its epoch, and the held-out windows every
    objective is scored on. Next-char (the course's): ``training`` is (windows, next
    characters) of the first 90%, and the epoch is chosen on the held-out text, as the
    course does. Every-step: ``training`` is the encoded first 85% of each text, cut into
    sequences anew each epoch, and the epoch is chosen on the ``validation`` windows of the
    next 5%; the held-out text is scored every epoch and chooses nothing."""
    training: object
    held_out: tuple  # (windows, next characters) of the held-out text
    seq_length: int = None  # every-step only
    validation: tuple = None  # every-step only: (windows, next characters) of the 5%

    @property
    def training_examples(self):
        """Training windows (next-char), or sequences per epoch (every-step)."""
        if self.seq_length is None:
            return len(self.training[0])
        return sum((len(text) - self.seq_length) // self.seq_length for text in self.training)

    @property
    def held_out_windows(self):
        return len(self.held_out[0])


def training_data(config, corpus, held_out=True):
    """The ``TrainingData`` of a ``Config`` on a ``data.Corpus``; ``held_out=False`` (a
    tuning trial, every-step only): the held-out text is not even cut into windows."""
    vocabulary, maxlen, step = corpus.vocabulary, config.maxlen, config.step
    held_out = make_windows(corpus.held_out_texts, vocabulary, maxlen, step) if held_out \
        else None
    if config.objective == "every-step":
        prepared = TrainingData([encode(text, vocabulary) for text in corpus.fit_texts],
                                held_out, config.seq_length,
                                make_windows(corpus.validation_texts, vocabulary, maxlen, step))
        described = (f"{sum(len(text) for text in prepared.training):,} training characters in "
                     f"sequences of {config.seq_length}, {len(prepared.validation[0]):,} "
                     "validation windows (the 5% before the held-out text: they choose the "
                     "epoch)")
    else:
        prepared = TrainingData(make_windows(corpus.train_texts, vocabulary, maxlen, step),
                                held_out)
        described = f"{prepared.training_examples:,} for training"
    scored = ("no held-out windows (not read)" if held_out is None else
              f"{prepared.held_out_windows:,} held-out windows (last 10% of the text)")
    print(f"nb sequences: {described}, {scored}, maxlen {maxlen}, step {step}")
    return prepared


class EpochReport(EpochTimer):
    """Seconds per epoch, the losses in nats and bits, and short samples every few epochs
    so the student sees the model learn (as the Keras example prints them)."""

    def __init__(self, metadata, held_out_text, sample_every, seed):
        super().__init__()
        self.metadata, self.held_out_text = metadata, held_out_text
        self.sample_every = sample_every
        self.samples = []
        self.rng = np.random.RandomState(seed)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        logs = logs or {}
        loss, validation = logs.get("loss", float("nan")), logs.get("val_loss", float("nan"))
        held_out = (f", held-out loss {logs['held_out_loss']:.4f}" if "held_out_loss" in logs
                    else "")
        print(f"epoch {epoch + 1}: loss {loss:.4f}, validation loss {validation:.4f} nats "
              f"({measures.bits(validation):.3f} bits/char){held_out}, {self.seconds[-1]:.1f} s")
        if (epoch + 1) % self.sample_every == 0:
            self.samples.append(self.sample(epoch + 1))

    def sample(self, epoch):
        generator = Generator(self.model, self.metadata)
        seed_text = random_window(self.held_out_text, self.metadata["maxlen"], self.rng)
        samples = {temperature: generator.generate(seed_text, SAMPLE_LENGTH, self.rng,
                                                   temperature=temperature)
                   for temperature in TRAINING_TEMPERATURES}
        return {"epoch": epoch, "seed_text": seed_text, "samples": samples}


class Checkpoints:
    """The best epoch's model saved as it happens into ``folder`` with its ``metadata`` (a
    run killed at epoch 9 keeps epoch 8's), and Keras's ``BackupAndRestore`` state of the
    last epoch, which ``--resume`` continues from. ``log_path`` is the run's CSV log: the
    epochs an interrupted run already did."""

    def __init__(self, folder, metadata, log_path):
        self.backup, self.metadata = folder / "backup", metadata
        self.model_path = saving.model_paths(folder)[0]
        self.log_path = log_path
        self.prior = {}

    def damage(self):
        """What makes an interrupted run's state unreadable (None: nothing): Keras's
        metadata and weights of the last epoch, the CSV log of the epochs done, the best
        model. Keras writes its files in place, so a kill while it writes leaves half of one."""
        checks = ((self.backup / "training_metadata.json", read_epoch),
                  (self.backup / "latest.weights.h5", read_weights),
                  (self.log_path, read_log), (self.model_path, read_weights))
        for path, read in checks:
            try:
                read(path)
            except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
                    pd.errors.ParserError) as error:
                return f"{path} is damaged ({type(error).__name__})"
        self.prior = read_log(self.log_path)
        return None

    def callbacks(self, early):
        losses = self.prior.get("val_loss", [])
        return [BestModel(self.model_path, self.metadata, min(losses, default=math.inf)),
                ContinueEarlyStopping(early, losses)]

    def backup_callback(self):
        """Last in the list: an epoch is backed up only once the CSV log holds it."""
        return keras.callbacks.BackupAndRestore(str(self.backup))

    def finish(self, model):
        """After fit: the best epoch's weights (of this session or an earlier one) and the
        whole history, from the log."""
        if self.model_path.is_file():
            best = saving.load_model(self.model_path, "python -m labs.poetry train")
            model.set_weights(best.get_weights())
        return read_log(self.log_path)


def read_epoch(path):
    """The epoch in Keras's BackupAndRestore ``training_metadata.json``."""
    return int(json.loads(path.read_text(encoding="utf-8"))["epoch"])


def read_weights(path):
    """Opens a Keras weights or model file (HDF5 or zip) to the end of its index."""
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            archive.testzip()
        return
    with h5py.File(path, "r") as weights:
        weights.visit(lambda name: None)


def read_log(path):
    """A Keras CSVLogger file as {metric: [value per epoch]} ({} when there is none)."""
    try:
        frame = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return {}
    if "epoch" in frame:  # an epoch redone after a kill between its log line and its backup
        frame = frame.drop_duplicates("epoch", keep="last").sort_values("epoch")
    return {column: [float(value) for value in frame[column]] for column in frame.columns
            if column != "epoch"}


class BestModel(keras.callbacks.Callback):
    """Saves the model (``saving.save_model``) whenever the held-out loss improves."""

    def __init__(self, model_path, metadata, best):
        super().__init__()
        self.model_path, self.metadata, self.best = model_path, metadata, best

    def on_epoch_end(self, epoch, logs=None):
        if logs and logs.get("val_loss", math.inf) < self.best:
            self.best = logs["val_loss"]
            saving.save_model(self.model, self.metadata, self.model_path)


class ContinueEarlyStopping(keras.callbacks.Callback):
    """Give EarlyStopping the best loss and the patience already used by the epochs before
    a restart (Keras resets them when fit starts; this runs right after)."""

    def __init__(self, early, losses):
        super().__init__()
        self.early, self.losses = early, losses

    def on_train_begin(self, logs=None):
        if self.losses:
            best = int(np.argmin(self.losses))
            self.early.best, self.early.best_epoch = self.losses[best], best
            self.early.wait = len(self.losses) - 1 - best


class TimeBudget(keras.callbacks.Callback):
    """Stop before an epoch that would end past ``seconds`` of training, held-out evaluation
    excluded (the slowest epoch so far is the estimate); ``None``: no budget. ``elapsed()``
    is the training time so far, the current epoch's batches included."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.spent, self.longest, self.started = seconds, 0.0, 0.0, None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # Training time, as the comparison counts it (EpochTimer ran first), else wall time.
        elapsed = (logs or {}).get("training_seconds", time.perf_counter() - self.started)
        self.spent, self.longest = self.spent + elapsed, max(self.longest, elapsed)
        self.started = None
        if self.seconds is not None and self.spent + self.longest > self.seconds:
            self.model.stop_training = True

    def elapsed(self):
        return self.spent + (time.perf_counter() - self.started if self.started else 0.0)


class CosineSchedule(keras.callbacks.Callback):
    """``--schedule cosine``: the learning rate rises linearly over the first ``WARMUP`` of
    training, then follows a cosine to 0 at its end. With a time budget, "training" is the
    budget's seconds (the schedule a budgeted run can use to the full); without one, the
    epochs. Set before every batch."""

    WARMUP = 0.05

    def __init__(self, peak, budget, epochs):
        super().__init__()
        self.peak, self.budget, self.epochs, self.epoch = peak, budget, epochs, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.budget.seconds is not None:
            progress = self.budget.elapsed() / max(self.budget.seconds, 1e-9)
        else:
            progress = (self.epoch + batch / max(self.params.get("steps") or 1, 1)) / self.epochs
        self.model.optimizer.learning_rate = self.peak * learning_rate_factor(progress,
                                                                               self.WARMUP)


def learning_rate_factor(progress, warmup):
    """The fraction of the peak learning rate at ``progress`` (0 … 1) of training."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return 0.5 * (1 + math.cos(math.pi * (progress - warmup) / (1 - warmup)))


def fit(model, data, config, report, logs, checkpoints=None, budget_seconds=None):
    """``model.fit`` on the training part, scored on the held-out windows; the model keeps
    the best epoch's weights (early stopping restores them); ``logs``: Keras's CSVLogger
    and TensorBoard (``labs.training.training_logs``); ``budget_seconds``: training ends
    before an epoch that would pass it (``TimeBudget``), and a cosine schedule spans it.

    ``next-char`` (the course's): ``data.training`` is (windows, next characters), and
    Keras's own ``val_loss`` is the held-out loss, as in the course. ``every-step``:
    ``data.training`` is the encoded training texts, cut into new sequences every epoch
    (``EveryStepBatches``), and ``HeldOutLoss`` puts the same measure on the validation
    part into ``val_loss`` (what early stopping and checkpoints read) and on the held-out
    text into ``held_out_loss`` (what is reported), before any other callback reads them.
    """
    batch_size, evaluation, options = config.global_batch_size, [], {}
    if config.objective == "every-step":
        batches = EveryStepBatches(data.training, config.seq_length, batch_size, config.seed,
                                   config.replicas).dataset()
        evaluation = [HeldOutLoss(data.validation, data.held_out)]
    else:
        batches = make_dataset(*data.training, batch_size, seed=config.seed)
        options["validation_data"] = make_dataset(*data.held_out, batch_size)
    early = early_stopping(patience(config, budget_seconds))
    best, last = saving_callbacks(checkpoints, early, config.corpus)
    budget, schedule = budget_callbacks(config, budget_seconds)
    started = time.perf_counter()
    history = model.fit(
        batches, epochs=config.epochs, shuffle=False,  # tf.data / the batches shuffle
        callbacks=[*schedule, *evaluation, report, budget, early, *best, *logs, *last],
        verbose=2 if config.verbose else 0, **options)
    seconds = time.perf_counter() - started
    if checkpoints is None:
        history = history_lists(history)
    else:  # the log holds every epoch, those before a restart too
        history = checkpoints.finish(model)
        report.seconds = history.get("seconds", report.seconds)
        report.training_seconds = history.get("training_seconds", report.training_seconds)
        seconds = float(sum(report.seconds))
    for timing in ("seconds", "training_seconds", "evaluation_seconds"):
        history.pop(timing, None)
    return history, seconds


def patience(config, budget_seconds):
    """Early stopping's patience. A cosine schedule over a time budget pays in its last
    part, where the learning rate has decayed: stopped on a plateau while the rate is still
    near its peak, it never gets there (the tuned GRU, given the course model's 827 s,
    stopped after 204 s at 1.400 nats). So there the budget ends training, and early
    stopping only keeps the best epoch's weights."""
    if config.schedule == "cosine" and budget_seconds is not None:
        return UNLIMITED_PATIENCE
    return PATIENCE


def budget_callbacks(config, budget_seconds):
    """The ``TimeBudget`` of a fit, and the cosine schedule that spans it (if chosen)."""
    budget = TimeBudget(budget_seconds)
    if config.schedule == "cosine":
        return budget, [CosineSchedule(config.learning_rate, budget, config.epochs)]
    return budget, []


def saving_callbacks(checkpoints, early, corpus):
    """What saves an epoch: the best model (before the logs) and the backup (after them);
    and last the note Ctrl-C reads, so an epoch counts as done once it is logged and
    backed up."""
    if checkpoints is None:
        return [], [ProgressNote(corpus)]
    kept = f"continue it from there with `python -m labs.poetry train --corpus {corpus} --resume`"
    return checkpoints.callbacks(early), [checkpoints.backup_callback(), ProgressNote(corpus, kept)]


class EveryStepBatches(keras.utils.PyDataset):
    """Batches of (sequence, sequence shifted by one) for ``--objective every-step``.

    Each epoch cuts the texts from a new random offset, so every character is early in
    some sequence and late in another, and shuffles the sequences; an epoch always has the
    same number of them (the count the largest offset allows, rounded down to a multiple of
    ``replicas``: MirroredStrategy cannot split a batch of every-step sequences unevenly).
    """

    def __init__(self, encoded_texts, seq_length, batch_size, seed, replicas=1):
        super().__init__()
        self.texts, self.seq_length, self.batch_size = encoded_texts, seq_length, batch_size
        self.count = sum((len(text) - seq_length) // seq_length for text in encoded_texts)
        self.count -= self.count % replicas
        if self.count < 1:
            raise LabError(f"the training text is shorter than two sequences of --seq-length "
                           f"{seq_length}; use a smaller --seq-length")
        self.rng = np.random.RandomState(seed)
        self.on_epoch_end()

    def on_epoch_end(self):
        offset = int(self.rng.randint(self.seq_length))
        pairs = [every_step_sequences(text, self.seq_length, offset) for text in self.texts]
        inputs, targets = (np.concatenate([pair[part] for pair in pairs]) for part in (0, 1))
        order = self.rng.permutation(len(inputs))[:self.count]
        self.inputs, self.targets = inputs[order], targets[order]

    def __len__(self):
        return -(-self.count // self.batch_size)

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.inputs[batch], self.targets[batch]

    def dataset(self):
        """The batches as a tf.data pipeline with the autotuner off, cut anew after every
        pass. Keras's own pipeline for a PyDataset prefetches with ``tf.data.AUTOTUNE``,
        whose autotuner stalled about one epoch in three here (3 s instead of 1.3 s for the
        every-step LSTM on Leopardi, alone or in a comparison; 15 s instead of 6 s for the
        tuned one); without it every epoch took 1.2-1.5 s."""
        def passes():
            for index in range(len(self)):
                yield self[index]
            self.on_epoch_end()

        shape = (None, self.seq_length)
        signature = (tf.TensorSpec(shape, tf.as_dtype(self.inputs.dtype)),
                     tf.TensorSpec(shape, tf.as_dtype(self.targets.dtype)))
        dataset = tf.data.Dataset.from_generator(passes, output_signature=signature)
        # A known length: Keras then ends each epoch at its last batch, without a warning.
        return without_autotune(dataset.apply(tf.data.experimental.assert_cardinality(
            len(self))))


def next_char_loss(model, inputs, targets, batch_size=1024):
    """The held-out measure every objective shares: the mean negative log-likelihood (nats)
    of the next character given exactly the window before it. A model that predicts at
    every position is read at the window's last one; probabilities are clipped at 1e-7,
    as Keras's cross-entropy does, so a next-char model scores its own ``val_loss``."""
    total, distributed = 0.0, replicas() > 1
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start:start + batch_size]
        # Under MirroredStrategy predict_on_batch returns every replica's copy of the batch;
        # predict splits it between them and gathers the parts.
        probabilities = np.asarray(model.predict(batch, batch_size=len(batch), verbose=0)
                                   if distributed else model.predict_on_batch(batch))
        if probabilities.ndim == 3:
            probabilities = probabilities[:, -1]
        chosen = np.take_along_axis(probabilities, targets[start:start + batch_size, None]
                                    .astype(np.int64), axis=1)
        total += float(-np.log(np.clip(chosen, 1e-7, 1.0)).sum())
    return total / len(inputs)


class HeldOutLoss(keras.callbacks.Callback):
    """At the end of each epoch, ``next_char_loss`` on the validation windows as
    ``val_loss`` (what chooses) and on the held-out windows as ``held_out_loss`` (what is
    reported); the seconds both took as ``evaluation_seconds`` (not training time)."""

    def __init__(self, validation, held_out):
        super().__init__()
        self.validation, self.held_out = validation, held_out

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            started = time.perf_counter()
            logs["val_loss"] = next_char_loss(self.model, *self.validation)
            if self.held_out is not None:  # a tuning trial never reads the held-out text
                logs["held_out_loss"] = next_char_loss(self.model, *self.held_out)
            logs["evaluation_seconds"] = time.perf_counter() - started


def generation_comparison(generator, held_out_text, seed, length=COMPARISON_LENGTH):
    """Window re-feed against stateful generation, in one process, from one held-out seed
    at temperature 0.5: characters per second of each, and the two texts."""
    seed_text = random_window(held_out_text, generator.maxlen, np.random.RandomState(seed))
    result = {"seed_text": seed_text, "length": length}
    for generation in ("window", "stateful"):
        rng = np.random.RandomState(seed)
        started = time.perf_counter()
        text = generator.generate(seed_text, length, rng, temperature=0.5, generation=generation)
        result[generation] = {"chars_per_second": length / (time.perf_counter() - started),
                              "text": text}
    return result


def held_out_curve(history):
    """The held-out loss per epoch: its own column for every-step runs; for the course's
    next-char runs the held-out text is Keras's validation data."""
    return history.get("held_out_loss", history["val_loss"])


def loss_metrics(history):
    """The chosen epoch (the lowest ``val_loss``: the validation part's for every-step
    runs, the held-out text's for the course's) and the held-out loss there, in nats, bits
    per character and perplexity."""
    best = int(np.argmin(history["val_loss"]))
    loss = held_out_curve(history)[best]
    return {"epochs_run": len(history["loss"]), "best_epoch": best + 1,
            "chosen_on": ("validation part" if "held_out_loss" in history else
                          "held-out text (the course's procedure)"),
            "validation_loss_nats": history["val_loss"][best],
            "held_out_loss_nats": loss, "held_out_bits_per_char": measures.bits(loss),
            "held_out_perplexity": measures.perplexity(loss),
            "training_loss_at_best_nats": history["loss"][best]}


def run_metrics(config, corpus, data, model, history, report, seconds):
    """Everything metrics.json records about a run, in one flat dict."""
    return {
        "corpus": config.corpus, "files": list(corpus.files),
        "corpus_characters": corpus.characters, "vocabulary_size": len(corpus.vocabulary),
        "lowercase": config.lowercase, "maxlen": config.maxlen, "step": config.step,
        "training_examples": data.training_examples, "held_out_windows": data.held_out_windows,
        "validation_windows": None if data.validation is None else len(data.validation[0]),
        "objective": config.objective, "seq_length": config.seq_length, "inputs": config.inputs,
        "embedding_dim": config.embedding_dim, "cell": config.cell, "layers": config.layers,
        "units": config.units, "heads": config.heads,
        "parameters": model.count_params(), "optimizer": config.optimizer,
        "learning_rate": config.learning_rate, "clipnorm": config.clipnorm,
        "batch_size": config.global_batch_size, **loss_metrics(history),
        "epochs_max": config.epochs,
        "uniform_loss_nats": math.log(len(corpus.vocabulary)),
        "seconds_per_epoch": report.seconds,
        "training_seconds_per_epoch": report.training_seconds,  # less held-out evaluation
        "median_seconds_per_epoch": float(np.median(report.seconds[1:] or report.seconds)),
        "training_seconds": seconds, "seed": config.seed, "quick": config.quick,
        "history": history,
    }
