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
import os
import re
import signal
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


def reply_value(data):
    """A value of a reply: anything that is not one ends the sandbox (it may be out of step
    with the grader) and fails the task that asked, and that task only."""
    try:
        return values.decode(data)
    except values.FormatError as error:
        raise Stopped("rejected", str(error)) from None


class RemoteFunction:
    """A student's function, called in the sandbox on values; ``replacements`` is set by
    ``checks.alone`` while the task is checked alone. Its ``__name__`` is the name the check
    calls it by, never what the sandbox says."""

    def __init__(self, kernel, name, budget, lab_calls):
        self.kernel = kernel
        self.name = name
        self.__name__ = name
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
            self.lab_calls.update(str(call)[:120] for call in calls[:10])
        status = reply.get("status")
        if status == "ok":
            after = reply.get("after")
            if isinstance(after, list) and len(after) == len(args):
                for original, new in zip(args, after):
                    write_back(original, reply_value(new))
            return reply_value(reply.get("value"))
        if status == "timeout":
            raise Stopped("timeout")
        if status == "raised":
            raise remote_exception(reply.get("ename"), str(reply.get("evalue", ""))[:300])
        if status == "missing":
            raise NameError(f"name {self.name!r} is not defined")
        raise Stopped("rejected", f"an answer of status {str(status)[:40]!r}")


class RemoteValue:
    """A student's name bound to something that is not a function."""

    def __init__(self, type_name):
        self.remote_type = type_name


# ---------------------------------------------------------------- the notebook, rebuilt
def nbgrader_id(cell):
    metadata = cell.get("metadata", {}).get("nbgrader")
    return metadata.get("grade_id") if isinstance(metadata, dict) else None


def solution_cells(book):
    """{task: code} of a notebook's solution cells (the student's answers)."""
    return {nbgrader_id(cell).removesuffix("-solution"): cell.source for cell in book.cells
            if cell.cell_type == "code"
            and cell.get("metadata", {}).get("nbgrader", {}).get("solution")}


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


OUTPUT_LIMIT = 20_000  # characters of a cell's (or a check's) printed output kept
MESSAGE_LIMIT = 1_000  # characters of an error's message kept
GRADER_SECONDS = 10  # the grader's own work on a check's replies, beyond the student's budget


def clipped(text, limit):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "\n… (cut by the grader)"


class GraderOverrun(BaseException):
    """The grader's own work on one check ran past its bound (a reply made to be slow to
    check): the task fails, and the sandbox is restarted."""


@contextlib.contextmanager
def grader_bound(seconds):
    """At most ``seconds`` for the block, where a timer can interrupt it (the main thread);
    elsewhere the worker's own bound in exercises/grade.py still holds."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def overrun(signum, frame):
        raise GraderOverrun()

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Walk:
    """The cells of one canonical notebook, run in order: ``outputs`` per cell, the cell
    where the kernel died (if it did), the lab functions each task's code called.

    Every request is bounded by the cell ``timeout`` and by what is left of the notebook's
    own bound (``notebook_timeout``: replays after a restart included), so a notebook of
    sleeping cells costs at most that, whatever its number of cells."""

    RESTARTS = 3

    def __init__(self, kernel, timeout, notebook_timeout=None):
        self.kernel = kernel
        self.timeout = timeout
        self.notebook_timeout = notebook_timeout
        self.deadline = (time.monotonic() + notebook_timeout if notebook_timeout
                         else float("inf"))
        self.history = []  # the cells run so far, to replay after a restart
        self.died = None
        self.restarts = 0
        self.lab_calls = {}

    def seconds(self):
        """A request's time: the cell timeout, or what is left of the notebook's bound."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.out_of_time()
        return min(self.timeout, left)

    def out_of_time(self):
        self.died = (f"the notebook reached its {self.notebook_timeout:g} s bound "
                     f"(--notebook-timeout); the tasks after it were not graded")
        raise Stopped("timeout", "the notebook's bound")

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

    def timeout_error(self):
        return error("CellTimeoutError", f"the cell ran past the {self.timeout} s timeout "
                                         f"and was stopped")

    def cell(self, index, source):
        try:
            reply = self.kernel.request({"op": "cell", "source": source}, self.seconds())
        except Stopped as stop:
            if self.died is None and stop.reason == "timeout" and self.restart():
                return [self.timeout_error()]
            if self.died is None and stop.reason == "rejected" and self.restart():
                return [error("ReplyRejected", f"the reply to this cell was not a value "
                                               f"({clipped(stop.detail, 200)}); the sandbox "
                                               f"was restarted without it")]
            if self.died is not None:  # the notebook's bound
                return [error("DeadKernelError", self.died)]
            if stop.reason == "timeout":
                what = f"ran past the {self.timeout} s timeout"
            elif stop.reason == "rejected":
                what = f"sent a reply that is not a value ({clipped(stop.detail, 200)})"
            else:
                what = f"the kernel died in it ({stop.detail or stop.reason})"
            if stop.reason in ("timeout", "rejected"):
                what += (f", and no restart was left (all {self.RESTARTS} used)"
                         if self.restarts >= self.RESTARTS else ", and its restart failed")
            self.died = (f"cell {index + 1}, which begins {quoted(first(source))}: {what}; "
                         f"this task was not graded")
            return [error("DeadKernelError", self.died)]
        self.history.append(source)
        result = []
        if reply.get("output"):
            result.append(stream(clipped(reply["output"], OUTPUT_LIMIT)))
        if reply.get("timeout"):
            result.append(self.timeout_error())
        elif isinstance(reply.get("error"), dict):
            name = re.sub(r"\W", "", str(reply["error"].get("ename", "Error")))[:60] or "Error"
            result.append(error(name, clipped(reply["error"].get("evalue", ""), MESSAGE_LIMIT)))
        return result

    def restart(self):
        """A fresh sandbox with the cells run so far replayed; False if that fails (or no
        restart is left)."""
        if self.restarts >= self.RESTARTS:
            return False
        self.restarts += 1
        try:
            self.kernel.restart()
            for source in self.history:
                self.kernel.request({"op": "cell", "source": source}, self.seconds())
        except Stopped:
            return False
        return True

    def check(self, task, source, checks):
        budget = Budget(self.timeout)
        calls = self.lab_calls.setdefault(task, set())
        namespace = {"checks": checks}
        captured = io.StringIO()
        try:
            with grader_bound(self.timeout + GRADER_SECONDS):
                names = free_names(source)
                if names:
                    found = self.kernel.request({"op": "names", "names": names},
                                                self.seconds()).get("names", {})
                    for name in names:
                        facts = found.get(name) if isinstance(found, dict) else None
                        if not isinstance(facts, dict) or not facts.get("defined"):
                            continue
                        namespace[name] = (RemoteFunction(self.kernel, name, budget, calls)
                                           if facts.get("callable") else
                                           RemoteValue(str(facts.get("type"))[:80]))
                budget.deadline = min(budget.deadline, self.deadline)
                with contextlib.redirect_stdout(captured):
                    exec(compile(source, f"<check {task}>", "exec"), namespace)
        except (Stopped, GraderOverrun) as stop:
            printed = [stream(clipped(captured.getvalue(), OUTPUT_LIMIT))] \
                if captured.getvalue() else []
            if isinstance(stop, GraderOverrun):
                outcome = error("GraderTimeout", f"the grader's work on this task's replies "
                                                 f"ran past {self.timeout + GRADER_SECONDS} s")
            elif self.died is not None or time.monotonic() >= self.deadline:
                self.died = self.died or (f"the notebook reached its "
                                          f"{self.notebook_timeout:g} s bound "
                                          f"(--notebook-timeout); the tasks after it were "
                                          f"not graded")
                return [*printed, error("NotebookTimeout", self.died)]
            elif stop.reason == "timeout":
                outcome = error("CellTimeoutError", f"stopped after the {self.timeout} s "
                                                    f"timeout")
            elif stop.reason == "rejected":
                outcome = error("ReplyRejected", f"the reply was not a value "
                                                 f"({clipped(stop.detail, 200)}): this task "
                                                 f"scores 0")
            else:
                outcome = error("DeadKernelError", f"the kernel died while the check ran "
                                                   f"({stop.detail or stop.reason})")
            if not self.restart():
                reason = (f"no restart left, all {self.RESTARTS} used"
                          if self.restarts >= self.RESTARTS else "its restart failed")
                self.died = self.died or (f"the kernel could not go on after the {task} "
                                          f"check ({reason}); this task was not graded")
            return [*printed, outcome]
        except Exception as failure:  # the check's verdict (or the student's NameError)
            message = clipped(str(failure).strip(), MESSAGE_LIMIT)
            return [*([stream(clipped(captured.getvalue(), OUTPUT_LIMIT))]
                      if captured.getvalue() else []),
                    error(type(failure).__name__, message)]
        return [stream(clipped(captured.getvalue(), OUTPUT_LIMIT))] if captured.getvalue() \
            else []


def quoted(text, limit=40):
    """A student's text in the grader's report: quoted and clipped, never its words."""
    text = str(text)
    return f"«{text if len(text) <= limit else text[:limit] + '…'}»"


# ---------------------------------------------------------------- one submission
NOTEBOOK_BYTES = 20 * 2**20  # a submission's file; a larger one is not read


def source_flags(exercise, notebook):
    """What the student's own cells take from the labs, read from their text
    (exercises/similarity.py): one problem line per task or cell, for the instructor."""
    from exercises import similarity

    given = {nbgrader_id(cell): cell.source for cell in release(exercise).cells
             if nbgrader_id(cell)}
    answers = {nbgrader_id(cell): cell.source for cell in master(exercise).cells
               if nbgrader_id(cell)}
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        metadata = cell.get("metadata", {}).get("nbgrader")
        if metadata and not metadata.get("solution"):
            continue  # the master's own cell: a check or the set-up
        grade_id = nbgrader_id(cell)
        where = grade_id.removesuffix("-solution") if grade_id else f"cell {index + 1}"
        found = similarity.references(cell.source, allowed=() if grade_id else ("checks",))
        if found:
            problems.append(f"{where}: its code {', '.join(found)} (read from its source; for "
                            f"the instructor to judge)")
        if grade_id:
            for name, share in similarity.lab_copies(cell.source, given.get(grade_id, ""),
                                                     answers.get(grade_id, ""))[:1]:
                problems.append(f"{where}: its code shares {share:.0%} of its fingerprints "
                                f"with {name}, more than the master's answer does (for the "
                                f"instructor to judge)")
    return problems


def run_time_calls(calls):
    """The lab functions the sandbox's profile hook saw called: a second signal, which the
    submission can silence but not dress up (only names of lab functions are kept)."""
    return sorted(call for call in calls
                  if re.fullmatch(r"(labs|exercises)(\.[A-Za-z_]\w*)+", call) and len(call) < 120)


def grade_submission(exercise, path, timeout, sandboxed=True, memory_mb=None,
                     notebook_timeout=None, reply_limit=None):
    """Everything the grader needs of one submission, as plain data (it crosses from a
    worker process): the canonical notebook, each code cell's outputs, and the problems
    to report. Never raises for what the submission is or does."""
    started = time.perf_counter()
    result = {"notebook": None, "outputs": {}, "problems": [], "seconds": 0.0}
    try:
        if path.stat().st_size > NOTEBOOK_BYTES:
            raise ValueError(f"{path.stat().st_size:,} bytes, over the {NOTEBOOK_BYTES:,} a "
                             f"notebook may have")
        book = nbformat.read(path, as_version=4)
        if not isinstance(book.get("cells"), list):
            raise ValueError("it has no cells")
    except Exception as failure:  # not JSON, not a notebook: a row with the reason
        text = str(failure).strip().splitlines()
        result["problems"].append(f"{quoted(path.name, 80)} is not a readable notebook "
                                  f"({type(failure).__name__}: "
                                  f"{quoted(text[0], 120) if text else ''})")
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
    kernel = Kernel(sandboxed, **({"memory_mb": memory_mb} if memory_mb else {}),
                    **({"reply_limit": reply_limit} if reply_limit else {}))
    walk = Walk(kernel, timeout, notebook_timeout)
    try:
        kernel.start()
        result["outputs"] = walk.run(notebook, lambda: importing.join() or sys.modules[
            "exercises.checks"])
    except Stopped as stop:
        result["problems"].append(f"its sandbox did not start ({stop.detail or stop.reason})")
        return result
    finally:
        kernel.close()
    if walk.died:
        result["problems"].append(walk.died.rsplit("; ", 1)[0])
    result["problems"] += source_flags(exercise, notebook)
    for task, calls in walk.lab_calls.items():
        if names := run_time_calls(calls):
            result["problems"].append(f"{task}: calls the lab's own {', '.join(names)} at run "
                                      f"time (seen inside the sandbox; for the instructor to "
                                      f"judge)")
    result["notebook"] = nbformat.writes(notebook)
    result["seconds"] = time.perf_counter() - started
    return result


# ---------------------------------------------------------------- a grading worker
def worker(connection):
    """A grading worker's loop (exercises/grade.py starts it): a job in, a result out,
    until the grader closes the pipe. The grader ends a worker that overruns a
    submission's bound or dies, and starts another: one submission costs its own row."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        environment, arguments = job
        os.environ.update(environment)
        result = grade_submission(*arguments)
        result["grader_mb"] = peak_mb()
        connection.send(result)


def peak_mb():
    """This process's own peak resident memory, in MB: its address space's high-water mark
    (``VmHWM``), which a process started by fork and exec does not inherit, as its
    ``ru_maxrss`` does from the process that started it."""
    import resource

    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
