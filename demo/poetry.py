"""The poetry tab: a published character model writes as you watch.

Generation is the lab's own (``labs.poetry.generate.Generator``), stateful as ``make
poetry`` samples: the state is warmed on the seed once and each new character costs one
step. With the same seed text, sampler and random seed, the page writes what ``python -m
labs.poetry generate --generation stateful`` prints.
"""

import json
import threading
import time
from pathlib import Path

import numpy as np

from labs import runs, sampling
from labs.cli import LabError
from labs.poetry import generate
from demo.inputs import SEED_RANGE, check_text, number

CORPORA = ("leopardi", "nietzsche")
SEED_LIMIT = 1_000  # characters of seed text: the model reads its last 40 to 100
MAX_LENGTH = 2_000
UPDATE_EVERY = 0.1  # seconds between two updates of the page's text


class PoetryModels:
    """Every saved run of each corpus, loaded once when first asked for."""

    def __init__(self, models_dir):
        self.models_dir = Path(models_dir)
        self.loaded = {}
        self.lock = threading.Lock()

    def choices(self, corpus):
        """``[(label, run id)]`` of the runs with a saved model, the published one first;
        ``LabError`` naming the command that trains one when there is none."""
        root = self.models_dir / "poetry" / corpus
        published, _, _ = runs.latest(root, f"make poetry (trains {corpus})")
        choices = []
        for folder in sorted((root / "runs").iterdir(), reverse=True):
            if not (folder / "model.keras").is_file():
                continue
            try:
                metadata = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            label = describe(folder.name, metadata)
            if folder == published:
                label += " — published"
                choices.insert(0, (label, folder.name))
            else:
                choices.append((label, folder.name))
        return choices

    def generator(self, corpus, run_id):
        with self.lock:
            key = (corpus, run_id)
            if key not in self.loaded:
                self.loaded[key] = generate.load_generator(corpus, self.models_dir, run_id)
        return self.loaded[key]

    def write(self, corpus, run_id, seed_text, method, parameter, length, random_seed):
        """Yield ``(text so far, status line)`` as the model writes (for streaming). Every
        box is checked here, on the server, in the page's words: the page's own limits can
        be typed past."""
        if corpus not in CORPORA:
            raise LabError(f"unknown corpus {corpus!r}; choose from {', '.join(CORPORA)}")
        seed_text = check_text(seed_text, "the seed text", SEED_LIMIT)
        length = number(length, "characters", 1, MAX_LENGTH, whole=True)
        random_seed = number(random_seed, "random seed", *SEED_RANGE, whole=True)
        generator = self.generator(corpus, run_id)
        temperature, top_k, top_p = sampler_options(method, parameter,
                                                    len(generator.vocabulary))
        sampling.check(method, temperature, top_k, top_p)
        lowered = seed_text.lower() if generator.metadata["lowercase"] else seed_text
        unknown = sorted(set(lowered) - set(generator.vocabulary))
        if unknown:
            raise LabError(f"the seed text has characters this model never saw: "
                           f"{' '.join(repr(character) for character in unknown[:10])}; "
                           f"remove them")
        written = []

        def on_text(character):
            written.append(character)

        # The lab's generator calls back per character; the page is refreshed from a thread
        # that reads what has been written so far.
        rng = np.random.RandomState(random_seed)
        done = threading.Event()
        outcome = {}

        def run():
            try:
                started = time.perf_counter()
                outcome["text"] = generator.generate(
                    seed_text, length, rng, method=method, temperature=temperature, top_k=top_k,
                    top_p=top_p, drop_unknown=False, on_text=on_text, generation="stateful")
                outcome["seconds"] = time.perf_counter() - started
            except Exception as error:  # noqa: BLE001  (shown in the page)
                outcome["error"] = error
            finally:
                done.set()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        while not done.wait(UPDATE_EVERY):
            yield seed_text + "".join(written), f"writing… {len(written):,} of {length:,}"
        if "error" in outcome:
            raise outcome["error"]
        speed = len(outcome["text"]) / max(outcome["seconds"], 1e-9)
        yield (seed_text + outcome["text"],
               f"{len(outcome['text']):,} characters in {outcome['seconds']:.2f} s "
               f"({speed:,.0f} characters/s), {label(method, parameter)}, stateful")


def describe(run_id, metadata):
    what = (f"{metadata.get('cell', '?')} {metadata.get('units', '?')}, "
            f"{metadata.get('objective', 'next-char')}")
    quick = " — QUICK run (a smoke test, not a trained model)" if metadata.get("quick") else ""
    return f"{run_id} ({what}){quick}"


def sampler_options(method, parameter, vocabulary_size):
    """``(temperature, top_k, top_p)`` from the page's one parameter box, checked for the
    sampler chosen (greedy reads none: the box may be empty)."""
    what = "its parameter"
    if method == "temperature":
        return number(parameter, f"{what} (the temperature)", 0.01, 100), None, None
    if method == "top-k":
        return 1.0, number(parameter, f"{what} (k)", 1, vocabulary_size, whole=True), None
    if method == "top-p":
        return 1.0, None, number(parameter, f"{what} (p)", 0.01, 1)
    if method == "greedy":
        return 1.0, None, None
    raise LabError(f"unknown sampler {method!r}; choose from {', '.join(sampling.METHODS)}")


def label(method, parameter):
    return {"temperature": f"temperature {parameter}", "top-k": f"top-k {parameter}",
            "top-p": f"top-p {parameter}"}.get(method, method)
