"""The instructor's loop after grading (exercises/grade.py): a feedback page per student
that shows their work, points and messages and nothing of the hidden checks; a class report
that says where the class lost points, opens in a browser with its plot drawn, and lists the
pairs whose code is alike; code copied from the labs flagged from the source."""

import html
import inspect
import re
import sys
import textwrap
from html.parser import HTMLParser

import nbformat
import pytest

from conftest import REPOSITORY

sys.path.insert(0, str(REPOSITORY))
from exercises import build, grade, report, similarity  # noqa: E402
from labs.char_rnn import model as lab_model  # noqa: E402
from test_exercises import mistake, with_mistake  # noqa: E402

import hostile  # noqa: E402

# A forward pass written another way than the master's (preallocated arrays, np.dot): two
# students hand it in, the second with other names and another layout.
FORWARD = '''
def char_rnn_forward(input_seq, h0, params):
    """(logits_seq, h_states)."""
    steps = len(input_seq)
    hidden_size = params["W_hh"].shape[0]
    states = np.empty((steps, hidden_size))
    outputs = np.empty((steps, params["W_hy"].shape[1]))
    previous = np.asarray(h0, dtype=float)
    for position in range(steps):
        pre_activation = (np.dot(params["embedding"][input_seq[position]], params["W_xh"])
                          + np.dot(previous, params["W_hh"]) + params["b_h"])
        previous = np.tanh(pre_activation)
        states[position] = previous
        outputs[position] = np.dot(previous, params["W_hy"]) + params["b_y"]
    return outputs, [state for state in states]
'''
FORWARD_RENAMED = '''
def char_rnn_forward(seq,h,p):
  """logits and states"""
  n=len(seq)
  H=p["W_hh"].shape[0]
  hs=np.empty((n,H))
  out=np.empty((n,p["W_hy"].shape[1]))
  prev=np.asarray(h,dtype=float)
  for t in range(n):
    z=(np.dot(p["embedding"][seq[t]],p["W_xh"])+np.dot(prev,p["W_hh"])+p["b_h"])
    prev=np.tanh(z)
    hs[t]=prev
    out[t]=np.dot(prev,p["W_hy"])+p["b_y"]
  return out,[s for s in hs]
'''


def copied_backward():
    """The backward task answered with the lab's own forward and backward, pasted in."""
    return (textwrap.dedent(inspect.getsource(lab_model.softmax)) + "\n\n"
            + textwrap.dedent(inspect.getsource(lab_model.cross_entropy)) + "\n\n"
            + textwrap.dedent(inspect.getsource(lab_model.forward)) + "\n\n"
            + textwrap.dedent(inspect.getsource(lab_model.backward)) + "\n\n"
            "def char_rnn_backward(input_seq, target_seq, h0, params):\n"
            "    _, _, cache = forward(params, np.asarray(input_seq), np.asarray(target_seq), "
            "h0)\n"
            "    return backward(params, cache)\n")


class Text(HTMLParser):
    """A page's text, as a reader sees it (highlighted code spans joined back)."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def page_text(path):
    parser = Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return html.unescape("".join(parser.parts))


def hidden_lines(exercise):
    """Every line of the master's hidden checks."""
    lines = []
    for cell in build.master(exercise).cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                cell.source, re.S):
            lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    folder = root / "class"
    folder.mkdir()
    nbformat.write(hostile.replace(hostile.solution(), "forward", FORWARD),
                   folder / "alice.ipynb")
    nbformat.write(hostile.replace(hostile.solution(), "forward", FORWARD_RENAMED),
                   folder / "bob.ipynb")
    nbformat.write(hostile.replace(hostile.solution(), "backward", copied_backward()),
                   folder / "carol.ipynb")
    nbformat.write(with_mistake("char-rnn", *mistake("char-rnn", "clip")),
                   folder / "dave.ipynb")
    output, tasks, rows, _ = grade.grade("char-rnn", folder, root / "grades", timeout=20,
                                         log=lambda *_: None)
    return output, tasks, {row["student"]: row for row in rows}


@pytest.mark.slow
def test_each_student_gets_a_feedback_page_with_no_hidden_check(graded_class):
    output, tasks, rows = graded_class
    hidden = hidden_lines("char-rnn")
    assert hidden and all("hidden_seeds" in line or "checks." in line for line in hidden)
    for student in rows:
        text = page_text(output / "feedback" / f"{student}.html")
        for task, points, _ in tasks:
            assert f"(Score: {float(rows[student]['scores'][task][0]):.1f} / " \
                   f"{float(points):.1f})" in text, (student, task)
        for line in hidden:
            assert line not in text, (student, line)
        for secret in ("HIDDEN TESTS", str(REPOSITORY), str(output)):
            assert secret not in text, (student, secret)
    dave = page_text(output / "feedback" / "dave.html")
    assert rows["dave"]["scores"]["clip"][1].split(" (")[0] in dave  # the check's message


@pytest.mark.slow
def test_the_class_report_counts_the_reasons_and_lists_the_similar_pair(graded_class):
    output, _, rows = graded_class
    text = (output / "class.md").read_text(encoding="utf-8")
    assert "| clip | 1 | 1 of 4 (25%) |" in text
    reason = report.template(rows["dave"]["scores"]["clip"][1])
    assert report.escaped(reason) in text and "#" in reason  # the numbers stripped
    assert re.search(r"### forward: alice and bob, (8\d|9\d|100)% shared", text), text
    assert "carol and" not in text and "and dave" not in text
    # carol pasted the lab's forward and backward: flagged from her source, for the
    # instructor, and her points stand.
    assert any(problem.startswith("backward: its code shares") and "labs/char_rnn/model.py"
               in problem for problem in rows["carol"]["problems"]), rows["carol"]["problems"]
    assert rows["carol"]["scores"]["backward"][0] == 3


@pytest.mark.slow
def test_the_class_report_opens_in_a_browser_with_its_plot_drawn(graded_class):
    from labs.browser import page_check

    output, _, _ = graded_class
    check = page_check(output / "class.html")
    assert check["images"] == 1 and check["broken"] == []
    assert all(table["sorted"] for table in check["tables"])


def test_similar_pairs_find_a_renamed_reformatted_copy_and_leave_common_code_out():
    master = hostile.solution_cell(build.master("char-rnn"), "forward").source
    codes = {"alice": {"forward": FORWARD}, "bob": {"forward": FORWARD_RENAMED},
             "dave": {"forward": master}}
    pairs = similarity.similar_pairs(codes, {"forward": ""}, threshold=0.8)
    assert {(pair["first"], pair["second"]) for pair in pairs} == {("alice", "bob")}
    [pair] = [pair for pair in pairs if (pair["first"], pair["second"]) == ("alice", "bob")]
    assert "np.dot(previous" in pair["first_lines"] and "np.dot(prev," in pair["second_lines"]
    # Code everyone hands in (more than COMMON students) is common knowledge, not a copy.
    crowd = {f"student{number}": {"forward": FORWARD} for number in range(similarity.COMMON + 1)}
    assert similarity.similar_pairs(crowd, {"forward": ""}) == []


def test_no_feedback_writes_none(tmp_path):
    notebook = tmp_path / "mine.ipynb"
    notebook.write_bytes((REPOSITORY / "exercises" / "char-rnn.ipynb").read_bytes())
    assert grade.main(["char-rnn", str(notebook), "--output", str(tmp_path / "out"),
                       "--no-feedback"]) == 0
    [folder] = (tmp_path / "out" / "char-rnn").iterdir()
    assert not (folder / "feedback").exists() and (folder / "class.html").is_file()
