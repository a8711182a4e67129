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


# ---------------------------------------------------------------- between students
SIMILARITY = 0.8  # the class report's threshold (grade.py --similarity)
COMMON = 10  # a fingerprint in more than this many submissions of a task is common
# knowledge, not copying (MOSS's -m, its default 10): the natural answer everyone writes
EXCERPT_LINES = 30


def similar_pairs(solutions, given, threshold=SIMILARITY, common=COMMON, answers=None):
    """Every pair of students whose code for one task shares at least ``threshold`` of the
    fingerprints of one of them, the scaffold's ``given`` lines, the master's ``answers``
    and the class's common code excluded (an answer any student can write, or that many
    did, is no sign that two copied each other): ``[{task, first, second, share,
    first_lines, second_lines}]``, most similar first. ``solutions``: {student: {task:
    code}}; ``given`` and ``answers``: {task: code}.

    All pairs would be quadratic in the class's size; an index from each fingerprint to the
    students who hold it makes only pairs that share one candidates, and a fingerprint
    held by more than ``common`` students is dropped first, so each adds at most
    ``common`` choose 2 candidates: the work grows with the class, not with its square."""
    import copydetect

    pairs = []
    tasks = sorted({task for codes in solutions.values() for task in codes})
    for task in tasks:
        codes = {student: code for student, found in solutions.items()
                 if (code := found.get(task, "")).strip()}
        boilerplate = set()
        for known in (given.get(task, ""), (answers or {}).get(task, "")):
            if known.strip():
                boilerplate |= set(fingerprint(known).hashes)
        prints = {student: fingerprint(code, boilerplate=boilerplate)
                  for student, code in codes.items()}
        holders = {}
        for student, found in prints.items():
            for number in found.hashes:
                holders.setdefault(number, set()).add(student)
        frequent = {number for number, students in holders.items() if len(students) > common}
        if frequent:
            boilerplate |= frequent
            prints = {student: fingerprint(code, boilerplate=boilerplate)
                      for student, code in codes.items()}
        candidates = set()
        for number, students in holders.items():
            if number not in frequent:
                ordered = sorted(students)
                candidates.update((a, b) for index, a in enumerate(ordered)
                                  for b in ordered[index + 1:])
        for first, second in sorted(candidates):
            if not prints[first].hashes or not prints[second].hashes:
                continue
            _, (share_first, share_second), (slices_first, slices_second) = \
                copydetect.compare_files(prints[first], prints[second])
            share = float(max(share_first, share_second))
            if share >= threshold:
                pairs.append({"task": task, "first": first, "second": second,
                              "share": round(share, 3),
                              "first_lines": excerpt(codes[first], slices_first),
                              "second_lines": excerpt(codes[second], slices_second)})
    return sorted(pairs, key=lambda pair: (-pair["share"], pair["task"], pair["first"]))


def excerpt(code, slices):
    """The lines of ``code`` that copydetect's ``slices`` (character ranges) cover."""
    covered = set()
    for start, end in zip(*slices):
        first_line = code.count("\n", 0, int(start))
        last_line = code.count("\n", 0, max(int(start), int(end) - 1))
        covered.update(range(first_line, last_line + 1))
    lines = code.splitlines()
    chosen = [lines[number] for number in sorted(covered) if number < len(lines)]
    return "\n".join(chosen[:EXCERPT_LINES] + (["…"] if len(chosen) > EXCERPT_LINES else []))
