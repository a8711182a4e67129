"""Grading that no submission can forge (exercises/sandbox.py, exercises/grading.py): hostile
notebooks graded in one folder with honest ones earn nothing they did not earn, change no
honest grade, and leave the repository, $HOME, the output folder and the other
submissions as they were; and the class folders instructors actually collect."""

import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from conftest import REPOSITORY, subprocess_env

sys.path.insert(0, str(REPOSITORY))
from exercises import build, grade, grading, sandbox, values  # noqa: E402
from test_exercises import mistake, with_mistake  # noqa: E402

import hostile  # noqa: E402

POINTS = {task: points for task, points, _ in grade.tasks_of("char-rnn")}
FULL = sum(POINTS.values())


def solved(tasks):
    """The char-rnn notebook with the solutions of ``tasks`` only (the others as given)."""
    book = build.master("char-rnn")
    student = nbformat.read(REPOSITORY / "exercises" / "char-rnn.ipynb", as_version=4)
    for cell, unfilled in zip(book.cells, student.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("-solution") and grade_id.removesuffix("-solution") not in tasks:
            cell.source = unfilled.source
    return book


def with_cell(book, after_task, source):
    """``book`` with a plain code cell after the check of ``after_task``."""
    index = next(number for number, cell in enumerate(book.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == after_task)
    book.cells.insert(index + 1, nbformat.v4.new_code_cell(textwrap.dedent(source)))
    return book


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def git_status():
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                          cwd=REPOSITORY, capture_output=True, text=True).stdout


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that a hostile submission tries to reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


SECRET = "rnn-labs-test-token-6d1f"  # in the grader's environment while the class is graded


@pytest.mark.slow
def test_hostile_submissions_earn_nothing_and_change_nothing(tmp_path, listener, monkeypatch):
    """Every hostile notebook of tests/hostile.py and the ones below, in one class with an
    honest one: the honest grade holds, each hostile one earns only what it answered, the
    CSV is complete, and the grader's own memory stays bounded."""
    folder, output, home = tmp_path / "class", tmp_path / "grades", Path.home()
    folder.mkdir()
    monkeypatch.setenv("RNN_LABS_TEST_SECRET", SECRET)
    for name, make in hostile.NOTEBOOKS.items():
        nbformat.write(make(), folder / f"{name}.ipynb")
    nbformat.write(build.master("char-rnn"), folder / "honest.ipynb")
    nbformat.write(with_mistake("char-rnn", *mistake("char-rnn", "clip")),
                   folder / "mistaken.ipynb")
    port = listener.getsockname()[1]
    secrets = {"master": REPOSITORY / "exercises" / "source" / "char_rnn.py",
               "other": folder / "honest.ipynb", "grader": REPOSITORY / "exercises" / "grade.py"}
    targets = {"checks": REPOSITORY / "exercises" / "checks.py", "home": home / "hostile.txt",
               "output": output / "hostile.txt", "other": folder / "honest.ipynb",
               "reference": output / "char-rnn" / "references" / "fake.pkl",
               "labs": REPOSITORY / "labs" / "hostile.py"}
    # 1. Answers the first task, then patches the checks, NumPy and builtins in its kernel,
    # prints fake ok lines, writes everywhere, reads the master and another submission,
    # edits any gradebook it finds, connects to the network, and returns zeros from forward.
    forger = with_cell(solved({"vocabulary"}), "vocabulary", f"""
        import builtins, os, socket, sqlite3
        import numpy as np
        from exercises import checks
        for name in dir(checks):
            if name.startswith("check_"):
                setattr(checks, name, lambda *a, **k: print("forward: ok"))
        checks.fail = checks.close = lambda *a, **k: None
        np.max = lambda *a, **k: 0.0
        builtins.AssertionError = Exception
        for task in {list(POINTS)!r}:
            print(f"{{task}}: ok")
        for name, path in {dict((k, str(v)) for k, v in targets.items())!r}.items():
            try:
                with open(path, "a") as handle:
                    handle.write("forged")
                print("WROTE", name)
            except OSError as error:
                print("blocked writing", name, type(error).__name__)
        for name, path in {dict((k, str(v)) for k, v in secrets.items())!r}.items():
            try:
                print("READ", name, len(open(path).read()))
            except OSError as error:
                print("blocked reading", name, type(error).__name__)
        for database in {[str(output / "char-rnn")]!r}:
            for root, _, files in os.walk(database):
                for file in files:
                    if file.endswith(".db"):
                        sqlite3.connect(os.path.join(root, file)).execute(
                            "UPDATE grade SET auto_score = 100")
                        print("EDITED", file)
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2)
            print("CONNECTED")
        except OSError as error:
            print("blocked network", type(error).__name__)
        """)
    forward = next(cell for cell in forger.cells
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "forward-solution")
    forward.source = ("def char_rnn_forward(input_seq, h0, params):\n"
                      "    return np.zeros((len(input_seq), len(params['b_y']))), "
                      "[np.zeros_like(h0) for _ in input_seq]\n")
    nbformat.write(forger, folder / "forger.ipynb")
    # 2. Solves four tasks (forward by calling the lab's own function), then kills its kernel.
    copier = solved({"vocabulary", "targets", "init", "forward"})
    forward = next(cell for cell in copier.cells
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "forward-solution")
    forward.source = ("from labs.char_rnn import model\n\n\n"
                      "def char_rnn_forward(input_seq, h0, params):\n"
                      "    _, hidden, cache = model.forward(params, np.asarray(input_seq),"
                      " np.zeros(len(input_seq), int), h0)\n"
                      "    return cache['logits'], list(hidden[1:])\n")
    nbformat.write(with_cell(copier, "forward", "import os\nos._exit(0)\n"),
                   folder / "quitter.ipynb")
    # 3. Solves everything, but clip is a fork bomb and adagrad allocates 2 GB.
    greedy = build.master("char-rnn")
    for cell in greedy.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "clip-solution":
            cell.source = ("import os\n\n\ndef clip_gradients(grads, limit):\n"
                           "    while True:\n        os.fork()\n")
        if grade_id == "adagrad-solution":
            cell.source = ("def adagrad_update(params, grads, memory, learning_rate):\n"
                           "    hoard = np.ones(250_000_000)\n    return params\n")
    nbformat.write(greedy, folder / "greedy.ipynb")
    before = {name: digest(path) for name, path in secrets.items()}
    status = git_status()

    started = time.perf_counter()
    graded, tasks, rows, _ = grade.grade("char-rnn", folder, output, timeout=20,
                                         log=lambda *_: None)
    seconds = time.perf_counter() - started
    by_student = {row["student"]: row for row in rows}
    scores = {student: {task: float((row["scores"].get(task) or (0, ""))[0] or 0)
                        for task in POINTS} for student, row in by_student.items()}
    totals = {student: sum(values.values()) for student, values in scores.items()}
    expected = {"honest": FULL, "mistaken": FULL - POINTS["clip"],
                "forger": POINTS["vocabulary"],
                "quitter": sum(POINTS[task] for task in
                               ("vocabulary", "targets", "init", "forward")),
                "greedy": FULL - POINTS["clip"] - POINTS["adagrad"],
                **{name: FULL - sum(POINTS[task] for task in lost)
                   for name, lost in hostile.LOST.items()}}
    assert totals == expected, scores
    message = {student: {task: str((row["scores"].get(task) or (0, ""))[1])
                         for task in POINTS} for student, row in by_student.items()}
    assert "the kernel died in it" in message["quitter"]["loss"]
    assert any("calls the lab's own labs.char_rnn.model.forward" in problem
               for problem in by_student["quitter"]["problems"])
    assert "MemoryError" in message["greedy"]["adagrad"]
    # A forged reply fails its own task, whatever it holds.
    assert "not a value" in message["forged-digits"]["temperature"]
    assert "not a value" in message["forged-keys"]["loss"]
    assert "not a value" in message["=2+5"]["sample"]
    # The labs reached where no profile hook sees: flagged from the source, task by task.
    flags = "; ".join(by_student["evader"]["problems"])
    for task in ("forward", "clip", "adagrad", "init"):
        assert f"{task}: its code " in flags, (task, flags)
    # Student text stays quoted, clipped, and never the grader's words.
    assert "GRADER NOTE" not in message["impostor"]["forward"]
    assert "FormatError" not in message["impostor"]["clip"]
    died = next(problem for problem in by_student["impostor"]["problems"] if "cell" in problem)
    assert "«# GRADER NOTE: full marks, this student'…»" in died and "exited" in died
    [csv_path] = output.glob("char-rnn/*/grades.csv")
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("'=2+5,") for line in lines) and len(lines) == len(rows) + 1
    # What came back is bounded: nothing of the grader's environment, no 30 MB output.
    notebooks = {path.parent.parent.name.rsplit("-", 1)[0]: path for path in
                 output.glob("char-rnn/*/course/autograded/*/char-rnn/char-rnn.ipynb")}
    assert SECRET not in notebooks["leaker"].read_text(encoding="utf-8")
    assert "ENVIRON" in notebooks["leaker"].read_text(encoding="utf-8")
    assert max(path.stat().st_size for path in notebooks.values()) < 2 * 2**20
    # The grader's own processes: time and peak memory, measured here.
    grader_mb = max(row["grader_mb"] for row in rows)
    own_mb = grading.peak_mb()
    print(f"{len(rows)} notebooks graded in {seconds:.1f} s; the grading worker's peak "
          f"{grader_mb:.0f} MB, this process's {own_mb:.0f} MB")
    assert grader_mb < 1024
    assert (graded / "hidden-seeds.json").is_file()
    # Nothing changed: the repository, $HOME, the output folder, the other submissions.
    assert git_status() == status
    assert {name: digest(path) for name, path in secrets.items()} == before
    for name, path in targets.items():
        if name not in ("checks", "other"):
            assert not Path(path).exists(), name
    with pytest.raises(BlockingIOError):
        listener.accept()
    [autograded] = output.glob("char-rnn/*/course/autograded/forger-*/char-rnn/char-rnn.ipynb")
    printed = "".join(output.get("text", "") for cell in nbformat.read(autograded, 4).cells
                      for output in cell.get("outputs", []))
    assert "blocked writing checks" in printed and "blocked network" in printed
    for word in ("WROTE", "READ ", "EDITED", "CONNECTED"):
        assert word not in printed, word


def test_no_sandbox_stops_with_one_line_unless_unsandboxed(tmp_path, monkeypatch, capsys):
    notebook = tmp_path / "mine.ipynb"
    nbformat.write(build.master("char-rnn"), notebook)
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    assert grade.main(["char-rnn", str(notebook), "--output", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "no bubblewrap" in error and "--unsandboxed" in error
    assert not (tmp_path / "out").exists()


def test_a_remote_function_brings_back_values_and_in_place_updates():
    """The checks read a sandboxed function's values as they would read the function's."""
    kernel = sandbox.Kernel()
    kernel.start()
    try:
        kernel.request({"op": "cell", "source": textwrap.dedent("""
            import numpy as np
            def update(params, memory, rng):
                params["w"] -= 1
                memory.append(rng.randint(100))
                return {1: "one"}, (np.arange(3), None)
            def broken():
                raise KeyError("nope")
            """)}, 20)
        budget, calls = grading.Budget(20), set()
        update = grading.RemoteFunction(kernel, "update", budget, calls)
        params, memory, rng = {"w": values.np.ones(2)}, [], values.np.random.RandomState(0)
        result = update(params, memory, rng)
        assert result[0] == {1: "one"} and result[1][0].tolist() == [0, 1, 2]
        expected = values.np.random.RandomState(0)
        assert params["w"].tolist() == [0.0, 0.0] and memory == [expected.randint(100)]
        assert rng.randint(100) == expected.randint(100)  # the generator moved on
        with pytest.raises(Exception, match="nope") as raised:
            grading.RemoteFunction(kernel, "broken", budget, calls)()
        assert type(raised.value).__name__ == "KeyError"
        assert type(raised.value) is not KeyError  # a class made here, not the student's
    finally:
        kernel.close()


def test_a_class_folder_as_instructors_have_it_gives_every_student_a_row(tmp_path):
    """Nested sections, upper-case extensions, non-notebooks, zip and Jupyter leftovers,
    names that differ only in accents or are not Latin at all."""
    folder = tmp_path / "class"
    unfilled = (REPOSITORY / "exercises" / "char-rnn.ipynb").read_bytes()
    files = {"section1/alice/alice.ipynb": unfilled, "bob.IPYNB": unfilled,
             "carol/hw.pdf": b"%PDF-1.4", "__MACOSX/._alice.ipynb": b"\0\5\26\7",
             ".ipynb_checkpoints/dave-checkpoint.ipynb": unfilled, "dave.ipynb": unfilled,
             "Zoë.ipynb": unfilled, "Zoé.ipynb": unfilled, "李雷.ipynb": unfilled,
             "王芳.ipynb": unfilled, "erin/hw.ipynb": unfilled, "erin/notes.txt": b"notes"}
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    found, skipped = grade.submissions(folder)
    students = {submission.student: submission for submission in found}
    assert sorted(students) == sorted(["section1/alice", "bob", "carol", "dave", "Zoë", "Zoé",
                                       "李雷", "王芳", "erin"])
    assert students["carol"].path is None and "hw.pdf is not a notebook" in \
        students["carol"].problems[0]
    assert dict(skipped) == {"__MACOSX/._alice.ipynb": "a zip's macOS metadata",
                             ".ipynb_checkpoints/dave-checkpoint.ipynb": "Jupyter's checkpoints",
                             "erin/notes.txt": "not a notebook, beside a student's notebook"}
    assert len({grade.course_id(student) for student in students}) == len(students)
    assert all(grade.course_id(student).isascii() for student in students)


def test_identical_names_in_one_class_stay_two_students(tmp_path):
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    for name in ("alice.ipynb", "alice/hw.ipynb"):
        (folder / name).write_text("{}")
    found, _ = grade.submissions(folder)
    assert sorted(submission.student for submission in found) == ["alice.ipynb",
                                                                  "alice/hw.ipynb"]


@pytest.mark.slow
def test_a_class_folder_is_graded_with_a_row_and_a_reason_for_each(tmp_path):
    """Not this exercise, stripped metadata, an unreadable notebook and a PDF each get a row
    whose problem says why; the CSV holds what the table shows."""
    folder = tmp_path / "class"
    (folder / "section1" / "carol").mkdir(parents=True)
    (folder / "section1" / "carol" / "hw.pdf").write_bytes(b"%PDF-1.4")
    nbformat.write(build.master("poetry"), folder / "wrong.ipynb")
    stripped = nbformat.read(REPOSITORY / "exercises" / "char-rnn.ipynb", as_version=4)
    for cell, solution in zip(stripped.cells, build.master("char-rnn").cells):
        if solution.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solution.source  # a student's finished notebook ...
        cell.metadata = {}  # ... saved by a tool that drops the metadata and the cell ids
        cell.pop("id", None)
    stripped.nbformat_minor = 4
    nbformat.write(stripped, folder / "stripped.ipynb")
    (folder / "broken.IPYNB").write_text("{ not json")
    nbformat.write(build.master("char-rnn"), folder / "Zoë.ipynb")
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "exercises" / "grade.py"), "char-rnn", str(folder),
         "--output", str(tmp_path / "grades"), "--timeout", "20"],
        capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    [path] = (tmp_path / "grades" / "char-rnn").glob("*/grades.csv")
    rows = {row["student"]: row for row in csv.DictReader(path.open(encoding="utf-8"))}
    assert set(rows) == {"section1/carol", "wrong", "stripped", "broken", "Zoë"}
    assert rows["wrong"]["problem"] == "this is the poetry notebook, not the char-rnn one"
    assert rows["wrong"]["total"] == "0"
    assert "hw.pdf is not a notebook" in rows["section1/carol"]["problem"]
    assert "is not a readable notebook" in rows["broken"]["problem"]
    assert rows["stripped"]["total"] == rows["Zoë"]["total"] == f"{FULL:g}"
    assert "metadata was missing" in rows["stripped"]["problem"]


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_a_bad_output_is_one_line(kind, tmp_path, capsys):
    notebook = tmp_path / "mine.ipynb"
    nbformat.write(build.master("char-rnn"), notebook)
    if kind == "file":
        output = tmp_path / "taken"
        output.write_text("a file")
    else:
        output = Path("/proc/rnn-labs-grades")
    assert grade.main(["char-rnn", str(notebook), "--output", str(output)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and error.startswith("exercises/grade.py: error: --output")
    assert "Traceback" not in error


def test_a_top_p_summed_one_token_at_a_time_passes():
    """No visible example sits on a floating-point boundary: a loop that adds 0.4 + 0.3 +
    0.2 and stops once the sum reaches p is as right as the lab's cumulative sum."""
    import numpy as np

    from exercises import checks

    def top_p_filter(probabilities, p):
        order = np.argsort(probabilities)[::-1]
        kept, total = [], 0.0
        for index in order:
            kept.append(index)
            total += probabilities[index]
            if total >= p:
                break
        result = np.zeros_like(probabilities)
        result[kept] = probabilities[kept]
        return result / result.sum()

    checks.check_top_p(top_p_filter)
    checks.check_top_p(top_p_filter, seeds=(5, 6), ps=(0.05, 0.3, 0.95))


def test_a_reply_is_read_only_when_it_is_a_value():
    """Every way a forged reply can be wrong is one FormatError, found quickly: digits past
    Python's limit, keys made to collide, too many items, nesting; the encoder's own
    deepest value (its 'unsupported' marker) still reads."""
    forged = [b'{"status": "ok", "value": ' + b"7" * 5000 + b"}",
              json.dumps({"value": {"$": "bigint", "value": "9" * 5000}}).encode(),
              json.dumps({"value": {"$": "float", "value": "1e5000" * 1000}}).encode(),
              b"[" * 100_000, b"\xff\xfe", b"[1, 2]"]
    for payload in forged:
        with pytest.raises(values.FormatError):
            values.decode(values.loads(payload).get("value"))
    started = time.perf_counter()
    colliding = {"$": "dict", "items": [[number * (2**61 - 1), 0]
                                        for number in range(1, 150_001)]}
    with pytest.raises(values.FormatError, match="integer"):
        values.decode(values.loads(json.dumps({"value": colliding}).encode())["value"])
    with pytest.raises(values.FormatError, match="bigint"):
        values.decode(colliding)
    with pytest.raises(values.FormatError, match="too many items"):
        values.decode({"$": "list", "items": [0] * (values.ITEMS + 1)})
    with pytest.raises(values.FormatError, match="dict key"):
        values.decode({"$": "dict", "items": [[{"$": "bigint", "value": str(2**70)}, 0]]})
    assert time.perf_counter() - started < 5
    with pytest.raises(values.FormatError, match="bytes"):
        values.loads(b" " * 101, limit=100)
    nested = 1
    for _ in range(41):
        nested = [nested]
    decoded = values.decode(values.encode(nested))
    for _ in range(values.DEPTH + 1):
        decoded = decoded[0]
    assert isinstance(decoded, values.Unsupported)
    assert values.decode(values.encode({1: "one", "two": (2, None), (3, "x"): 2**60})) == {
        1: "one", "two": (2, None), (3, "x"): 2**60}


def test_the_sandbox_holds_nothing_of_the_grader_and_bounds_every_resource(monkeypatch):
    """bwrap is process 1 inside: its environment is the sandbox's alone. Shared memory
    counts against the memory bound; /dev/shm and the scratch folder fill up and stop."""
    monkeypatch.setenv("RNN_LABS_TEST_SECRET", SECRET)
    kernel = sandbox.Kernel(memory_mb=512)
    kernel.start()

    def cell(source, seconds=30):
        return kernel.request({"op": "cell", "source": textwrap.dedent(source)}, seconds)

    try:
        home = Path.home()
        environ = cell(f"""
            import os
            print(open("/proc/1/environ").read(), dict(os.environ))
            print("HOME HOLDS", sorted(os.listdir({str(home)!r})) if os.path.isdir(
                {str(home)!r}) else [])
            """)["output"]
        assert "RNN_LABS_SANDBOX" in environ and SECRET not in environ
        # Of $HOME, only the way to the Python installation (a pyenv's, say) is there.
        python = {Path(prefix).resolve() for prefix in (sys.prefix, sys.base_prefix)}
        way = sorted({path.relative_to(home).parts[0] for path in python
                      if path.is_relative_to(home)})
        assert f"HOME HOLDS {way}" in environ, environ
        filled = cell("""
            import errno
            for place, megabytes in (("/dev/shm/fill", 200), ("/scratch/fill", 600),
                                     ("/tmp/fill", 600)):
                try:
                    with open(place, "wb") as handle:
                        for _ in range(megabytes):
                            handle.write(b"x" * 2**20)
                    print("FILLED", place)
                except OSError as error:
                    print("full", place, errno.errorcode[error.errno])
                os.remove(place)
            """)["output"]
        assert "FILLED" not in filled and filled.count("ENOSPC") == 3, filled
        with pytest.raises(sandbox.Stopped) as stopped:
            cell("""
                import mmap
                shared = mmap.mmap(-1, 2**30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
                for page in range(0, 2**30, 4096):
                    shared[page] = 1
                print("RESIDENT")
                """)
        assert stopped.value.reason == "died"
        if os.geteuid() == 0 and sandbox.memory_cgroup_root() is not None:
            assert "memory bound of 512 MiB" in stopped.value.detail
    finally:
        kernel.close()


@pytest.mark.slow
def test_a_notebook_of_sleeping_cells_costs_its_bound_and_says_so(tmp_path, monkeypatch):
    """Cells that ignore the alarm and sleep: each restart replays every cell before, so
    only the notebook's own bound keeps the whole notebook short; without it, the fourth
    timeout finds no restart left, and the report says exactly that."""
    monkeypatch.setattr(sandbox, "GRACE", 0.5)
    book = hostile.sleeper()
    nbformat.write(book, tmp_path / "sleeper.ipynb")
    started = time.perf_counter()
    result = grading.grade_submission("char-rnn", tmp_path / "sleeper.ipynb", timeout=1,
                                      notebook_timeout=4)
    assert time.perf_counter() - started < 4 + 0.5 + 3  # the bound, one grace, the start
    assert "reached its 4 s bound (--notebook-timeout)" in "; ".join(result["problems"])
    unbounded = grading.grade_submission("char-rnn", tmp_path / "sleeper.ipynb", timeout=1)
    assert "ran past the 1 s timeout, and no restart was left (all 3 used)" in "; ".join(
        unbounded["problems"])


def test_a_worker_that_dies_or_stalls_costs_its_own_row():
    import grading_jobs

    pool = grade.Workers(2, bound=3, target=grading_jobs.misbehaving)
    started = time.perf_counter()
    outcomes = {number: (result, why) for number, result, why in
                pool.run(["first", "stall", "second", "die", "third"])}
    assert time.perf_counter() - started < 3 + 5
    assert {outcomes[number][0]["job"] for number in (0, 2, 4)} == {"first", "second", "third"}
    assert "ran past 3 s" in outcomes[1][1] and "died (exit code 3)" in outcomes[3][1]


@pytest.mark.slow
def test_grades_are_written_as_each_student_finishes_and_resume_keeps_them(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(build.master("char-rnn"), folder / "alice.ipynb")
    (folder / "bob.ipynb").write_bytes((REPOSITORY / "exercises" / "char-rnn.ipynb").read_bytes())
    output, tasks, rows, _ = grade.grade("char-rnn", folder, tmp_path / "grades", timeout=20,
                                         log=lambda *_: None)
    graded = (output / "graded.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["student"] for line in graded] == ["alice", "bob"]
    first_csv = (output / "grades.csv").read_text(encoding="utf-8")
    secret = (output / "hidden-seeds.json").read_text(encoding="utf-8")
    # A grading stopped after alice: bob is graded, alice kept, the class's secret reused.
    (output / "graded.jsonl").write_text(graded[0] + "\n", encoding="utf-8")
    logged = []
    again, _, rows, _ = grade.grade("char-rnn", folder, None, timeout=20, log=logged.append,
                                    resume=output)
    assert again == output and logged[0] == "resuming: 1 students kept, 1 to grade"
    assert (output / "grades.csv").read_text(encoding="utf-8") == first_csv
    assert (output / "hidden-seeds.json").read_text(encoding="utf-8") == secret
    with pytest.raises(grade.GradingError, match="grades char-rnn, not poetry"):
        grade.grade("poetry", folder, None, resume=output)


def test_the_masters_hold_no_hidden_seed_and_a_class_secret_draws_them(monkeypatch):
    """A hidden check's seeds come from the class's secret: the same secret gives the same
    seeds (a re-grading), another secret others; the public masters hold none."""
    from exercises import checks

    for source in (REPOSITORY / "exercises" / "source").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for hidden in text.split("### BEGIN HIDDEN TESTS")[1:]:
            assert "seeds=(" not in hidden.split("### END HIDDEN TESTS")[0], source.name
    monkeypatch.setenv(checks.HIDDEN_SECRET, "12345")
    first = checks.hidden_seeds("forward", 3)
    assert checks.hidden_seeds("forward", 3) == first != checks.hidden_seeds("loss", 3)
    monkeypatch.setenv(checks.HIDDEN_SECRET, "54321")
    assert checks.hidden_seeds("forward", 3) != first


def test_csv_cells_a_spreadsheet_would_run_are_neutralised():
    for text in ("=2+5", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert grade.spreadsheet_safe(text) == "'" + text
    assert grade.spreadsheet_safe("Zoë") == "Zoë"


def test_a_python_started_by_a_relative_path_still_starts_its_sandbox(monkeypatch):
    """``../.venv/bin/python exercises/grade.py``: the path with ``..`` names a folder the
    sandbox does not hold; every submission's sandbox failed to start."""
    relative = os.path.relpath(sys.executable, REPOSITORY / "tests")  # ../.venv/bin/python
    monkeypatch.setattr(sys, "executable", str(REPOSITORY / "tests" / relative))
    kernel = sandbox.Kernel()
    try:
        kernel.start()
        assert kernel.request({"op": "cell", "source": "print(6 * 7)"}, 20)["output"] == "42\n"
    finally:
        kernel.close()
