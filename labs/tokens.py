"""Subword vocabularies: a byte-level BPE learned from a training text.

Byte-level BPE is GPT-2's tokenisation: every text is bytes first, so no character, word or
symbol is ever unknown, and the merges learned from the training text make frequent words
one token and rare ones a few. The word model (``labs.words --tokens subword``) and the
tests' GPT-2 (``labs.gpt2.presets.build_test_preset``) learn theirs here, from their
training text only: GPT-2's own vocabulary comes with its weights' download. The Hugging
Face ``tokenizers`` library learns it (a few seconds for the Nietzsche text); the result is
the ``vocab.json``/``merges.txt`` pair that ``keras_hub``'s ``GPT2Tokenizer`` reads.
"""

import json
import tempfile
from pathlib import Path

from labs.cli import LabError

END_OF_TEXT = "<|endoftext|>"


class SubwordVocabulary:
    """A learned byte-level BPE: ``encode`` text → ids, ``decode`` ids → text (lossless)."""

    def __init__(self, vocabulary, merges):
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        self.vocabulary, self.merges = dict(vocabulary), list(merges)
        pairs = [tuple(merge.split(" ")) for merge in self.merges]
        self.tokenizer = Tokenizer(models.BPE(self.vocabulary, pairs))
        self.tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        self.tokenizer.decoder = decoders.ByteLevel()
        self.words = sorted(self.vocabulary, key=self.vocabulary.get)

    def __len__(self):
        return len(self.vocabulary)

    def encode(self, text):
        return self.tokenizer.encode(text).ids

    def decode(self, ids):
        return self.tokenizer.decode([int(number) for number in ids])

    def to_json(self):
        return {"vocabulary": self.vocabulary, "merges": self.merges}


def learn_bpe(text, size, end_token=False):
    """A byte-level BPE of at most ``size`` tokens (the 256 bytes included) learned from
    ``text``. ``end_token`` appends GPT-2's ``<|endoftext|>`` as the *last* id: keras-hub pads
    with id 0, so an end token at 0 would end every generation at once."""
    from tokenizers import ByteLevelBPETokenizer

    if size < 257:
        raise LabError(f"a byte-level BPE needs more than the 256 byte tokens; got a size of "
                       f"{size}")
    learner = ByteLevelBPETokenizer()
    learner.train_from_iterator([text], vocab_size=size - int(end_token), min_frequency=2,
                                special_tokens=[], show_progress=False)
    with tempfile.TemporaryDirectory() as folder:
        learner.save_model(folder)
        vocabulary = json.loads((Path(folder) / "vocab.json").read_text(encoding="utf-8"))
        merges = [line for line in (Path(folder) / "merges.txt").read_text(
            encoding="utf-8").splitlines() if line and not line.startswith("#version")]
    if end_token:
        vocabulary[END_OF_TEXT] = len(vocabulary)
    return SubwordVocabulary(vocabulary, merges)
