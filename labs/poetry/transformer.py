"""A small causal Transformer for characters (``--cell transformer``), in Keras and in NumPy.

The course notes' simplified Transformer: character embedding + learned position embedding,
then ``layers`` blocks of causal self-attention and a feed-forward network, each with layer
normalisation before it and a residual connection around it, then a softmax over the
vocabulary at every position. It is trained with ``--objective every-step``: the causal mask
lets position t see positions ≤ t only, so one sequence teaches every next character at once.

``NumpyTransformer`` runs the trained weights in NumPy with the same interface as
``models.NumpyCharModel``: ``probabilities`` re-reads a whole window (the course's way of
generating), ``step`` feeds one character and keeps every layer's keys and values (a cache),
so a new character costs one position's arithmetic instead of a whole window's.
"""

import keras
import numpy as np
from keras import layers

EPSILON = 1e-5  # layer normalisation; the NumPy twin uses the same value


@keras.saving.register_keras_serializable(package="rnn_labs")
class PositionEmbedding(layers.Layer):
    """Adds a learned vector per position (0 … ``length`` - 1) to the token vectors."""

    def __init__(self, length, **kwargs):
        super().__init__(**kwargs)
        self.length = length

    def build(self, input_shape):
        self.positions = self.add_weight(shape=(self.length, input_shape[-1]),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02),
                                         name="positions")

    def call(self, inputs):
        steps = keras.ops.shape(inputs)[1]
        return inputs + keras.ops.expand_dims(self.positions[:steps], 0)

    def compute_output_shape(self, input_shape):
        """The input's shape (JAX cannot infer it through the slice of a dynamic length)."""
        return input_shape

    def get_config(self):
        return {**super().get_config(), "length": self.length}


def block(features, units, heads, number, dropout=0.0):
    """Pre-norm block: x + attention(norm(x)), then x + feed-forward(norm(x)); ``dropout``
    on what each part adds (training only)."""
    normed = layers.LayerNormalization(epsilon=EPSILON, name=f"block{number}_norm1")(features)
    attention = layers.MultiHeadAttention(heads, units // heads, name=f"block{number}_attention")(
        normed, normed, use_causal_mask=True)
    if dropout:
        attention = layers.Dropout(dropout, name=f"block{number}_dropout1")(attention)
    features = layers.Add(name=f"block{number}_residual1")([features, attention])
    normed = layers.LayerNormalization(epsilon=EPSILON, name=f"block{number}_norm2")(features)
    expanded = layers.Dense(4 * units, activation="relu", name=f"block{number}_expand")(normed)
    projected = layers.Dense(units, name=f"block{number}_project")(expanded)
    if dropout:
        projected = layers.Dropout(dropout, name=f"block{number}_dropout2")(projected)
    return layers.Add(name=f"block{number}_residual2")([features, projected])


def build_transformer(vocabulary_size, context, layers_count, units, heads, dropout=0.0):
    """Characters (any length up to ``context``) → next-character probabilities at every
    position; ``units`` is the width of the embeddings and of every block."""
    if units % heads:
        raise ValueError(f"--units {units} must be a multiple of --heads {heads}")
    characters = keras.Input(shape=(None,), dtype="uint8", name="characters")
    features = layers.Embedding(vocabulary_size, units, name="embedding")(characters)
    features = PositionEmbedding(context, name="positions")(features)
    for number in range(1, layers_count + 1):
        features = block(features, units, heads, number, dropout)
    features = layers.LayerNormalization(epsilon=EPSILON, name="final_norm")(features)
    probabilities = layers.Dense(vocabulary_size, activation="softmax",
                                 name="next_character")(features)
    return keras.Model(characters, probabilities, name="char_transformer")


# ---------------------------------------------------------------- the NumPy twin
def _layer_norm(values, gamma, beta):
    mean = values.mean(axis=-1, keepdims=True)
    variance = values.var(axis=-1, keepdims=True)
    return (values - mean) / np.sqrt(variance + EPSILON) * gamma + beta


def _softmax(values):
    values = values - values.max(axis=-1, keepdims=True)
    exponentials = np.exp(values)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


class NumpyTransformer:
    """The trained ``build_transformer`` model in NumPy (float32, as Keras)."""

    def __init__(self, model):
        def weights(layer):
            return [np.asarray(weight, np.float32) for weight in layer.get_weights()]

        self.embedding = weights(model.get_layer("embedding"))[0]
        self.positions = weights(model.get_layer("positions"))[0]
        self.context = len(self.positions)
        self.blocks = []
        number = 1
        while any(layer.name == f"block{number}_attention" for layer in model.layers):
            attention = model.get_layer(f"block{number}_attention")
            # Attention kernels are (model, heads, key) and (heads, key, model) tensors;
            # as 2-D matrices each projection is one matmul.
            heads, key_size = attention.query_dense.kernel.shape[1:]
            self.heads, self.key_size = heads, key_size
            self.blocks.append({
                "norm1": weights(model.get_layer(f"block{number}_norm1")),
                **{name: [kernel.reshape(kernel.shape[0], -1), bias.reshape(-1)]
                   for name, (kernel, bias) in (
                       ("query", weights(attention.query_dense)),
                       ("key", weights(attention.key_dense)),
                       ("value", weights(attention.value_dense)))},
                "output": [weights(attention.output_dense)[0].reshape(heads * key_size, -1),
                           weights(attention.output_dense)[1]],
                "norm2": weights(model.get_layer(f"block{number}_norm2")),
                "expand": weights(model.get_layer(f"block{number}_expand")),
                "project": weights(model.get_layer(f"block{number}_project"))})
            number += 1
        self.final_norm = weights(model.get_layer("final_norm"))
        self.output_kernel, self.output_bias = weights(model.get_layer("next_character"))

    def _heads(self, values):
        """(batch, time, heads × key) → (batch, heads, time, key)."""
        batch, time = values.shape[:2]
        return values.reshape(batch, time, self.heads, self.key_size).transpose(0, 2, 1, 3)

    def _attend(self, parameters, normed, keys, values, first):
        """Attention of the positions in ``normed`` (from ``first`` on) to ``keys`` and
        ``values`` (batch, heads, positions, key) of every position up to each one; returns
        the block's attention output."""
        kernel, bias = parameters["query"]
        queries = self._heads(normed @ kernel + bias)
        scores = queries @ keys.transpose(0, 1, 3, 2) / np.sqrt(np.float32(self.key_size))
        later = np.arange(keys.shape[2])[None, :] > (first + np.arange(normed.shape[1]))[:, None]
        mixed = np.where(later, -np.inf, scores)
        mixed = (_softmax(mixed) @ values).transpose(0, 2, 1, 3)  # (batch, time, heads, key)
        kernel, bias = parameters["output"]
        return mixed.reshape(*mixed.shape[:2], -1) @ kernel + bias

    def _forward(self, indices, caches, first):
        """Positions ``first`` … of ``indices`` through every block, appending their keys and
        values to ``caches`` (one [keys, values] per block); the last position's output."""
        features = self.embedding[indices] + self.positions[first:first + indices.shape[1]]
        for parameters, cache in zip(self.blocks, caches):
            normed = _layer_norm(features, *parameters["norm1"])
            projected = [self._heads(normed @ parameters[name][0] + parameters[name][1])
                         for name in ("key", "value")]
            cache[:] = projected if not cache else [
                np.concatenate([cache[0], projected[0]], 2),
                np.concatenate([cache[1], projected[1]], 2)]
            features = features + self._attend(parameters, normed, cache[0], cache[1], first)
            normed = _layer_norm(features, *parameters["norm2"])
            kernel, bias = parameters["expand"]
            expanded = np.maximum(normed @ kernel + bias, 0)
            kernel, bias = parameters["project"]
            features = features + expanded @ kernel + bias
        last = _layer_norm(features[:, -1], *self.final_norm)
        return _softmax(last @ self.output_kernel + self.output_bias)

    def probabilities(self, windows):
        """Next-character distributions after each window (batch, T ≤ context): the whole
        window read afresh, as the course generates."""
        windows = np.asarray(windows)[:, -self.context:]
        return self._forward(windows, [[] for _ in self.blocks], 0)

    def initial_states(self):
        """An empty cache: no characters read yet."""
        return {"indices": [], "caches": [[] for _ in self.blocks]}

    def step(self, index, states):
        """One character in, with the cached keys and values of the earlier ones: the
        next-character distribution and the new cache. When the context is full the cache
        is rebuilt from the last half of it (positions are absolute, so a full window cannot
        slide by one without recomputing it); the first distribution after warming up on a
        window equals ``probabilities`` of that window."""
        indices = states["indices"] + [int(index)]
        if len(indices) > self.context:
            indices = indices[-max(1, self.context // 2):]  # a context of 1 keeps 1
            caches = [[] for _ in self.blocks]
            probabilities = self._forward(np.array([indices]), caches, 0)
        else:
            caches = [list(cache) for cache in states["caches"]]
            probabilities = self._forward(np.array([[index]]), caches, len(indices) - 1)
        return probabilities[0], {"indices": indices, "caches": caches}
