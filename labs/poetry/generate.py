"""Text from a trained character model: the course's window procedure, in NumPy.

As in the course, each new character is predicted from the last ``maxlen`` characters,
starting from a zero state, exactly as the model was trained; the forward pass runs in
NumPy (``models.NumpyCharModel``) and the draw is ``labs.sampling``'s.
"""

import json
from pathlib import Path

import numpy as np

from labs.cli import LabError
from labs.poetry.data import prepare_seed
from labs.poetry.models import NumpyCharModel, load_model
from labs.sampling import Sampler


def generate_indices(numpy_model, seed_indices, length, sampler, rng, on_index=None):
    """``length`` indices after ``seed_indices`` (a full window), re-feeding the window."""
    window = list(seed_indices)
    generated = []
    for _ in range(length):
        probabilities = numpy_model.probabilities(np.array([window]))[0]
        index = sampler.draw(probabilities, rng)
        generated.append(index)
        window = window[1:] + [index]
        if on_index is not None:
            on_index(index)
    return generated


class Generator:
    """A trained model with its vocabulary: NumPy forward pass plus sampling."""

    def __init__(self, model, metadata):
        self.model = model
        self.metadata = metadata
        self.vocabulary = metadata["vocabulary"]
        self.maxlen = metadata["maxlen"]
        self.numpy_model = NumpyCharModel(model)

    def generate(self, seed_text, length, rng, method="temperature", temperature=1.0,
                 top_k=None, top_p=None, drop_unknown=False, on_text=None):
        """``length`` characters after ``seed_text``; ``on_text`` sees each as it comes."""
        sampler = Sampler(method, temperature, top_k, top_p)
        _, seed = prepare_seed(seed_text, self.vocabulary, self.maxlen,
                               self.metadata["lowercase"], drop_unknown)
        callback = None if on_text is None else (lambda index: on_text(self.vocabulary[index]))
        indices = generate_indices(self.numpy_model, seed, length, sampler, rng, callback)
        return "".join(self.vocabulary[index] for index in indices)


def model_paths(corpus, models_dir):
    stem = Path(models_dir) / f"poetry_{corpus}"
    return stem.with_suffix(".keras"), stem.with_suffix(".json")


def load_generator(corpus, models_dir):
    """The saved model of ``corpus`` as a ``Generator``, with one-line errors."""
    model_path, metadata_path = model_paths(corpus, models_dir)
    target = ("make poetry" if corpus in ("leopardi", "nietzsche")
              else f"python -m labs.poetry train --corpus {corpus}")
    if not model_path.is_file() or not metadata_path.is_file():
        raise LabError(f"no trained model {model_path} (with {metadata_path.name}); "
                       f"train it with `{target}`")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    try:
        model = load_model(model_path)
    except Exception as error:  # noqa: BLE001  (a damaged file: Keras raises many kinds)
        raise LabError(f"cannot load {model_path} ({type(error).__name__}); retrain it with "
                       f"`{target}`") from None
    if model.output_shape[-1] != len(metadata["vocabulary"]) or \
            model.input_shape[1] != metadata["maxlen"]:
        raise LabError(f"{model_path} does not match {metadata_path.name} (vocabulary or "
                       f"maxlen differ); retrain it with `{target}`")
    return Generator(model, metadata)
