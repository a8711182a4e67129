"""A trained model on disk, saved and loaded in one place for every lab.

    <folder>/<name>.keras   the weights and the architecture (Keras's own format)
    <folder>/<name>.json    what the lab needs besides them (vocabulary, threshold, ...)
    <folder>/<name>.joblib  a fitted scikit-learn model instead of a Keras one (baselines)

Both are written atomically (``labs.reports.atomic_path``): a run killed while saving leaves
the previous pair, never half of one. Loading turns every way a file can be damaged into
one ``LabError`` that says which file and how to make it again. The labs' custom layers are
registered with Keras (``register_keras_serializable``), so loading needs no list of them:
importing the lab's ``models`` module is enough.
"""

import json
from pathlib import Path

import joblib
import keras

from labs.cli import LabError
from labs.reports import atomic_path, atomic_write_json


def model_paths(folder, name="model"):
    """``(<folder>/<name>.keras, <folder>/<name>.json)``."""
    return Path(folder) / f"{name}.keras", Path(folder) / f"{name}.json"


def save_model(model, metadata, model_path):
    """The model and, beside it with the suffix ``.json``, its metadata."""
    model_path = Path(model_path)
    with atomic_path(model_path) as temporary:
        model.save(temporary)
    atomic_write_json(model_path.with_suffix(".json"), metadata)


def read_metadata(path, required, retrain):
    """A model's JSON, with every key in ``required``; ``retrain``: the command that makes
    it again, for the error line."""
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LabError(f"{path} is not valid JSON ({type(error).__name__}); retrain the model "
                       f"with `{retrain}`") from None
    metadata = metadata if isinstance(metadata, dict) else {}
    missing = [key for key in required if key not in metadata]
    if missing:
        raise LabError(f"{path} lacks {', '.join(missing)}; retrain the model with `{retrain}`")
    return metadata


def load_model(path, retrain):
    """A saved Keras model; a damaged file is one line naming it.

    A model saved under TensorFlow on a CPU carries ``jit_compile=False`` (TensorFlow's
    choice there); loaded under JAX that would mean running eagerly, about five times
    slower, so it gets JAX's own default, compiled, as a model built under JAX has."""
    try:
        model = keras.models.load_model(path)
    except Exception as error:  # noqa: BLE001  (a damaged file: Keras raises many kinds)
        raise LabError(f"cannot load {path}: the file is damaged or not a Keras model "
                       f"({type(error).__name__}); retrain it with `{retrain}`") from None
    if keras.backend.backend() == "jax" and getattr(model, "compiled", False):
        model.jit_compile = True
    return model


def save_fitted(fitted, metadata, path):
    """A fitted scikit-learn object (joblib: a pickle, so load only runs you made yourself)
    and its metadata beside it."""
    path = Path(path)
    with atomic_path(path) as temporary:
        joblib.dump(fitted, temporary)
    atomic_write_json(path.with_suffix(".json"), metadata)


def load_fitted(path, retrain):
    try:
        return joblib.load(path)
    except Exception as error:  # noqa: BLE001  (a damaged pickle raises many kinds)
        raise LabError(f"cannot load {path}: the file is damaged ({type(error).__name__}); "
                       f"retrain it with `{retrain}`") from None
