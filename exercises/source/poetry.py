# %% [markdown]
# # Exercise: the poetry lab's character LSTM, step by step
#
# You will write the pieces of the course's character-level generator that `labs/poetry`
# runs on Leopardi's *Canti* and on Nietzsche: the windows of text and their next
# characters, their one-hot tensors, the course's LSTM, the course's sampler with a
# temperature, the generation loop, and the units a language model is measured in. Each
# function has a check right below it that compares it with the course's code
# (`labs/course.py`) on other inputs and says what is wrong. When you grade the notebook,
# more checks run.
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

import keras
import numpy as np
from keras import layers

# %% [markdown]
# ## 1. Windows and next characters
# The course cuts the text into windows of `maxlen` characters, one starting every `step`
# characters (`i = 0, step, 2 * step, …` while `i < len(text) - maxlen`); the character
# right after each window is what the model must predict. Return the list of windows
# (`sentences`) and the list of their next characters.

# %% solution="windows"
def make_windows(text, maxlen, step):
    """(sentences, next_chars): every window of ``maxlen`` characters, ``step`` apart."""
    ### BEGIN SOLUTION
    sentences, next_chars = [], []
    for start in range(0, len(text) - maxlen, step):
        sentences.append(text[start:start + maxlen])
        next_chars.append(text[start + maxlen])
    return sentences, next_chars
    ### END SOLUTION


# %% check="windows" points=1
checks.check_windows(make_windows)
### BEGIN HIDDEN TESTS
checks.check_windows(make_windows, cases=((1, 1), (20, 7), (60, 5)))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. One-hot tensors
# `chars` is the sorted list of the text's distinct characters. Build the boolean arrays
# `x` of shape `(len(sentences), maxlen, len(chars))`, with `x[i, t, index of
# sentences[i][t]] = True`, and `y` of shape `(len(sentences), len(chars))`, with `y[i,
# index of next_chars[i]] = True`.

# %% solution="one_hot"
def one_hot_encode(sentences, next_chars, chars):
    """(x, y): boolean one-hot windows and next characters."""
    ### BEGIN SOLUTION
    char_indices = {character: index for index, character in enumerate(chars)}
    maxlen = len(sentences[0]) if sentences else 0
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
    y = np.zeros((len(sentences), len(chars)), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, character in enumerate(sentence):
            x[i, t, char_indices[character]] = True
        y[i, char_indices[next_chars[i]]] = True
    return x, y
    ### END SOLUTION


# %% check="one_hot" points=1
checks.check_one_hot(one_hot_encode)
### BEGIN HIDDEN TESTS
checks.check_one_hot(one_hot_encode, cases=((1, 1), (30, 4)))
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The course's network
# A `keras.Sequential` model: an input of shape `(maxlen, vocabulary_size)`, one
# `layers.LSTM(128)`, and a `layers.Dense(vocabulary_size)` with a softmax; compiled with
# the categorical cross-entropy and `keras.optimizers.RMSprop(learning_rate=0.01)`.

# %% solution="model"
def build_char_lstm(maxlen, vocabulary_size):
    """The course's char-LSTM, compiled."""
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(maxlen, vocabulary_size)),
        layers.LSTM(128),
        layers.Dense(vocabulary_size, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy",
                  optimizer=keras.optimizers.RMSprop(learning_rate=0.01))
    return model
    ### END SOLUTION


# %% check="model" points=2
checks.check_char_lstm(build_char_lstm)
### BEGIN HIDDEN TESTS
checks.check_char_lstm(build_char_lstm, cases=((1, 2), (60, 80)))
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Sampling with a temperature
# The model gives probabilities `preds`. Reweight them **in log space**: `log(preds) /
# temperature`, exponentiate and normalise (below 1 the likely characters get likelier,
# above 1 the choice gets freer). Then draw one index with `random_state.multinomial(1,
# preds, 1)` and return its `argmax`. (Dividing the probabilities themselves by the
# temperature changes nothing once they are normalised again: the temperature must act
# before the softmax, on the logarithms.)

# %% solution="sample"
def sample(preds, temperature=1.0, random_state=np.random):
    """One index drawn from ``preds`` reweighted by ``temperature``."""
    ### BEGIN SOLUTION
    preds = np.log(np.asarray(preds, dtype=np.float64)) / temperature
    preds = np.exp(preds) / np.sum(np.exp(preds))
    return int(np.argmax(random_state.multinomial(1, preds, 1)))
    ### END SOLUTION


# %% check="sample" points=2
checks.check_sample_preds(sample)
### BEGIN HIDDEN TESTS
checks.check_sample_preds(sample,
                          seeds=checks.hidden_seeds("sample", 2), temperatures=(0.5, 0.9, 3.0))
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Generating text
# Seed NumPy's global generator with `np.random.seed(seed)`; then, `length` times: one-hot
# the current window (`1, maxlen, len(chars)`), `model.predict(x, verbose=0)[0]`, draw the
# next character with your `sample(preds, temperature)`, append it to the output, and slide
# the window by one character. Return the generated characters (not the seed window).

# %% solution="generate"
def generate_text(model, sentence, chars, maxlen, length, temperature, seed):
    """``length`` characters written after the window ``sentence``."""
    ### BEGIN SOLUTION
    char_indices = {character: index for index, character in enumerate(chars)}
    np.random.seed(seed)
    generated = ""
    for _ in range(length):
        x = np.zeros((1, maxlen, len(chars)))
        for t, character in enumerate(sentence):
            x[0, t, char_indices[character]] = 1.0
        preds = model.predict(x, verbose=0)[0]
        next_char = chars[sample(preds, temperature)]
        sentence = sentence[1:] + next_char
        generated += next_char
    return generated
    ### END SOLUTION


# %% check="generate" points=2
checks.check_generate(generate_text)
### BEGIN HIDDEN TESTS
checks.check_generate(generate_text, seeds=checks.hidden_seeds("generate", 2), length=50)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Nats, bits and perplexity
# Keras reports the cross-entropy in nats (natural logarithms). The lab's reports also give
# it in bits per character (divide by `ln 2`) and as a perplexity (`exp` of the nats: the
# number of equally likely characters that would leave the model as unsure).

# %% solution="units"
def nats_to_bits(nats):
    """A loss in nats as bits."""
    ### BEGIN SOLUTION
    return nats / math.log(2)
    ### END SOLUTION


def perplexity(nats):
    """The perplexity of a mean cross-entropy in nats."""
    ### BEGIN SOLUTION
    return math.exp(nats)
    ### END SOLUTION


# %% check="units" points=1
checks.check_units(nats_to_bits, perplexity)
### BEGIN HIDDEN TESTS
checks.check_units(nats_to_bits, perplexity, values=(0.1, 3.0, 4.5))
### END HIDDEN TESTS

# %% [markdown]
# ## Try it
# Your pieces on the opening of Leopardi's *Canti*: one short epoch, then a few characters.
# (Not graded. `make poetry` trains the lab's model on the whole book.)

# %%
from labs import data

canti = data.locate("leopardi.txt", Path(ROOT) / "datasets").read_text(encoding="utf-8")[:4000]
chars = sorted(set(canti))
sentences, next_chars = make_windows(canti, 40, 3)
x, y = one_hot_encode(sentences, next_chars, chars)
model = build_char_lstm(40, len(chars))
loss = model.fit(x, y, batch_size=128, epochs=1, verbose=0).history["loss"][-1]
print(f"{len(sentences)} windows, loss {loss:.2f} nats = {nats_to_bits(loss):.2f} bits per "
      f"character, perplexity {perplexity(loss):.1f}")
print(generate_text(model, canti[:40], chars, 40, 40, 0.5, seed=0))
