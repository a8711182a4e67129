"""The GPT-2 tab: prompt generation and chat through the lab's ``Generator``.

Only a preset that is on disk is used — the offline copy ``make gpt2`` keeps of
``gpt2_base_en`` (``models/gpt2/presets/``), or a folder given with ``--gpt2-preset`` (for
instance the tiny random test model of ``python -m labs.gpt2 tiny-preset``, labelled as
such): the demo never downloads.
"""

import json
import threading
from dataclasses import replace
from pathlib import Path

from labs import sampling
from labs.cli import LabError
from labs.gpt2 import generate, presets
from labs.gpt2.config import DEFAULT_PRESET, Generation
from demo.inputs import SEED_RANGE, check_text, number, preset_problem

PROMPT_LIMIT = 2_000
MAX_NEW_TOKENS = 200
NO_REPEAT_LIMIT = 20


class GPT2Model:
    def __init__(self, models_dir, preset=None):
        self.folder = Path(preset) if preset else presets.local_copy(DEFAULT_PRESET, models_dir)
        self.lock = threading.Lock()
        self.loaded = None

    def available(self):
        return (self.folder / "config.json").is_file()

    def problem(self):
        """Why the folder cannot be this tab's model, in the page's words, or None."""
        return preset_problem(self.folder)

    def config(self):
        return json.loads((self.folder / "config.json").read_text(encoding="utf-8"))

    def shape(self):
        """(context, vocabulary) of the preset, from its config.json (no model loaded)."""
        config = self.config()["config"]
        return int(config["max_sequence_length"]), int(config["vocabulary_size"])

    def max_new_tokens(self):
        """The new-tokens slider's end: the model's context leaves room for a prompt."""
        return max(1, min(MAX_NEW_TOKENS, self.shape()[0] // 2))

    def is_test(self):
        return (self.folder / presets.TEST_MARKER).is_file()

    def describe(self):
        if not self.available():
            return (f"No GPT-2 preset on disk ({self.folder}). Run `make gpt2` once with a "
                    f"connection (it keeps a copy of {DEFAULT_PRESET} there), or build the tiny "
                    "test model with `python -m labs.gpt2 tiny-preset FOLDER` and start the demo "
                    "with `make demo ARGS=\"--gpt2-preset FOLDER\"`.")
        if self.is_test():
            return (f"**A RANDOM TEST MODEL** ({self.folder}): a tiny GPT-2 trained for seconds "
                    "to test the code, not a language model — its text means nothing.")
        return f"GPT-2 from {self.folder}."

    def generator_locked(self, settings):
        """The loaded model's generator set to ``settings`` (the caller holds the lock)."""
        if self.loaded is None:
            if not self.available():
                raise LabError(self.describe())
            model, _ = presets.load_folder(self.folder, f"the GPT-2 preset {self.folder}")
            self.loaded = generate.Generator(model, settings)
        self.loaded.use(settings)
        return self.loaded

    def settings(self, method, temperature, top_k, top_p, max_new_tokens, no_repeat, seed):
        """The boxes as the lab's ``Generation``, each checked on the server in the page's
        words; a sampler's box that the chosen sampler does not read may be empty."""
        defaults = Generation()
        if method not in ("greedy", "temperature", "top-k", "top-p"):
            raise LabError(f"unknown sampler {method!r}; choose greedy, temperature, top-k or "
                           f"top-p")
        context, vocabulary = self.shape()
        temperature = (number(temperature, "temperature", 0.01, 100)
                       if method == "temperature" else defaults.temperature)
        top_k = (number(top_k, "top-k", 1, vocabulary, whole=True) if method == "top-k"
                 else defaults.top_k)
        top_p = number(top_p, "top-p", 0.01, 1) if method == "top-p" else defaults.top_p
        sampling.check(method, temperature, top_k, top_p)
        return replace(defaults, method=method, temperature=temperature, top_k=top_k,
                       top_p=top_p,
                       max_new_tokens=number(max_new_tokens, "new tokens", 1,
                                             self.max_new_tokens(), whole=True),
                       no_repeat_ngram=number(no_repeat, "no repeated n-gram", 0,
                                              NO_REPEAT_LIMIT, whole=True),
                       seed=number(seed, "random seed", *SEED_RANGE, whole=True))

    def complete(self, prompt, settings):
        prompt = check_text(prompt, "the prompt", PROMPT_LIMIT)
        with self.lock:  # one model: its sampler is set per request
            generator = self.generator_locked(settings)
            texts, speed = generator.generate(prompt, 1)
        return prompt + texts[0], f"{speed:.1f} new tokens/s, {settings.method}"

    def reply(self, history, line, settings):
        """The chat's next turn: the whole conversation so far is the prompt, written as
        ``python -m labs.gpt2 chat`` writes it."""
        line = check_text(line, "your message", PROMPT_LIMIT)
        with self.lock:
            conversation = generate.Conversation(self.generator_locked(settings))
            for turn in history:
                speaker = conversation.you if turn["role"] == "user" else conversation.bot
                conversation.history += f"{speaker}: {content(turn).strip()}\n"
            answer = conversation.reply(line)
        return history + [{"role": "user", "content": line},
                          {"role": "assistant", "content": answer}]


def content(turn):
    """A chat turn's text (Gradio may hand it back as a list of parts)."""
    value = turn["content"]
    if isinstance(value, list):
        return " ".join(part.get("text", "") if isinstance(part, dict) else str(part)
                        for part in value)
    return str(value)
