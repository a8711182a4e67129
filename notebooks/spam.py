# %% [markdown]
# # SMS spam detector: which recurrent network reads a text message best?
#
# This notebook runs the lab of `labs/spam` (generated from `notebooks/spam.py` by
# `make notebooks`: edit that file, not this notebook). The lab turns each SMS of the UCI
# SMS Spam Collection into spaCy token vectors, trains SimpleRNN, LSTM, GRU, their
# Bidirectional versions and a small Transformer on the same folds; beside them, four neural
# models that learn their input from the text itself (learned words, characters, a
# fastText-style bag of n-grams, an MLP on TF-IDF features); and compares them all with
# TF-IDF baselines tuned on the training part only, with a 95% interval for every score.
#
# The code lives in the repository, not here: `labs/spam/lab.py` tells the whole story in
# `train_command` (load → folds → token vectors → every model on every fold → baselines →
# compare). Read it beside this notebook.

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
QUICK = True  # False: the whole lab, 5 folds (about 30 minutes on a 2-core CPU)
OUTPUT = "."  # reports/ and models/ are written under this folder
VARIANTS = None  # None: every default model; or a list of names, e.g. ["gru", "words-gru"]

# %% [markdown]
# ## Train and compare
# `QUICK = True` is a smoke run (1,000 messages, 2 folds, 3 epochs): it shows every step in
# about two minutes, but its numbers mean little. The full run is the one to read.
# `VARIANTS` trains fewer models (the names are those of `python -m labs.spam train --help`).

# %%
from IPython.display import Image, Markdown, display

from labs.spam import cli

folders = ["--reports-dir", f"{OUTPUT}/reports", "--models-dir", f"{OUTPUT}/models"]
comparison = cli.main(["train", *folders] + (["--quick"] if QUICK else [])
                      + (["--variants", *VARIANTS] if VARIANTS else []))

# %% [markdown]
# ## The comparison
# The first lines say what the numbers allow you to conclude, down to which input closes the
# gap to the strongest baseline; the table has every model and baseline, the plot their
# intervals and training time.

# %%
run_id = comparison.attrs["run"]  # the run trained above, not the last full one
report = f"{OUTPUT}/reports/spam/runs/{run_id}"
display(Markdown(open(f"{report}/comparison.md", encoding="utf-8").read()
                 .replace("![comparison](comparison.png)", "")))
display(Image(f"{report}/comparison.png"))

# %% [markdown]
# ## The best neural model up close
# Its training history (first fold) and its confusion matrix (every fold's test part).

# %%
best = comparison[(comparison["kind"] != "baseline") & (comparison["status"] == "ok")].iloc[0]
name = f"{best['model']}_{best['inputs']}"
print(name)
display(Image(f"{report}/{name}/history.png"))
display(Image(f"{report}/{name}/confusion_matrix.png"))

# %% [markdown]
# ## Classify new messages
# `predict` loads a saved model (the first fold's) with the threshold it chose on its
# validation part.

# %%
cli.main(["predict", "--models-dir", f"{OUTPUT}/models", "--run", run_id, "--model", name,
          "WINNER!! You have won a £1000 prize, call 09061701461 now to claim",
          "Are we still meeting for lunch tomorrow?"])
