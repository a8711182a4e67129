"""rnn-labs: recurrent networks for NLP, run for real on a laptop CPU."""

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

# When the package was first imported: for a lab started as ``python -m labs.<lab>`` (or by
# make), its command's start, imports included (a results file's wall time counts them).
IMPORTED = time.monotonic()


def _started_as():
    """The module this process was started as (``python -m labs.poetry`` → labs.poetry)."""
    arguments = getattr(sys, "orig_argv", [])
    return next((arguments[number + 1] for number, argument in enumerate(arguments[:-1])
                 if argument == "-m"), None)


def interrupted_while_starting(signum, frame):
    """Ctrl-C before a lab's command has begun (TensorFlow still importing): nothing was
    run or written, so one line and exit status 130 (cli.run_lab takes over from here)."""
    os.write(_STDERR, f"\n{_started_as() or 'rnn-labs'}: interrupted while starting; "
                      f"nothing was run\n".encode())
    os._exit(130)


_STDERR = os.dup(2)  # the terminal's, while quiet_stderr sets file descriptor 2 aside


# Installed before anything heavy is imported, for the labs and benchmarks run as programs.
if ((_started_as() or "").split(".")[0] in ("labs", "bench", "demo")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
    signal.signal(signal.SIGINT, interrupted_while_starting)

# TensorFlow prints CUDA probing and oneDNN notices on every import; a student on a CPU
# laptop needs none of them. Set before any lab imports TensorFlow; an explicit
# setting in the environment wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keras 3 reads KERAS_BACKEND once, at its first import: a name it does not know, or a
# backend whose library is missing, would end in a traceback from inside Keras.
_BACKEND_LIBRARIES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}
_backend = os.environ["KERAS_BACKEND"]
if _backend not in _BACKEND_LIBRARIES:
    raise SystemExit(f"rnn-labs: error: KERAS_BACKEND={_backend} is not a backend the labs run "
                     "on: set it to tensorflow (the default), torch or jax")
if importlib.util.find_spec(_BACKEND_LIBRARIES[_backend]) is None:
    raise SystemExit(f"rnn-labs: error: KERAS_BACKEND={_backend} but {_backend} is not installed "
                     f"in this environment: run the lab through make with BACKEND={_backend} "
                     f"(it installs requirements-{_backend}.txt), or pip install -r "
                     f"requirements-{_backend}.txt -c constraints.txt")

import logging  # noqa: E402

# tf.function retracing notices (ragged batches have varying lengths by design).
logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextmanager
def quiet_stderr():
    """File descriptor 2 set aside while the block runs: what C++ code writes there (absl's
    start-up lines) is dropped, unless the block fails, when it is shown after all."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _WithoutJax(importlib.abc.MetaPathFinder):
    """``import jax`` fails while Keras and TensorFlow import themselves: Keras's Orbax
    callback and TensorFlow's Lite converter import JAX whenever it is installed (``make
    test`` installs it, for the backend tests): a second of every lab's start for code no
    lab uses. Not on the JAX backend, where Keras needs it."""

    def find_spec(self, name, path=None, target=None):
        if name == "jax":
            raise ImportError("JAX is not imported while Keras starts (labs/__init__.py)")
        return None


class _StartUpLoader(importlib.abc.Loader):
    def __init__(self, loader, quiet):
        self.loader, self.quiet = loader, quiet

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        _START_UP.names.discard(module.__name__)
        if not _START_UP.names and _START_UP in sys.meta_path:
            sys.meta_path.remove(_START_UP)
        without_jax = _WithoutJax() if os.environ["KERAS_BACKEND"] != "jax" else None
        if without_jax:
            sys.meta_path.insert(0, without_jax)
        try:
            with quiet_stderr() if self.quiet else contextlib.nullcontext():
                self.loader.exec_module(module)
        finally:
            if without_jax:
                sys.meta_path.remove(without_jax)


class _StartUp(importlib.abc.MetaPathFinder):
    """The first ``import keras`` and ``import tensorflow`` (by a lab, by Keras), wrapped.
    TensorFlow 2.21 writes 5-8 absl/oneDNN/CUDA lines to stderr when it is imported,
    whatever ``TF_CPP_MIN_LOG_LEVEL`` says, burying a lab's one-line errors and its --help:
    its import runs with those lines set aside (``RNN_LABS_TF_LOGS=1`` shows them). Both run
    ``_WithoutJax``. The finder stays until the imports happen: a probe
    (``importlib.util.find_spec``, as PyTorch makes) finds a module without importing it."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _StartUpLoader(spec.loader, name == "tensorflow" and
                                         os.environ.get("RNN_LABS_TF_LOGS") != "1")
        return spec


_START_UP = _StartUp(name for name in ("keras", "tensorflow") if name not in sys.modules)
if _START_UP.names:
    sys.meta_path.insert(0, _START_UP)
