"""The notebooks: generated from their scripts, up to date, and they run top to bottom.

Executing them (quick mode, as committed; the ``executed_notebooks`` fixture in conftest.py)
is the slow part; the same reports serve the browser check of index.html
(test_index_html.py).
"""

import ast
import json
import re

import nbformat
import numpy as np
import pytest

from conftest import NOTEBOOKS, REPOSITORY, build
from labs import data


def committed_and_regenerated(path):
    committed = nbformat.read(path, as_version=4)
    return committed, build.notebook(path.with_suffix(".py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_each_notebook_is_generated_from_its_script(path):
    committed, regenerated = committed_and_regenerated(path)
    assert nbformat.writes(committed) == nbformat.writes(regenerated), (
        f"{path.name} differs from {path.with_suffix('.py').name}: run `make notebooks`")
    assert all(not cell.get("outputs") for cell in committed.cells)


def install_cell(path):
    book = nbformat.read(path, as_version=4)
    return next(cell.source for cell in book.cells if "google.colab" in cell.source)


def test_the_colab_install_cell_is_the_one_the_notebooks_page_shows():
    readme = (REPOSITORY / "docs" / "notebooks-and-reports.md").read_text(encoding="utf-8")
    cells = {install_cell(path) for path in NOTEBOOKS}
    assert len(cells) == 1
    assert f"```python\n{cells.pop()}\n```" in readme
    for path in NOTEBOOKS:
        link = (f"https://colab.research.google.com/github/rnn-labs/rnn-labs/blob/main/notebooks/"
                f"{path.name}")
        assert link in readme


def outputs(book, kind):
    return [output for cell in book.cells for output in cell.get("outputs", [])
            if kind in output.get("data", {}) or output.get("name") == kind]


@pytest.mark.slow
def test_the_spam_notebook_runs_and_shows_the_comparison(executed_notebooks):
    output, books = executed_notebooks
    book = books["spam"]
    markdown = "".join(item["data"]["text/markdown"] for item in outputs(book, "text/markdown"))
    assert "SMS spam detector: every model on the same folds" in markdown
    assert len(outputs(book, "image/png")) == 3  # comparison, history, confusion matrix
    predictions = "".join(item["text"] for item in outputs(book, "stdout"))
    assert "WINNER!!" in predictions and "lunch" in predictions
    # It predicts with the run whose comparison it showed: the one it trained.
    run_id = used_run(book.cells[-1])
    assert run_id.endswith("-quick") and f"Run: {run_id} (QUICK smoke run)" in markdown
    assert list((output / "models" / "spam" / "runs").glob("*-quick/*.keras"))


@pytest.mark.slow
def test_the_poetry_notebook_trains_shows_samples_and_generates(executed_notebooks):
    output, books = executed_notebooks
    book = books["poetry"]
    markdown = "".join(item["data"]["text/markdown"] for item in outputs(book, "text/markdown"))
    assert "# Samples: leopardi" in markdown and "temperature 0.5" in markdown
    assert len(outputs(book, "image/png")) == 1
    run_id = used_run(book.cells[-1])
    assert run_id != books["decoy"]  # the run it trained, not the published full one
    folder = output / "models" / "poetry" / "leopardi" / "runs" / run_id
    samples = (output / "reports" / "poetry" / "leopardi" / "runs" / run_id / "samples.md")
    assert samples.read_text(encoding="utf-8") in markdown  # the run it trained, shown whole
    last_cell = book.cells[-1]
    generated = "".join(item.get("text", "") for item in last_cell.outputs
                        if item.get("name") == "stdout").removesuffix("\n")
    seed_line = "".join(item.get("text", "") for item in last_cell.outputs
                        if item.get("name") == "stderr").split("seed: ", 1)[1].splitlines()[0]
    seed_text = ast.literal_eval(seed_line)
    # The course's loop is one model.predict a character (~25 a second): its first 100
    # characters say whether the notebook's 300 are the course's.
    assert len(generated) == len(seed_text) + 300
    assert generated.startswith(course_generation(folder, seed_text, 100))
    assert (output / "reports" / "index.html").is_file()


def used_run(cell):
    """The run id a cell's command said it used (``using run <id> ...`` on stderr)."""
    stderr = "".join(item.get("text", "") for item in cell.outputs if item.get("name") == "stderr")
    return re.search(r"using run (\S+)", stderr).group(1)


def course_generation(folder, seed_text, length, temperature=0.5, random_seed=42):
    """The oracle for the notebook's last cell: the course's loop (one ``model.predict`` of
    the course's one-hot network a character, the course's sampler) with the trained
    weights, drawing from the generator after ``generate`` took its seed window from it."""
    from labs import course
    from labs.poetry.models import build_model
    from labs.saving import load_model

    metadata = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    chars, maxlen = metadata["vocabulary"], metadata["maxlen"]
    model = build_model(len(chars), maxlen, units=metadata["units"], one_hot_inside=False)
    model.set_weights(load_model(folder / "model.keras", "the test").get_weights())
    training = data.split_holdout(data.load_text(data.locate("leopardi.txt"))[:30_000])[0]
    rng = np.random.RandomState(random_seed)
    start = rng.randint(0, len(training) - maxlen)  # generate's random seed window
    assert training[start:start + maxlen] == seed_text
    window, text = seed_text, ""
    for _ in range(length):
        one_hot = np.zeros((1, maxlen, len(chars)))
        one_hot[0, np.arange(maxlen), [chars.index(char) for char in window]] = 1.0
        index = course.sample(model.predict(one_hot, verbose=0)[0], temperature, rng)
        window, text = window[1:] + chars[index], text + chars[index]
    return seed_text + text


@pytest.mark.slow
def test_the_gpt2_notebook_generates_chats_evaluates_finetunes_and_compares(executed_notebooks):
    output, books = executed_notebooks
    book = books["gpt2"]
    printed = "".join(item["text"] for item in outputs(book, "stdout"))
    assert "--- 1/2: The philosopher is" in printed and "--- 2/2: The philosopher is" in printed
    assert "You: What do you think of philosophers?\nGPT-2:" in printed
    assert "held-out" in printed and "bits/char" in printed
    markdown = "".join(item["data"]["text/markdown"] for item in outputs(book, "text/markdown"))
    assert "# GPT-2 fine-tuned on nietzsche" in markdown and "TEST PRESET" in markdown
    assert "Every model on the same held-out text: nietzsche" in markdown
    assert list((output / "models" / "gpt2" / "nietzsche" / "finetune" / "runs").glob(
        "*-test-quick/preset/model.weights.h5"))
