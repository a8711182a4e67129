"""Sampling methods for language models: greedy, temperature, top-k and top-p.

Each method turns a model's next-token distribution ``p`` into the distribution that is
actually sampled from, so the methods can be tested against hand-computed numbers and
shared by every lab. Temperature is the lesson's formula
``q_i = exp(log p_i / T) / Σ_j exp(log p_j / T)``: T < 1 sharpens, T > 1 flattens.
"""

import numpy as np

from labs.cli import LabError

METHODS = ("greedy", "temperature", "top-k", "top-p")


def check(method="temperature", temperature=1.0, top_k=None, top_p=None):
    """Raise ``LabError`` (a ``ValueError``) for options that have no meaning."""
    if method not in METHODS:
        raise LabError(f"unknown sampling method {method!r}; choose from {', '.join(METHODS)}")
    if not 0 < temperature < float("inf"):
        raise LabError(f"temperature must be > 0, got {temperature}")
    if method == "top-k" and (top_k is None or int(top_k) != top_k or top_k < 1):
        raise LabError(f"top-k needs an integer k >= 1, got {top_k}")
    if method == "top-p" and (top_p is None or not 0 < top_p <= 1):
        raise LabError(f"top-p needs p in (0, 1], got {top_p}")


def apply_temperature(probabilities, temperature):
    """The lesson's reweighting, computed as the course computes it.

    ``np.random.multinomial`` is sensitive to the last bit of its probabilities, so the
    course's exact arithmetic is kept: the same random generator then draws the same
    characters. If every weight underflows (T tiny) the log-sum-exp form is used, and if
    even ``log p / T`` overflows (T around 1e-300) the result is its limit, greedy.
    """
    if not temperature > 0:
        raise LabError(f"temperature must be > 0, got {temperature}")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    with np.errstate(divide="ignore", under="ignore", over="ignore", invalid="ignore"):
        logits = np.log(probabilities) / temperature
        weights = np.exp(logits)
        total = weights.sum(axis=-1, keepdims=True)
        if not np.all(total > 0):
            weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
            total = weights.sum(axis=-1, keepdims=True)
        result = weights / total
    if np.all(np.isfinite(result)):
        return result
    greedy = (probabilities == probabilities.max(axis=-1, keepdims=True)).astype(np.float64)
    return greedy / greedy.sum(axis=-1, keepdims=True)


class Sampler:
    """One sampling method with its options, checked once (not once per generated token).

    ``Sampler("top-k", top_k=5).draw(probabilities, rng)`` draws one index;
    ``.distribution(probabilities)`` is what it draws from.
    """

    def __init__(self, method="temperature", temperature=1.0, top_k=None, top_p=None):
        check(method, temperature, top_k, top_p)
        self.method, self.temperature, self.top_k, self.top_p = method, temperature, top_k, top_p

    def distribution(self, probabilities):
        """The distribution that the method samples from (a one-hot vector for greedy).

        top-k keeps the k most probable tokens, top-p the smallest set whose probability
        reaches p (the most probable token always stays); both renormalise and then apply
        the temperature.
        """
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if self.method == "greedy":
            result = np.zeros_like(probabilities)
            result[np.argmax(probabilities)] = 1.0
            return result
        if self.method == "top-k":
            keep = np.argsort(-probabilities, kind="stable")[:int(self.top_k)]
            probabilities = _restrict(probabilities, keep)
        elif self.method == "top-p":
            order = np.argsort(-probabilities, kind="stable")
            cumulative = np.cumsum(probabilities[order]) / probabilities.sum()
            # Tokens needed to reach p; the tolerance keeps a token whose cumulative sum
            # equals p up to rounding from pulling in one more.
            count = int(np.searchsorted(cumulative, self.top_p - 1e-12)) + 1
            probabilities = _restrict(probabilities, order[:count])
        return apply_temperature(probabilities, self.temperature)

    def draw(self, probabilities, rng):
        """One index. ``rng`` is a ``np.random.RandomState``: the course's sampler draws
        with ``np.random.multinomial``, and the same generator gives the same text."""
        weights = self.distribution(probabilities)
        if self.method == "greedy":
            return int(np.argmax(weights))
        return int(np.argmax(rng.multinomial(1, weights, 1)))


def _restrict(probabilities, keep):
    restricted = np.zeros_like(probabilities)
    restricted[keep] = probabilities[keep]
    return restricted / restricted.sum()


def distribution(probabilities, method="temperature", temperature=1.0, top_k=None, top_p=None):
    """``Sampler(method, ...).distribution(probabilities)``, for one-off use."""
    return Sampler(method, temperature, top_k, top_p).distribution(probabilities)


def sample(probabilities, rng, method="temperature", temperature=1.0, top_k=None, top_p=None):
    """``Sampler(method, ...).draw(probabilities, rng)``, for one-off use."""
    return Sampler(method, temperature, top_k, top_p).draw(probabilities, rng)
