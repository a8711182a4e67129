"""Write the student notebooks exercises/<name>.ipynb from the masters (make exercises).

A master, ``exercises/source/<name>.py``, is a jupytext percent script holding the prose,
the solutions and the checks. Its cells carry short markers that this module turns into
nbgrader's cell metadata:

    # %% solution="forward"            the student writes this cell: the code between
                                       ### BEGIN SOLUTION and ### END SOLUTION becomes a TODO
    # %% check="forward" points=2      a graded check (read-only); the lines between
                                       ### BEGIN HIDDEN TESTS and ### END HIDDEN TESTS run
                                       only when the notebook is graded
    # %% [markdown] answer="detectable" points=2
                                       a written answer, graded by hand
    # %% locked=true                   a cell the student may not change (the set-up)

nbgrader's own ``generate_assignment`` makes the student version (in a temporary course
folder); the ids of the cells are stable, so an unchanged master gives the same notebook,
byte for byte (tests/test_exercises.py checks the committed ones are up to date).
"""

import argparse
import functools
import logging
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

FOLDER = Path(__file__).resolve().parent
SOURCE = FOLDER / "source"
EXERCISES = {"char-rnn": "char_rnn.py", "spam": "spam.py", "poetry": "poetry.py",
             "language-models": "language_models.py"}
METADATA = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}
# What a student finds where a solution was: nbgrader's stub, in the course's words.
CODE_STUB = "# TODO: your code here\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"


def nbgrader_metadata(markers, cell_id):
    """nbgrader's schema-3 metadata for a cell's markers, or None for a plain cell."""
    base = {"schema_version": 3, "task": False}
    if "solution" in markers:
        return {**base, "grade": False, "solution": True, "locked": False,
                "grade_id": f"{markers['solution']}-solution"}
    if "check" in markers:
        return {**base, "grade": True, "solution": False, "locked": True,
                "grade_id": markers["check"], "points": markers["points"]}
    if "answer" in markers:
        return {**base, "grade": True, "solution": True, "locked": False,
                "grade_id": markers["answer"], "points": markers["points"]}
    if markers.get("locked"):
        return {**base, "grade": False, "solution": False, "locked": True, "grade_id": cell_id}
    return None


def master(name):
    """The master notebook of exercise ``name``: cells with nbgrader metadata, stable ids."""
    source = SOURCE / EXERCISES[name]
    book = jupytext.read(source, fmt="py:percent")
    book.metadata = nbformat.from_dict(METADATA)
    for number, cell in enumerate(book.cells):
        cell.id = f"{name}-{number}"
        markers = {key: value for key, value in cell.metadata.items()
                   if key in ("solution", "check", "answer", "points", "locked")}
        if ("check" in markers or "answer" in markers) and "points" not in markers:
            raise ValueError(f"{source}: cell {number} ({markers}) needs points=N")
        metadata = nbgrader_metadata(markers, cell.id)
        cell.metadata = nbformat.from_dict({"nbgrader": metadata} if metadata else {})
    return book


def course_config(root, timeout=None):
    """nbgrader's configuration for a course folder at ``root``."""
    from traitlets.config import Config

    config = Config()
    root = Path(root).resolve()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{Path(root) / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    config.Execute.interrupt_on_timeout = True  # an endless loop fails its cell, not the rest
    config.Exchange.root = str(Path(root) / "exchange")  # unused; kept inside the folder
    if timeout:
        config.Execute.timeout = timeout
    # The student notebook keeps no execution counts or outputs of the master.
    config.ClearOutput.enabled = True
    return config


@functools.cache
def gradebook_schema():
    """The alembic revision nbgrader stamps on a new gradebook, read from its migration
    scripts in this process. nbgrader asks for it in an ``alembic heads`` subprocess for
    every gradebook it creates (2 to 3 s each: one per release and per grading), and that
    needs ``alembic`` on PATH; replacing its ``get_alembic_version`` with this gives it the
    same string (tests/test_exercises.py compares them)."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def quiet_api(root, timeout=None, config=None):
    """nbgrader's API on the course folder ``root``, its log kept out of the terminal."""
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI

    nbgrader.api.get_alembic_version = gradebook_schema
    logger = logging.getLogger("rnn-labs-exercises")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return NbGraderAPI(config=config or course_config(root, timeout), log=logger)


def write_source(root, name):
    """The master as nbgrader's ``source/<name>/<name>.ipynb`` under ``root``."""
    folder = Path(root) / "source" / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(master(name), folder / f"{name}.ipynb")


def student(name):
    """The student notebook: nbgrader's release of the master, with the master's ids."""
    with tempfile.TemporaryDirectory(prefix="rnn-labs-exercise-") as root:
        write_source(root, name)
        result = quiet_api(root).generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not generate {name}: {result['error']}")
        book = nbformat.read(Path(root) / "release" / name / f"{name}.ipynb", as_version=4)
    book.metadata = nbformat.from_dict(METADATA)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = []
    return book


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python exercises/build.py",
        description="Write exercises/<name>.ipynb (the student notebooks) from the masters "
                    "in exercises/source/.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"exercises to build (default: all of {', '.join(EXERCISES)})")
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in EXERCISES:
            parser.error(f"no exercise {name!r}; choose from {', '.join(EXERCISES)}")
    for name in args.names or EXERCISES:
        target = FOLDER / f"{name}.ipynb"
        nbformat.write(student(name), target)
        print(f"wrote {target.relative_to(FOLDER.parent)} from "
              f"{(SOURCE / EXERCISES[name]).relative_to(FOLDER.parent)}")


if __name__ == "__main__":
    sys.exit(main())
