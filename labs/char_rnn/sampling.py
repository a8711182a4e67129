"""Generation: one step of the network at a time, the hidden state carried along, each
character drawn with a ``labs.sampling`` method."""

import numpy as np

from labs.char_rnn.model import softmax
from labs.cli import LabError
from labs.sampling import Sampler


def step_probabilities(params, index, h):
    h = np.tanh(params["embedding"][index] @ params["W_xh"] + h @ params["W_hh"] + params["b_h"])
    return softmax(h @ params["W_hy"] + params["b_y"]), h


def generate_text(params, start_character, char_to_index, characters, length, rng,
                  method="temperature", temperature=1.0, top_k=None, top_p=None, state=None):
    """Generate ``length`` characters after ``start_character``, the state carried along
    from ``state`` (None: zeros). During training, min-char-rnn's way: from the state
    training is in, since a briefly trained model started from zeros can fall into a state
    it never met and write only rare characters."""
    if start_character not in char_to_index:
        raise LabError(f"start character {start_character!r} is not in the vocabulary")
    sampler = Sampler(method, temperature, top_k, top_p)
    h = np.zeros(params["W_hh"].shape[0]) if state is None else np.array(state, dtype=float)
    index = char_to_index[start_character]
    output = []
    for _ in range(length):
        probabilities, h = step_probabilities(params, index, h)
        index = sampler.draw(probabilities, rng)
        output.append(characters[index])
    return "".join(output)
