"""A trained character model's forward pass in NumPy, for fast generation.

One ``model.predict`` per character costs ~40 ms of Keras overhead (about 25 characters
per second here), far more than the arithmetic. This module reads the weights of the
Keras model once and runs the same cells in NumPy: the first layer's one-hot input makes
its input projection a row lookup, and each step is a few small matrix products.
It reproduces the Keras probabilities to within 1e-5 (tested), so generation keeps the
course's exact procedure: re-feed the last ``maxlen`` characters for every new character.
"""

import numpy as np

from labs import sampling


def _sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))


class NumpyCharModel:
    """Recurrent stack (LSTM, GRU or SimpleRNN layers) plus the softmax output layer.

    Each layer's input projection is done for the whole window at once (for the first
    layer it is a row lookup in ``kernel + bias``), so the per-step loop holds only the
    recurrent product and the gate arithmetic: about 10 NumPy calls a step. Arithmetic is
    float32, as in Keras.
    """

    def __init__(self, model):
        self.layers = []
        dense = None
        for layer in model.layers:
            kind = type(layer).__name__
            if kind in ("LSTM", "GRU", "SimpleRNN"):
                config = layer.get_config()
                if config.get("activation", "tanh") != "tanh" or config.get(
                        "recurrent_activation", "sigmoid") != "sigmoid":
                    raise ValueError(f"{layer.name}: only tanh/sigmoid activations are supported")
                if kind == "GRU" and not config.get("reset_after", True):
                    raise ValueError(f"{layer.name}: only reset_after=True GRUs are supported")
                kernel, recurrent, bias = (np.asarray(weight, np.float32)
                                           for weight in layer.get_weights())
                # GRU keeps two biases: the input one joins the projection, the recurrent
                # one stays inside the reset gate's product.
                input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, None)
                self.layers.append((kind, layer.units, kernel, recurrent, input_bias, recurrent_bias))
            elif kind == "Dense":
                dense = [np.asarray(weight, np.float32) for weight in layer.get_weights()]
        if not self.layers or dense is None:
            raise ValueError("not a character model: needs recurrent layers and a Dense output")
        self.output_kernel, self.output_bias = dense
        _, _, kernel, _, input_bias, _ = self.layers[0]
        self.input_table = kernel + input_bias  # one-hot input: projection = row lookup

    def probabilities(self, windows):
        """Next-character distributions for a batch of index windows, shape (batch, T)."""
        windows = np.asarray(windows)
        sequence = None
        for number, (kind, units, kernel, recurrent, input_bias, recurrent_bias) in enumerate(
                self.layers):
            projected = (self.input_table[windows] if number == 0
                         else sequence @ kernel + input_bias)           # (batch, T, gates)
            last = number == len(self.layers) - 1
            run = {"LSTM": _lstm, "GRU": _gru, "SimpleRNN": _simple_rnn}[kind]
            sequence = run(projected, recurrent, recurrent_bias, units, keep_sequence=not last)
        logits = sequence @ self.output_kernel + self.output_bias
        logits -= logits.max(axis=-1, keepdims=True)
        exponentials = np.exp(logits)
        return exponentials / exponentials.sum(axis=-1, keepdims=True)


def _lstm(projected, recurrent, recurrent_bias, units, keep_sequence):
    """Keras LSTM, gate order input, forget, cell, output; returns h_T or all h_t."""
    batch, steps, _ = projected.shape
    hidden, cell = np.zeros((batch, units), np.float32), np.zeros((batch, units), np.float32)
    outputs = []
    for step in range(steps):
        gates = projected[:, step] + hidden @ recurrent
        sigmoid = _sigmoid(gates)  # all four at once; the cell slice is replaced by tanh
        cell = sigmoid[:, units:2 * units] * cell + sigmoid[:, :units] * np.tanh(
            gates[:, 2 * units:3 * units])
        hidden = sigmoid[:, 3 * units:] * np.tanh(cell)
        outputs.append(hidden)
    return np.stack(outputs, axis=1) if keep_sequence else hidden


def _gru(projected, recurrent, recurrent_bias, units, keep_sequence):
    """Keras GRU (reset_after=True), gate order update, reset, candidate."""
    batch, steps, _ = projected.shape
    hidden = np.zeros((batch, units), np.float32)
    outputs = []
    for step in range(steps):
        inputs_part = projected[:, step]
        recurrent_part = hidden @ recurrent + recurrent_bias
        gates = _sigmoid(inputs_part[:, :2 * units] + recurrent_part[:, :2 * units])
        update, reset = gates[:, :units], gates[:, units:]
        candidate = np.tanh(inputs_part[:, 2 * units:] + reset * recurrent_part[:, 2 * units:])
        hidden = update * hidden + (1 - update) * candidate
        outputs.append(hidden)
    return np.stack(outputs, axis=1) if keep_sequence else hidden


def _simple_rnn(projected, recurrent, recurrent_bias, units, keep_sequence):
    batch, steps, _ = projected.shape
    hidden = np.zeros((batch, units), np.float32)
    outputs = []
    for step in range(steps):
        hidden = np.tanh(projected[:, step] + hidden @ recurrent)
        outputs.append(hidden)
    return np.stack(outputs, axis=1) if keep_sequence else hidden


def generate(numpy_model, seed_indices, length, maxlen, rng, method="temperature",
             temperature=1.0, top_k=None, top_p=None, on_index=None):
    """Generate ``length`` indices after ``seed_indices`` (already ``maxlen`` long).

    As in the course, each new character is predicted from the last ``maxlen``
    characters, starting from a zero state, exactly as the model was trained.
    """
    sampling.check(method, temperature, top_k, top_p)
    window = list(seed_indices[-maxlen:])
    if len(window) != maxlen:
        raise ValueError(f"the seed must be {maxlen} characters long after padding")
    generated = []
    for _ in range(length):
        probabilities = numpy_model.probabilities(np.array([window]))[0]
        index = sampling.sample(probabilities, rng, method, temperature, top_k, top_p)
        generated.append(index)
        window = window[1:] + [index]
        if on_index is not None:
            on_index(index)
    return generated
