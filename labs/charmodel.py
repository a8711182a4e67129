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
    """Recurrent stack (LSTM, GRU or SimpleRNN layers) plus the softmax output layer."""

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
                weights = [np.asarray(weight, np.float64) for weight in layer.get_weights()]
                self.layers.append((kind, layer.units, weights))
            elif kind == "Dense":
                dense = [np.asarray(weight, np.float64) for weight in layer.get_weights()]
        if not self.layers or dense is None:
            raise ValueError("not a character model: needs recurrent layers and a Dense output")
        self.output_kernel, self.output_bias = dense

    def probabilities(self, windows):
        """Next-character distributions for a batch of index windows, shape (batch, T)."""
        windows = np.asarray(windows)
        batch, steps = windows.shape
        states = [self._initial_state(kind, units, batch) for kind, units, _ in self.layers]
        for step in range(steps):
            inputs = None
            for number, (kind, units, weights) in enumerate(self.layers):
                kernel = weights[0]
                projected = kernel[windows[:, step]] if number == 0 else inputs @ kernel
                states[number] = self._step(kind, units, weights, projected, states[number])
                inputs = states[number][0]
        logits = inputs @ self.output_kernel + self.output_bias
        logits -= logits.max(axis=-1, keepdims=True)
        exponentials = np.exp(logits)
        return exponentials / exponentials.sum(axis=-1, keepdims=True)

    @staticmethod
    def _initial_state(kind, units, batch):
        hidden = np.zeros((batch, units))
        return (hidden, np.zeros((batch, units))) if kind == "LSTM" else (hidden,)

    @staticmethod
    def _step(kind, units, weights, projected, state):
        """One time step; ``projected`` is the input already multiplied by the kernel."""
        if kind == "LSTM":  # Keras gate order: input, forget, cell, output
            _, recurrent, bias = weights
            hidden, cell = state
            gates = projected + hidden @ recurrent + bias
            input_gate = _sigmoid(gates[:, :units])
            forget_gate = _sigmoid(gates[:, units:2 * units])
            candidate = np.tanh(gates[:, 2 * units:3 * units])
            output_gate = _sigmoid(gates[:, 3 * units:])
            cell = forget_gate * cell + input_gate * candidate
            return (output_gate * np.tanh(cell), cell)
        if kind == "GRU":  # Keras gate order: update, reset, candidate; reset_after=True
            _, recurrent, bias = weights
            (hidden,) = state
            inputs_part = projected + bias[0]
            recurrent_part = hidden @ recurrent + bias[1]
            update = _sigmoid(inputs_part[:, :units] + recurrent_part[:, :units])
            reset = _sigmoid(inputs_part[:, units:2 * units] + recurrent_part[:, units:2 * units])
            candidate = np.tanh(inputs_part[:, 2 * units:] + reset * recurrent_part[:, 2 * units:])
            return (update * hidden + (1 - update) * candidate,)
        _, recurrent, bias = weights  # SimpleRNN
        (hidden,) = state
        return (np.tanh(projected + hidden @ recurrent + bias),)


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
