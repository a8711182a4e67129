"""What a submission's code takes from the labs, read from its source in the grader.

The labs are public, so a task's answer can call them or copy them; the instructor judges
which is fair. The grader decides what to flag from the notebook's text, never from the
submission's running process, which the submission controls (a profile hook there can be
switched off, a thread or an ``exec`` escapes it). Two signals, both for every code cell the
student wrote (solution cells by task, other cells by number):

- **references**: the cell's syntax tree names the labs or the grader's modules (``labs``,
  ``exercises``, ``checks``), or the means of running or reaching code the grader cannot
  read (``exec``, ``eval``, ``compile``, ``__import__``, ``importlib``, ``sys.modules``,
  a string naming a ``.py`` file, frame and profiler introspection). Renaming cannot hide
  these; building the name at run time (``getattr(builtins, "ex" + "ec")``) still names
  ``builtins`` or ``getattr`` on a module, which is flagged too.
- **copies**: the cell's code against each file of ``labs/``, with copydetect's
  winnowed fingerprints of the normalised tokens (names and literals do not count, so
  renaming and reformatting do not hide a copy), the lines the scaffold gave excluded. A
  task is flagged when it shares at least ``COPY_THRESHOLD`` of its fingerprints with one
  lab file *and* clearly more than the master's own answer does (``COPY_MARGIN``): many
  answers are the lab's code by design (Adagrad's two lines are the lab's two lines), and an
  answer as close as the master's is no sign of copying.

What it cannot see: code that reaches a lab with none of these (a student who retypes a
lab function in their own words is simply right), and short answers (fewer than
copydetect's ``NOISE`` tokens have no fingerprint).
"""

import ast
import functools
import io
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
NOISE = 25  # tokens: shorter shared runs are noise (copydetect's noise threshold)
GUARANTEE = 30  # tokens: a shared run this long is always found (copydetect's guarantee)
COPY_THRESHOLD = 0.8
COPY_MARGIN = 0.15
MODULES = {"labs", "exercises", "checks"}
RUNNING = {"exec", "eval", "compile", "__import__", "importlib", "runpy", "builtins",
           "__builtins__", "globals", "vars", "__loader__", "__spec__"}
INTROSPECTION = {"setprofile", "settrace", "_getframe", "f_back", "f_globals", "f_locals",
                 "f_code", "gi_frame", "tb_frame", "get_referrers", "get_objects",
                 "modules", "inspect", "gc", "ctypes", "__code__", "__globals__"}


def references(source, allowed=()):
    """What a cell's code names of the labs, the grader or the means to reach them unseen:
    a sorted list of short descriptions (empty for ordinary code, or code that does not
    parse: the grading reports that itself); ``allowed`` names are not reported (a plain
    cell may run ``checks`` as the notebook's check cells do)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in MODULES:
                    found.add(f"imports {alias.name}")
                elif root in RUNNING | INTROSPECTION:
                    found.add(f"imports {root}")
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            if root in MODULES | RUNNING | INTROSPECTION:
                found.add(f"imports from {node.module}")
        elif isinstance(node, ast.Name):
            if node.id in (MODULES | RUNNING) - set(allowed):
                found.add(f"uses {node.id}")
        elif isinstance(node, ast.Attribute):  # not RUNNING: a Keras model.compile is fine
            if node.attr in INTROSPECTION:
                found.add(f"uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if ".py" in text or "labs/" in text or "labs." in text:
                found.add("names a source file or module in a string")
    return sorted(found)


def fingerprint(code, name="cell.py", boilerplate=()):
    """copydetect's fingerprint of ``code`` (Python tokens, names normalised)."""
    import copydetect

    return copydetect.CodeFingerprint(name, NOISE, GUARANTEE - NOISE + 1,
                                      boilerplate=list(boilerplate), fp=io.StringIO(code),
                                      language="python")


@functools.cache
def lab_fingerprints():
    """{path relative to the repository: fingerprint} of every file of ``labs/``."""
    return {path.relative_to(REPOSITORY).as_posix(): fingerprint(path.read_text("utf-8"),
                                                                  str(path))
            for path in sorted((REPOSITORY / "labs").rglob("*.py"))}


def shared(first, second):
    """The share of ``first``'s fingerprints that ``second`` holds (0 when it has none)."""
    import copydetect

    if not first.hashes:
        return 0.0
    _, (similarity, _), _ = copydetect.compare_files(first, second)
    return float(similarity)


def lab_copies(code, given="", answer=""):
    """[(lab file, share)] of the lab files a task's ``code`` copies: at least
    ``COPY_THRESHOLD`` of its fingerprints (the ``given`` scaffold's excluded) in one file,
    and ``COPY_MARGIN`` more than the master's ``answer`` shares with it."""
    boilerplate = fingerprint(given).hashes if given.strip() else set()
    student = fingerprint(code, boilerplate=boilerplate)
    if not student.hashes:
        return []
    master = fingerprint(answer, boilerplate=boilerplate) if answer.strip() else None
    found = []
    for name, lab in lab_fingerprints().items():
        share = shared(student, lab)
        if share >= COPY_THRESHOLD and share >= (shared(master, lab) if master else 0.0) \
                + COPY_MARGIN:
            found.append((name, share))
    return sorted(found, key=lambda item: -item[1])
