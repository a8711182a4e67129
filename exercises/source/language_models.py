# %% [markdown]
# # Exercise: measuring and steering a language model
#
# The word-level lab (`labs/words/`) and the GPT-2 lab (`labs/gpt2`) measure their models
# on held-out text and steer what they write. You will write those measures and controls:
# perplexity from the log-probabilities a model gives each token, bits per character (the
# scale on which a word model, a subword model and a character model compare), top-k and
# top-p filtering, and the ban on repeated N-grams. Each function has a check right below
# it that compares it with the lab's own and says what is wrong; when you grade the
# notebook, more checks run. The last cell tries your functions on a small GPT-2 built
# offline (random weights: it measures, it does not write well).
#
# Replace every `# TODO` and `raise NotImplementedError()` with your code; keep the names
# and signatures.

# %% [markdown]
# ## Set-up
# Run this cell first (in a clone of the repository, or on Colab, which fetches it).

# %% locked=true
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = "https://github.com/rnn-labs/rnn-labs"
if "google.colab" in sys.modules and "RNN_LABS_ROOT" not in os.environ:
    if not Path("rnn-labs").is_dir():
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", REPOSITORY], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r",
                    "rnn-labs/requirements-colab.txt"], check=True)
    os.environ["RNN_LABS_ROOT"] = str(Path("rnn-labs").resolve())
ROOT = os.environ.get("RNN_LABS_ROOT") or next(
    (str(folder) for folder in [Path.cwd(), *Path.cwd().parents]
     if (folder / "exercises" / "checks.py").is_file()), None)
if ROOT is None:
    raise RuntimeError("open this notebook inside a clone of rnn-labs, or set RNN_LABS_ROOT")
sys.path.insert(0, ROOT)

from exercises import checks  # first: it quiets TensorFlow's start-up messages

import math

import numpy as np

# %% [markdown]
# ## 1. Perplexity
# A language model gives each true next token a probability `p_i`. Its cross-entropy is
# the mean of `-log p_i` (nats per token), and its perplexity is the exponential of that:
# the number of equally likely tokens that would leave the model as unsure. Compute it
# from the log-probabilities (natural logarithms).

# %% solution="perplexity"
def perplexity_from_log_probabilities(log_probabilities):
    """exp of the mean negative log-probability."""
    ### BEGIN SOLUTION
    return float(np.exp(-np.mean(log_probabilities)))
    ### END SOLUTION


# %% check="perplexity" points=1
checks.check_token_perplexity(perplexity_from_log_probabilities)
### BEGIN HIDDEN TESTS
checks.check_token_perplexity(perplexity_from_log_probabilities,
                              seeds=checks.hidden_seeds("perplexity", 3))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Bits per character
# Perplexities of models with different tokens do not compare: a word is harder to guess
# than a character. Bits per character do: the text's total negative log-likelihood
# (the sum over its tokens, in nats), in bits (divide by `ln 2`), over the number of
# characters of the text.

# %% solution="bits_per_character"
def bits_per_character(log_probabilities, text):
    """The text's negative log-likelihood in bits per character."""
    ### BEGIN SOLUTION
    return -float(np.sum(log_probabilities)) / math.log(2) / len(text)
    ### END SOLUTION


# %% check="bits_per_character" points=1
checks.check_bits_per_character(bits_per_character)
### BEGIN HIDDEN TESTS
checks.check_bits_per_character(bits_per_character,
                                seeds=checks.hidden_seeds("bits_per_character", 3))
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Top-k
# Keep the `k` most probable tokens, set the others to 0, and renormalise so the kept ones
# sum to 1. Sampling then never picks one of the long tail's unlikely tokens.

# %% solution="top_k"
def top_k_filter(probabilities, k):
    """The distribution restricted to its ``k`` most probable tokens."""
    ### BEGIN SOLUTION
    keep = np.argsort(-probabilities, kind="stable")[:k]
    filtered = np.zeros_like(probabilities)
    filtered[keep] = probabilities[keep]
    return filtered / filtered.sum()
    ### END SOLUTION


# %% check="top_k" points=1
checks.check_top_k(top_k_filter)
### BEGIN HIDDEN TESTS
checks.check_top_k(top_k_filter, seeds=checks.hidden_seeds("top_k", 2), ks=(2, 12))
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Top-p (nucleus)
# Sort the tokens from the most probable, and keep the smallest set whose probabilities
# reach `p`: every token until the running sum reaches `p`, **the one that crosses `p`
# included** (so the most probable token always stays). Zero the rest and renormalise.
# Unlike top-k, the number of kept tokens follows the model's certainty.

# %% solution="top_p"
def top_p_filter(probabilities, p):
    """The distribution restricted to the smallest set of tokens reaching ``p``."""
    ### BEGIN SOLUTION
    order = np.argsort(-probabilities, kind="stable")
    cumulative = np.cumsum(probabilities[order])
    count = int(np.searchsorted(cumulative, p - 1e-12)) + 1
    filtered = np.zeros_like(probabilities)
    filtered[order[:count]] = probabilities[order[:count]]
    return filtered / filtered.sum()
    ### END SOLUTION


# %% check="top_p" points=2
checks.check_top_p(top_p_filter)
### BEGIN HIDDEN TESTS
checks.check_top_p(top_p_filter, seeds=checks.hidden_seeds("top_p", 2), ps=(0.05, 0.3, 0.95))
### END HIDDEN TESTS

# %% [markdown]
# ## 5. No repeated N-grams
# Small models loop ("the the the", or a whole phrase again). The guard the GPT-2 lab uses:
# before choosing the next token, ban every token that would complete an N-gram already in
# the text. With `tokens` written so far, the candidate `t` is banned when the last `n - 1`
# tokens followed by `t` appear somewhere in `tokens` (for `n = 1`, every token already
# written is banned). Set a banned token's logit to `-1e9` (no softmax gives it any
# probability) and return the logits; the others stay as they are.

# %% solution="no_repeat"
def ban_repeated_ngrams(logits, tokens, n):
    """``logits`` with every token that would repeat an N-gram of ``tokens`` at -1e9."""
    ### BEGIN SOLUTION
    logits = np.array(logits, dtype=np.float64)
    tokens = list(tokens)
    if len(tokens) < n - 1:
        return logits
    prefix = tokens[len(tokens) - (n - 1):] if n > 1 else []
    for start in range(len(tokens) - n + 1):
        if tokens[start:start + n - 1] == prefix:
            logits[tokens[start + n - 1]] = -1e9
    return logits
    ### END SOLUTION


# %% check="no_repeat" points=2
checks.check_no_repeat(ban_repeated_ngrams)
### BEGIN HIDDEN TESTS
checks.check_no_repeat(ban_repeated_ngrams, seeds=checks.hidden_seeds("no_repeat", 3), sizes=(2, 4))
### END HIDDEN TESTS

# %% [markdown]
# ## Try it on a GPT-2
# A tiny GPT-2 (2 layers, GPT-2's own tokenizer, random weights) built offline as the
# GPT-2 lab's tests build it: your measures on a passage of Nietzsche next to the lab's,
# then twenty greedy tokens with and without your ban (random weights repeat tokens).
# (Not graded. `make gpt2` downloads the real 124M-parameter model and measures it on the
# held-out text.)

# %%
import tempfile

from labs import data
from labs.gpt2.evaluate import Scorer
from labs.gpt2.presets import build_test_preset, load_folder

folder = build_test_preset(Path(tempfile.mkdtemp()) / "tiny-gpt2", "", tokenizer="gpt2")
model, _ = load_folder(folder)
scorer = Scorer(model)
passage = data.locate("nietzsche.txt", Path(ROOT) / "datasets").read_text(
    encoding="utf-8")[20_000:21_000]
ids = [scorer.start, *scorer.encode(passage)]
log_probabilities = scorer.log_probabilities(ids)
lab = scorer.bits_per_character(passage)
mine = perplexity_from_log_probabilities(log_probabilities)
print(f"{len(ids) - 1} tokens: perplexity {mine:.0f} (the lab: {lab['perplexity']:.0f}), "
      f"{bits_per_character(log_probabilities, passage):.2f} bits per character (the lab: "
      f"{lab['bits_per_character']:.2f})")


def greedy(prompt, steps=20, ban=None):
    tokens = scorer.encode(prompt)
    for _ in range(steps):
        hidden = model.backbone({"token_ids": np.array([tokens]),
                                 "padding_mask": np.ones((1, len(tokens)), bool)})
        logits = np.asarray(model.backbone.token_embedding(hidden, reverse=True))[0, -1]
        if ban:
            logits = ban_repeated_ngrams(logits, tokens, ban)
        tokens.append(int(np.argmax(logits)))
    return model.preprocessor.tokenizer.detokenize(np.array(tokens))


print("greedy:                 ", greedy("Supposing that truth is a woman"))
print("no token twice (n = 1):", greedy("Supposing that truth is a woman", ban=1))
