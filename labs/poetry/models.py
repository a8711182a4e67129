"""The character model twice: in Keras for training, in NumPy for fast generation.

``build(config, vocabulary_size)`` is the one place the lab builds a model from its
``Config``; ``build_model(vocabulary_size, maxlen, ...)`` is the network itself: the course's
[RNN(units)] × layers → Dense(vocabulary, softmax), with the one-hot encoding done inside the
model, or the transformer of ``labs.poetry.transformer``.

``NumpyCharModel(model)`` reads the trained weights once and runs the same cells in NumPy.
One ``model.predict`` per character costs ~40 ms of Keras overhead (about 25 characters per
second here), far more than the arithmetic; the NumPy forward pass reproduces the Keras
probabilities to within 1e-5 (tested) at ~2,000 characters per second.
"""

import keras
import numpy as np
from keras import layers

from labs.poetry.config import CELLS, EMBEDDING_DIM, INPUTS, OBJECTIVES, Config
from labs.poetry.transformer import NumpyTransformer, build_transformer
from labs.training import RECURRENT_LAYERS

OPTIMIZERS = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}


@keras.saving.register_keras_serializable(package="rnn_labs")
class OneHot(layers.Layer):
    """Character indices → one-hot vectors, inside the model.

    The network is the course's one-hot LSTM, but the data stays one uint8 index per
    character: 1/vocabulary of the memory of the course's boolean ``X``.
    """

    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, inputs):
        return keras.ops.one_hot(keras.ops.cast(inputs, "int32"), self.depth)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


def build(config, vocabulary_size):
    """The model a ``Config`` describes, compiled."""
    return build_model(vocabulary_size, config.maxlen, config.cell, config.layers, config.units,
                       config.optimizer, config.learning_rate, config.clipnorm,
                       objective=config.objective, inputs=config.inputs,
                       embedding_dim=config.embedding_dim, context=config.seq_length,
                       heads=config.heads, dropout=config.dropout)


def build_model(vocabulary_size, maxlen, cell="lstm", layers_count=1, units=Config.units,
                optimizer="rmsprop", learning_rate=Config.learning_rate,
                clipnorm=Config.clipnorm, one_hot_inside=True, objective="next-char",
                inputs="one-hot", embedding_dim=EMBEDDING_DIM,
                context=Config.seq_length, heads=Config.heads, dropout=Config.dropout):
    """The course's character model: [RNN(units)] × layers → Dense(vocabulary, softmax),
    compiled; or, with ``cell="transformer"``, the small causal Transformer of
    ``labs.poetry.transformer`` (every-step only, ``context`` positions, ``heads``).

    ``objective="every-step"`` keeps every position's output (input: sequences of any
    length, target: the next character at each position); ``inputs="embedding"`` learns a
    vector of ``embedding_dim`` per character instead of the course's one-hot.
    ``one_hot_inside=False`` builds the course's exact input, a (maxlen, vocabulary)
    one-hot tensor, for comparison; the weights of both versions are interchangeable.
    ``dropout`` (training only) follows each recurrent layer, or each transformer block's
    attention and feed-forward parts.
    """
    check_choices(cell=(cell, CELLS), optimizer=(optimizer, OPTIMIZERS),
                  objective=(objective, OBJECTIVES), inputs=(inputs, INPUTS))
    if cell == "transformer":
        if objective != "every-step":
            raise ValueError("the transformer trains with objective every-step")
        model = build_transformer(vocabulary_size, context, layers_count, units, heads, dropout)
    else:
        model = recurrent_model(vocabulary_size, maxlen, cell, layers_count, units,
                                one_hot_inside, objective == "every-step", inputs, embedding_dim,
                                dropout)
    model.compile(optimizer=OPTIMIZERS[optimizer](learning_rate, clipnorm=clipnorm),
                  loss="sparse_categorical_crossentropy")
    return model


def recurrent_model(vocabulary_size, maxlen, cell, layers_count, units, one_hot_inside,
                    every_step, inputs, embedding_dim, dropout=0.0):
    if one_hot_inside:
        characters = keras.Input(shape=(None if every_step else maxlen,), dtype="uint8",
                                 name="characters")
        features = (OneHot(vocabulary_size, name="one_hot")(characters) if inputs == "one-hot"
                    else layers.Embedding(vocabulary_size, embedding_dim,
                                          name="embedding")(characters))
    else:
        characters = keras.Input(shape=(maxlen, vocabulary_size), name="one_hot_characters")
        features = characters
    for layer in range(layers_count):
        last = layer == layers_count - 1
        features = RECURRENT_LAYERS[cell](units, return_sequences=every_step or not last,
                                          name=f"{cell}_{layer + 1}")(features)
        if dropout:
            features = layers.Dropout(dropout, name=f"dropout_{layer + 1}")(features)
    probabilities = layers.Dense(vocabulary_size, activation="softmax",
                                 name="next_character")(features)
    return keras.Model(characters, probabilities, name=f"char_{cell}")


def check_choices(**choices):
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")


def numpy_twin(model):
    """The NumPy version of a trained model, for generation: transformer or recurrent."""
    if any(type(layer).__name__ == "MultiHeadAttention" for layer in model.layers):
        return NumpyTransformer(model)
    return NumpyCharModel(model)


# ---------------------------------------------------------------- the NumPy twin
def _sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))


def _lstm_step(projected, state, recurrent, recurrent_bias, units):
    """Keras LSTM, gate order input, forget, cell, output; state = (h, c)."""
    hidden, cell = state
    gates = projected + hidden @ recurrent
    sigmoid = _sigmoid(gates)  # all four at once; the cell slice is replaced by tanh
    cell = sigmoid[:, units:2 * units] * cell + sigmoid[:, :units] * np.tanh(
        gates[:, 2 * units:3 * units])
    hidden = sigmoid[:, 3 * units:] * np.tanh(cell)
    return hidden, (hidden, cell)


def _gru_step(projected, state, recurrent, recurrent_bias, units):
    """Keras GRU (reset_after=True), gate order update, reset, candidate; state = (h,)."""
    (hidden,) = state
    recurrent_part = hidden @ recurrent + recurrent_bias
    gates = _sigmoid(projected[:, :2 * units] + recurrent_part[:, :2 * units])
    update, reset = gates[:, :units], gates[:, units:]
    candidate = np.tanh(projected[:, 2 * units:] + reset * recurrent_part[:, 2 * units:])
    hidden = update * hidden + (1 - update) * candidate
    return hidden, (hidden,)


def _simple_rnn_step(projected, state, recurrent, recurrent_bias, units):
    hidden = np.tanh(projected + state[0] @ recurrent)
    return hidden, (hidden,)


STEPS = {"LSTM": (_lstm_step, 2), "GRU": (_gru_step, 1), "SimpleRNN": (_simple_rnn_step, 1)}


class NumpyCharModel:
    """Recurrent stack (LSTM, GRU or SimpleRNN layers) plus the softmax output layer.

    Each layer's input projection is done for the whole window at once (for the first
    layer it is a row lookup in ``kernel + bias``, the one-hot input), so the per-step loop
    holds only the recurrent product and the gate arithmetic. Arithmetic is float32, as in
    Keras.
    """

    def __init__(self, model):
        self.layers = [self._read_recurrent(layer) for layer in model.layers
                       if type(layer).__name__ in STEPS]
        dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
        if not self.layers or not dense:
            raise ValueError("not a character model: needs recurrent layers and a Dense output")
        self.output_kernel, self.output_bias = (np.asarray(weight, np.float32)
                                                for weight in dense[-1].get_weights())
        _, _, kernel, _, input_bias, _ = self.layers[0]
        # One-hot input: the first projection is a row of kernel + bias; an embedding
        # folds into the same table (embedding @ kernel + bias), one lookup per character.
        embeddings = [layer.get_weights()[0] for layer in model.layers
                      if type(layer).__name__ == "Embedding"]
        self.input_table = (np.asarray(embeddings[0], np.float32) @ kernel + input_bias
                            if embeddings else kernel + input_bias)

    @staticmethod
    def _read_recurrent(layer):
        kind, config = type(layer).__name__, layer.get_config()
        if config.get("activation", "tanh") != "tanh" or config.get(
                "recurrent_activation", "sigmoid") != "sigmoid":
            raise ValueError(f"{layer.name}: only tanh/sigmoid activations are supported")
        if kind == "GRU" and not config.get("reset_after", True):
            raise ValueError(f"{layer.name}: only reset_after=True GRUs are supported")
        kernel, recurrent, bias = (np.asarray(weight, np.float32) for weight in layer.get_weights())
        # GRU keeps two biases: the input one joins the projection, the recurrent one stays
        # inside the reset gate's product.
        input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, None)
        return kind, layer.units, kernel, recurrent, input_bias, recurrent_bias

    def probabilities(self, windows):
        """Next-character distributions for a batch of index windows, shape (batch, T)."""
        windows = np.asarray(windows)
        sequence = None
        for number, (kind, units, kernel, recurrent, input_bias, recurrent_bias) in enumerate(
                self.layers):
            projected = (self.input_table[windows] if number == 0
                         else sequence @ kernel + input_bias)           # (batch, T, gates)
            step, state_count = STEPS[kind]
            state = tuple(np.zeros((len(windows), units), np.float32)
                          for _ in range(state_count))
            outputs = []
            for position in range(projected.shape[1]):
                hidden, state = step(projected[:, position], state, recurrent, recurrent_bias,
                                     units)
                outputs.append(hidden)
            sequence = np.stack(outputs, axis=1)
        return self.softmax(sequence[:, -1])  # every-step models: the last position

    def softmax(self, hidden):
        logits = hidden @ self.output_kernel + self.output_bias
        logits -= logits.max(axis=-1, keepdims=True)
        exponentials = np.exp(logits)
        return exponentials / exponentials.sum(axis=-1, keepdims=True)

    def initial_states(self):
        """Every layer's zero state, for one sequence."""
        return [tuple(np.zeros((1, units), np.float32) for _ in range(STEPS[kind][1]))
                for kind, units, *_ in self.layers]

    def step(self, index, states):
        """One character through every layer, each carrying its state forward: the
        next-character distribution and the new states. Warmed on a window, the first
        distribution is exactly ``probabilities`` of that window."""
        features, new_states = None, []
        for number, ((kind, units, kernel, recurrent, input_bias, recurrent_bias), state) in \
                enumerate(zip(self.layers, states)):
            projected = (self.input_table[[index]] if number == 0
                         else features @ kernel + input_bias)
            features, state = STEPS[kind][0](projected, state, recurrent, recurrent_bias, units)
            new_states.append(state)
        return self.softmax(features)[0], new_states
