"""Text from a trained character model: the course's window procedure, in NumPy.

As in the course, each new character is predicted from the last ``maxlen`` characters,
starting from a zero state, exactly as the model was trained; the forward pass runs in
NumPy (``models.NumpyCharModel``) and the draw is ``labs.sampling``'s. ``generate_command``
is ``python -m labs.poetry generate``: a saved model, without retraining.
"""

import sys
import time
from functools import partial

import numpy as np

from labs import runs, sampling, saving
from labs.cli import LabError, note_progress
from labs.data import split_holdout
from labs.poetry import data
from labs.poetry.data import prepare_seed
from labs.poetry.models import numpy_twin
from labs.poetry.report import TOP_K, TOP_P


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
        sampler = sampling.Sampler(method, temperature, top_k, top_p)
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


def load_generator(corpus, models_dir, run_id=None):
    """The saved model of ``corpus`` (last full run, or ``run_id``) as a ``Generator``."""
    target = ("make poetry" if corpus in ("leopardi", "nietzsche")
              else f"python -m labs.poetry train --corpus {corpus}")
    folder, run_id, _ = runs.find(f"poetry/{corpus}", models_dir, run_id, target)
    model_path, metadata_path = saving.model_paths(folder)
    if not model_path.is_file() or not metadata_path.is_file():
        raise LabError(f"run {run_id} has no {model_path.name} with {metadata_path.name} in "
                       f"{folder}; train again with `{target}`")
    metadata = saving.read_metadata(metadata_path, METADATA_KEYS, target)
    model = saving.load_model(model_path, target)
    if model.output_shape[-1] != len(metadata["vocabulary"]) or \
            model.input_shape[1] not in (metadata["maxlen"], None):  # None: every-step
        raise LabError(f"{metadata_path} does not match {model_path.name} (vocabulary "
                       f"{len(metadata['vocabulary'])} vs {model.output_shape[-1]} outputs, maxlen "
                       f"{metadata['maxlen']} vs {model.input_shape[1]}); retrain it with "
                       f"`{target}`")
    return Generator(model, metadata)


# ---------------------------------------------------------------- python -m labs.poetry generate
def generate_command(args):
    """Saved model → seed text → one sample per temperature, streamed, with its speed."""
    top_k, top_p = sampling_parameters(args)
    generator = load_generator(args.corpus, args.models_dir, args.run)
    temperatures = args.temperature or [1.0]
    for temperature in temperatures:
        sampling.check(args.method, temperature, top_k, top_p)
    write = partial(generator.generate, method=args.method, top_k=top_k, top_p=top_p,
                    drop_unknown=args.drop_unknown, generation=args.generation, on_text=stream)
    rng = np.random.RandomState(args.random_seed)
    note_progress("", kept="the text so far is above")
    if args.interactive:
        return interactive(write, generator.metadata["corpus"], args.length, rng,
                           temperatures[0])
    seed_text = args.seed_text
    if seed_text is None:
        seed_text = data.random_window(training_text(generator.metadata, args.datasets_dir),
                                       generator.maxlen, rng)
    # A seed the model cannot read is refused before anything is printed.
    prepare_seed(seed_text, generator.vocabulary, generator.maxlen,
                 generator.metadata["lowercase"], args.drop_unknown)
    outputs = []
    for temperature in temperatures:
        label = args.method if args.method != "temperature" else f"temperature {temperature}"
        print(f"--- {label}, seed: {seed_text!r}", file=sys.stderr)
        sys.stdout.write(seed_text)
        started = time.perf_counter()
        text = write(seed_text, args.length, rng, temperature=temperature)
        seconds = time.perf_counter() - started
        sys.stdout.write("\n")
        print(f"--- {len(text)} characters in {seconds:.2f} s ({len(text) / seconds:,.0f} "
              "characters/s)", file=sys.stderr)
        outputs.append(text)
    return outputs


def sampling_parameters(args):
    """``--top-k`` and ``--top-p`` (the report's values by default) belong to their method:
    given with another, they would be ignored, so they are refused."""
    for option, value, method in (("--top-k", args.top_k, "top-k"),
                                  ("--top-p", args.top_p, "top-p")):
        if value is not None and args.method != method:
            raise LabError(f"{option} applies to --method {method}, not --method "
                           f"{args.method}; add --method {method} or drop {option}")
    return (TOP_K if args.top_k is None else args.top_k,
            TOP_P if args.top_p is None else args.top_p)


def training_text(metadata, datasets_dir):
    """The text the model was trained on (the corpus as its run read it, less the held-out
    10%): random seeds come from there, so every seed character is in the vocabulary."""
    texts = data.load_corpus(metadata["corpus"], datasets_dir, metadata["lowercase"],
                             metadata.get("characters"), log=lambda message: None)
    return "".join(split_holdout(text)[0] for text in texts)


def stream(character):
    sys.stdout.write(character)
    sys.stdout.flush()


def interactive(write, corpus, length, rng, temperature):
    """Type a beginning, watch the continuation stream out; empty line or Ctrl-D exits.
    ``write``: ``Generator.generate`` with the command's sampling options."""
    print(f"Type the beginning of a text ({corpus} model); "
          "an empty line or Ctrl-D quits.", file=sys.stderr)
    while True:
        try:
            seed_text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return
        if not seed_text.strip():
            return
        sys.stdout.write(seed_text)
        try:
            write(seed_text, length, rng, temperature=temperature)
        except LabError as error:
            print(f"\nlabs.poetry: {error}", file=sys.stderr)
            continue
        sys.stdout.write("\n")
