"""Which of Keras 3's backends a lab runs on: TensorFlow (the default), PyTorch or JAX.

Keras reads ``KERAS_BACKEND`` once, when it is first imported (``labs/__init__`` makes
TensorFlow the default; ``make ... BACKEND=torch`` sets it). The same model code then runs
on the chosen backend. What stays TensorFlow on every backend is the input pipeline:
Keras 3 feeds a ``tf.data.Dataset`` to any backend, so the labs' batches are the same
batches everywhere. What needs TensorFlow itself (ragged tensors, ``tf.strings``,
``tf.distribute``, TensorBoard's writer) is refused in one line by ``require_tensorflow``,
before any training, with what to use instead.
"""

import keras

from labs.cli import LabError

NAMES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX"}
REQUIREMENTS = {"torch": "requirements-torch.txt", "jax": "requirements-jax.txt"}


def name():
    """The backend Keras runs on: "tensorflow", "torch" or "jax"."""
    return keras.backend.backend()


def is_tensorflow():
    return name() == "tensorflow"


def version():
    """The version of the backend's own library."""
    if name() == "torch":
        import torch

        return torch.__version__
    if name() == "jax":
        import jax

        return jax.__version__
    import tensorflow as tf

    return tf.__version__


def describe():
    """"TensorFlow 2.21.0", "PyTorch 2.13.0+cpu", "JAX 0.10.2": for reports and run.json."""
    return f"{NAMES.get(name(), name())} {version()}"


def gpu():
    """The GPU a PyTorch or JAX backend trains on (its first), or None on the CPU."""
    if name() == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if name() == "jax":
        import jax

        device = jax.devices()[0]
        return None if device.platform == "cpu" else device.device_kind
    return None


def require_tensorflow(what, instead):
    """Stop before any work when ``what`` (an option, a model) needs TensorFlow itself."""
    if not is_tensorflow():
        raise LabError(f"{what}: only on the TensorFlow backend, and KERAS_BACKEND is "
                       f"{name()}; {instead}, or run with KERAS_BACKEND=tensorflow (the default)")


def check_keras_options(args):
    """The options of ``labs.cli.add_keras_options`` that only TensorFlow has."""
    if getattr(args, "distribute", False):
        require_tensorflow("--distribute (tf.distribute.MirroredStrategy)",
                           "leave --distribute out (one device trains)")
    if getattr(args, "cpu_replicas", 0):
        require_tensorflow("--cpu-replicas (TensorFlow's logical devices)",
                           "leave --cpu-replicas out")
    if getattr(args, "tensorboard", False):
        require_tensorflow("--tensorboard (TensorBoard's tf.summary writer)",
                           "leave --tensorboard out; training_log.csv has every epoch")


def deterministic():
    """Ops that give the same result on every run, as far as the backend offers it:
    TensorFlow's op determinism, PyTorch's deterministic algorithms (JAX on the CPU is
    deterministic as it is)."""
    if name() == "torch":
        import torch

        torch.use_deterministic_algorithms(True)
    elif is_tensorflow():
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def compiled(function, model):
    """``function`` (tensors in, tensors out, no training, reading ``model``'s weights)
    compiled the backend's way: a ``tf.function`` on TensorFlow, ``jax.jit`` on JAX, and on
    PyTorch run eagerly without recording gradients (``torch.compile`` costs more than it
    saves on a run this short). Under ``jax.jit`` the weights are passed in on every call:
    a jitted function would otherwise keep the values it was traced with, and score a model
    after fine-tuning with the weights it had before."""
    if name() == "jax":
        import jax

        def pure(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(model.variables, values))):
                return function(*args)

        jitted = jax.jit(pure)
        return lambda *args: jitted([variable.value for variable in model.variables], *args)
    if name() == "torch":
        import torch

        def without_gradients(*args):
            with torch.no_grad():
                return function(*args)

        return without_gradients
    import tensorflow as tf

    return tf.function(function, reduce_retracing=True)
