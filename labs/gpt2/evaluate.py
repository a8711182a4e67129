"""Held-out bits per character: how a token model sits in the character models' table.

A character model's loss is nats per character; GPT-2's is nats per *token*, and a token
is 1 to 10 characters. What they share is the text: the negative log-likelihood of the
whole held-out text (summed over its tokens) divided by its number of characters, in bits,
is the number of bits per character either model needs to encode it. The text is read as
``[<|endoftext|>] + tokens``: every token is scored, the first from the start token alone.
A text longer than the model's context is read in windows of ``context`` tokens; each
window scores only the tokens no earlier window scored, with at least ``context - stride``
tokens before them (the standard sliding-window perplexity).
"""

import numpy as np
from keras import ops

from tqdm import tqdm

from labs import backends, measures
from labs.cli import LabError
from labs.gpt2.config import Scoring

PROGRESS_FROM = 5  # batches of windows: GPT-2 base scores the Nietzsche held-out in ~15


def score_windows(length, context, stride):
    """``(begin, end, first)`` per window over a sequence of ``length`` ids: the window reads
    ids[begin:end] and scores the positions first..end-1 (each position once)."""
    if not 0 < stride < context:
        raise LabError(f"--stride {stride} must be between 1 and the context ({context}) - 1")
    windows, scored = [], 0  # positions 1..scored have a score
    while scored < length - 1:
        end = min(scored + 1 + (context - 1 if scored == 0 else stride), length)
        windows.append((max(0, end - context), end, scored + 1))
        scored = end - 1
    return windows


class Scorer:
    """Log-probabilities of each next token under a ``GPT2CausalLM``."""

    def __init__(self, model, scoring=None):
        scoring = scoring or Scoring()
        self.model = model
        self.tokenizer = model.preprocessor.tokenizer
        self.start = int(self.tokenizer.end_token_id)
        limit = int(model.backbone.max_sequence_length)
        if scoring.context and scoring.context > limit:
            raise LabError(f"--context {scoring.context} is longer than the model's context of "
                           f"{limit} tokens; give at most {limit}")
        self.context = scoring.context or limit
        self.stride = scoring.stride or self.context // 2
        if not 0 < self.stride < self.context:
            raise LabError(f"--stride {self.stride} must be smaller than the context "
                           f"({self.context} tokens)")
        self.batch_size = scoring.batch_size
        self.window_log_probabilities = backends.compiled(self._window_log_probabilities,
                                                          model)

    def _window_log_probabilities(self, token_ids, padding_mask):
        backbone = self.model.backbone
        hidden = backbone({"token_ids": token_ids, "padding_mask": padding_mask})
        logits = ops.cast(backbone.token_embedding(hidden, reverse=True), "float32")
        log_probabilities = ops.log_softmax(logits[:, :-1], axis=-1)
        return ops.take_along_axis(log_probabilities, token_ids[:, 1:, None], axis=-1)[..., 0]

    def encode(self, text):
        return [int(number) for number in np.asarray(self.tokenizer(text)).ravel()]

    def log_probabilities(self, ids):
        """log p(ids[i] | ids[:i], at most ``context`` back) for i = 1..len(ids)-1."""
        windows = score_windows(len(ids), self.context, self.stride)
        result = np.zeros(len(ids) - 1)
        batches = range(0, len(windows), self.batch_size)
        for first_window in tqdm(batches, desc="scoring", unit="batch", leave=False,
                                 disable=len(batches) < PROGRESS_FROM):
            batch = windows[first_window:first_window + self.batch_size]
            width = max(end - begin for begin, end, _ in batch)
            token_ids = np.zeros((len(batch), width), "int32")
            padding_mask = np.zeros((len(batch), width), bool)
            for row, (begin, end, _) in enumerate(batch):
                token_ids[row, :end - begin] = ids[begin:end]
                padding_mask[row, :end - begin] = True
            scores = ops.convert_to_numpy(self.window_log_probabilities(token_ids, padding_mask))
            for row, (begin, end, first) in enumerate(batch):
                # scores[row, j] is log p(ids[begin + j + 1]); keep positions first..end-1.
                result[first - 1:end - 1] = scores[row, first - begin - 1:end - begin - 1]
        return result

    def bits_per_character(self, text):
        """The text's negative log-likelihood in bits over its characters, and its parts."""
        if not text:
            raise LabError("no text to score")
        tokens = self.encode(text)
        log_probabilities = self.log_probabilities([self.start, *tokens])
        nats = -float(log_probabilities.sum())
        return {"bits_per_character": measures.bits_per_character(nats, len(text)),
                "nats_per_token": nats / len(tokens),
                "perplexity": measures.perplexity(nats / len(tokens)), "tokens": len(tokens),
                "characters": len(text), "characters_per_token": len(text) / len(tokens),
                "context": self.context, "stride": self.stride}
