"""A language model's cross-entropy in the units the reports give: nats, bits, perplexity.

One definition for every lab (and for the exercises' checks): a loss in nats per token
becomes bits by dividing by ln 2, and perplexity is its exponential, the number of equally
likely tokens that would leave the model as uncertain. Bits per *character* divide a
text's total by its characters, so a word model and a character model compare on one scale.
"""

import math


def bits(nats):
    """Nats → bits: ``nats / ln 2``."""
    return nats / math.log(2)


def perplexity(nats_per_token):
    """``exp`` of the mean cross-entropy in nats per token."""
    return math.exp(nats_per_token)


def bits_per_character(total_nats, characters):
    """A text's negative log-likelihood (nats, summed over its tokens) in bits per
    character of the text."""
    if characters < 1:
        raise ValueError(f"bits per character need at least one character, got {characters}")
    return bits(total_nats) / characters
