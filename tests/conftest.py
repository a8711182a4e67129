import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two test processes on a 2-core machine: one thread each for TensorFlow's operations
    # (and the labs and notebook kernels they start) instead of two each, fighting.
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

import labs  # noqa: E402,F401  (quiets TensorFlow before any test imports it)
from labs import data  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "notebooks"))
import build  # noqa: E402  (notebooks/build.py)

SPAM_NOTEBOOK_VARIANTS = ("gru", "words-gru")
NOTEBOOKS = [REPOSITORY / "notebooks" / name.replace(".py", ".ipynb") for name in build.SOURCES]

# Fixtures that train or execute, shared by several tests: ``make test`` runs the suite on
# two processes (pytest-xdist, --dist loadgroup), and every test that uses one of these runs
# on the same process, so each is built once.
EXPENSIVE_FIXTURES = ("executed_notebooks", "world", "trained", "graded_class", "leopardi_quick")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        for name in EXPENSIVE_FIXTURES:
            if name in item.fixturenames:
                shared = name if name == "executed_notebooks" else f"{item.module.__name__}.{name}"
                item.add_marker(pytest.mark.xdist_group(shared))
                break


@pytest.fixture(scope="session")
def dataset_path():
    """Path of a real dataset, resolved as the labs do (datasets/, search path, download)."""
    def resolve(name):
        return data.locate(name, REPOSITORY / "datasets", log=lambda message: None)

    return resolve


@pytest.fixture(scope="session")
def shared_source(dataset_path):
    """The folder holding the original sources (the TEI XML), from the search path."""
    for folder in data.search_path():
        if (folder / "leopardi_canti_bibit000850.xml").is_file():
            return folder
    pytest.skip(f"the Leopardi TEI XML is not on ${data.SEARCH_PATH_VARIABLE}")


@pytest.fixture(scope="session")
def known_edition(dataset_path):
    """Path of a dataset for tests that assert facts of the known edition (its row count,
    its vocabulary): they skip when a user keeps another edition in datasets/."""
    def resolve(name):
        path = dataset_path(name)
        if data.sha256_of(path) != data.DATASETS[name].sha256:
            pytest.skip(f"{path} is not the known edition of {name}")
        return path

    return resolve


def with_parameters(path, **values):
    """The notebook with the values of its ``parameters`` cell replaced (papermill's
    convention, without papermill)."""
    book = nbformat.read(path, as_version=4)
    cell = next(cell for cell in book.cells if "parameters" in cell.metadata.get("tags", []))
    for name, value in values.items():
        cell.source, count = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", cell.source,
                                     flags=re.M)
        assert count == 1, name
    return book


def plant_decoy(output):
    """A poetry run published as if it were a full one, before the notebooks run: the
    poetry notebook must show the run it trains, never the last full run it finds. (The
    spam notebook reads the same way; test_bad_inputs checks the commands it relies on
    against a full spam run, which would cost a second spam notebook here.)"""
    from labs.poetry import cli as poetry

    poetry.main(["train", "--corpus", "leopardi", "--quick", "--units", "8", "--maxlen", "12",
                 "--step", "40", "--reports-dir", str(output / "reports"), "--models-dir",
                 str(output / "models")])
    quick = output / "models" / "poetry" / "leopardi" / "latest-quick.json"
    quick.rename(quick.with_name("latest.json"))
    return json.loads(quick.with_name("latest.json").read_text())["run"]


def tiny_preset(folder):
    from labs.gpt2.presets import build_test_preset
    from labs.poetry.data import held_out_parts

    text = held_out_parts("nietzsche", REPOSITORY / "datasets", log=lambda *_: None).fit
    return build_test_preset(folder, text[:100_000])


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory):
    """Both notebooks run in quick mode, writing into one temporary folder that already
    holds a published decoy poetry run (``plant_decoy``)."""
    output = tmp_path_factory.mktemp("notebooks")
    books = {"decoy": plant_decoy(output)}
    for path in NOTEBOOKS:
        # The spam notebook trains one model of each input kind: every model would cost the
        # suite a minute more and show nothing new about the notebook.
        subset = {"VARIANTS": list(SPAM_NOTEBOOK_VARIANTS)} if path.stem == "spam" else {}
        if path.stem == "gpt2":  # offline: a tiny random GPT-2 stands in for gpt2_base_en
            subset = {"PRESET": str(tiny_preset(output / "tiny-gpt2"))}
        book = with_parameters(path, QUICK=True, OUTPUT=str(output), **subset)
        NotebookClient(book, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        books[path.stem] = book
    return output, books


# ---------------------------------------------------------------- labs in subprocesses
def subprocess_env(**extra):
    """A lab's environment in a subprocess test: unbuffered, and a crash (a segmentation
    fault inside TensorFlow, seen once after Ctrl-C during GPT-2 fine-tuning in a clean-clone
    CI run on 2026-12-07) prints every thread's Python stack on stderr."""
    environment = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1", **extra)
    environment.setdefault(data.SEARCH_PATH_VARIABLE, os.environ.get(data.SEARCH_PATH_VARIABLE, ""))
    return environment


def interruptible():
    """In the child, before Python starts: Ctrl-C's default action. A suite started in the
    background (``make test &``) passes SIGINT on as *ignored*, and Python then installs no
    KeyboardInterrupt handler, so the interrupt tests would see the lab run to its end."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_lab(module, arguments, cwd=REPOSITORY, stdin=None):
    return subprocess.Popen([sys.executable, "-m", module, *arguments], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin,
                            text=True, env=subprocess_env(), preexec_fn=interruptible)


def wait_for(process, text, timeout=120):
    """Read stdout until ``text`` appears; returns what was read."""
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen:
        character = process.stdout.read(1)
        if not character or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{text!r} never appeared; stdout: {seen[-500:]}")
        seen += character
    return seen


def load_docs_build():
    """docs/build.py as a module of its own (``build`` is notebooks/build.py here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_build", REPOSITORY / "docs" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
