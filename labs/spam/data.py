"""Messages, labels, the train/test split, and the two input kinds the variants read.

Padded inputs are the course's: every message cut or zero-padded to ``maxlen`` token
vectors. Ragged inputs keep every token; batches are bucketed by length (``tf.data``).
"""

from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from sklearn.preprocessing import LabelEncoder

from labs import data
from labs.cli import LabError
from labs.training import bucketed_batches, without_autotune

TEST_SIZE = 0.2
MINIMUM_PER_CLASS = 10  # 5 folds, then a validation part of each training part
VALIDATION_PARTS = 8  # the validation part is 1/8 (12.5%) of the training part
SPLITS = ("grouped", "course")


@dataclass
class Messages:
    """The collection as the lab uses it: texts, 0/1 labels (spam = 1), class names."""
    path: object
    frame: object  # pandas DataFrame with columns label, text
    labels: np.ndarray  # float32
    class_names: list

    @property
    def texts(self):
        return self.frame["text"].to_numpy()


def load_messages(datasets_dir, subset=None, seed=0):
    """The SMS Spam Collection, or a stratified ``subset`` of it (for quick runs)."""
    path = data.locate("sms_spam.tsv", datasets_dir)
    frame = data.load_sms(path)
    check_size(frame, path, subset)
    if subset:
        keep, _ = train_test_split(np.arange(len(frame)), train_size=subset,
                                   stratify=frame["label"], random_state=seed)
        frame = frame.iloc[np.sort(keep)].reset_index(drop=True)
    encoder = LabelEncoder().fit(frame["label"])
    labels = encoder.transform(frame["label"]).astype(np.float32)
    return Messages(path, frame, labels, [str(name) for name in encoder.classes_])


def check_size(frame, path, subset):
    """Refuse, before any work, a collection too small for the split or the quick subset."""
    if subset and len(frame) < subset:
        raise LabError(f"--quick takes a subset of {subset:,} messages but {path} has "
                       f"{len(frame):,}; run without --quick")
    distinct = frame.drop_duplicates("text")["label"].value_counts()
    counts = {label: int(distinct.get(label, 0)) for label in data.SMS_LABELS}
    if min(counts.values()) < MINIMUM_PER_CLASS:
        raise LabError(f"{path} has {counts['ham']} distinct ham and {counts['spam']} distinct "
                       f"spam messages; the split needs at least {MINIMUM_PER_CLASS} of each")


def split_indices(labels, texts, kind, seed, test_size=TEST_SIZE):
    """Train and test row indices.

    ``grouped`` (default): stratified, and every copy of a text on the same side, so the
    test score is not inflated by messages the model has already seen (the collection
    holds 403 exact duplicates). ``course``: the course's plain
    ``train_test_split(test_size=0.2)``, seeded.
    """
    indices = np.arange(len(labels))
    if kind == "course":
        return train_test_split(indices, test_size=test_size, random_state=seed)
    if kind != "grouped":
        raise LabError(f"--split: unknown split {kind!r}; choose from {', '.join(SPLITS)}")
    folds = StratifiedGroupKFold(n_splits=round(1 / test_size), shuffle=True, random_state=seed)
    train, test = next(folds.split(indices, labels, groups=texts))
    return train, test


@dataclass(frozen=True)
class Fold:
    """One fold's rows, the same for every model: ``train`` (all a model may learn from)
    and ``test``. ``for_recipe`` splits ``train`` into ``fit`` and ``validation``, the
    rows that choose the epoch and the threshold."""
    train: np.ndarray
    test: np.ndarray
    labels: np.ndarray  # every message's 0/1 label
    texts: np.ndarray  # every message's text
    fit: np.ndarray = None
    validation: np.ndarray = None

    def for_recipe(self, recipe, seed):
        """The course validates on the test part; the tuned recipe carves a grouped
        validation part out of the training part, so the test part chooses nothing."""
        if recipe.validate_on_test:
            return replace(self, fit=self.train, validation=self.test)
        fit, validation = validation_split(self.train, self.labels, self.texts, seed)
        return replace(self, fit=fit, validation=validation)


def make_folds(labels, texts, folds, split, seed, repeats=1):
    """``Fold``s, the same for every model. ``folds`` > 1: stratified grouped k-fold (every
    message is tested once, copies of a text stay together), ``repeats`` times with seeds
    ``seed``, ``seed + 1``, ...; ``folds`` = 1: the single 80/20 split of ``split_indices``."""
    smallest = min(len(set(texts[labels == value])) for value in (0, 1))
    if folds > smallest:
        raise LabError(f"--folds {folds} is more than the {smallest} distinct messages of the "
                       f"smaller class: every fold needs some of each; use --folds {smallest} "
                       "or fewer (5 is the default)")
    if folds == 1:
        pairs = [split_indices(labels, texts, split, seed)]
    elif split == "course":
        raise LabError("--split course is the course's single train_test_split; use it with "
                       "--folds 1")
    else:
        pairs = [pair for repeat in range(repeats) for pair in StratifiedGroupKFold(
            n_splits=folds, shuffle=True, random_state=seed + repeat).split(
            np.arange(len(labels)), labels, groups=texts)]
    return [Fold(train, test, labels, texts) for train, test in pairs]


def validation_split(train, labels, texts, seed, parts=VALIDATION_PARTS):
    """Carve a grouped, stratified validation part (1/``parts`` of it) out of ``train``:
    early stopping, the best epoch and the decision threshold are chosen there, never on
    the test part."""
    splitter = StratifiedGroupKFold(n_splits=parts, shuffle=True, random_state=seed)
    fit, validation = next(splitter.split(train, labels[train], groups=texts[train]))
    return train[fit], train[validation]


def pad(sequences, maxlen, vector_size):
    """The course's padding: truncate to ``maxlen``, zero vectors appended at the end."""
    batch = np.zeros((len(sequences), maxlen, vector_size), np.float32)
    for row, sequence in enumerate(sequences):
        kept = sequence[:maxlen]
        batch[row, :len(kept)] = kept
    return batch


def to_ragged(sequences):
    """A list of (tokens, vector size) arrays as one ``tf.RaggedTensor``."""
    lengths = [len(sequence) for sequence in sequences]
    values = np.concatenate(sequences) if sequences else np.zeros((0, 0), np.float32)
    return tf.RaggedTensor.from_row_lengths(values, lengths)


def ragged_dataset(token_vectors, indices, labels, batch_size, seed=None):
    """A tf.data pipeline of ragged batches; ``seed`` given → reshuffled every epoch."""
    sequences = token_vectors.sequences(indices)
    lengths = np.array([len(sequence) for sequence in sequences])
    targets = np.asarray(labels, np.float32)

    def make_batch(batch):
        values = np.concatenate([sequences[row] for row in batch])
        return tf.RaggedTensor.from_row_lengths(values, lengths[batch]), targets[batch]

    dimension = token_vectors.vector_size
    return bucketed_dataset(lengths, batch_size, make_batch, (
        tf.RaggedTensorSpec(shape=(None, None, dimension), dtype=tf.float32, ragged_rank=1),
        tf.TensorSpec(shape=(None,), dtype=tf.float32)), seed)


def bucketed_dataset(lengths, batch_size, make_batch, signature, seed=None):
    """A tf.data pipeline of ``make_batch(indices)`` over batches of similar ``lengths``
    (``labs.training.bucketed_batches``); ``seed`` given → reshuffled every epoch."""
    rng = None if seed is None else np.random.default_rng(seed)

    def generate():
        for batch in bucketed_batches(lengths, batch_size, rng):
            yield make_batch(batch)

    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    batches = -(-len(lengths) // batch_size)
    return without_autotune(dataset.apply(tf.data.experimental.assert_cardinality(batches)))
