import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

import labs  # noqa: E402,F401  (quiets TensorFlow before any test imports it)
from labs import data  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent


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
