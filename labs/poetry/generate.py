"""Text from a trained character model: the course's window procedure, in NumPy.

As in the course, each new character is predicted from the last ``maxlen`` characters,
starting from a zero state, exactly as the model was trained; the forward pass runs in
NumPy (``models.NumpyCharModel``) and the draw is ``labs.sampling``'s.
"""

import json
from pathlib import Path

import numpy as np

from labs import runs
from labs.cli import LabError
from labs.poetry.data import prepare_seed
from labs.poetry.models import load_model, numpy_twin
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


def generate_stateful(numpy_model, seed_indices, length, sampler, rng, on_index=None):
    """``length`` indices after ``seed_indices``: the state is warmed on the seed once, then
    each new character costs one step of each layer instead of re-reading the window. The
    model was trained on windows of ``maxlen`` characters, so past that context it runs on a
    state it never saw in training: faster, and free to drift."""
    states = numpy_model.initial_states()
    for index in seed_indices:
        probabilities, states = numpy_model.step(index, states)
    generated = []
    for _ in range(length):
        index = sampler.draw(probabilities, rng)
        generated.append(index)
        if on_index is not None:
            on_index(index)
        probabilities, states = numpy_model.step(index, states)
    return generated


GENERATIONS = {"window": generate_indices, "stateful": generate_stateful}


class Generator:
    """A trained model with its vocabulary: NumPy forward pass plus sampling."""

    def __init__(self, model, metadata):
        self.model = model
        self.metadata = metadata
        self.vocabulary = metadata["vocabulary"]
        self.maxlen = metadata["maxlen"]
        self.numpy_model = numpy_twin(model)

    def generate(self, seed_text, length, rng, method="temperature", temperature=1.0,
                 top_k=None, top_p=None, drop_unknown=False, on_text=None, generation="window"):
        """``length`` characters after ``seed_text``; ``on_text`` sees each as it comes.
        ``generation``: ``window`` (the course's re-feed) or ``stateful``."""
        sampler = Sampler(method, temperature, top_k, top_p)
        if generation not in GENERATIONS:
            raise LabError(f"unknown generation {generation!r}; choose from "
                           f"{', '.join(GENERATIONS)}")
        _, seed = prepare_seed(seed_text, self.vocabulary, self.maxlen,
                               self.metadata["lowercase"], drop_unknown)
        callback = None if on_text is None else (lambda index: on_text(self.vocabulary[index]))
        indices = GENERATIONS[generation](self.numpy_model, list(seed), length, sampler, rng,
                                          callback)
        return "".join(self.vocabulary[index] for index in indices)


METADATA_KEYS = ("corpus", "vocabulary", "maxlen", "lowercase")


def model_paths(folder):
    return Path(folder) / "model.keras", Path(folder) / "model.json"


def read_metadata(path, target):
    """A model's JSON, with every key generation needs."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LabError(f"{path} is not valid JSON ({type(error).__name__}); retrain the model "
                       f"with `{target}`") from None
    metadata = metadata if isinstance(metadata, dict) else {}
    missing = [key for key in METADATA_KEYS if key not in metadata]
    if missing:
        raise LabError(f"{path} lacks {', '.join(missing)}; retrain the model with `{target}`")
    return metadata


def load_generator(corpus, models_dir, run_id=None):
    """The saved model of ``corpus`` (last full run, or ``run_id``) as a ``Generator``."""
    target = ("make poetry" if corpus in ("leopardi", "nietzsche")
              else f"python -m labs.poetry train --corpus {corpus}")
    folder, run_id, _ = runs.find(f"poetry/{corpus}", models_dir, run_id, target)
    model_path, metadata_path = model_paths(folder)
    if not model_path.is_file() or not metadata_path.is_file():
        raise LabError(f"run {run_id} has no {model_path.name} with {metadata_path.name} in "
                       f"{folder}; train again with `{target}`")
    metadata = read_metadata(metadata_path, target)
    try:
        model = load_model(model_path)
    except Exception as error:  # noqa: BLE001  (a damaged file: Keras raises many kinds)
        raise LabError(f"cannot load {model_path}: the file is damaged or not a Keras model "
                       f"({type(error).__name__}); retrain it with `{target}`") from None
    if model.output_shape[-1] != len(metadata["vocabulary"]) or \
            model.input_shape[1] not in (metadata["maxlen"], None):  # None: every-step
        raise LabError(f"{metadata_path} does not match {model_path.name} (vocabulary "
                       f"{len(metadata['vocabulary'])} vs {model.output_shape[-1]} outputs, maxlen "
                       f"{metadata['maxlen']} vs {model.input_shape[1]}); retrain it with "
                       f"`{target}`")
    return Generator(model, metadata)
