"""rnn-labs: recurrent networks for NLP, run for real on a laptop CPU."""

import importlib.abc
import importlib.util
import os
import sys
import tempfile
from contextlib import contextmanager

# TensorFlow prints CUDA probing and oneDNN notices on every import; a student on a CPU
# laptop needs none of them. Set before any lab imports TensorFlow; an explicit
# setting in the environment wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

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


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with quiet_stderr():
            self.loader.exec_module(module)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """TensorFlow 2.21 writes 5-8 absl/oneDNN/CUDA lines to stderr when it is imported,
    whatever ``TF_CPP_MIN_LOG_LEVEL`` says, burying a lab's one-line errors and its --help.
    The first ``import tensorflow`` (by a lab, by Keras) runs with those lines set aside."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


if "tensorflow" not in sys.modules and os.environ.get("RNN_LABS_TF_LOGS") != "1":
    sys.meta_path.insert(0, _QuietTensorFlow())
