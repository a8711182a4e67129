"""Grade exercise notebooks with nbgrader: one notebook (a per-task table) or a folder of
them (one CSV, student × task), offline, on this machine (make check).

    python exercises/grade.py char-rnn my-char-rnn.ipynb
    python exercises/grade.py char-rnn submissions/ --output grades/

The master notebook (exercises/source/<exercise>.py, with the hidden checks) becomes an
nbgrader course inside the output folder; each submission is copied into it and
autograded: nbgrader puts the master's checks back in place of the student's copies, runs
the notebook with a timeout per cell, and records a score per task in its gradebook. A task
whose check raised (a wrong answer, a missing function, a syntax error earlier, a cell
that ran past the timeout) scores 0 and its message is shown; every other task is graded as
usual. Nothing is written outside the output folder.
"""

import argparse
import contextlib
import csv
import os
import re
import shutil
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from exercises import build  # noqa: E402

REPOSITORY = build.FOLDER.parent
DEFAULT_OUTPUT = Path("reports") / "exercises"
REFERENCE_CACHE = "RNN_LABS_REFERENCE_CACHE"  # checks.REFERENCE_CACHE (not imported: TensorFlow)
TIMEOUT = 60  # seconds per cell: the longest check (char-rnn's training) takes a few


class GradingError(Exception):
    """A problem with the command's input, said in one line."""


def submissions(path):
    """(student, notebook) pairs: one notebook, or every ``*.ipynb`` of a folder (the
    student is the file's name) and of its subfolders (the student is the subfolder's)."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".ipynb":
            raise GradingError(f"{path} is not a notebook (.ipynb)")
        return [(student_id(path.stem), path)]
    if not path.is_dir():
        raise GradingError(f"{path}: no such notebook or folder")
    found = [(student_id(notebook.stem), notebook) for notebook in sorted(path.glob("*.ipynb"))]
    for folder in sorted(child for child in path.iterdir() if child.is_dir()):
        notebooks = sorted(folder.glob("*.ipynb"))
        if len(notebooks) > 1:
            raise GradingError(f"{folder} holds {len(notebooks)} notebooks; keep one per "
                               f"student folder")
        found += [(student_id(folder.name), notebook) for notebook in notebooks]
    if not found:
        raise GradingError(f"{path} holds no notebook (*.ipynb), neither directly nor in "
                           f"one folder per student")
    students = [student for student, _ in found]
    repeated = sorted({student for student in students if students.count(student) > 1})
    if repeated:
        raise GradingError(f"{path}: more than one notebook for {', '.join(repeated)}")
    return found


def student_id(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "student"


def output_folder(root, exercise):
    """A new folder for this grading under ``root``: a finished grading is never touched."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for suffix in ("", *(f"-{number}" for number in range(2, 100))):
        folder = Path(root).resolve() / exercise / f"{stamp}{suffix}"
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
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
    if error.startswith("KeyboardInterrupt") or "Timeout" in error.split(":")[0]:
        return f"stopped after the {timeout} s timeout (an endless loop?)"
    return error


def grade_one(api, course, exercise, student, notebook, timeout):
    """{task: (score, message)} for one submission."""
    target = course / "submitted" / student / exercise / f"{exercise}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        book = nbformat.read(notebook, as_version=4)
    except Exception as error:  # not JSON, not a notebook: every task fails, others go on
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return {None: f"{notebook} is not a readable notebook ({type(error).__name__}: "
                      f"{first[:120]})"}
    nbformat.write(book, target)
    result = api.autograde(exercise, student, force=True, create=True)
    if not result["success"]:
        reason = (result.get("error") or "").strip().splitlines()
        return {None: f"nbgrader could not grade {notebook}: "
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


@contextlib.contextmanager
def errors_to(path):
    """Send this process's standard error, and its kernels', to ``path``: nbgrader, the
    database and the kernels warn there, and the terminal shows the grades alone."""
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


def grade(exercise, path, output_root, timeout=TIMEOUT, log=print):
    """Grade every submission under ``path``; returns the output folder and the rows."""
    found = submissions(path)
    tasks = tasks_of(exercise)
    output = output_folder(output_root, exercise)
    with errors_to(output / "grading.log"):
        return grade_into(output, exercise, found, tasks, timeout, log)


def grade_into(output, exercise, found, tasks, timeout, log):
    course = output / "course"
    build.write_source(course, exercise)
    api = build.quiet_api(course, timeout)
    os.environ["RNN_LABS_ROOT"] = str(REPOSITORY)  # the notebooks' set-up cell reads it
    os.environ[REFERENCE_CACHE] = str(output / "references")  # checks.cached
    generated = api.generate_assignment(exercise, force=True, create=True)
    if not generated["success"]:
        raise GradingError(f"nbgrader could not read the master of {exercise}: "
                           f"{(generated.get('error') or '').strip().splitlines()[-1:]}")
    rows = []
    for number, (student, notebook) in enumerate(found, 1):
        started = time.perf_counter()
        if len(found) > 1:
            log(f"[{number}/{len(found)}] grading {student} ({notebook})")
        scores = grade_one(api, course, exercise, student, notebook, timeout)
        rows.append({"student": student, "notebook": str(notebook), "scores": scores,
                     "seconds": time.perf_counter() - started})
    shutil.rmtree(course / "release", ignore_errors=True)
    shutil.rmtree(output / "references", ignore_errors=True)
    return output, tasks, rows


def auto_total(tasks, scores):
    automatic = [(task, points) for task, points, by_hand in tasks if not by_hand]
    got = sum(float((scores.get(task) or (0.0, ""))[0] or 0.0) for task, _ in automatic)
    return got, sum(points for _, points in automatic)


def write_csv(path, tasks, rows):
    """student, one column per task (by-hand tasks empty until graded), total, max."""
    columns = ["student", *(task for task, _, _ in tasks), "total", "max", "problem"]
    temporary = path.with_suffix(".csv.part")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            scores = row["scores"]
            total, maximum = auto_total(tasks, scores)
            cells = [row["student"]]
            for task, _, by_hand in tasks:
                score = (scores.get(task) or (None, ""))[0]
                cells.append("" if by_hand or score is None else f"{score:g}")
            cells += [f"{total:g}", f"{maximum:g}", scores.get(None, "")]
            writer.writerow(cells)
    temporary.replace(path)


def table(tasks, row):
    """The per-task table of one submission, as lines."""
    scores = row["scores"]
    if None in scores:
        return [f"  {scores[None]}"]
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
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python exercises/grade.py",
        description="Grade exercise notebooks offline with nbgrader: one notebook prints a "
                    "per-task table; a folder of submissions (one notebook per student, or "
                    "one folder per student) writes grades.csv.")
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
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    started = time.perf_counter()
    try:
        output, tasks, rows = grade(args.exercise, args.notebook, args.output, args.timeout)
    except GradingError as error:
        print(f"exercises/grade.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("exercises/grade.py: interrupted; the grades of this run are incomplete",
              file=sys.stderr)
        return 130
    seconds = time.perf_counter() - started
    if len(rows) == 1:
        print(f"{args.exercise}: {rows[0]['notebook']} (graded in {seconds:.0f} s)")
        print("\n".join(table(tasks, rows[0])))
    path = output / "grades.csv"
    write_csv(path, tasks, rows)
    print(f"wrote {path} ({len(rows)} submission{'s' if len(rows) > 1 else ''}, "
          f"{seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
