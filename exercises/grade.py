"""Grade exercise notebooks: one notebook (a per-task table) or a class folder (one CSV,
student × task), offline, on this machine (make check).

    python exercises/grade.py char-rnn my-char-rnn.ipynb
    python exercises/grade.py char-rnn submissions/ --output grades/ --workers 2

A submission is untrusted code. Each one runs in a bubblewrap sandbox of its own
(exercises/sandbox.py: no network, read-only system, one scratch folder), and the grade is
decided here, outside it (exercises/grading.py): the student's cells run in the sandbox,
the master's checks (hidden ones included) run in this process on the values the
student's functions return. nbgrader keeps the course: the master becomes an nbgrader
assignment inside the output folder, and each rebuilt submission, with the outputs the
checks produced, goes through nbgrader's own autograding (with its Execute step replaced by
those outputs), which scores it and records it in its gradebook, where formgrader grades
the written answers. Nothing is written outside the output folder.
"""

import argparse
import contextlib
import csv
import hashlib
import json
import os
import secrets
import shutil
import sys
import time
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing import get_context
from multiprocessing.connection import wait
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from exercises import build, grading, sandbox, values  # noqa: E402

REPOSITORY = build.FOLDER.parent
DEFAULT_OUTPUT = Path("reports") / "exercises"
REFERENCE_CACHE = "RNN_LABS_REFERENCE_CACHE"  # checks.REFERENCE_CACHE (not imported: TensorFlow)
TIMEOUT = 60  # seconds per cell: the longest check (char-rnn's training) takes a few
NOTEBOOK_FACTOR = 2  # --notebook-timeout's default: this many cell timeouts per graded cell
WORKER_SLACK = 120  # seconds a worker gets past --notebook-timeout (sandbox starts, imports)
HIDDEN_SECRET = "RNN_LABS_HIDDEN_SECRET"  # checks.HIDDEN_SECRET (not imported: TensorFlow)
HIDDEN_FILE = "hidden-seeds.json"  # the class's secret for the hidden checks, recorded
GRADED_FILE = "graded.jsonl"  # one finished row per line: what --resume keeps
UNSANDBOXED = "graded without a sandbox (--unsandboxed)"
LEFTOVERS = {"__MACOSX": "a zip's macOS metadata", ".ipynb_checkpoints": "Jupyter's checkpoints"}


class GradingError(Exception):
    """A problem with the command's input, said in one line."""


class Interrupted(Exception):
    """Ctrl-C while ``output`` was being graded: its finished rows are kept there."""

    def __init__(self, output):
        super().__init__(str(output))
        self.output = output


@dataclass
class Submission:
    """One student: their notebook (None when they handed in none) and what is wrong."""

    student: str
    path: Path = None
    problems: list = field(default_factory=list)


def display(name):
    """A name as the CSV shows it: the student's own characters, composed (NFC)."""
    return unicodedata.normalize("NFC", name)


def skip_reason(relative):
    for part in relative.parts:
        if part in LEFTOVERS:
            return LEFTOVERS[part]
    for part in relative.parts:
        if part.startswith("._"):
            return "a macOS resource file (._)"
        if part.startswith("."):
            return "a hidden file"
    return None


def submissions(path):
    """(submissions, skipped): every student under ``path`` gets one, with or without a
    notebook; ``skipped`` lists (file, reason) for checkpoints, zip leftovers, hidden files.

    A student is a notebook's name (``alice.ipynb``), or its folder's path when the folder
    holds one notebook (``section1/alice/hw.ipynb`` is ``section1/alice``); a folder with
    no notebook is a student whose files are not notebooks."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".ipynb":
            raise GradingError(f"{path} is not a notebook (.ipynb)")
        return [Submission(display(path.stem), path)], []
    if not path.is_dir():
        raise GradingError(f"{path}: no such notebook or folder")
    skipped, files = [], []
    for item in sorted(path.rglob("*")):
        relative = item.relative_to(path)
        if item.is_dir():
            continue
        if (reason := skip_reason(relative)) is not None:
            skipped.append((relative.as_posix(), reason))
        else:
            files.append(relative)
    notebooks = [item for item in files if item.suffix.lower() == ".ipynb"]
    folders = {}
    for notebook in notebooks:
        folders.setdefault(notebook.parent, []).append(notebook)
    found = []
    for notebook in notebooks:
        alone = notebook.parent != Path(".") and len(folders[notebook.parent]) == 1
        name = notebook.parent.as_posix() if alone else notebook.with_suffix("").as_posix()
        found.append(Submission(display(name), path / notebook))
    others = {}
    for item in files:
        if item.suffix.lower() == ".ipynb":
            continue
        if item.parent in folders:
            skipped.append((item.as_posix(), "not a notebook, beside a student's notebook"))
            continue
        owner = item.with_suffix("") if item.parent == Path(".") else item.parent
        others.setdefault(owner.as_posix(), []).append(item.name)
    for owner, names in others.items():
        found.append(Submission(display(owner), None, [
            f"no notebook: {', '.join(names)} {'is' if len(names) == 1 else 'are'} not a "
            f"notebook (.ipynb)"]))
    unique(found, path)
    if not found:
        raise GradingError(f"{path} holds no notebook (*.ipynb), neither directly nor in "
                           f"one folder per student")
    return sorted(found, key=lambda submission: submission.student), skipped


def unique(found, root):
    """No two students on one name: the colliding ones take their file's whole path."""
    counts = {}
    for submission in found:
        counts[submission.student] = counts.get(submission.student, 0) + 1
    for submission in found:
        if counts[submission.student] > 1 and submission.path is not None:
            submission.student = display(submission.path.relative_to(root).as_posix())


def course_id(student):
    """nbgrader's student id: ASCII for its folders and database, unique by a hash of the
    name (Zoë and Zoé, 李雷 and 王芳 stay two students)."""
    ascii_name = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode()
    slug = "".join(c if c.isalnum() or c in "_-" else "-" for c in ascii_name).strip("-")
    return f"{slug[:40] or 'student'}-{hashlib.sha256(student.encode()).hexdigest()[:8]}"


def output_folder(root, exercise):
    """A new folder for this grading under ``root``: a finished grading is never touched."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise GradingError(f"--output {root} is a file: give a folder")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for suffix in ("", *(f"-{number}" for number in range(2, 100))):
        folder = root.resolve() / exercise / f"{stamp}{suffix}"
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
        except OSError as error:
            raise GradingError(f"--output {root}: cannot make a folder there "
                               f"({error.strerror or error}); give a folder you can write "
                               f"to") from None
    raise GradingError(f"{root}/{exercise} already holds 99 gradings from this second")


def tasks_of(exercise):
    """(task, points, graded by hand) of the master's graded cells, in order."""
    found = []
    for cell in build.master(exercise).cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("grade"):
            found.append((metadata["grade_id"], metadata["points"], cell.cell_type == "markdown"))
    return found


def error_lines(book):
    """The first error of each graded cell of an autograded notebook: 'NameError: ...'."""
    errors = {}
    for cell in book.cells:
        task = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if task and output.get("output_type") == "error" and task not in errors:
                value = (output.get("evalue") or "").strip().splitlines()
                errors[task] = f"{output.get('ename')}: {value[0] if value else ''}".strip()
    return errors


def describe(error, task, timeout):
    """A check's message as a student reads it: a failed check speaks for itself."""
    if error is None:
        return "failed"
    if error.startswith(("CheckFailed: ", "AssertionError: ")):
        return error.split(": ", 1)[1].removeprefix(f"{task}: ")
    if error.startswith("DeadKernelError: "):
        return error.split(": ", 1)[1]
    if error.startswith("KeyboardInterrupt") or "Timeout" in error.split(":")[0]:
        return f"stopped after the {timeout} s timeout (an endless loop?)"
    return error


# Outputs of each submission's walk, by nbgrader student id, for RecordedOutputs.
RECORDED = {}


class RecordedOutputs(NbGraderPreprocessor):
    """nbgrader's Execute step, replaced: each code cell gets the outputs that the
    sandboxed walk gave it (exercises/grading.py); nothing is executed here."""

    def preprocess(self, nb, resources):
        recorded = RECORDED[resources["nbgrader"]["student"]]
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                cell.outputs = [nbformat.from_dict(output) for output in recorded.get(index, [])]
        return nb, resources


def nbgrader_api(course, timeout):
    """nbgrader's API on ``course``, autograding with the recorded outputs."""
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata,
                                        ClearHiddenTests, GetGrades, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor

    config = build.course_config(course, timeout)
    config.Autograde.autograde_preprocessors = [
        RecordedOutputs, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
        AssignLatePenalties, CheckCellMetadata]
    # nbgrader's feedback shows the autograded notebook, whose check cells hold the hidden
    # checks (they ran in the grader): the student's page leaves them out.
    config.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests,
                                             CSSHTMLHeaderPreprocessor]
    config.ClearHiddenTests.enforce_metadata = False
    return build.quiet_api(course, timeout, config=config)


def record(api, course, exercise, submission, graded, timeout):
    """{task: (score, message)} for one graded submission, through nbgrader's gradebook."""
    student = course_id(submission.student)
    target = course / "submitted" / student / exercise / f"{exercise}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(graded["notebook"], encoding="utf-8")
    RECORDED[student] = graded["outputs"]
    try:
        result = api.autograde(exercise, student, force=True, create=True)
    finally:
        del RECORDED[student]
    if not result["success"]:
        reason = (result.get("error") or "").strip().splitlines()
        return {None: f"nbgrader could not record {submission.path}: "
                      f"{reason[-1] if reason else 'see its log'}"}
    autograded = nbformat.read(
        course / "autograded" / student / exercise / f"{exercise}.ipynb", as_version=4)
    errors = error_lines(autograded)
    present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in autograded.cells}
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(api.coursedir.db_url) as gradebook:
        submitted = gradebook.find_submission_notebook(exercise, exercise, student)
        for grade in submitted.grades:
            if grade.name not in present:
                message = ("its cell is missing from the notebook (nbgrader finds a task by "
                           "its cell's metadata: work in the notebook you were given)")
            elif grade.auto_score == grade.max_score:
                message = ""
            else:
                message = describe(errors.get(grade.name), grade.name, timeout)
            scores[grade.name] = (grade.auto_score, message)
    return scores


def feedback_path(output, student):
    """``feedback/<student>.html``: the student's own name, a section's folders as folders."""
    parts = [part if part not in ("", ".", "..") else "_" for part in student.split("/")]
    return output.joinpath("feedback", *parts[:-1], f"{parts[-1]}.html")


def write_feedback(api, course, exercise, submission, output):
    """The student's feedback page through nbgrader's own step (their cells, each task's
    points and the check's message, the total; no hidden check), filed under their name.
    None, or the problem that kept it from being written."""
    student = course_id(submission.student)
    try:
        result = api.generate_feedback(exercise, student)
        page = course / "feedback" / student / exercise / f"{exercise}.html"
        if not result["success"] or not page.is_file():
            reason = (result.get("error") or "").strip().splitlines()
            return f"no feedback page: {reason[-1][:160] if reason else 'nbgrader wrote none'}"
        target = feedback_path(output, submission.student)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.part")
        shutil.copyfile(page, temporary)
        temporary.replace(target)
    except (OSError, RuntimeError, ValueError) as error:
        return f"no feedback page ({type(error).__name__}: {str(error)[:160]})"
    return None


def solutions_of(course, exercise, students):
    """{student: {task: code}} of the graded notebooks (as nbgrader keeps them)."""
    found = {}
    for student in students:
        path = course / "submitted" / course_id(student) / exercise / f"{exercise}.ipynb"
        try:
            book = nbformat.read(path, as_version=4)
        except (OSError, ValueError):
            continue
        found[student] = grading.solution_cells(book)
    return found


def class_report(output, exercise, tasks, rows, threshold, feedback):
    """class.md, class.html and class.png beside grades.csv (exercises/report.py), with the
    similar pairs (exercises/similarity.py); class.md's path."""
    from exercises import report, similarity

    solutions = solutions_of(output / "course", exercise,
                             [row["student"] for row in rows if None not in row["scores"]])
    pairs = similarity.similar_pairs(solutions, grading.solution_cells(grading.release(exercise)),
                                     threshold,
                                     answers=grading.solution_cells(grading.master(exercise)))
    return report.write(output, exercise, tasks, rows, pairs, threshold, feedback)


@contextlib.contextmanager
def errors_to(path):
    """Send this process's standard error, and its workers', to ``path``: nbgrader and the
    database warn there, and the terminal shows the grades alone."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as handle:
        os.dup2(handle.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


# Idle workers, by target, kept for the next grading in this process (a test suite grades
# many folders): each started worker has imported the checks (and TensorFlow) once.
IDLE = {}


class Workers:
    """Grading workers, each a process of its own that grades one submission at a time
    (exercises/grading.py: ``worker``). A worker that dies, or overruns a submission's
    ``bound`` in seconds (a reply made to stall the grader, say), is ended and replaced,
    and that submission's row says why: the others are graded as usual. Idle workers stay
    for the next grading in the same process; they end with it."""

    def __init__(self, count, bound, target=None):
        # fork is quick, but a process that has run TensorFlow (a test's) must not fork
        self.context = get_context("spawn" if "tensorflow" in sys.modules else "fork")
        self.count = count
        self.bound = bound
        self.target = target or grading.worker
        self.idle = IDLE.setdefault(self.target, [])
        self.busy = {}  # connection -> (process, job number, deadline)

    def start(self):
        parent, child = self.context.Pipe()
        process = self.context.Process(target=self.target, args=(child,), daemon=True)
        process.start()
        child.close()
        return process, parent

    def end(self, process, connection):
        if process.is_alive():
            process.kill()
        process.join()
        connection.close()

    def run(self, jobs):
        """(job number, result or None, why) for each job, as each finishes."""
        waiting = list(enumerate(jobs))
        try:
            while waiting or self.busy:
                while waiting and len(self.busy) < self.count:
                    while self.idle and not self.idle[-1][0].is_alive():
                        self.end(*self.idle.pop())
                    process, connection = self.idle.pop() if self.idle else self.start()
                    number, job = waiting.pop(0)
                    connection.send(job)
                    self.busy[connection] = (process, number, time.monotonic() + self.bound)
                soonest = min(deadline for _, _, deadline in self.busy.values())
                ready = wait(list(self.busy), timeout=max(0.0, soonest - time.monotonic()))
                for connection in ready:
                    process, number, _ = self.busy.pop(connection)
                    try:
                        result = connection.recv()
                    except (EOFError, OSError):
                        process.join()
                        code = process.exitcode
                        self.end(process, connection)
                        how = f"signal {-code}" if code and code < 0 else f"exit code {code}"
                        yield number, None, f"the grader's worker for it died ({how})"
                        continue
                    self.idle.append((process, connection))
                    yield number, result, None
                for connection, (process, number, deadline) in list(self.busy.items()):
                    if time.monotonic() >= deadline:
                        del self.busy[connection]
                        self.end(process, connection)
                        yield number, None, (f"its grading ran past {self.bound:g} s and was "
                                             f"stopped (--notebook-timeout)")
        finally:
            for connection, (process, _, _) in self.busy.items():  # interrupted
                self.end(process, connection)
            self.busy = {}


def notebook_bound(exercise, timeout):
    """The default --notebook-timeout: twice the cell timeout for each graded cell."""
    return NOTEBOOK_FACTOR * timeout * len(tasks_of(exercise))


def read_secret(source):
    """The secret of a hidden-seeds file (``--hidden-seeds``, or a grading folder's)."""
    try:
        return int(json.loads(Path(source).read_text(encoding="utf-8"))["secret"])
    except (OSError, ValueError, KeyError, TypeError):
        raise GradingError(f"--hidden-seeds {source}: not a file of hidden seeds (a JSON "
                           f"object with an integer 'secret', as {HIDDEN_FILE} of a grading "
                           f"folder)") from None


def hidden_secret(output, given=None):
    """The class's secret for the hidden checks' seeds: the instructor's (``given``, read
    before anything is written), else the one this grading folder recorded (a resumed
    grading), else a new one; recorded in the folder."""
    recorded = output / HIDDEN_FILE
    if given is not None:
        secret = given
    elif recorded.is_file():
        secret = read_secret(recorded)
    else:
        secret = secrets.randbits(63)
    if not recorded.is_file():
        recorded.write_text(json.dumps({"secret": secret}) + "\n", encoding="utf-8")
    return secret


def grade(exercise, path, output_root, timeout=TIMEOUT, log=print, workers=1, sandboxed=True,
          memory_mb=None, notebook_timeout=None, reply_mb=None, resume=None,
          hidden_seeds=None, feedback=True, similarity=None, report=True):
    """Grade every submission under ``path``; returns the output folder, the tasks, the
    rows and the skipped files. ``resume``: a grading folder whose graded students are
    kept (its graded.jsonl), the others graded into it."""
    if sandboxed:
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as error:
            raise GradingError(str(error)) from None
    found, skipped = submissions(path)
    tasks = tasks_of(exercise)
    given_secret = read_secret(hidden_seeds) if hidden_seeds else None
    kept = {}
    if resume is not None:
        output = Path(resume).resolve()
        kept = resumed_rows(output, exercise)
    else:
        output = output_folder(output_root, exercise)
    secret = hidden_secret(output, given_secret)
    settings = {"timeout": timeout, "sandboxed": sandboxed, "memory_mb": memory_mb,
                "feedback": feedback,
                "notebook_timeout": notebook_timeout or notebook_bound(exercise, timeout),
                "reply_limit": int((reply_mb or values.LIMIT / 2**20) * 2**20)}
    (output / "grading.json").write_text(json.dumps(
        {"exercise": exercise, "submissions": str(Path(path).resolve()), **settings},
        indent=1) + "\n", encoding="utf-8")
    try:
        with errors_to(output / "grading.log"):
            rows = grade_into(output, exercise, found, kept, tasks, log, workers, secret,
                              settings)
    except KeyboardInterrupt:
        raise Interrupted(output) from None
    if skipped:
        lines = [f"{name}\t{reason}" for name, reason in skipped]
        (output / "skipped.tsv").write_text("file\treason\n" + "\n".join(lines) + "\n",
                                            encoding="utf-8")
    if report:
        from exercises.similarity import SIMILARITY

        with errors_to(output / "grading.log"):
            class_report(output, exercise, tasks, rows,
                         SIMILARITY if similarity is None else similarity, feedback)
    return output, tasks, rows, skipped


def resumed_rows(output, exercise):
    """{student: row} of the students a grading folder has finished (its graded.jsonl)."""
    settings = output / "grading.json"
    if not settings.is_file():
        raise GradingError(f"--resume {output}: not a grading folder (no grading.json): give "
                           f"the folder an earlier make check wrote, e.g. "
                           f"reports/exercises/{exercise}/<time>")
    try:
        recorded = json.loads(settings.read_text(encoding="utf-8"))["exercise"]
    except (OSError, ValueError, KeyError, TypeError):
        raise GradingError(f"--resume {output}: its grading.json is damaged") from None
    if recorded != exercise:
        raise GradingError(f"--resume {output}: that folder grades {recorded}, not {exercise}")
    rows = {}
    graded = output / GRADED_FILE
    if graded.is_file():
        for line in graded.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):  # a line cut by a kill
                row = json.loads(line)
                row["scores"] = {(None if task == "" else task): tuple(value)
                                 for task, value in row["scores"].items()}
                rows[row["student"]] = row
    return rows


def grade_into(output, exercise, found, kept, tasks, log, workers, secret, settings):
    course = output / "course"
    if not (course / "source" / exercise).is_dir():
        build.write_source(course, exercise)
    api = nbgrader_api(course, settings["timeout"])
    os.environ[REFERENCE_CACHE] = str(output / "references")  # checks.cached, this side only
    os.environ[HIDDEN_SECRET] = str(secret)  # the workers' checks; never a sandbox's
    generated = api.generate_assignment(exercise, force=True, create=True)
    if not generated["success"]:
        raise GradingError(f"nbgrader could not read the master of {exercise}: "
                           f"{(generated.get('error') or '').strip().splitlines()[-1:]}")
    rows = {student: row for student, row in kept.items()
            if student in {submission.student for submission in found}}
    for submission in found:  # a student with no notebook: a row at once
        if submission.path is None and submission.student not in rows:
            rows[submission.student] = finish(output, tasks, rows, row_of(
                submission, None, {}, settings["sandboxed"]))
    pending = [submission for submission in found
               if submission.path is not None and submission.student not in rows]
    if kept:
        log(f"resuming: {len(rows)} students kept, {len(pending)} to grade")
    write_csv(output / "grades.csv", tasks, sorted(rows.values(), key=lambda row: row["student"]))
    # What the checks read from the environment, handed to each job: a worker may have
    # graded another folder before (Workers keeps them).
    environment = {REFERENCE_CACHE: str(output / "references"), HIDDEN_SECRET: str(secret)}
    jobs = [(environment, (exercise, submission.path, settings["timeout"],
                           settings["sandboxed"], settings["memory_mb"],
                           settings["notebook_timeout"], settings["reply_limit"]))
            for submission in pending]
    pool = Workers(min(workers, max(1, len(jobs))),
                   settings["notebook_timeout"] + WORKER_SLACK)
    try:
        for count, (number, graded, why) in enumerate(pool.run(jobs), 1):
            submission = pending[number]
            scores = {}
            if graded is None:
                graded = {"problems": [why], "notebook": None, "seconds": pool.bound}
            elif graded["notebook"] is not None:
                scores = record(api, course, exercise, submission, graded, settings["timeout"])
                if settings["feedback"] and None not in scores:
                    problem = write_feedback(api, course, exercise, submission, output)
                    graded["problems"] = graded["problems"] + ([problem] if problem else [])
            rows[submission.student] = finish(output, tasks, rows, row_of(
                submission, graded, scores, settings["sandboxed"]))
            if len(found) > 1:
                log(f"[{count}/{len(pending)}] graded {submission.student} "
                    f"({submission.path}, {graded['seconds']:.1f} s)")
    finally:
        shutil.rmtree(course / "release", ignore_errors=True)
        shutil.rmtree(output / "references", ignore_errors=True)
    return sorted(rows.values(), key=lambda row: row["student"])


def row_of(submission, graded, scores, sandboxed):
    """One student's row: scores by task (None: why there are none), problems, seconds."""
    problems = list(submission.problems)
    scores = dict(scores)
    if graded is not None:
        problems += graded["problems"]
        problems += [scores.pop(None)] if None in scores else []
    if not sandboxed:
        problems.append(UNSANDBOXED)
    if not scores:
        scores[None] = "; ".join(problems)
    return {"student": submission.student, "notebook": str(submission.path or ""),
            "scores": scores, "problems": problems,
            "seconds": round(graded["seconds"], 2) if graded else 0.0,
            "grader_mb": round(graded.get("grader_mb", 0.0), 1) if graded else 0.0}


def finish(output, tasks, rows, row):
    """A finished row, kept: appended to graded.jsonl (what --resume reads) and the CSV
    rewritten with every row so far, so a grading stopped at any point keeps its rows."""
    line = json.dumps({**row, "scores": {"" if task is None else task: list(value)
                                         if isinstance(value, tuple) else [None, value]
                                         for task, value in row["scores"].items()}},
                      ensure_ascii=False)
    with open(output / GRADED_FILE, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    rows = {**rows, row["student"]: row}
    write_csv(output / "grades.csv", tasks, sorted(rows.values(), key=lambda item: item["student"]))
    return row


def auto_total(tasks, scores):
    automatic = [(task, points) for task, points, by_hand in tasks if not by_hand]
    got = sum(float((scores.get(task) or (0.0, ""))[0] or 0.0) for task, _ in automatic)
    return got, sum(points for _, points in automatic)


def spreadsheet_safe(text):
    """A text cell that a spreadsheet shows as text: one that starts with = + - @, a tab or
    a carriage return (a formula, to Excel or LibreOffice) gets a leading apostrophe, as
    OWASP's advice on CSV injection has it."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(path, tasks, rows):
    """student, one column per task (by-hand tasks empty until graded), total, max; every
    text cell spreadsheet-safe."""
    columns = ["student", *(task for task, _, _ in tasks), "total", "max", "problem"]
    temporary = path.with_suffix(".csv.part")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            scores = row["scores"]
            total, maximum = auto_total(tasks, scores)
            cells = [spreadsheet_safe(row["student"])]
            for task, _, by_hand in tasks:
                score = (scores.get(task) or (None, ""))[0]
                cells.append("" if by_hand or score is None else f"{score:g}")
            cells += [f"{total:g}", f"{maximum:g}", spreadsheet_safe("; ".join(row["problems"]))]
            writer.writerow(cells)
    temporary.replace(path)


def table(tasks, row):
    """The per-task table of one submission, as lines."""
    scores = row["scores"]
    if None in scores:
        return [f"  {scores[None]}"]
    notes = [f"  note: {problem}" for problem in row["problems"]]
    width = max(len(task) for task, _, _ in tasks)
    lines = [f"  {'task':<{width}}  points  result"]
    for task, points, by_hand in tasks:
        score, message = scores.get(task) or (None, "missing from the notebook")
        if by_hand:
            lines.append(f"  {task:<{width}}  -/{points:<4g}  graded by hand")
            continue
        result = "ok" if not message else message
        lines.append(f"  {task:<{width}}  {float(score or 0):g}/{points:<4g}  {result}")
    total, maximum = auto_total(tasks, scores)
    lines.append(f"  {'total':<{width}}  {total:g}/{maximum:g}   (auto-graded tasks)")
    return lines + notes


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python exercises/grade.py",
        description="Grade exercise notebooks offline: each submission runs in a sandbox of "
                    "its own and the checks run outside it; one notebook prints a per-task "
                    "table, a folder of submissions (a notebook per student, or a folder per "
                    "student, sections nested as you like) writes grades.csv.")
    parser.add_argument("exercise", choices=list(build.EXERCISES), metavar="EXERCISE",
                        help=f"one of {', '.join(build.EXERCISES)}")
    parser.add_argument("notebook", metavar="NOTEBOOK",
                        help="a notebook, or a folder of submissions")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="folder that receives this grading, in a new subfolder "
                             "(default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=TIMEOUT,
                        help="seconds a cell may run before it is stopped and its task "
                             "failed (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1,
                        help="submissions graded side by side, each in its own sandbox "
                             "(default: %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=sandbox.MEMORY_MB,
                        help="memory of one submission's sandbox, in MiB "
                             "(default: %(default)s)")
    parser.add_argument("--notebook-timeout", type=float, default=None, metavar="SECONDS",
                        help="seconds one notebook may take in all, restarts and their "
                             "replays included; the tasks after are not graded (default: "
                             f"{NOTEBOOK_FACTOR} x --timeout x the graded cells)")
    parser.add_argument("--reply-mb", type=float, default=values.LIMIT / 2**20,
                        help="largest reply the grader reads from a submission, in MiB; a "
                             "larger one fails its task (default: %(default)g)")
    parser.add_argument("--resume", metavar="FOLDER",
                        help="a grading folder an earlier run left unfinished: its graded "
                             "students are kept, the others graded into it")
    parser.add_argument("--hidden-seeds", metavar="FILE",
                        help="the class's secret for the hidden checks' seeds (the "
                             f"{HIDDEN_FILE} of an earlier grading, or your own); default: "
                             "a new one, recorded in the grading folder")
    parser.add_argument("--no-feedback", action="store_true",
                        help="write no feedback/<student>.html (nbgrader's feedback pages)")
    parser.add_argument("--similarity", type=float, default=None, metavar="SHARE",
                        help="the class report lists pairs of students whose code for a task "
                             "shares at least this share of one's fingerprints (default: "
                             "0.8)")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run the submissions as plain processes, with your access to "
                             "your files (every report says so); the checks still run "
                             "outside them")
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if args.memory_mb < 256:
        parser.error(f"--memory-mb must be at least 256, got {args.memory_mb}")
    if args.notebook_timeout is not None and not args.notebook_timeout >= args.timeout:
        parser.error(f"--notebook-timeout must be at least --timeout ({args.timeout} s), got "
                     f"{args.notebook_timeout:g}")
    if not 0.01 <= args.reply_mb <= 1024:
        parser.error(f"--reply-mb must be between 0.01 and 1024, got {args.reply_mb:g}")
    if args.similarity is not None and not 0 < args.similarity <= 1:
        parser.error(f"--similarity must be above 0 and at most 1, got {args.similarity:g}")
    started = time.perf_counter()
    try:
        output, tasks, rows, skipped = grade(
            args.exercise, args.notebook, args.output, args.timeout, workers=args.workers,
            sandboxed=not args.unsandboxed, memory_mb=args.memory_mb,
            notebook_timeout=args.notebook_timeout, reply_mb=args.reply_mb,
            resume=args.resume, hidden_seeds=args.hidden_seeds,
            feedback=not args.no_feedback, similarity=args.similarity)
    except GradingError as error:
        print(f"exercises/grade.py: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as interrupted:
        print(f"exercises/grade.py: interrupted; the students graded so far are in "
              f"{interrupted.output / 'grades.csv'}: --resume {interrupted.output} grades the "
              f"rest", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("exercises/grade.py: interrupted before any student was graded",
              file=sys.stderr)
        return 130
    seconds = time.perf_counter() - started
    for name, reason in skipped:
        print(f"skipped {name}: {reason}")
    if args.unsandboxed:
        print(f"warning: {UNSANDBOXED}: the submissions could read and write your files")
    if len(rows) == 1:
        print(f"{args.exercise}: {rows[0]['notebook']} (graded in {seconds:.0f} s)")
        print("\n".join(table(tasks, rows[0])))
    path = output / "grades.csv"
    write_csv(path, tasks, rows)
    print(f"wrote {path} ({len(rows)} submission{'s' if len(rows) > 1 else ''}, "
          f"{seconds:.0f} s)")
    print(f"class report: {output / 'class.html'} (and class.md)"
          + ("" if args.no_feedback else f"; feedback: {output / 'feedback'}/<student>.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
