"""Write notebooks/<lab>.ipynb from the jupytext percent script beside it (make notebooks).

The scripts are the source: they diff like code and are reviewed like code. The notebooks
are generated, with stable cell ids and no outputs, so regenerating an unchanged script
changes nothing (tests/test_notebooks.py checks they are up to date and runs them).
"""

import sys
from pathlib import Path

import jupytext
import nbformat

FOLDER = Path(__file__).resolve().parent
SOURCES = ("spam.py", "poetry.py", "gpt2.py")
METADATA = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}


def notebook(source):
    """The notebook of one percent script: its cells, stable ids, a Python 3 kernel."""
    book = jupytext.read(source, fmt="py:percent")
    book.metadata = nbformat.from_dict(METADATA)
    for number, cell in enumerate(book.cells):
        cell.id = f"{source.stem}-{number}"
    return book


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or SOURCES
    for name in names:
        source = FOLDER / Path(name).name
        if not source.is_file():
            sys.exit(f"notebooks/build.py: error: no script {source.name} in {FOLDER}; give "
                     f"one of {', '.join(SOURCES)} (or none for all)")
        target = source.with_suffix(".ipynb")
        nbformat.write(notebook(source), target)
        print(f"wrote {target.relative_to(FOLDER.parent)} from {source.name}")


if __name__ == "__main__":
    main()
