"""Neural models that learn their input from the messages themselves (issue: close the gap).

The spaCy-vector models (``models``) read 96-d context vectors; the strongest baseline reads
exact word and character n-grams. These five read what the n-gram models read, so the
comparison can say which input closes the gap:

- ``words-gru`` (learned words): ``TextVectorization`` whose standardisation lowercases
  but keeps ``£ $ ! . :`` and digits (the default strips them) → trainable ``Embedding`` →
  GRU, max over time. GRU, not Bi-GRU: on spaCy vectors the two are not detectably
  different (labs/spam/README.md) and the GRU takes 0.7–0.8 of the time, which ``make spam``'s 20
  minutes need.
- ``chars-cnn`` (characters, case kept): character embedding → ``Conv1D`` at widths 3, 5, 7
  → max pooling.
- ``hybrid`` (spaCy vectors + characters): the spaCy-vector Bi-GRU and the character CNN
  side by side, concatenated.
- ``ngram-bag`` (fastText-style): word 1–2-grams and character 2–5-grams → learned
  embeddings, averaged → sigmoid.
- ``tfidf-mlp`` (TF-IDF features): the strongest baseline's own TF-IDF word + character
  n-grams → Dense → Dropout → sigmoid: a neural classifier on classical features.

Every vocabulary, ``adapt`` and TF-IDF table is fitted on the rows the model learns from
(``Fold.fit``), never on the validation or test part. The text processing lives inside the
saved model (``TextVectorization`` layers), or, for ``tfidf-mlp``, in a vectorizer saved
beside it (``save_preprocessor``), so ``predict`` takes raw text.
"""

from collections import Counter

import joblib
import keras
import numpy as np
import tensorflow as tf
from keras import layers
from scipy import sparse
from sklearn.feature_selection import SelectKBest, f_classif

from labs.spam.baselines import word_and_char_features
from labs.spam.data import pad
from labs.spam.models import DROPOUT, LEARNING_RATE, UNITS, MaxOverTime

TEXT_VARIANTS = {  # name: (the input family the report's "input" column names, the kind)
    "words-gru": ("learned words", "RNN"),
    "chars-cnn": ("characters", "CNN"),
    "hybrid": ("hybrid: spaCy vectors + characters", "RNN + CNN"),
    "ngram-bag": ("n-gram bag", "bag of embeddings"),
    "tfidf-mlp": ("TF-IDF features", "MLP on classical features"),
}
# Not in a default run: the slowest, it does not fit make spam's half hour beside the rest.
OPT_IN = ("hybrid",)
WORD_DIMENSION = 64
CHARACTER_DIMENSION = 32
MAX_CHARACTERS = 200  # longer messages (2% of them; the longest has 910) are cut
CONVOLUTION_WIDTHS = (3, 5, 7)
FILTERS = 64
MIN_COUNT = 2  # a token seen once stays out of the vocabulary, so [UNK] is trained too
BAG_DIMENSION = 32
BAG_WORD_NGRAMS = 20_000  # the most frequent n-grams of the training part
BAG_CHARACTER_NGRAMS = 30_000
BAG_LEARNING_RATE = 3e-3
MLP_FEATURES = 20_000  # of ~72,000 TF-IDF n-grams in a fold's fit part
MLP_UNITS = 64
MLP_DROPOUT = 0.5


@keras.saving.register_keras_serializable(package="rnn_labs")
def keep_symbols(text):
    """Lowercase; ``£ $ ! . :`` become tokens of their own; other punctuation goes; digits
    stay ("£1000", "0800", "txt" are what the n-gram models see)."""
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"([£$!.:])", r" \1 ")
    return tf.strings.regex_replace(text, r"[^\pL\pN_£$!.:\s]", " ")


def describe_text_models():
    """One line for every report header: what each text model reads, and how."""
    return (f"words-gru: words (lowercase; £ $ ! . : and digits kept; seen ≥ {MIN_COUNT} "
            f"times) → {WORD_DIMENSION}-d embedding → GRU {UNITS}, max over time; "
            f"chars-cnn: characters (case kept, first {MAX_CHARACTERS}) → "
            f"{CHARACTER_DIMENSION}-d embedding → Conv1D {FILTERS} × widths "
            f"{'/'.join(map(str, CONVOLUTION_WIDTHS))} → max pooling; hybrid: the spaCy Bi-GRU "
            "(padded, masked) + chars-cnn; ngram-bag: word 1–2-grams + char 2–5-grams (the "
            f"{BAG_WORD_NGRAMS:,} + {BAG_CHARACTER_NGRAMS:,} most frequent) → {BAG_DIMENSION}-d "
            f"embeddings averaged (Adam {BAG_LEARNING_RATE:g}); tfidf-mlp: the baseline's TF-IDF "
            f"features, the {MLP_FEATURES:,} with the highest ANOVA F on the fit part → Dense "
            f"{MLP_UNITS} → Dropout {MLP_DROPOUT}; the others: dropout "
            f"{DROPOUT} before the output")


@keras.saving.register_keras_serializable(package="rnn_labs")
class EndPadding(layers.Layer):
    """One padding id (0) after every sequence of ids: a message whose every symbol is
    unknown to the standardisation still has a time step (masked), so a batch of such
    messages never has length 0."""

    def call(self, ids):
        return keras.ops.pad(ids, [[0, 0], [0, 1]])


@keras.saving.register_keras_serializable(package="rnn_labs")
class MaskedMean(layers.Layer):
    """The mean of the real (unmasked) steps; zeros for a message with none."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        weights = keras.ops.cast(mask, inputs.dtype)[..., None]
        return keras.ops.sum(inputs * weights, axis=1) / keras.ops.maximum(
            keras.ops.sum(weights, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None


def word_tokens(texts):
    return [token.decode() for tokens in tf.strings.split(keep_symbols(texts)).to_list()
            for token in tokens]


def character_tokens(texts):
    return [char.decode() for chars in tf.strings.unicode_split(texts, "UTF-8").to_list()
            for char in chars]


def frequent(tokens, min_count=MIN_COUNT):
    """Tokens seen at least ``min_count`` times, most frequent first (ties: alphabetical)."""
    counts = Counter(tokens)
    return [token for token, count in sorted(counts.items(), key=lambda item: (-item[1],
                                                                                item[0]))
            if count >= min_count]


def word_reader(texts):
    """Words → ids, the vocabulary from ``texts`` (the training part) only."""
    return layers.TextVectorization(standardize=keep_symbols, split="whitespace",
                                    vocabulary=frequent(word_tokens(texts)), name="words")


def character_reader(texts):
    """Characters (case kept) → ids, cut or padded to ``MAX_CHARACTERS``."""
    return layers.TextVectorization(standardize=None, split="character",
                                    output_sequence_length=MAX_CHARACTERS,
                                    vocabulary=frequent(character_tokens(texts)),
                                    name="characters")


def character_branch(text_input, texts):
    """Character embedding → Conv1D at several widths → max over positions, concatenated."""
    reader = character_reader(texts)
    embedded = layers.Embedding(reader.vocabulary_size(), CHARACTER_DIMENSION,
                                name="character_embedding")(reader(text_input))
    pooled = [layers.GlobalMaxPooling1D()(layers.Conv1D(FILTERS, width, padding="same",
                                                        activation="relu")(embedded))
              for width in CONVOLUTION_WIDTHS]
    return layers.Concatenate(name="character_features")(pooled)


def recurrent_branch(sequence, bidirectional=True):
    """(Bi-)GRU over a masked sequence, every hidden state, max over time (as the spaCy
    models pool)."""
    states = layers.GRU(UNITS, return_sequences=True)
    if bidirectional:
        states = layers.Bidirectional(states)
    return MaxOverTime()(states(sequence))


def text_input():
    return keras.Input(shape=(1,), dtype="string", name="text")


def words_model(texts):
    text = text_input()
    reader = word_reader(texts)
    embedded = layers.Embedding(reader.vocabulary_size(), WORD_DIMENSION, mask_zero=True,
                                name="word_embedding")(EndPadding()(reader(text)))
    return text, recurrent_branch(embedded, bidirectional=False)


def characters_model(texts):
    text = text_input()
    return text, character_branch(text, texts)


def hybrid_model(texts, maxlen, vector_size):
    """The spaCy-vector Bi-GRU (padded to ``maxlen``, masked) beside the character CNN."""
    text = text_input()
    vectors = keras.Input(shape=(maxlen, vector_size), name="token_vectors")
    spacy_features = recurrent_branch(layers.Masking(0.0)(vectors))
    joined = layers.Concatenate()([spacy_features, character_branch(text, texts)])
    return {"token_vectors": vectors, "text": text}, joined


def ngram_bag_model(texts):
    """fastText's recipe: embeddings of word 1–2-grams and character 2–5-grams, averaged."""
    text = text_input()
    words = layers.TextVectorization(BAG_WORD_NGRAMS, standardize=keep_symbols, ngrams=2,
                                     name="word_ngrams")
    characters = layers.TextVectorization(BAG_CHARACTER_NGRAMS, standardize="lower",
                                          split="character", ngrams=(2, 3, 4, 5),
                                          name="character_ngrams")
    averages = []
    for reader in (words, characters):
        reader.adapt(np.asarray(texts, dtype=object))
        embedded = layers.Embedding(reader.vocabulary_size(), BAG_DIMENSION, mask_zero=True,
                                    name=f"{reader.name}_embedding")(EndPadding()(reader(text)))
        averages.append(MaskedMean()(embedded))
    return text, layers.Concatenate()(averages)


class TfidfReader:
    """The baseline's TF-IDF word + character n-grams, fitted on the training texts, then
    the ``MLP_FEATURES`` with the highest ANOVA F against the training labels (Google's
    n-gram-model recipe); a ``tfidf-mlp`` model reads its output, and ``predict`` loads it
    from beside the model."""

    def __init__(self, texts, labels):
        train, self.words, self.characters = word_and_char_features(texts, texts[:0],
                                                                    vectorizers=True)
        self.selector = SelectKBest(f_classif, k=min(MLP_FEATURES, train.shape[1]))
        self.selector.fit(train, labels)

    def __call__(self, texts):
        texts = np.asarray(texts, dtype=object)
        features = sparse.hstack([self.words.transform(texts), self.characters.transform(texts)])
        return self.selector.transform(features.tocsr()).astype(np.float32)

    @property
    def size(self):
        return int(self.selector.get_support().sum())


def tfidf_mlp_model(reader):
    features = keras.Input(shape=(reader.size,), sparse=True, name="tfidf")
    hidden = layers.Dense(MLP_UNITS, activation="relu")(features)
    return features, layers.Dropout(MLP_DROPOUT)(hidden)


def build_text_model(variant, texts, labels=None, maxlen=50, vector_size=0):
    """A compiled ``variant`` whose vocabularies come from ``texts`` (the fit part) and, for
    ``tfidf-mlp``'s feature selection, their ``labels``; and its preprocessor (``None``, or
    the ``TfidfReader`` a ``tfidf-mlp`` reads through)."""
    texts = np.asarray(texts, dtype=object)
    preprocessor, learning_rate = None, LEARNING_RATE
    if variant == "words-gru":
        inputs, features = words_model(texts)
    elif variant == "chars-cnn":
        inputs, features = characters_model(texts)
    elif variant == "hybrid":
        inputs, features = hybrid_model(texts, maxlen, vector_size)
    elif variant == "ngram-bag":
        (inputs, features), learning_rate = ngram_bag_model(texts), BAG_LEARNING_RATE
    elif variant == "tfidf-mlp":
        preprocessor = TfidfReader(texts, labels)
        inputs, features = tfidf_mlp_model(preprocessor)
    else:
        raise ValueError(f"unknown text model {variant!r}; choose from "
                         f"{', '.join(TEXT_VARIANTS)}")
    if variant != "tfidf-mlp":  # its own dropout sits right before the output
        features = layers.Dropout(DROPOUT)(features)
    probability = layers.Dense(1, activation="sigmoid", name="spam_probability")(features)
    model = keras.Model(inputs, probability, name=f"spam_{variant}".replace("-", "_"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model, preprocessor


def model_inputs(variant, texts, sequences=None, preprocessor=None, maxlen=50,
                 vector_size=0):
    """What ``variant`` reads for ``texts``: the strings, the TF-IDF rows, or (``hybrid``)
    the strings and the spaCy token vectors (``sequences``) padded to ``maxlen``."""
    if variant == "tfidf-mlp":
        return preprocessor(texts)
    strings = tf.constant([[str(text)] for text in texts], tf.string)
    if variant == "hybrid":
        return {"text": strings, "token_vectors": pad(sequences, maxlen, vector_size)}
    return strings


def preprocessor_path(model_path):
    return model_path.with_suffix(".tfidf.joblib")


def save_preprocessor(preprocessor, model_path):
    """The fitted vectorizer beside the model, written atomically."""
    from labs.reports import atomic_path

    with atomic_path(preprocessor_path(model_path)) as temporary:
        joblib.dump(preprocessor, temporary)


def load_preprocessor(model_path):
    return joblib.load(preprocessor_path(model_path))
