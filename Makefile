# rnn-labs: every target creates .venv and installs the pinned requirements on first use.
# The first supported Python on PATH (3.10-3.13, 3.11 preferred); make PYTHON=... overrides it.
PYTHON_CANDIDATES := python3.11 python3.12 python3.13 python3.10 python3
SUPPORTED := (3, 10) <= sys.version_info[:2] <= (3, 13)
supported = $(shell $(1) -c 'import sys; sys.exit(not ($(SUPPORTED)))' >/dev/null 2>&1 && echo $(1))
PYTHON ?= $(firstword $(foreach candidate,$(PYTHON_CANDIDATES),$(call supported,$(candidate))))
python_version = $(shell $(1) -c 'import platform; print(platform.python_version())' 2>/dev/null)
# Expanded only when .venv has to be created: one line, then make stops.
check_python = $(if $(PYTHON),$(if $(call supported,$(PYTHON)),,$(error PYTHON=$(PYTHON) is $(if $(call python_version,$(PYTHON)),Python $(call python_version,$(PYTHON)),not a Python that runs); rnn-labs needs Python 3.10-3.13: install one or run make PYTHON=/path/to/python3.12 $(MAKECMDGOALS))),$(error no Python 3.10-3.13 on PATH (tried $(PYTHON_CANDIDATES)): install one or run make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)))
VENV := .venv
BIN := $(VENV)/bin
# The stamp is keyed on the requirements files: editing any of them reinstalls.
REQUIREMENTS := requirements.txt requirements-dev.txt requirements-tensorboard.txt constraints.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | sha256sum | cut -c1-12)
# BACKEND=torch or jax runs the Keras labs on that Keras 3 backend (KERAS_BACKEND), after
# installing requirements-torch.txt or requirements-jax.txt once; TensorFlow is the default.
BACKENDS := tensorflow torch jax
ifdef BACKEND
ifeq ($(filter $(BACKEND),$(BACKENDS)),)
$(error BACKEND=$(BACKEND) is not a Keras backend the labs run on: give BACKEND=tensorflow, torch or jax)
endif
export KERAS_BACKEND := $(BACKEND)
endif
# PyTorch's CPU wheels (PyPI's Linux torch is the CUDA build); unreachable, pip uses PyPI's.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
backend_stamp = $(VENV)/.installed-$(1)-$(shell cat requirements-$(1).txt constraints.txt | sha256sum | cut -c1-12)
BACKEND_STAMP := $(if $(filter torch jax,$(BACKEND)),$(call backend_stamp,$(BACKEND)))
SETUP := $(STAMP) $(BACKEND_STAMP)
# QUICK=1 runs a lab on a subset with few epochs (a smoke test of about a minute).
QUICK_FLAG := $(if $(filter 1 yes true,$(QUICK)),--quick,)
# ARGS passes more options to a lab, e.g. make spam ARGS="--folds 3 --variants lstm gru".
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv data spam poetry poetry-compare poetry-goal poetry-tune poetry-tune-long char-rnn words words-pytorch gpt2 docs demo demo-setup test bench-smoke lint bench bench-backends bench-gpt2 notebooks exercises check html tensorboard clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): $(REQUIREMENTS)
	@test -x $(BIN)/python || { $(check_python) echo "creating $(VENV) with $(PYTHON) (Python $(call python_version,$(PYTHON)))"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt -c constraints.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP) ## Create .venv and install the pinned requirements

# A backend's packages, on top of the base ones (make test installs both: it checks them).
define backend_rule
$(call backend_stamp,$(1)): requirements-$(1).txt constraints.txt $(STAMP)
	$(BIN)/python -m pip install --quiet $(if $(filter torch,$(1)),--extra-index-url $(TORCH_INDEX)) -r requirements-$(1).txt -c constraints.txt
	@rm -f $(VENV)/.installed-$(1)-*
	@touch $$@
endef
$(foreach backend,torch jax,$(eval $(call backend_rule,$(backend))))
# The demo's Gradio and Playwright (requirements-demo.txt), once, with every pin but Pillow's.
$(call backend_stamp,demo): requirements-demo.txt constraints.txt $(STAMP)
	grep -v '^pillow==' constraints.txt > $(VENV)/constraints-demo.txt
	$(BIN)/python -m pip install --quiet -r requirements-demo.txt -c $(VENV)/constraints-demo.txt
	@rm -f $(VENV)/.installed-demo-*
	@touch $@

data: $(STAMP) ## Fetch (or copy from the RNN_LABS_DATA folders) and verify the datasets
	$(BIN)/python -m labs.data

spam: $(SETUP) ## SMS spam lab: 11 neural models vs 3 baselines on 5 folds, about 30 min on 2 cores (QUICK=1 for a smoke run)
	$(BIN)/python -m labs.spam train $(QUICK_FLAG) $(ARGS)

poetry: $(SETUP) ## Poetry lab: char-LSTM on Leopardi and Nietzsche (QUICK=1 for a smoke run)
	$(BIN)/python -m labs.poetry train --corpus leopardi $(QUICK_FLAG) $(ARGS)
	$(BIN)/python -m labs.poetry train --corpus nietzsche $(QUICK_FLAG) $(ARGS)

poetry-compare: $(SETUP) ## Time to quality on Nietzsche and Leopardi: untuned and tuned every-step models vs the course model (45-60 min: the course model trains to its early stop)
	$(BIN)/python -m labs.poetry compare --corpus nietzsche $(QUICK_FLAG) $(ARGS)
	$(BIN)/python -m labs.poetry compare --corpus leopardi $(QUICK_FLAG) $(ARGS)

poetry-goal: $(SETUP) ## The goal where it is defined: the course model, then the tuned configuration for the course model's time to its best, on Nietzsche (about 35-45 min)
	$(BIN)/python -m labs.poetry compare --goal --corpus nietzsche $(QUICK_FLAG) $(ARGS)

poetry-tune: $(SETUP) ## Search every-step configurations on Nietzsche (Optuna), 16 trials of 2.5 min (~45 min)
	$(BIN)/python -m labs.poetry tune --corpus nietzsche $(QUICK_FLAG) $(ARGS)

poetry-tune-long: $(SETUP) ## Search at the goal's budget (the course model's time, from make poetry-goal): 8 trials, successive halving (about an hour)
	$(BIN)/python -m labs.poetry tune --corpus nietzsche --halving --trials 8 --trial-minutes course $(QUICK_FLAG) $(ARGS)

char-rnn: $(STAMP) ## Character RNN from scratch in NumPy, on Leopardi (QUICK=1 for a smoke run)
	$(BIN)/python -m labs.char_rnn $(QUICK_FLAG) $(ARGS)

words: $(SETUP) ## Word-level LSTM language model on Nietzsche, on words and on a learned BPE (QUICK=1 for a smoke run)
	$(BIN)/python -m labs.words --tokens words $(QUICK_FLAG) $(ARGS)
	$(BIN)/python -m labs.words --tokens subword $(QUICK_FLAG) $(ARGS)

words-pytorch: $(STAMP) $(call backend_stamp,torch) ## The course's PyTorch RNNModel, written natively, on the word lab's data; its report sets it beside make words's Keras model
	$(BIN)/python -m labs.words --framework pytorch $(QUICK_FLAG) $(ARGS)

gpt2: $(SETUP) ## GPT-2 (keras-hub) on Nietzsche: zero-shot, fine-tuned 10 min, then every model in one table (downloads ~0.5 GB once)
	$(BIN)/python -m labs.gpt2 evaluate --corpus nietzsche $(QUICK_FLAG) $(ARGS)
	$(BIN)/python -m labs.gpt2 finetune --corpus nietzsche $(QUICK_FLAG) $(ARGS)
	$(BIN)/python -m labs.gpt2 compare --corpus nietzsche $(QUICK_FLAG)

docs: $(STAMP) ## Record the full runs' results (labs/<lab>/results/) and rewrite the lab pages' results tables from them
	$(BIN)/python docs/build.py

test: $(STAMP) $(call backend_stamp,torch) $(call backend_stamp,jax) ## Run the test suite on 2 processes, on TensorFlow (tests/test_backends.py checks PyTorch and JAX; PYTEST_ARGS="-n 0": one; -m "not slow": no training tests)
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not benchmark" tests $(PYTEST_ARGS)

bench-smoke: $(SETUP) ## The benchmarks' smoke runs (tests/test_bench.py): they run end to end and write their reports (CI runs it after make test)
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -m benchmark tests/test_bench.py

lint: $(STAMP) ## Check the code with ruff (ruff.toml; CI runs it)
	$(BIN)/ruff check labs demo bench tests notebooks/build.py docs/build.py exercises/*.py exercises/source

notebooks: $(SETUP) ## Regenerate notebooks/*.ipynb from their scripts (notebooks/*.py)
	$(BIN)/python notebooks/build.py

exercises: $(STAMP) ## Regenerate the student notebooks exercises/*.ipynb from their masters (exercises/source/)
	$(BIN)/python exercises/build.py

# EXERCISE and NOTEBOOK for make check: an exercise's name and a notebook or a folder of them.
EXERCISE ?=
NOTEBOOK ?=
check: $(STAMP) ## Grade an exercise offline: make check EXERCISE=char-rnn NOTEBOOK=path (a notebook: a table; a folder: grades.csv)
	@test -n "$(EXERCISE)" -a -n "$(NOTEBOOK)" || { echo "make check: give EXERCISE=char-rnn|spam|poetry|language-models and NOTEBOOK=path/to/notebook.ipynb (or a folder of submissions)" >&2; exit 2; }
	$(BIN)/python exercises/grade.py $(EXERCISE) $(NOTEBOOK) $(ARGS)

demo: $(SETUP) $(call backend_stamp,demo) ## The trained models in a browser: a local Gradio page on 127.0.0.1:7860 (installs Gradio once; ARGS="--port 8000")
	$(BIN)/python -m demo $(ARGS)

demo-setup: $(call backend_stamp,demo) ## Install the demo's Gradio and Playwright without serving (make test then runs the demo's browser tests; CI does)

html: $(STAMP) ## Check reports/index.html in headless Chromium (images, sorting) and screenshot it
	$(BIN)/python -m labs.browser

tensorboard: $(STAMP) ## TensorBoard on the runs trained with --tensorboard (installs it first)
	$(BIN)/python -m pip install --quiet -r requirements-tensorboard.txt -c constraints.txt
	$(BIN)/tensorboard --logdir reports/tensorboard

bench: $(SETUP) $(call backend_stamp,torch) $(call backend_stamp,jax) ## Benchmarks: the labs against the course recipes, GPT-2 base's CPU cost, the three backends (~26 min; see bench/README.md)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.backends

bench-backends: $(STAMP) $(call backend_stamp,torch) $(call backend_stamp,jax) ## Keras on TensorFlow, PyTorch and JAX and the course model in native PyTorch: epoch time, loss, memory (~6 min)
	$(BIN)/python -m bench.backends

bench-gpt2: $(SETUP) ## What GPT-2 base costs on this CPU: random weights of its shape, built offline (~3 min)
	$(BIN)/python -m bench.gpt2

clean: ## Remove every run (reports and models), the caches and stray temporary files; never the datasets
	find reports models -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	find . -path ./.venv -prune -o -name '.*.tmp-*' -type f -print -exec rm -f {} +
	rm -rf .cache
