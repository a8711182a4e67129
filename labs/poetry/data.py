"""Corpora, vocabulary and windows: text in, uint8 index windows out."""

from dataclasses import dataclass

import numpy as np

from labs import data
from labs.cli import LabError

# Course settings per corpus: Leopardi as in the course (case kept, maxlen 40, step 1),
# Nietzsche as in the Keras example (lowercased, maxlen 60, step 3).
CORPORA = {
    "leopardi": {"files": ("leopardi.txt",), "lowercase": False, "maxlen": 40, "step": 1,
                 "epochs": 20},
    "nietzsche": {"files": ("nietzsche.txt",), "lowercase": True, "maxlen": 60, "step": 3,
                  "epochs": 12},  # ~60 s an epoch here: 12 keep `make poetry` near 20 minutes
    "leopardi+nietzsche": {"files": ("leopardi.txt", "nietzsche.txt"), "lowercase": True,
                           "maxlen": 40, "step": 3, "epochs": 12},
}


def load_corpus(name, datasets_dir=data.DATASETS_DIR, lowercase=None, characters=None,
                log=print):
    """The texts of a corpus (one per file), lowercased if the corpus settings say so, and
    cut to their first ``characters`` (quick runs)."""
    if name not in CORPORA:
        raise LabError(f"unknown corpus {name!r}; choose from {', '.join(CORPORA)}")
    lowercase = CORPORA[name]["lowercase"] if lowercase is None else lowercase
    texts = []
    for file in CORPORA[name]["files"]:
        text = data.load_text(data.locate(file, datasets_dir, log=log))
        texts.append((text.lower() if lowercase else text)[:characters])
    return texts


VALIDATION_PART = 0.05  # of each text, just before its held-out 10%


@dataclass(frozen=True)
class Corpus:
    """A corpus as a run reads it, each text cut in three contiguous parts:

        fit_texts         the first 85%      what every-step and transformer runs learn from
        validation_texts  the next 5%        what they choose their epoch on (early stopping)
        held_out_texts    the last 10%       what every run is scored on, choosing nothing

    The course's next-char model keeps the course's procedure: it learns from
    ``train_texts`` (fit and validation, the first 90%) and its epoch is chosen on the
    held-out text, as the course's ``validation_data`` does."""
    name: str
    files: tuple
    fit_texts: list
    validation_texts: list
    held_out_texts: list
    vocabulary: list

    @property
    def train_texts(self):
        return [fit + validation for fit, validation in zip(self.fit_texts,
                                                            self.validation_texts)]

    @property
    def characters(self):
        return sum(len(text) for text in (*self.train_texts, *self.held_out_texts))

    @property
    def held_out_text(self):
        return "".join(self.held_out_texts)


def split_text(text):
    """(fit, validation, held out): the first 85%, the next 5%, the last 10%."""
    training, held_out = data.split_holdout(text)
    cut = int(len(text) * (1 - data.VALIDATION_FRACTION - VALIDATION_PART))
    return training[:cut], training[cut:], held_out


def read_corpus(name, datasets_dir, lowercase, characters, maxlen):
    """The corpus's texts (cut for quick runs), checked for ``maxlen``, split and with
    their vocabulary."""
    texts = load_corpus(name, datasets_dir, lowercase, characters)
    check_length(texts, maxlen)
    vocabulary = build_vocabulary(texts)
    parts = [split_text(text) for text in texts]
    corpus = Corpus(name, CORPORA[name]["files"], *([part[number] for part in parts]
                                                    for number in range(3)), vocabulary)
    print(f"corpus length: {corpus.characters:,}")
    print(f"total chars: {len(vocabulary)}")
    return corpus


def check_length(texts, maxlen, fraction=VALIDATION_PART):
    """Refuse, before any training, a text too short for one window in its smallest part
    (the validation part)."""
    needed = int((maxlen + 1) / fraction) + 1
    for text in texts:
        if len(text) < needed:
            raise LabError(f"a text of {len(text):,} characters is too short for maxlen "
                           f"{maxlen}: its validation part ({fraction:.0%}, before the held-out "
                           f"10%) must hold one window of {maxlen + 1} characters, so at least "
                           f"{needed:,} characters are "
                           "needed; use a longer text or a smaller --maxlen")


def build_vocabulary(texts):
    """Sorted distinct characters, as the course's ``sorted(list(set(text)))``."""
    vocabulary = sorted(set("".join(texts)))
    if len(vocabulary) > 255:
        raise LabError(f"{len(vocabulary)} distinct characters: more than the 255 a uint8 "
                       "index holds; lowercase the corpus or clean it")
    return vocabulary


def encode(text, vocabulary):
    indices = {character: index for index, character in enumerate(vocabulary)}
    return np.fromiter((indices[character] for character in text), np.uint8, len(text))


def windows(encoded, maxlen, step):
    """Inputs and targets exactly as the course's loop
    ``for i in range(0, len(text) - maxlen, step): text[i:i + maxlen] → text[i + maxlen]``,
    as uint8 indices rather than one-hot booleans."""
    starts = np.arange(0, len(encoded) - maxlen, step)
    inputs = encoded[starts[:, None] + np.arange(maxlen)]
    return inputs, encoded[starts + maxlen]


def every_step_sequences(encoded, seq_length, offset=0):
    """Sequences of ``seq_length`` characters from ``offset`` on, and their targets: the same
    characters shifted by one, so the model learns the next character at every position
    (``--objective every-step``) instead of only after a full window."""
    count = (len(encoded) - 1 - offset) // seq_length
    positions = offset + seq_length * np.arange(count)[:, None] + np.arange(seq_length)
    return encoded[positions], encoded[positions + 1]


def make_windows(texts, vocabulary, maxlen, step):
    """Windows of several texts, none crossing from one text into the next."""
    pairs = [windows(encode(text, vocabulary), maxlen, step) for text in texts
             if len(text) > maxlen]
    if not pairs:
        raise LabError(f"the text is shorter than maxlen {maxlen}")
    return np.concatenate([pair[0] for pair in pairs]), np.concatenate([pair[1] for pair in pairs])


def pad_character(vocabulary):
    """Seeds shorter than maxlen are left-padded with newlines: in the training text a
    beginning (of a poem, of an aphorism) follows blank lines, so the model has seen it."""
    for candidate in ("\n", " "):
        if candidate in vocabulary:
            return candidate
    return vocabulary[0]


def prepare_seed(seed_text, vocabulary, maxlen, lowercase, drop_unknown=False):
    """The seed as ``maxlen`` indices: lowercased like the corpus, unknown characters an
    error (or dropped), left-padded or cut to the last ``maxlen`` characters."""
    if lowercase:
        seed_text = seed_text.lower()
    unknown = sorted(set(seed_text) - set(vocabulary))
    if unknown:
        if not drop_unknown:
            raise LabError(f"the seed text has characters outside the vocabulary: "
                           f"{' '.join(repr(character) for character in unknown)}; "
                           "remove them or pass --drop-unknown")
        seed_text = "".join(character for character in seed_text if character in vocabulary)
    padded = seed_text[-maxlen:].rjust(maxlen, pad_character(vocabulary))
    return seed_text, encode(padded, vocabulary)


def random_window(text, maxlen, rng):
    """``maxlen`` consecutive characters of ``text`` from a random start (a seed text)."""
    start = int(rng.randint(0, len(text) - maxlen))
    return text[start:start + maxlen]


@dataclass(frozen=True)
class HeldOut:
    """One text of a corpus cut as the poetry lab cuts it, for models trained elsewhere (the
    word models, GPT-2) to be scored on exactly the characters the character models are: the
    fit part to learn from, the validation part to choose with, the held-out part to report,
    and ``prompt``, the held-out window that ``compare`` samples every model from."""
    fit: str
    validation: str
    held_out: str
    prompt: str


def held_out_parts(name, datasets_dir=data.DATASETS_DIR, seed=42, characters=None, log=print):
    """``HeldOut`` of a one-file corpus: its course case and ``maxlen``, the same split and
    the same seed window as ``compare`` draws with ``seed`` (of its first ``characters``
    only, for quick runs)."""
    if name not in CORPORA or len(CORPORA[name]["files"]) != 1:
        one_file = [corpus for corpus, settings in CORPORA.items() if len(settings["files"]) == 1]
        raise LabError(f"corpus {name!r} is not one text; choose from {', '.join(one_file)}")
    text, = load_corpus(name, datasets_dir, characters=characters, log=log)
    maxlen = CORPORA[name]["maxlen"]
    check_length([text], maxlen)
    fit, validation, held_out = split_text(text)
    return HeldOut(fit, validation, held_out,
                   random_window(held_out, maxlen, np.random.RandomState(seed)))
