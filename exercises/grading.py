"""One submission graded: its cells run in its sandbox, its checks run here.

nbgrader's autograding runs a whole notebook, checks included, in one kernel that the
student's code controls, so a submission could replace the checks or the functions they
use. Here the notebook is walked cell by cell as a kernel would run it: the student's
cells go to the submission's sandbox (exercises/sandbox.py), and each check cell, taken
from the master (hidden checks included, never sent to the sandbox), runs in this process
with every student function replaced by a ``RemoteFunction``, which sends its arguments
into the sandbox and brings back the values it returned. The check's outcome becomes the
cell's output, which nbgrader then scores and records (exercises/grade.py).

The notebook itself is rebuilt from the master first (``canonical``): the master's check
and locked cells, the student's solution and answer cells, the student's other cells
without any nbgrader metadata. A submission cannot declare its own cell a check.
"""

import ast
import builtins
import contextlib
import copy
import functools
import importlib
import io
import re
import sys
import threading
import time

import nbformat
import numpy as np

from exercises import build, values
from exercises.sandbox import Kernel, Stopped


class Budget:
    """The seconds one check cell may spend in the student's code, all calls together."""

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds

    def left(self):
        return self.deadline - time.monotonic()


def remote_exception(name, message):
    """The student's exception, by its name: a class made here, never the student's own."""
    if name == "NotImplementedError":
        return NotImplementedError(message)
    safe = re.sub(r"\W", "", str(name))[:60] or "Exception"
    return type(safe, (Exception,), {})(message)


def write_back(original, new):
    """What a call did to its arguments (an in-place update), applied to the grader's."""
    if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
        if original.shape == new.shape and original.flags.writeable:
            with contextlib.suppress(TypeError, ValueError):
                original[...] = new
    elif isinstance(original, dict) and isinstance(new, dict):
        for key in list(original):
            if key not in new:
                del original[key]
        for key, value in new.items():
            if key in original and isinstance(original[key], (np.ndarray, dict, list)):
                write_back(original[key], value)
            else:
                original[key] = value
    elif isinstance(original, list) and isinstance(new, list):
        original[:] = new
    elif isinstance(original, np.random.RandomState) and isinstance(
            new, np.random.RandomState):
        original.set_state(new.get_state())


class RemoteFunction:
    """A student's function, called in the sandbox on values; ``replacements`` is set by
    ``checks.alone`` while the task is checked alone."""

    def __init__(self, kernel, name, function_name, budget, lab_calls):
        self.kernel = kernel
        self.name = name
        self.__name__ = function_name
        self.budget = budget
        self.lab_calls = lab_calls
        self.replacements = {}

    def __call__(self, *args, **kwargs):
        seconds = self.budget.left()
        if seconds <= 0:
            raise Stopped("timeout")
        reply = self.kernel.request({"op": "call", "name": self.name,
                                     "args": values.encode(list(args)),
                                     "kwargs": values.encode(kwargs),
                                     "replacements": self.replacements}, seconds)
        calls = reply.get("lab_calls")
        if isinstance(calls, list):
            self.lab_calls.update(str(call)[:200] for call in calls[:10])
        status = reply.get("status")
        if status == "ok":
            after = reply.get("after")
            if isinstance(after, list) and len(after) == len(args):
                for original, new in zip(args, after):
                    with contextlib.suppress(values.FormatError):
                        write_back(original, values.decode(new))
            return values.decode(reply.get("value"))
        if status == "timeout":
            raise Stopped("timeout")
        if status == "raised":
            raise remote_exception(reply.get("ename"), str(reply.get("evalue", ""))[:2000])
        if status == "missing":
            raise NameError(f"name {self.name!r} is not defined")
        raise values.FormatError(f"the sandbox answered {str(status)[:40]!r}")


class RemoteValue:
    """A student's name bound to something that is not a function."""

    def __init__(self, type_name):
        self.remote_type = type_name


# ---------------------------------------------------------------- the notebook, rebuilt
def nbgrader_id(cell):
    metadata = cell.get("metadata", {}).get("nbgrader")
    return metadata.get("grade_id") if isinstance(metadata, dict) else None


def first_line(source):
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


@functools.cache
def master(exercise):
    return build.master(exercise)


@functools.cache
def release(exercise):
    return build.student(exercise)


def canonical(book, exercise):
    """(notebook, notes): ``book`` rebuilt on the master's cells, and what was noticed.

    A cell is matched to the master's by its nbgrader id, else by its cell id, else (a
    notebook whose metadata was stripped) by its first line: the ``def`` the student was
    given, the check's call."""
    stripped = not any(nbgrader_id(cell) for cell in book.cells)
    by_grade_id = {nbgrader_id(cell): cell for cell in master(exercise).cells
                   if nbgrader_id(cell)}
    by_cell_id = {cell.get("id"): nbgrader_id(cell) for cell in master(exercise).cells
                  if nbgrader_id(cell)}
    by_first_line = {}
    for cell in release(exercise).cells if stripped else []:
        if nbgrader_id(cell) and cell.cell_type == "code":
            by_first_line.setdefault(first_line(cell.source), nbgrader_id(cell))
    cells, seen, by_its_text = [], set(), 0
    for cell in book.cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        grade_id = nbgrader_id(cell)
        if grade_id not in by_grade_id:
            grade_id = by_cell_id.get(cell.get("id"))
        if grade_id is None:
            grade_id = by_first_line.get(first_line(source))
            by_its_text += grade_id is not None
        kind = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown") else "raw"
        if grade_id is None or grade_id in seen or by_grade_id[grade_id].cell_type != kind:
            plain = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                     "raw": nbformat.v4.new_raw_cell}[kind](source)
            cells.append(plain)
            continue
        seen.add(grade_id)
        new = copy.deepcopy(by_grade_id[grade_id])
        metadata = new.metadata["nbgrader"]
        if metadata.get("solution"):  # the student's own text: a solution or an answer
            new.source = source
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        cells.append(new)
    result = nbformat.v4.new_notebook(metadata=copy.deepcopy(master(exercise).metadata))
    result.cells = cells
    notes = []
    if by_its_text:
        notes.append("its nbgrader metadata was missing: the task cells were found by "
                     "their text")
    return result, notes, seen


def identify(book):
    """The exercise whose cells this notebook holds most of, or None."""
    counts = {}
    for exercise in build.EXERCISES:
        ids = {nbgrader_id(cell) for cell in master(exercise).cells} - {None}
        found = sum(nbgrader_id(cell) in ids or str(cell.get("id") or "").startswith(
            f"{exercise}-") for cell in book.cells)
        counts[exercise] = found
    best = max(counts, key=counts.get)
    return best if counts[best] else None


# ---------------------------------------------------------------- walking the cells
def is_check(cell):
    metadata = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and metadata.get("grade") and not metadata.get("solution")


def last_graded(book):
    """The index of the notebook's last cell that carries points (a check or an answer)."""
    return max((index for index, cell in enumerate(book.cells)
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade")), default=-1)


def free_names(source):
    """The names a check cell reads that it does not define: the student's functions."""
    tree = ast.parse(source)
    loaded = {node.id for node in ast.walk(tree)
              if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return sorted(loaded - {"checks"} - set(dir(builtins)))


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def error(name, message):
    return nbformat.v4.new_output("error", ename=name, evalue=message,
                                  traceback=[f"{name}: {message}"])


def first(source):
    line = first_line(source)
    return line if len(line) <= 60 else line[:57] + "…"


class Walk:
    """The cells of one canonical notebook, run in order: ``outputs`` per cell, the cell
    where the kernel died (if it did), the lab functions each task's code called."""

    RESTARTS = 3

    def __init__(self, kernel, timeout):
        self.kernel = kernel
        self.timeout = timeout
        self.history = []  # the cells run so far, to replay after a restart
        self.died = None
        self.restarts = 0
        self.lab_calls = {}

    def run(self, book, checks):
        """``checks()`` gives the checks module (imported while the first cells run). The
        code cells after the last graded cell (the "Try it" cells) are not run: no grade
        reads them, and they train or download for seconds in every copy."""
        outputs = {}
        last = last_graded(book)
        for index, cell in enumerate(book.cells):
            if cell.cell_type != "code" or index > last:
                continue
            if self.died is not None:
                outputs[index] = ([error("DeadKernelError", self.died)]
                                  if is_check(cell) else [])
                continue
            if is_check(cell):
                task = cell.metadata["nbgrader"]["grade_id"]
                outputs[index] = self.check(task, cell.source, checks())
            else:
                outputs[index] = self.cell(index, cell.source)
        return outputs

    def cell(self, index, source):
        try:
            reply = self.kernel.request({"op": "cell", "source": source}, self.timeout)
        except Stopped as stop:
            if stop.reason == "timeout" and self.restart():
                return [error("CellTimeoutError", f"the cell ran past the {self.timeout} s "
                                                  f"timeout and was stopped")]
            self.died = (f"the kernel died in cell {index + 1} ({first(source)!r}: "
                         f"{stop.detail or stop.reason}); this task was not graded")
            return [error("DeadKernelError", self.died)]
        self.history.append(source)
        result = []
        if reply.get("output"):
            result.append(stream(str(reply["output"])))
        if reply.get("timeout"):
            result.append(error("CellTimeoutError", f"the cell ran past the {self.timeout} s "
                                                    f"timeout and was stopped"))
        elif isinstance(reply.get("error"), dict):
            result.append(error(str(reply["error"].get("ename", "Error"))[:80],
                                str(reply["error"].get("evalue", ""))[:2000]))
        return result

    def restart(self):
        """A fresh sandbox with the cells run so far replayed; False if that fails."""
        if self.restarts >= self.RESTARTS:
            return False
        self.restarts += 1
        try:
            self.kernel.restart()
            for source in self.history:
                self.kernel.request({"op": "cell", "source": source}, self.timeout)
        except Stopped:
            return False
        return True

    def check(self, task, source, checks):
        budget = Budget(self.timeout)
        calls = self.lab_calls.setdefault(task, set())
        namespace = {"checks": checks}
        captured = io.StringIO()
        try:
            names = free_names(source)
            if names:
                found = self.kernel.request({"op": "names", "names": names},
                                            self.timeout).get("names", {})
                for name in names:
                    facts = found.get(name)
                    if not isinstance(facts, dict) or not facts.get("defined"):
                        continue
                    namespace[name] = (
                        RemoteFunction(self.kernel, name, str(facts.get("function_name", name)),
                                       budget, calls)
                        if facts.get("callable") else RemoteValue(str(facts.get("type"))[:80]))
            with contextlib.redirect_stdout(captured):
                exec(compile(source, f"<check {task}>", "exec"), namespace)
        except Stopped as stop:
            if stop.reason == "timeout":
                outcome = error("CellTimeoutError", f"stopped after the {self.timeout} s "
                                                    f"timeout")
            else:
                outcome = error("DeadKernelError", f"the kernel died while the check ran "
                                                   f"({stop.detail or stop.reason})")
            if not self.restart():
                self.died = (f"the kernel could not be restarted after the {task} check; "
                             f"this task was not graded")
            return [*([stream(captured.getvalue())] if captured.getvalue() else []), outcome]
        except Exception as failure:  # the check's verdict (or the student's NameError)
            message = str(failure).strip()
            return [*([stream(captured.getvalue())] if captured.getvalue() else []),
                    error(type(failure).__name__, message)]
        return [stream(captured.getvalue())] if captured.getvalue() else []


# ---------------------------------------------------------------- one submission
def grade_submission(exercise, path, timeout, sandboxed=True, memory_mb=None):
    """Everything the grader needs of one submission, as plain data (it crosses from a
    worker process): the canonical notebook, each code cell's outputs, and the problems
    to report. Never raises for what the submission is or does."""
    started = time.perf_counter()
    result = {"notebook": None, "outputs": {}, "problems": [], "seconds": 0.0}
    try:
        book = nbformat.read(path, as_version=4)
        if not isinstance(book.get("cells"), list):
            raise ValueError("it has no cells")
    except Exception as failure:  # not JSON, not a notebook: a row with the reason
        text = str(failure).strip().splitlines()
        result["problems"].append(f"{path.name} is not a readable notebook "
                                  f"({type(failure).__name__}: {text[0][:120] if text else ''})")
        return result
    other = identify(book)
    if other not in (None, exercise):
        result["problems"].append(f"this is the {other} notebook, not the {exercise} one")
        return result
    notebook, notes, found = canonical(book, exercise)
    if not found & {nbgrader_id(cell) for cell in master(exercise).cells if is_check(cell)}:
        result["problems"].append(f"this is not the {exercise} notebook: none of its task "
                                  f"cells is here")
        return result
    result["problems"] += notes
    # The checks (and TensorFlow, for three exercises) import here while the sandbox starts
    # and runs the set-up cell: the two start-ups overlap instead of adding up.
    importing = threading.Thread(target=importlib.import_module, args=("exercises.checks",))
    importing.start()
    kernel = Kernel(sandboxed, **({"memory_mb": memory_mb} if memory_mb else {}))
    try:
        kernel.start()
        walk = Walk(kernel, timeout)
        result["outputs"] = walk.run(notebook, lambda: importing.join() or sys.modules[
            "exercises.checks"])
    except Stopped as stop:
        result["problems"].append(f"its sandbox did not start ({stop.detail or stop.reason})")
        return result
    finally:
        kernel.close()
    if walk.died:
        result["problems"].append(walk.died.split("; ")[0])
    for task, calls in walk.lab_calls.items():
        if calls:
            result["problems"].append(f"{task}: calls the lab's own {', '.join(sorted(calls))} "
                                      f"(for the instructor to judge)")
    result["notebook"] = nbformat.writes(notebook)
    result["seconds"] = time.perf_counter() - started
    return result
