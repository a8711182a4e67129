"""The repository's reading contract: every function in labs/ fits on a screen."""

import ast
from pathlib import Path

LABS = Path(__file__).resolve().parent.parent / "labs"
LONGEST_FUNCTION = 40


def function_lengths():
    for path in sorted(LABS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{path.relative_to(LABS.parent)}:{node.lineno} {node.name}", \
                    node.end_lineno - node.lineno + 1


def test_no_function_in_the_labs_is_longer_than_40_lines():
    long = [f"{name} ({length} lines)" for name, length in function_lengths()
            if length > LONGEST_FUNCTION]
    assert not long, "split these into helpers with names that say what they do: " + ", ".join(long)


def test_the_length_check_sees_every_lab_module():
    names = {name.split(":")[0] for name, _ in function_lengths()}
    for module in ("labs/spam/lab.py", "labs/poetry/lab.py", "labs/words.py",
                   "labs/char_rnn_numpy.py", "labs/training.py", "labs/course.py"):
        assert module in names
