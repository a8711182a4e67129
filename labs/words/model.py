"""The Keras model, Embedding → LSTM (or SimpleRNN) → softmax over the tokens; how it scores a
text (the probability of each true token, perplexity) and how it generates."""

import keras
import numpy as np
from keras import layers

from labs.words.config import EMBEDDING_DIM, LEARNING_RATE, UNITS, WINDOW



def perplexity(probabilities_of_targets):
    """exp of the mean cross-entropy, from the probability given to each true token."""
    return float(np.exp(-np.mean(np.log(probabilities_of_targets))))


def target_probabilities(model, inputs, targets, batch_size=2048):
    """The probability the model gives each target (in batches: all the softmax rows at once
    would be windows × vocabulary floats)."""
    result = []
    for start in range(0, len(inputs), batch_size):
        rows = model.predict_on_batch(inputs[start:start + batch_size])
        result.append(np.asarray(rows)[np.arange(len(rows)), targets[start:start + batch_size]])
    return np.concatenate(result).astype(np.float64)


def build_model(vocabulary_size, window=WINDOW, embedding_dim=EMBEDDING_DIM, units=UNITS,
                learning_rate=LEARNING_RATE, cell="lstm"):
    """Embedding → LSTM (or SimpleRNN) → softmax over the vocabulary, Adam with gradient
    clipping."""
    tokens = keras.Input(shape=(window,), dtype="int32", name="tokens")
    features = layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(tokens)
    recurrent = layers.LSTM if cell == "lstm" else layers.SimpleRNN
    features = recurrent(units, name=cell)(features)
    probabilities = layers.Dense(vocabulary_size, activation="softmax", name="next_word")(features)
    model = keras.Model(tokens, probabilities, name="word_lstm")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy")
    return model


def generate(model, vocabulary, seed_tokens, length, rng, sampler, window=WINDOW):
    """Continue ``seed_tokens`` (words, known or ``<unk>``) by ``length`` words."""
    ids = generate_ids(model, list(vocabulary.encode(seed_tokens)), length, rng, sampler, window,
                       unknown=0)
    return [vocabulary.words[index] for index in ids]


def generate_ids(model, seed_ids, length, rng, sampler, window, unknown=None):
    """``length`` ids after ``seed_ids``.

    ``unknown`` (``<unk>``) is never drawn: it stands for every rare word at once, so the
    model gives it much of its probability and a sample full of ``<unk>`` says nothing. Its
    probability is set to 0 and the rest renormalised (the perplexity still counts it as the
    model gave it). ``predict_on_batch`` per token: one compiled call, not ``predict``'s
    per-call setup.
    """
    context = [0] * max(0, window - len(seed_ids)) + list(seed_ids)
    output = []
    for _ in range(length):
        probabilities = np.asarray(model.predict_on_batch(np.array([context[-window:]])),
                                   np.float64)[0]
        if unknown is not None:
            probabilities[unknown] = 0.0
        index = sampler.draw(probabilities / probabilities.sum(), rng)
        output.append(index)
        context.append(index)
    return output
