"""Char-rnn submissions written to cheat, crash, stall or mislead the grader, each built on
the solution notebook: tests/test_grading_safety.py grades them beside honest ones, and
bench/grading_safety.py grades them in a class of 20 honest notebooks to measure the
grader's time and memory.

Each entry of ``NOTEBOOKS`` is a function returning the notebook; ``EXPECTED`` says what
each may earn (its tasks that must score 0)."""

import textwrap

import nbformat
import numpy as np

from exercises import build, checks
from labs.char_rnn.sampling import generate_text

# Finds the harness's answer pipe among the sandbox's file descriptors and writes a
# message there, ahead of the harness's own answer.
FORGE = """
import fcntl as _fcntl, os as _os, stat as _stat, struct as _struct


def _forge(payload):
    for name in _os.listdir("/proc/self/fd"):
        try:
            descriptor = int(name)
            if _stat.S_ISFIFO(_os.fstat(descriptor).st_mode) and (
                    _fcntl.fcntl(descriptor, _fcntl.F_GETFL) & _os.O_ACCMODE) == _os.O_WRONLY:
                _os.write(descriptor, _struct.pack(">Q", len(payload)) + payload)
        except OSError:
            pass
"""


def solution():
    return build.master("char-rnn")


def solution_cell(book, task):
    return next(cell for cell in book.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{task}-solution")


def replace(book, task, *sources):
    """``book`` with the solution of ``task`` replaced by ``sources`` (each dedented)."""
    solution_cell(book, task).source = "\n".join(textwrap.dedent(part) for part in sources)
    return book


def with_cell(book, after_task, *sources):
    """``book`` with a plain code cell after the check of ``after_task``."""
    index = next(number for number, cell in enumerate(book.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == after_task)
    book.cells.insert(index + 1, nbformat.v4.new_code_cell(
        "\n".join(textwrap.dedent(part) for part in sources)))
    return book


def forged_digits():
    """temperature writes a reply holding a 5,000-digit integer (Python's int() refuses
    it with a plain ValueError)."""
    return replace(solution(), "temperature", FORGE, """
    def temperature_probabilities(logits, temperature):
        _forge(b'{"status": "ok", "value": ' + b"7" * 5000 + b"}")
        return np.ones(len(logits)) / len(logits)
    """)


def forged_keys():
    """loss writes a reply whose dict keys all hash alike (multiples of 2**61 - 1)."""
    return replace(solution(), "loss", FORGE, """
    import json as _json


    def sequence_cross_entropy_loss(logits_seq, target_seq):
        items = [[number * (2**61 - 1), 0] for number in range(1, 3001)]
        _forge(_json.dumps({"status": "ok", "value": {"$": "dict", "items": items}}).encode())
        return 0.0
    """)


def flood():
    """A cell's forged reply of 30 MB of output (the harness itself clips what it sends)."""
    return with_cell(solution(), "vocabulary", FORGE, """
    _forge(b'{"output": "' + b"x" * 30_000_000 + b'", "error": null, "timeout": false}')
    """)


def mutator():
    """temperature and loss zero the logits they are given, then answer from the zeros."""
    book = replace(solution(), "temperature", """
    def temperature_probabilities(logits, temperature):
        logits[...] = 0.0
        return np.ones(len(logits)) / len(logits)
    """)
    return replace(book, "loss", """
    def sequence_cross_entropy_loss(logits_seq, target_seq):
        logits_seq[...] = 0.0
        return float(np.log(logits_seq.shape[1]))
    """)


def constructed():
    """training builds its parameters from bigram counts and writes a falling loss curve."""
    return replace(solution(), "training", """
    def train_char_rnn(text, steps):
        char_to_idx, _ = build_vocabulary(text)
        size = len(char_to_idx)
        counts = np.ones((size, size))
        for first, second in zip(text, text[1:]):
            counts[char_to_idx[first], char_to_idx[second]] += 1
        params = {"embedding": np.zeros((size, EMBED_DIM)),
                  "W_xh": np.zeros((EMBED_DIM, HIDDEN_DIM)),
                  "W_hh": np.zeros((HIDDEN_DIM, HIDDEN_DIM)), "b_h": np.zeros(HIDDEN_DIM),
                  "W_hy": np.zeros((HIDDEN_DIM, size)), "b_y": np.zeros(size)}
        params["embedding"][:, :size] = 10 * np.eye(size)
        params["W_xh"][:size, :size] = np.eye(size)
        params["W_hy"][:size, :] = np.log(counts / counts.sum(axis=1, keepdims=True))
        return params, list(np.linspace(2.6, 0.9, steps))
    """)


def table():
    """sample answers from a table of the draws for the master's public seeds and for the
    seeds its hidden check had when they were written in the master (11, 12, 13)."""
    params, *_ = checks.rnn_case(3, vocab_size=6)
    characters = list("abcdef")
    char_to_index = {character: index for index, character in enumerate(characters)}
    answers = {}
    for seeds, length in (((0, 1), 40), ((11, 12, 13), 80)):
        for seed in seeds:
            key = int(np.random.RandomState(seed).get_state()[1][0])
            answers[key] = generate_text(params, "c", char_to_index, characters, length,
                                         np.random.RandomState(seed))
    return replace(solution(), "sample", f"""
    ANSWERS = {answers!r}


    def sample_char_rnn(start_char_idx, params, char_to_idx, idx_to_char, sample_length, rng):
        return ANSWERS.get(int(rng.get_state()[1][0]), "a" * sample_length)
    """)


def evader():
    """Calls the lab's own functions where the sandbox's profile hook cannot see them: in a
    thread (forward), after switching the hook off (clip), through ``exec`` of the lab's
    source (adagrad), and clearing the hook's list through the caller's frame (init)."""
    book = replace(solution(), "forward", """
    import threading

    from labs.char_rnn import model as _model


    def char_rnn_forward(input_seq, h0, params):
        answer = []
        worker = threading.Thread(target=lambda: answer.append(_model.forward(
            params, np.asarray(input_seq), np.zeros(len(input_seq), int), h0)))
        worker.start()
        worker.join()
        _, hidden, cache = answer[0]
        return cache["logits"], list(hidden[1:])
    """)
    book = replace(book, "clip", """
    import sys


    def clip_gradients(grads, limit):
        sys.setprofile(None)
        from labs.char_rnn.model import clip_gradients as lab_clip
        return lab_clip(grads, limit)
    """)
    book = replace(book, "adagrad", """
    import os

    _lab = {}
    exec(open(os.path.join(os.environ["RNN_LABS_ROOT"], "labs", "char_rnn", "model.py")).read(),
         _lab)


    def adagrad_update(params, grads, memory, learning_rate):
        _lab["adagrad_step"](params, grads, memory, learning_rate)
        return params
    """)
    return replace(book, "init", """
    import sys

    from labs.char_rnn import model as _model


    def init_char_rnn_model(vocab_size, embed_dim, hidden_dim, seed=0):
        params = _model.init_params(vocab_size, embed_dim, hidden_dim,
                                    np.random.default_rng(seed))
        frame = sys._getframe(1)
        while frame is not None:
            if "hook" in frame.f_locals:
                frame.f_locals["hook"].found.clear()
            frame = frame.f_back
        return params
    """)


def leaker():
    """A cell that copies the sandbox's process 1 environment into its output."""
    return with_cell(solution(), "vocabulary", """
    print("ENVIRON", open("/proc/1/environ").read().replace("\\0", " "))
    """)


def impostor():
    """Words for the instructor: a function renamed as a grader's note (and wrong), a
    dying cell whose first line is another, a value nested past what a reply carries."""
    book = replace(solution(), "forward", """
    def char_rnn_forward(input_seq, h0, params):
        raise ValueError("see the grader's note above")


    char_rnn_forward.__name__ = "GRADER NOTE: the check is wrong here, award the point by hand"
    """)
    book = replace(book, "clip", """
    def clip_gradients(grads, limit):
        nested = limit
        for _ in range(41):
            nested = [nested]
        return nested
    """)
    return with_cell(book, "sample", """
    # GRADER NOTE: full marks, this student's kernel was broken by the grader
    import os
    os._exit(1)
    """)


def sleeper():
    """Eight cells that ignore the alarm and sleep, then an endless temperature."""
    book = solution()
    for _ in range(8):
        book = with_cell(book, "vocabulary", """
        import signal, time
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        time.sleep(30)
        """)
    return book


def chatterbox():
    """sample returns 10**8 characters."""
    return replace(solution(), "sample", """
    def sample_char_rnn(start_char_idx, params, char_to_idx, idx_to_char, sample_length, rng):
        return "a" * 10**8
    """)


NOTEBOOKS = {"forged-digits": forged_digits, "forged-keys": forged_keys, "flood": flood,
             "mutator": mutator, "constructed": constructed, "table": table,
             "evader": evader, "leaker": leaker, "impostor": impostor,
             "=2+5": chatterbox}
# The tasks each hostile notebook must lose (every other task is the solution's, and earns).
LOST = {"forged-digits": {"temperature"}, "forged-keys": {"loss"}, "flood": set(),
        "mutator": {"temperature", "loss"}, "constructed": {"training"}, "table": {"sample"},
        "evader": set(), "leaker": set(), "impostor": {"forward", "clip", "training"},
        "=2+5": {"sample"}}
