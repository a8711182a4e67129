"""Every setting of the GPT-2 lab, with its default and the reason for it."""

from dataclasses import dataclass

from labs import sampling

DEFAULT_PRESET = "gpt2_base_en"  # 124M parameters, ~0.5 GB of float32 weights
METHODS = (*sampling.METHODS, "beam")  # the labs' methods, and keras-hub's beam search
# Smoke runs (--quick): the first characters of each text part, at most a minute and 20
# fine-tuning steps (GPT-2 base on 2 cores: 30 s to compile, then 2.7 s a step, make
# bench-gpt2; the tests' tiny GPT-2: 2 s).
QUICK = {"characters": 5_000, "budget_minutes": 1.0, "max_steps": 20}


@dataclass(frozen=True)
class Generation:
    """How ``generate`` and ``chat`` continue a prompt."""
    max_new_tokens: int = 60
    num_return_sequences: int = 1
    method: str = "top-k"  # the keras-hub default; greedy loops, as the RNN labs show
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 0.9
    beams: int = 4
    no_repeat_ngram: int = 0  # 0: off; N: no N-gram of tokens appears twice (prompt included)
    seed: int = 42


@dataclass(frozen=True)
class Scoring:
    """How ``evaluate`` reads a long text with a model of limited context: windows of
    ``context`` tokens, each scoring the tokens the previous windows did not, with at least
    ``context - stride`` tokens of context before them (None: the model's whole context, and
    half of it)."""
    context: int = None
    stride: int = None
    batch_size: int = 2  # windows per forward pass; GPT-2 base: ~0.2 GB of logits each


@dataclass(frozen=True)
class FineTuning:
    """``finetune``: short sequences and a small learning rate, as GPT-2 fine-tuning on a
    CPU allows (2.7 s a step at 4 × 128 tokens for GPT-2 base on 2 cores: make bench-gpt2)."""
    sequence_length: int = 128
    batch_size: int = 4
    learning_rate: float = 5e-5  # AdamW; larger rates wreck a pretrained model's weights
    budget_minutes: float = 10.0  # of training steps; the evaluations are not counted
    max_steps: int = None  # None: until the budget ends
    eval_every: int = 25  # steps between validation scores (and checkpoints)
    seed: int = 42


# The comparison samples every model from the same prompt at this temperature (the
# character models' comparison samples at 0.5 and 1.0; 0.5 reads best for all of them).
COMPARISON_TEMPERATURE = 0.5
COMPARISON_TOKENS = 50
