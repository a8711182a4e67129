"""The exercises (exercises/): student notebooks generated from the masters, solutions that
score everything, unfilled notebooks that score nothing, one deliberate mistake that fails
its own task and no other, and a class folder graded to one CSV without a traceback."""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPOSITORY, subprocess_env

sys.path.insert(0, str(REPOSITORY))
from exercises import build, checks, grade, grading  # noqa: E402

# One mistake per task, as a student makes it: (exercise, task, text of the solution, the
# same text with the mistake).
MISTAKES = {
    "char-rnn": [
        ("targets", "encoded[start + 1:start + seq_length + 1]",  # the target not shifted
         "encoded[start:start + seq_length]"),
        ("init", '"W_xh": rng.normal(0, 0.01, (embed_dim, hidden_dim))',  # uniform, not normal
         '"W_xh": rng.uniform(-0.01, 0.01, (embed_dim, hidden_dim))'),
        ("forward", 'h @ params["W_hh"]', 'h @ params["W_hh"].T'),  # a transposed W_hh
        ("clip", "return {name: np.clip(value, -limit, limit) for name, value in grads.items()}",
         "return dict(grads)"),  # a missing clip
        ("temperature", "scaled = np.asarray(logits, dtype=np.float64) / temperature\n"
                        "    weights = np.exp(scaled - scaled.max())",
         "weights = np.exp(np.asarray(logits, dtype=np.float64))\n"
         "    weights = weights / weights.sum() / temperature"),  # after the softmax
    ],
    "poetry": [
        ("windows", "next_chars.append(text[start + maxlen])",
         "next_chars.append(text[start + maxlen - 1])"),  # the target not shifted
        ("sample", "preds = np.log(np.asarray(preds, dtype=np.float64)) / temperature\n"
                   "    preds = np.exp(preds) / np.sum(np.exp(preds))",
         "preds = np.asarray(preds, dtype=np.float64) / temperature\n"
         "    preds = preds / np.sum(preds)"),  # the temperature after the softmax
    ],
    "spam": [
        ("pad", "batch[row, :len(kept)] = kept",
         "batch[row, maxlen - len(kept):] = kept"),  # padding on the wrong side
        ("classifier", "layer = layers.Bidirectional(layer)",
         'layer = layers.Bidirectional(recurrent[variant.removeprefix("bi-")](units // 2))'),
    ],
    "language-models": [
        ("top_p", "count = int(np.searchsorted(cumulative, p - 1e-12)) + 1",
         "count = max(1, int(np.searchsorted(cumulative, p - 1e-12)))"),  # crossing token dropped
    ],
}


def mistake(exercise, task):
    """(task, correct, wrong) of ``MISTAKES`` for ``task``."""
    return next(entry for entry in MISTAKES[exercise] if entry[0] == task)


def with_mistake(exercise, task, correct, wrong):
    """The solution notebook with one solution cell changed (the change must apply once)."""
    book = build.master(exercise)
    cell = next(cell for cell in book.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{task}-solution")
    assert cell.source.count(correct) == 1, (exercise, task, correct)
    cell.source = cell.source.replace(correct, wrong)
    return book


def scores_by_student(rows):
    return {row["student"]: {task: float(score or 0) for task, (score, _) in
                             ((task, value) for task, value in row["scores"].items() if task)}
            for row in rows}


@pytest.mark.parametrize("exercise", list(build.EXERCISES))
def test_each_student_notebook_is_generated_from_its_master(exercise):
    committed = nbformat.read(REPOSITORY / "exercises" / f"{exercise}.ipynb", as_version=4)
    assert nbformat.writes(build.student(exercise)) == nbformat.writes(committed), (
        f"exercises/{exercise}.ipynb is out of date: run make exercises")


def test_the_student_notebooks_hold_no_solution_and_no_hidden_check():
    for exercise in build.EXERCISES:
        text = (REPOSITORY / "exercises" / f"{exercise}.ipynb").read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "HIDDEN TESTS"):
            assert marker not in text, (exercise, marker)
        student = nbformat.reads(text, as_version=4)
        stubs = sum(cell.source.count(build.CODE_STUB.splitlines()[0]) for cell in student.cells)
        solutions = sum(cell.source.count("### BEGIN SOLUTION")
                        for cell in build.master(exercise).cells if cell.cell_type == "code")
        assert stubs == solutions, exercise


@pytest.mark.slow
@pytest.mark.parametrize("exercise", list(build.EXERCISES))
def test_solution_full_marks_unfilled_zero_and_each_mistake_fails_its_task_alone(exercise,
                                                                                 tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    nbformat.write(build.master(exercise), submissions / "solution.ipynb")
    (submissions / "unfilled.ipynb").write_bytes(
        (REPOSITORY / "exercises" / f"{exercise}.ipynb").read_bytes())
    for task, correct, wrong in MISTAKES[exercise]:
        nbformat.write(with_mistake(exercise, task, correct, wrong),
                       submissions / f"mistake-{task}.ipynb")
    _, tasks, rows, _ = grade.grade(exercise, submissions, tmp_path / "grades",
                                 log=lambda *_: None)
    automatic = [task for task, _, by_hand in tasks if not by_hand]
    points = {task: value for task, value, _ in tasks}
    scores = scores_by_student(rows)
    assert {task: scores["solution"][task] for task in automatic} == {
        task: points[task] for task in automatic}
    assert all(scores["unfilled"][task] == 0 for task in automatic), scores["unfilled"]
    for task, _, _ in MISTAKES[exercise]:
        failed = sorted(name for name in automatic
                        if scores[f"mistake-{task}"][name] != points[name])
        assert failed == [task], (task, failed)
    by_student = {row["student"]: row for row in rows}
    assert not by_student["solution"]["scores"].get(None)
    for task, _, _ in MISTAKES[exercise]:  # the message names what was expected
        message = by_student[f"mistake-{task}"]["scores"][task][1]
        assert "expected" in message or "differs" in message, message


def synthetic_class(folder):
    """Four students: complete, half done, a syntax error, an endless loop; and two who
    deleted a function the checks call, or a check's cell."""
    folder.mkdir()
    nbformat.write(build.master("char-rnn"), folder / "complete.ipynb")
    half = build.master("char-rnn")
    student = nbformat.read(REPOSITORY / "exercises" / "char-rnn.ipynb", as_version=4)
    done = {"vocabulary", "targets", "init", "forward", "loss"}
    for cell, unfilled in zip(half.cells, student.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("-solution") and grade_id.removesuffix("-solution") not in done:
            cell.source = unfilled.source
    nbformat.write(half, folder / "half.ipynb")
    nbformat.write(with_mistake("char-rnn", "backward", "dh_next = np.zeros_like(h0)",
                                "dh_next = np.zeros_like(h0"), folder / "syntax.ipynb")
    nbformat.write(with_mistake("char-rnn", "clip", "return {name: np.clip(",
                                "while True:\n        pass\n    return {name: np.clip("),
                   folder / "loop.ipynb")
    deleted = with_mistake("char-rnn", "forward", "return np.array(logits), h_states\n",
                           "return np.array(logits), h_states\n\n\ndel char_rnn_forward\n")
    nbformat.write(deleted, folder / "deleted.ipynb")
    no_check = build.master("char-rnn")
    no_check.cells = [cell for cell in no_check.cells
                      if cell.metadata.get("nbgrader", {}).get("grade_id") != "clip"]
    nbformat.write(no_check, folder / "no-check.ipynb")


@pytest.mark.slow
def test_a_class_folder_is_graded_to_the_expected_csv_without_a_traceback(tmp_path):
    synthetic_class(tmp_path / "class")
    timeout = 5
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "exercises" / "grade.py"), "char-rnn",
         str(tmp_path / "class"), "--output", str(tmp_path / "grades"), "--timeout",
         str(timeout)], capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""
    assert "[6/6] graded syntax" in result.stdout
    [path] = (tmp_path / "grades" / "char-rnn").glob("*/grades.csv")
    rows = {row["student"]: row for row in csv.DictReader(path.open(encoding="utf-8"))}
    points = {task: value for task, value, _ in grade.tasks_of("char-rnn")}
    full = sum(points.values())
    expected_totals = {"complete": full,
                       "half": sum(points[task] for task in
                                   ("vocabulary", "targets", "init", "forward", "loss")),
                       "syntax": full - points["backward"], "loop": full - points["clip"],
                       "deleted": full - points["forward"], "no-check": full - points["clip"]}
    assert {student: float(row["total"]) for student, row in rows.items()} == expected_totals
    assert {row["max"] for row in rows.values()} == {f"{full:g}"}
    assert rows["loop"]["clip"] == "0" and rows["loop"]["training"] == f"{points['training']:g}"
    assert rows["syntax"]["backward"] == "0" and rows["syntax"]["forward"] == "2"
    # Nothing outside the output folder: the class folder holds what it held.
    assert sorted(path.name for path in (tmp_path / "class").iterdir()) == sorted(
        f"{name}.ipynb" for name in expected_totals)


def test_the_cells_after_the_last_graded_one_are_not_run(tmp_path):
    """A "Try it" cell changes no grade: grading skips it (here it would print and fail)."""
    book = build.master("char-rnn")
    last = max(index for index, cell in enumerate(book.cells) if cell.cell_type == "code")
    assert last > grading.last_graded(book)
    book.cells[last].source = 'print("ran")\nraise SystemExit("the Try it cell ran")'
    nbformat.write(book, tmp_path / "solution.ipynb")
    result = grading.grade_submission("char-rnn", tmp_path / "solution.ipynb", timeout=30)
    assert last not in result["outputs"]
    check = grading.last_graded(book)
    assert "ok" in result["outputs"][check][0]["text"]


def test_one_notebook_prints_a_table_with_the_failing_message(tmp_path, capsys):
    """Grading one notebook: one line per task, the message a student can act on."""
    notebook = tmp_path / "mine.ipynb"
    nbformat.write(with_mistake("char-rnn", *mistake("char-rnn", "forward")), notebook)
    assert grade.main(["char-rnn", str(notebook), "--output", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert set(table) == {task for task, _, _ in grade.tasks_of("char-rnn")} | {"task", "total"}
    assert "h_states[0] differs from the reference" in table["forward"]
    assert "W_hh applied on the right side" in table["forward"]
    assert table["clip"].split()[1:] == ["1/1", "ok"]


@pytest.mark.parametrize("arguments, message", [
    (["char-rnn", "missing.ipynb"], "missing.ipynb: no such notebook or folder"),
    (["char-rnn", "notes.txt"], "notes.txt is not a notebook (.ipynb)"),
    (["nope", "x.ipynb"], "invalid choice: 'nope'"),
    (["char-rnn", "x.ipynb", "--timeout", "0"], "--timeout must be at least 1 second"),
    (["char-rnn", "x.ipynb", "--hidden-seeds", "notes.txt"],
     "--hidden-seeds notes.txt: not a file of hidden seeds"),
    (["char-rnn", "x.ipynb", "--resume", "."], "--resume"),
    (["char-rnn", "x.ipynb", "--similarity", "0"], "--similarity must be above 0"),
    (["char-rnn", "x.ipynb", "--notebook-timeout", "5"], "--notebook-timeout must be at least"),
])
def test_bad_arguments_are_one_line(arguments, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a notebook")
    nbformat.write(build.master("char-rnn"), tmp_path / "x.ipynb")
    try:
        code = grade.main(arguments)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    assert code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert len(error.strip().splitlines()[-1:]) == 1 and not (tmp_path / "reports").exists()


def test_an_unreadable_notebook_fails_every_task_and_the_others_are_graded(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "broken.ipynb").write_text("{ not json")
    nbformat.write(build.master("char-rnn"), folder / "fine.ipynb")
    _, tasks, rows, _ = grade.grade("char-rnn", folder, tmp_path / "out",
                                 log=lambda *_: None)
    by_student = {row["student"]: row for row in rows}
    assert "is not a readable notebook" in by_student["broken"]["scores"][None]
    assert grade.auto_total(tasks, by_student["broken"]["scores"])[0] == 0
    total, maximum = grade.auto_total(tasks, by_student["fine"]["scores"])
    assert total == maximum


def test_every_check_fails_on_a_wrong_answer_with_the_task_name():
    """The checks themselves, fast, without a notebook: a right answer passes, a wrong one
    raises CheckFailed naming its task."""
    import numpy as np

    from labs.char_rnn import model as lab_rnn

    checks.check_clip(lambda grads, limit: lab_rnn.clip_gradients(grads, limit))
    with pytest.raises(checks.CheckFailed, match=r"^clip: dembedding has values up to"):
        checks.check_clip(lambda grads, limit: grads)
    with pytest.raises(checks.CheckFailed, match=r"^loss: .*not written yet"):
        checks.check_loss(lambda logits, targets: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(checks.CheckFailed, match=r"^top_k: top-1 of .* differs"):
        checks.check_top_k(lambda probabilities, k: probabilities)
    with pytest.raises(checks.CheckFailed, match=r"^backward: dW_hh relative error"):
        def backward(input_seq, target_seq, h0, params):
            grads = checks.reference_backward(input_seq, target_seq, h0, params)
            return {**grads, "W_hh": grads["W_hh"].T}
        checks.check_backward(backward)
    with pytest.raises(checks.CheckFailed, match=r"^sample: with np.random.RandomState"):
        checks.check_sample(lambda start, params, c2i, i2c, length, rng: "a" * length)
    assert np.isclose(checks.relative_error(np.ones(3), np.ones(3)), 0)


def test_a_slow_reference_is_computed_once_while_a_folder_is_graded(tmp_path, monkeypatch):
    """grade.py names a cache folder for the kernels; a check's cached reference then runs
    once for the whole class, and without the folder it runs every time."""
    calls = []

    def reference(value):
        calls.append(value)
        return value * 2

    assert grade.REFERENCE_CACHE == checks.REFERENCE_CACHE
    monkeypatch.setenv(checks.REFERENCE_CACHE, str(tmp_path / "references"))
    assert [checks.cached(reference)(3) for _ in range(2)] == [6, 6] and calls == [3]
    monkeypatch.delenv(checks.REFERENCE_CACHE)
    assert checks.cached(reference)(3) == 6 and calls == [3, 3]


def test_the_gradebook_schema_is_the_one_alembic_heads_names():
    """build.gradebook_schema stands in for nbgrader's ``alembic heads`` subprocess: the
    revision stamped on every new gradebook must stay the one alembic itself names."""
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:////nonexistent/gradebook.db") as ini:
        heads = subprocess.run([str(Path(sys.executable).parent / "alembic"), "-c", ini, "heads"],
                               capture_output=True, text=True, check=True).stdout
    assert heads.split()[:2] == [build.gradebook_schema(), "(head)"], heads
