"""Keras training plumbing shared by the labs, written once.

Every lab that trains a Keras model feeds it through ``make_dataset`` (tf.data with the
autotuner off: it stalled epochs for ~20 s on a 2-core CPU), stops early with
``early_stopping``, times epochs with ``EpochTimer`` and stores ``history_lists(history)`` in
its metrics, with ``training_logs`` (Keras's CSVLogger, TensorBoard on request) and
``write_summary`` (``model.summary()``) beside the report; ``on_devices`` runs a training
command under ``MirroredStrategy`` when asked. ``bucketed_batches`` cuts batches of similar
length for ragged inputs. (The held-out split, ``labs.data.split_holdout``, lives with the
data: the NumPy lab needs it without TensorFlow.)
"""

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from labs import backends
from labs.cli import LabError, check_interrupted, note_progress
from labs.reports import atomic_write_text

RECURRENT_LAYERS = {"simplernn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
                    "gru": keras.layers.GRU}


def without_autotune(dataset):
    """Prefetch two batches, with tf.data's autotuner off."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)


def make_dataset(inputs, targets, batch_size, seed=None):
    """Batches of ``(inputs, targets)``; ``seed`` given → reshuffled every epoch."""
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if seed is not None:
        dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return without_autotune(dataset.batch(batch_size))


def bucketed_batches(lengths, batch_size, rng=None):
    """Batches of indices of similar length.

    With ``rng`` (training), ties are broken at random and the batches come in random
    order; without it (evaluation), the order is the stable sort by length. Either way a
    ragged batch is densified only to its own longest sequence, not to the longest of all.
    """
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def early_stopping(patience):
    """Stop after ``patience`` epochs without a better validation loss and keep the best
    epoch's weights: the model a lab saves and reports is the one that generalised best."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)


class ProgressNote(keras.callbacks.Callback):
    """Tells ``labs.cli`` which epoch finished last, for the line Ctrl-C prints, and (with
    ``kept``) what a user can do with it; last in the callbacks, after anything that saves."""

    def __init__(self, label, kept=None):
        super().__init__()
        self.label, self.kept = label, kept

    def on_epoch_end(self, epoch, logs=None):
        note_progress(f"after epoch {epoch + 1} of {self.label}", self.kept)


class StopOnInterrupt(keras.callbacks.Callback):
    """A Ctrl-C that Python swallowed (see ``labs.cli.INTERRUPTED``) stops the training at
    the end of the next batch, as the one it raised would have."""

    def on_train_batch_end(self, batch, logs=None):
        check_interrupted()

    def on_test_batch_end(self, batch, logs=None):
        check_interrupted()


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch (training and validation), for reports and benches,
    and of its training alone (``training_seconds``: less Keras's validation and any
    ``evaluation_seconds`` an earlier callback put in the logs), for time-to-quality."""

    def __init__(self):
        super().__init__()
        self.seconds, self.training_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.started, self.validating = time.perf_counter(), 0.0

    def on_test_begin(self, logs=None):
        self.test_started = time.perf_counter()

    def on_test_end(self, logs=None):
        self.validating += time.perf_counter() - self.test_started

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        evaluating = self.validating + (logs or {}).get("evaluation_seconds", 0.0)
        self.training_seconds.append(self.seconds[-1] - evaluating)
        if logs is not None:  # into the CSV log, which outlives a restart
            logs["seconds"], logs["training_seconds"] = self.seconds[-1], self.training_seconds[-1]


def training_logs(csv_path, tensorboard_dir=None):
    """Keras's own logs of one training: ``CSVLogger`` into ``csv_path`` (each epoch's
    metrics, in the CSV Keras writes, beside the report) and, with ``--tensorboard``, the
    ``TensorBoard`` callback's event files in ``tensorboard_dir`` (``make tensorboard``);
    with them ``StopOnInterrupt``, which every training needs as much."""
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    callbacks = [StopOnInterrupt(),
                 keras.callbacks.CSVLogger(str(csv_path), append=True)]  # a resumed run adds
    if tensorboard_dir is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(tensorboard_dir)))
    return callbacks


def on_devices(command):
    """Wrap a lab's training command so that it builds and fits its models under the
    distribution strategy its ``--distribute`` and ``--cpu-replicas`` options ask for.

    Without ``--distribute`` TensorFlow's default applies: the one GPU when there is one,
    else the CPU. With it, ``MirroredStrategy`` copies the model onto every GPU (or every
    logical CPU device) and splits each batch between them; the labs multiply their batch
    size by the number of replicas (``replicas()``), so each replica sees ``--batch-size``.
    On PyTorch or JAX these options stop in one line (``backends.check_keras_options``) and
    the backend's own device placement applies.
    """
    def run(args):
        backends.check_keras_options(args)
        if args.tensorboard:
            require_tensorboard()
        if not backends.is_tensorflow():
            return command(args)
        with strategy(args.distribute, args.cpu_replicas).scope():
            return command(args)

    return run


def require_tensorboard():
    """Fail before training, not after it: tf.summary cannot write without TensorBoard."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise LabError("--tensorboard needs the TensorBoard package: run `make tensorboard`, or "
                       "pip install -r requirements-tensorboard.txt -c constraints.txt") from None


def strategy(distribute, cpu_replicas=0):
    """The default strategy, or ``MirroredStrategy`` over the GPUs (else logical CPUs)."""
    if cpu_replicas > 1:
        split_cpu(cpu_replicas)
    if not distribute:
        return tf.distribute.get_strategy()
    devices = [device.name for device in tf.config.list_logical_devices("GPU")]
    if len(devices) < 2:
        devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(devices) < 2:
        gpus = len(tf.config.list_physical_devices("GPU"))
        raise LabError(f"--distribute needs several devices and this machine has {gpus} GPU(s); "
                       "add --cpu-replicas 2 to try it on the CPU")
    return tf.distribute.MirroredStrategy(devices)


def split_cpu(count):
    """Show TensorFlow the CPU as ``count`` logical devices: MirroredStrategy on a laptop."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        raise LabError("--cpu-replicas must be set before TensorFlow starts; run the lab in a "
                       "fresh process") from None


def replicas():
    """How many copies of the model each batch is split between (1 without --distribute)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def write_summary(model, path):
    """``model.summary()`` as text, next to the report that describes the model."""
    lines = []
    model.summary(print_fn=lambda text, **options: lines.append(text))
    atomic_write_text(path, "".join(line if line.endswith("\n") else line + "\n"
                                    for line in lines))


def history_lists(history):
    """``History.history`` as plain floats, ready for JSON."""
    return {key: [float(value) for value in values] for key, values in history.history.items()}

