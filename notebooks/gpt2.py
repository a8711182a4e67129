# %% [markdown]
# # GPT-2 beside the RNNs: generate, chat, measure, fine-tune
#
# This notebook runs the lab of `labs/gpt2` (generated from `notebooks/gpt2.py` by
# `make notebooks`: edit that file, not this notebook). A pretrained transformer,
# keras-hub's `GPT2CausalLM`, continues prompts and keeps a conversation going; then it is
# measured on exactly the text the poetry lab holds out (the last 10% of Nietzsche), in bits
# per character, the measure the character models report, before and after fine-tuning.
#
# GPT-2 base is a download of about 0.5 GB (124M parameters), fetched once: on Colab this
# takes a minute. In the repository's tests the notebook runs on a tiny random GPT-2 built
# offline (`python -m labs.gpt2 tiny-preset DIR`), whose text is noise.

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
PRESET = "gpt2_base_en"  # a keras-hub preset name, a preset folder, or an hf:// handle
CORPUS = "nietzsche"  # or "leopardi" (Italian: GPT-2 base knows little of it)
QUICK = True  # False: the whole held-out text and a 10-minute fine-tuning (a GPU helps)
OUTPUT = "."  # reports/ and models/ are written under this folder

# %% [markdown]
# ## Generate
# The course's recipe: a prompt, a sampling method, and no repeated bigram
# (`--no-repeat-ngram 2`, the course's `no_repeat_ngram_size=2`). The first call compiles
# the generation loop; the speed is printed after each prompt.

# %%
from pathlib import Path

from IPython.display import Markdown, display

from labs.gpt2 import cli

models = ["--models-dir", f"{OUTPUT}/models"]
folders = ["--reports-dir", f"{OUTPUT}/reports", *models]
quick = ["--quick"] if QUICK else []
cli.main(["generate", "--preset", PRESET, *models, "--prompt", "The philosopher is",
          "--num-return-sequences", "2", "--method", "top-p", "--no-repeat-ngram", "2"])

# %% [markdown]
# ## Chat
# Each line is appended to the dialogue history, and the history (cut from the left to the
# model's context) is what the model continues. Here the lines are scripted; on a terminal,
# `python -m labs.gpt2 chat` reads them from you.

# %%
from labs.gpt2 import generate, lab

args = cli.settings_from(cli.parser().parse_args(["chat", "--preset", PRESET, *models]))
model, _ = lab.load_model(args)
conversation = generate.chat_command(args, model, ["Hello, who are you?",
                                                   "What do you think of philosophers?"])
print(conversation.history)

# %% [markdown]
# ## Bits per character on the poetry lab's held-out text
# The total negative log-likelihood of the held-out text over its characters: the number
# the character models of `make poetry-compare` report, so the models sit in one table.

# %%
zero_shot = cli.main(["evaluate", "--preset", PRESET, "--corpus", CORPUS, *folders, *quick])

# %% [markdown]
# ## Fine-tune
# On the first 85% of the text, for a time budget; the next 5% chooses the checkpoint, and
# the held-out 10% is scored once, at the end.

# %%
tuned = cli.main(["finetune", "--preset", PRESET, "--corpus", CORPUS, *folders, *quick])
report = f"{OUTPUT}/reports/gpt2/{CORPUS}/finetune/runs/{tuned['run']}/report.md"
display(Markdown(open(report, encoding="utf-8").read()))

# %% [markdown]
# ## Every model on the same text
# The comparison reads the runs of every lab on this corpus (the character models of
# `make poetry-compare`, the word models of `make words`); the ones not run here say how to
# run them.

# %%
cli.main(["compare", "--corpus", CORPUS, "--reports-dir", f"{OUTPUT}/reports", *quick])
comparison = sorted(Path(OUTPUT, "reports", "gpt2", CORPUS, "compare", "runs").glob("*/compare.md"))[-1]
display(Markdown(comparison.read_text(encoding="utf-8")))
