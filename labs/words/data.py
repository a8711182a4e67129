"""The text as tokens: words and punctuation (rare words ``<unk>``) or a learned BPE, the
windows a model learns from, and the unigram model every language model has to beat."""

import collections
import math
import re

import numpy as np

from labs.cli import LabError
from labs.poetry.data import VALIDATION_PART
from labs.tokens import learn_bpe
from labs.words.config import MIN_COUNT, VOCABULARY_SIZE, WINDOW, WINDOWS

UNKNOWN = "<unk>"
TOKEN = re.compile(r"\w+(?:'\w+)*'?|[^\w\s]")


def tokenize(text):
    """Lowercased words and punctuation marks, in order."""
    return TOKEN.findall(text.lower())


def detokenize(tokens):
    text = " ".join(tokens)
    return re.sub(r" ([.,;:!?)\]])", r"\1", text)


MIN_WORDS = 2  # words a vocabulary keeps besides <unk>: generation draws among them


class Vocabulary:
    """Tokens seen at least ``min_count`` times, most frequent first; index 0 is ``<unk>``."""

    unknown = 0  # the id generation never draws

    def __init__(self, tokens, min_count=MIN_COUNT):
        if min_count < 1:
            raise LabError(f"--min-count must be at least 1, got {min_count}")
        counts = collections.Counter(tokens)
        kept = sorted((token for token, count in counts.items() if count >= min_count),
                      key=lambda token: (-counts[token], token))
        self.words = [UNKNOWN, *kept]
        self.index = {word: number for number, word in enumerate(self.words)}
        self.min_count, self.counts = min_count, counts

    def check_kept(self):
        """Refuse, before training, a ``--min-count`` that keeps (almost) no word: every
        other would be ``<unk>``, which generation never draws."""
        if len(self.words) - 1 < MIN_WORDS:
            most = self.counts.most_common(MIN_WORDS)
            seen = most[-1][1] if len(most) == MIN_WORDS else 0
            raise LabError(f"--min-count {self.min_count} keeps {len(self.words) - 1} word(s) "
                           f"of the training text (the second most frequent is seen {seen:,} "
                           f"times): every other would be <unk>, and generation draws no "
                           f"<unk>; give a smaller --min-count")

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        return np.array([self.index.get(token, 0) for token in tokens], dtype=np.int32)

    def unknown_in(self, tokens):
        return [token for token in tokens if token not in self.index]


class Tokenization:
    """One way to cut the text into ids: ``encode`` a text, ``decode`` ids, and how many
    characters the first ``window`` ids of a text take (they are context, never scored)."""

    def __init__(self, kind, fit_text, min_count=MIN_COUNT, size=VOCABULARY_SIZE):
        self.kind, self.min_count = kind, min_count
        if kind == "words":
            self.fit_tokens = tokenize(fit_text)
            self.vocabulary = Vocabulary(self.fit_tokens, min_count)
            self.spelling = SpellingCost(self.fit_tokens)
        else:
            self.vocabulary = learn_bpe(fit_text, size)
        self.window = WINDOWS[kind]

    def __len__(self):
        return len(self.vocabulary)

    @property
    def unknown(self):
        return self.vocabulary.unknown if self.kind == "words" else None

    def encode(self, text):
        if self.kind == "words":
            return self.vocabulary.encode(tokenize(text))
        return np.array(self.vocabulary.encode(text), np.int32)

    def decode(self, ids):
        if self.kind == "words":
            return detokenize([self.vocabulary.words[index] for index in ids])
        return self.vocabulary.decode(ids)

    def context_characters(self, text):
        """Characters of ``text`` that its first ``window`` tokens cover."""
        if self.kind == "words":
            spans = [match.end() for match in TOKEN.finditer(text.lower())]
            return spans[self.window - 1] if len(spans) >= self.window else len(text)
        return len(self.vocabulary.decode(self.vocabulary.encode(text)[:self.window]))

    def extra_nats(self, text, targets):
        """What the model's probabilities leave out: for words, each ``<unk>`` target stands
        for a whole rare word, so the cost of spelling that word is added."""
        if self.kind != "words":
            return 0.0
        tokens = tokenize(text)[self.window:]
        return sum(self.spelling(token) for token, target in zip(tokens, targets) if target == 0)

    def describe(self):
        if self.kind == "words":
            return (f"lowercased words and punctuation, vocabulary {len(self):,} with `<unk>` "
                    f"(min count {self.min_count})")
        return (f"a byte-level BPE of {len(self):,} tokens learned from the first 85% (nothing "
                "is unknown)")


class SpellingCost:
    """Nats to spell a word letter by letter with the training words' character frequencies
    (add-one smoothed, an end-of-word mark, one slot for unseen characters): the price of an
    ``<unk>`` in bits per character, so a word model is not credited for the letters it never
    predicts."""

    def __init__(self, tokens):
        self.counts = collections.Counter(character for token in tokens for character in token)
        self.ends = len(tokens)
        self.total = sum(self.counts.values()) + self.ends + len(self.counts) + 2

    def __call__(self, word):
        nats = -math.log((self.ends + 1) / self.total)
        return nats - sum(math.log((self.counts.get(character, 0) + 1) / self.total)
                          for character in word)


def check_token_count(count, path, window=WINDOW):
    """Refuse, before any training, a text too short for one window in its validation part."""
    needed = int((window + 1) / VALIDATION_PART) + 1
    if count < needed:
        raise LabError(f"{path} has {count:,} tokens; its validation part "
                       f"({VALIDATION_PART:.0%}, before the held-out 10%) must hold a window of "
                       f"{window + 1}, so at least {needed:,} are needed: use a longer text")


def windows(encoded, window=WINDOW):
    """Every ``window`` consecutive tokens → the token after them (step 1)."""
    if len(encoded) <= window:
        raise LabError(f"need more than {window} tokens, got {len(encoded)}")
    starts = np.arange(len(encoded) - window)
    return encoded[starts[:, None] + np.arange(window)], encoded[starts + window]


def unigram_probabilities(encoded, vocabulary_size):
    """Token frequencies of the training text, add-one smoothed so none is zero."""
    counts = np.bincount(encoded, minlength=vocabulary_size) + 1.0
    return counts / counts.sum()
