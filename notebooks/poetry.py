# %% [markdown]
# # Poetry generator: a character-level LSTM learns to write like Leopardi
#
# This notebook runs the lab of `labs/poetry` (generated from `notebooks/poetry.py` by
# `make notebooks`: edit that file, not this notebook). The course's network reads windows
# of characters, one-hot encoded, and learns to predict the next character; the last 10% of
# the text is held out to measure it (loss in nats and bits per character), and the trained
# model writes new text at several sampling temperatures.
#
# The code lives in the repository: `labs/poetry/lab.py` tells the story in `train_command`
# (corpus → vocabulary → held-out split → windows → model → fit → save → report).

# %% [markdown]
# ## Setup
# On Colab this cell fetches the repository and the requirements it needs beyond Colab's own
# TensorFlow; in a clone of the repository (after `make venv`, with the `.venv` kernel) it
# only moves to the repository's root.

# %%
import os
import sys

REPOSITORY = "https://github.com/rnn-labs/rnn-labs"
if "google.colab" in sys.modules and not os.path.isdir("labs"):
    if not os.path.isdir("rnn-labs"):
        !git clone --quiet --depth 1 {REPOSITORY}
    %cd rnn-labs
    !pip install --quiet -r requirements-colab.txt
elif not os.path.isdir("labs"):
    os.chdir("..")  # in a clone: the notebooks folder's parent holds the labs

# %% tags=["parameters"]
QUICK = True  # False: the whole corpus until early stopping (about 5 minutes for Leopardi)
CORPUS = "leopardi"  # or "nietzsche" (English, lowercased; about 12 minutes)
OUTPUT = "."  # reports/ and models/ are written under this folder

# %% [markdown]
# ## Train
# `QUICK = True` trains one epoch on the first 30,000 characters: the text it writes is
# still noise, but every step runs. Each epoch prints its held-out loss.

# %%
from IPython.display import Image, Markdown, display

from labs.poetry import cli

folders = ["--reports-dir", f"{OUTPUT}/reports", "--models-dir", f"{OUTPUT}/models"]
metrics = cli.main(["train", "--corpus", CORPUS, *folders] + (["--quick"] if QUICK else []))

# %% [markdown]
# ## What it learned
# Held-out loss per epoch (the best epoch's weights are kept), then the samples: one seed
# from the held-out text, one continuation per sampling method, and the samples written
# during training.

# %%
run_id = metrics["run"]  # the run trained above, not the last full one
report = f"{OUTPUT}/reports/poetry/{CORPUS}/runs/{run_id}"
display(Image(f"{report}/history.png"))
display(Markdown(open(f"{report}/samples.md", encoding="utf-8").read()))

# %% [markdown]
# ## Generate without retraining
# The saved model writes from any beginning you give it; lower temperatures are safer,
# higher ones more inventive.

# %%
cli.main(["generate", "--corpus", CORPUS, "--models-dir", f"{OUTPUT}/models", "--run", run_id,
          "--temperature", "0.5", "--length", "300"])
