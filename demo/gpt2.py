"""The GPT-2 tab: prompt generation and chat through the lab's ``Generator``.

Only a preset that is on disk is used — the offline copy ``make gpt2`` keeps of
``gpt2_base_en`` (``models/gpt2/presets/``), or a folder given with ``--gpt2-preset`` (for
instance the tiny random test model of ``python -m labs.gpt2 tiny-preset``, labelled as
such): the demo never downloads.
"""

import threading
from dataclasses import replace
from pathlib import Path

from labs import sampling
from labs.cli import LabError
from labs.gpt2 import generate, presets
from labs.gpt2.config import DEFAULT_PRESET, Generation
from demo.inputs import check_text

PROMPT_LIMIT = 2_000
MAX_NEW_TOKENS = 200


class GPT2Model:
    def __init__(self, models_dir, preset=None):
        self.folder = Path(preset) if preset else presets.local_copy(DEFAULT_PRESET, models_dir)
        self.lock = threading.Lock()
        self.loaded = None

    def available(self):
        return (self.folder / "config.json").is_file()

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
            model, _ = presets.load_folder(self.folder)
            self.loaded = generate.Generator(model, settings)
        self.loaded.use(settings)
        return self.loaded

    def settings(self, method, temperature, top_k, top_p, max_new_tokens, no_repeat, seed):
        sampling.check(method, float(temperature), top_k, float(top_p))
        max_new_tokens = int(max_new_tokens)
        if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
            raise LabError(f"new tokens must be 1 to {MAX_NEW_TOKENS}, got {max_new_tokens}")
        return replace(Generation(), method=method, temperature=float(temperature),
                       top_k=int(top_k), top_p=float(top_p), max_new_tokens=max_new_tokens,
                       no_repeat_ngram=int(no_repeat), seed=int(seed))

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
