"""The suite's own set-up: ``make test`` relies on pytest-xdist's ``--dist loadgroup`` to
build each expensive fixture (a trained world, the executed notebooks) on one process only."""

import os

import pytest


def test_tests_sharing_an_expensive_fixture_run_on_one_process(request):
    """pytest-xdist groups tests by writing the group into each test's id; a pytest that keeps
    the id elsewhere (9.2 with xdist 3.8) loses the groups without a word, and every
    expensive fixture is then built twice, adding minutes to the suite."""
    if not (os.environ.get("PYTEST_XDIST_WORKER") and request.config.getvalue("loadgroup")):
        pytest.skip("runs under make test (pytest-xdist, --dist loadgroup)")
    marked = [item.nodeid for item in request.session.items
              if item.get_closest_marker("xdist_group")]
    if not marked:
        pytest.skip("no selected test uses an expensive fixture")
    lost = [nodeid for nodeid in marked if "@" not in nodeid]
    assert not lost, (f"pytest-xdist did not group {len(lost)} tests (e.g. {lost[0]}): install "
                      f"the pins of requirements-dev.txt")
