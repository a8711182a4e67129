"""The network, one function a step: characters as indices, an embedding lookup, a tanh RNN,
logits; the loss, backpropagation through time checked against numerical gradients,
clipping and Adagrad."""

import numpy as np

from labs.char_rnn.config import CLIP, PARAMETER_NAMES
from labs.cli import LabError


def index_characters(text):
    """char → index and index → char, over the sorted distinct characters of ``text``."""
    if not text:
        raise LabError("the text is empty: nothing to learn from")
    characters = sorted(set(text))
    char_to_index = {character: index for index, character in enumerate(characters)}
    return char_to_index, characters


def encode(text, char_to_index):
    unknown = sorted(set(text) - set(char_to_index))
    if unknown:
        raise LabError(f"characters outside the vocabulary: {' '.join(map(repr, unknown))}")
    return np.array([char_to_index[character] for character in text], dtype=np.int64)


def make_chunks(encoded, seq_length):
    """Consecutive chunks: inputs ``encoded[i:i+L]``, targets shifted by one character."""
    if seq_length < 1:
        raise LabError(f"seq_length must be at least 1, got {seq_length}")
    starts = range(0, len(encoded) - 1 - seq_length + 1, seq_length)
    return [(encoded[start:start + seq_length], encoded[start + 1:start + seq_length + 1])
            for start in starts]


def init_params(vocab_size, embed_dim, hidden_dim, rng):
    """Small random weights (0.01 scale as min-char-rnn), zero biases."""
    return {
        "embedding": rng.normal(0, 0.01, (vocab_size, embed_dim)),
        "W_xh": rng.normal(0, 0.01, (embed_dim, hidden_dim)),
        "W_hh": rng.normal(0, 0.01, (hidden_dim, hidden_dim)),
        "b_h": np.zeros(hidden_dim),
        "W_hy": rng.normal(0, 0.01, (hidden_dim, vocab_size)),
        "b_y": np.zeros(vocab_size),
    }


def softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def cross_entropy(probabilities, targets):
    """Average cross-entropy in nats per character: ``-mean(log p_t[target_t])``."""
    return -np.mean(np.log(probabilities[np.arange(len(targets)), targets]))


def forward(params, inputs, targets, h_prev):
    """Run the RNN over one sequence.

    h_t = tanh(E[x_t] W_xh + h_{t-1} W_hh + b_h), y_t = h_t W_hy + b_y. Returns the
    average cross-entropy (nats per character), the hidden states (h_0 … h_T, h_0 being
    ``h_prev``) and what backward needs.
    """
    steps = len(inputs)
    embedded = params["embedding"][inputs]                      # (T, E)
    hidden = np.zeros((steps + 1, len(h_prev)))
    hidden[0] = h_prev
    for t in range(steps):
        hidden[t + 1] = np.tanh(embedded[t] @ params["W_xh"] + hidden[t] @ params["W_hh"]
                                + params["b_h"])
    logits = hidden[1:] @ params["W_hy"] + params["b_y"]       # (T, V)
    probabilities = softmax(logits)
    loss = cross_entropy(probabilities, targets)
    cache = {"inputs": inputs, "targets": targets, "embedded": embedded, "hidden": hidden,
             "logits": logits, "probabilities": probabilities}
    return loss, hidden, cache


def backward(params, cache):
    """Backpropagation through time for the average loss that ``forward`` returned."""
    inputs, targets = cache["inputs"], cache["targets"]
    hidden, embedded = cache["hidden"], cache["embedded"]
    steps = len(inputs)
    d_logits = cache["probabilities"].copy()
    d_logits[np.arange(steps), targets] -= 1
    d_logits /= steps                                         # the loss is a mean
    grads = {"W_hy": hidden[1:].T @ d_logits, "b_y": d_logits.sum(axis=0)}
    d_hidden_from_output = d_logits @ params["W_hy"].T         # (T, H)
    grads.update({name: np.zeros_like(params[name])
                  for name in ("embedding", "W_xh", "W_hh", "b_h")})
    d_next = np.zeros(hidden.shape[1])
    for t in reversed(range(steps)):
        d_h = d_hidden_from_output[t] + d_next
        d_raw = (1 - hidden[t + 1] ** 2) * d_h                # through tanh
        grads["b_h"] += d_raw
        grads["W_xh"] += np.outer(embedded[t], d_raw)
        grads["W_hh"] += np.outer(hidden[t], d_raw)
        grads["embedding"][inputs[t]] += d_raw @ params["W_xh"].T
        d_next = d_raw @ params["W_hh"].T
    return grads


def numerical_gradient(params, inputs, targets, h_prev, name, step=1e-5):
    """The loss's gradient with respect to ``params[name]`` by central differences: slow,
    but independent of ``backward``, which is checked against it."""
    gradient = np.zeros_like(params[name])
    for index in np.ndindex(gradient.shape):
        saved = params[name][index]
        params[name][index] = saved + step
        plus = forward(params, inputs, targets, h_prev)[0]
        params[name][index] = saved - step
        minus = forward(params, inputs, targets, h_prev)[0]
        params[name][index] = saved
        gradient[index] = (plus - minus) / (2 * step)
    return gradient


def clip_gradients(grads, limit=CLIP):
    """Clip each gradient element to [-limit, limit] against exploding gradients."""
    return {name: np.clip(grad, -limit, limit) for name, grad in grads.items()}


def adagrad_step(params, grads, memory, learning_rate):
    """Adagrad: each parameter's step shrinks with its accumulated squared gradients."""
    for name in PARAMETER_NAMES:
        memory[name] += grads[name] ** 2
        params[name] -= learning_rate * grads[name] / np.sqrt(memory[name] + 1e-8)
