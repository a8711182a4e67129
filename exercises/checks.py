"""The exercises' checks: a student's function against the lab's own, on random and edge
inputs, with a message that says what was expected and what came back.

Every check calls the lab's function as its reference (``labs.char_rnn``,
``labs.course``, ``labs.sampling``, ``labs.spam``, ``labs.words``, ``labs.measures``,
``labs.gpt2.generate``); nothing is computed twice. A check passes silently but for one
``ok`` line, or raises ``CheckFailed`` (an ``AssertionError``, so nbgrader counts the task
as failed) whose message starts with the task's name.

A task is checked alone: while a check runs a student's function, the *other* exercise
functions it calls (``char_rnn_forward`` inside ``sample_char_rnn``, say) are swapped for
the lab's, so one mistake fails one task and not every task built on it.

The same checks run in two places. In the student's notebook they call the student's
functions directly, for instant feedback. When a class is graded (exercises/grade.py),
they run in the grader's own process, and each student function is a
``grading.RemoteFunction``: a call sends the arguments as values into the submission's
sandbox and brings back what the function returned (exercises/values.py), so a check
reads the same values and says the same thing, but nothing the submission does can
change the check, the reference or the verdict.
"""

import builtins
import contextlib
import copy
import functools
import math
import os
import secrets
import zlib

import numpy as np

from exercises.values import ModelSummary, TinyModel, model_summary
from labs import course, measures, sampling
from labs.char_rnn import model as lab_rnn
from labs.char_rnn.sampling import generate_text
from labs.char_rnn.training import evaluate, unigram_loss


# Set by grade.py to a folder of its output while it grades: references that take seconds
# (the spam baseline's cross-validation) are computed once per class, not once per student.
REFERENCE_CACHE = "RNN_LABS_REFERENCE_CACHE"
# Set by grade.py while it grades: the class's secret, from which the hidden checks' seeds
# are drawn (never in the repository, never inside a sandbox).
HIDDEN_SECRET = "RNN_LABS_HIDDEN_SECRET"
MESSAGE_LIMIT = 1_000  # characters of a check's message
SHOWN_LIMIT = 200  # characters of a student's value or text quoted in a message


def hidden_seeds(task, count):
    """``count`` seeds for a hidden check of ``task``, drawn from the class's secret while a
    class is graded (exercises/grade.py draws one per grading and records it in the grading
    folder, or reads the instructor's), else from fresh randomness: the masters, which are
    public, hold no seed a submission could prepare answers for."""
    secret = os.environ.get(HIDDEN_SECRET) or str(secrets.randbits(64))
    entropy = [int(secret), zlib.crc32(task.encode("utf-8"))]
    return tuple(int(seed) for seed in
                 np.random.SeedSequence(entropy).generate_state(count) % 2**31)


def shown(text, limit=SHOWN_LIMIT):
    """A student's text inside a check's message: quoted, clipped, never the grader's words."""
    text = str(text)
    return f"«{text if len(text) <= limit else text[:limit] + '…'}»"


def cached(function):
    """``function`` remembered on disk (joblib) while a folder is graded; as it is otherwise."""
    import joblib

    return joblib.Memory(os.environ.get(REFERENCE_CACHE), verbose=0).cache(function)


class CheckFailed(AssertionError):
    """A task's check failed; the message names the task, what was expected and what came
    back."""


def fail(task, message):
    message = f"{task}: {message}"
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + "… (message cut)"
    raise CheckFailed(message)


def passed(task, what):
    print(f"{task}: ok ({what})")


def type_name(value):
    """A value's type as the student wrote it (a value from a sandbox carries its own)."""
    return getattr(value, "remote_type", None) or type(value).__name__


def call(task, function, *args, in_place=(), **kwargs):
    """The student's ``function(*args)``; an unfinished or crashing one fails the task with
    a message that says so (the notebook still shows the traceback above it).

    Every argument is handed over as a copy, so a function that writes into its inputs
    changes neither the check's inputs nor the reference computed from them; ``in_place``
    names the positions of the arguments a task updates in place (Adagrad's parameters and
    memory, a sampler's random generator), handed over as they are."""
    if not callable(function):
        fail(task, f"expected a function, got {type_name(function)}")
    name = getattr(function, "__name__", "the function")
    args = [argument if position in in_place else copy.deepcopy(argument)
            for position, argument in enumerate(args)]
    kwargs = {key: copy.deepcopy(value) for key, value in kwargs.items()}
    try:
        result = function(*args, **kwargs)
    except NotImplementedError:
        fail(task, f"{name} is not written yet (replace the TODO and the "
                   f"raise NotImplementedError)")
    except CheckFailed:
        raise
    except Exception as error:  # the student's bug, reported as the task's failure
        kind = type(error).__name__
        if not isinstance(getattr(builtins, kind, None), type):  # a class the student named
            kind = shown(kind, 40)
        fail(task, f"{name} raised {kind}: {shown(error)}")
    if result is None:
        fail(task, f"{name} returned None: is a return statement missing?")
    return result


@contextlib.contextmanager
def alone(function, replacements):
    """Swap the exercise functions that ``function`` may call for the lab's while it runs
    (in a sandbox, the harness swaps them: the references go by their import names)."""
    if hasattr(function, "replacements"):
        function.replacements = {name: f"{value.__module__}:{value.__qualname__}"
                                 for name, value in replacements.items()}
        try:
            yield
        finally:
            function.replacements = {}
        return
    namespace = getattr(function, "__globals__", {})
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def array(task, name, value, shape=None, dtype_kind=None):
    """``value`` as an ndarray of ``shape`` (and dtype kind ``'b'``, ``'i'``, ``'f'``)."""
    try:
        result = np.asarray(value)
    except Exception:
        fail(task, f"{name} should be an array, got {type_name(value)}")
    if result.dtype.kind == "O" and result.ndim == 0:
        fail(task, f"{name} should be an array, got {type_name(value)}")
    if shape is not None and result.shape != tuple(shape):
        fail(task, f"{name} shape {tuple(shape)} expected, got {result.shape}")
    if dtype_kind is not None and result.dtype.kind not in dtype_kind:
        kinds = {"b": "bool", "i": "integer", "u": "integer", "f": "float"}
        fail(task, f"{name} dtype {kinds[dtype_kind[0]]} expected, got {result.dtype}")
    return result


def close(task, name, expected, got, tolerance=1e-6, hint=""):
    """``got`` equals ``expected`` (an array) in shape and, to ``tolerance``, in value."""
    expected = np.asarray(expected)
    got = array(task, name, got, shape=expected.shape)
    if got.dtype.kind not in "biuf":
        fail(task, f"{name} should hold numbers, got dtype {got.dtype}")
    error = float(np.max(np.abs(got.astype(np.float64) - expected), initial=0.0))
    if not error <= tolerance:
        where = np.unravel_index(int(np.argmax(np.abs(got - expected))), expected.shape)
        at = f" at index {tuple(int(i) for i in where)}" if expected.ndim else ""
        fail(task, f"{name} differs from the reference by {error:.3g}{at} (≤ {tolerance:g} "
                   f"expected): {float(expected[where]):.4g} expected, got "
                   f"{float(got[where]):.4g}{hint}")


def relative_error(first, second):
    return float(np.max(np.abs(first - second) / np.maximum(1e-8, np.abs(first) + np.abs(second))))


# ---------------------------------------------------------------- char-rnn (NumPy)
RNN_NAMES = ("embedding", "W_xh", "W_hh", "b_h", "W_hy", "b_y")


def rnn_case(seed, vocab_size=7, embed_dim=4, hidden_dim=5, steps=6, scale=0.5):
    """Random parameters (larger than the lab's 0.01 so that mistakes show), inputs,
    targets and a non-zero initial state."""
    rng = np.random.default_rng(seed)
    params = {name: value / 0.01 * scale for name, value in
              lab_rnn.init_params(vocab_size, embed_dim, hidden_dim, rng).items()}
    params["b_h"] = rng.normal(0, scale, hidden_dim)
    params["b_y"] = rng.normal(0, scale, vocab_size)
    inputs = rng.integers(0, vocab_size, steps)
    targets = rng.integers(0, vocab_size, steps)
    return params, inputs, targets, rng.normal(0, 0.5, hidden_dim)


def reference_forward(input_seq, h0, params):
    """The lab's ``forward`` with the exercise's signature: logits and h_1 … h_T."""
    inputs = np.asarray(input_seq)
    _, hidden, cache = lab_rnn.forward(params, inputs, np.zeros(len(inputs), int), h0)
    return cache["logits"], list(hidden[1:])


def reference_loss(logits_seq, target_seq):
    return lab_rnn.cross_entropy(lab_rnn.softmax(np.asarray(logits_seq)), np.asarray(target_seq))


def reference_backward(input_seq, target_seq, h0, params):
    _, _, cache = lab_rnn.forward(params, np.asarray(input_seq), np.asarray(target_seq), h0)
    return lab_rnn.backward(params, cache)


def reference_adagrad(params, grads, memory, learning_rate):
    lab_rnn.adagrad_step(params, grads, memory, learning_rate)
    return params


def reference_vocabulary(text):
    char_to_index, characters = lab_rnn.index_characters(text)
    return char_to_index, dict(enumerate(characters))


def reference_temperature(logits, temperature):
    return sampling.apply_temperature(lab_rnn.softmax(np.asarray(logits, float)), temperature)


def reference_init(vocab_size, embed_dim, hidden_dim, seed=0):
    return lab_rnn.init_params(vocab_size, embed_dim, hidden_dim, np.random.default_rng(seed))


CHAR_RNN_REFERENCES = {
    "build_vocabulary": reference_vocabulary,
    "encode_text": lab_rnn.encode,
    "make_input_target": lab_rnn.make_chunks,
    "init_char_rnn_model": reference_init,
    "char_rnn_forward": reference_forward,
    "sequence_cross_entropy_loss": reference_loss,
    "char_rnn_backward": reference_backward,
    "clip_gradients": lab_rnn.clip_gradients,
    "adagrad_update": reference_adagrad,
    "temperature_probabilities": reference_temperature,
}


def others(task_function_name):
    return {name: reference for name, reference in CHAR_RNN_REFERENCES.items()
            if name != task_function_name}


def check_vocabulary(build_vocabulary, encode_text, texts=("hello world", "abcabc\n")):
    task = "vocabulary"
    for text in texts:
        with alone(build_vocabulary, others("build_vocabulary")):
            result = call(task, build_vocabulary, text)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(task, "build_vocabulary should return (char_to_idx, idx_to_char)")
        char_to_idx, idx_to_char = result
        expected, characters = lab_rnn.index_characters(text)
        if dict(char_to_idx) != expected:
            fail(task, f"char_to_idx for {text!r}: {expected} expected (sorted characters, "
                       f"indices from 0), got {dict(char_to_idx)}")
        if {index: idx_to_char[index] for index in range(len(characters))} != dict(
                enumerate(characters)):
            fail(task, f"idx_to_char for {text!r} should map each index back to its character")
        with alone(encode_text, others("encode_text")):
            encoded = call(task, encode_text, text, expected)
        close(task, f"encode_text({text!r})", lab_rnn.encode(text, expected), encoded, 0)
    passed(task, f"{len(texts)} texts")


def check_targets(make_input_target, seeds=(0, 1), lengths=(3, 5)):
    task = "targets"
    for seed in seeds:
        encoded = np.random.default_rng(seed).integers(0, 9, 23)
        for length in lengths:
            with alone(make_input_target, others("make_input_target")):
                pairs = list(call(task, make_input_target, encoded, length))
            expected = lab_rnn.make_chunks(encoded, length)
            if len(pairs) != len(expected):
                fail(task, f"{len(expected)} (inputs, targets) pairs expected for 23 indices "
                           f"and seq_length {length}, got {len(pairs)}")
            for number, ((inputs, targets), (want_in, want_out)) in enumerate(
                    zip(pairs, expected)):
                close(task, f"pair {number} inputs", want_in, inputs, 0)
                close(task, f"pair {number} targets", want_out, targets, 0,
                      hint=" (the targets are the inputs shifted by one character)")
    passed(task, f"{len(seeds) * len(lengths)} texts and lengths")


def check_init(init_char_rnn_model, sizes=((11, 4, 6), (3, 2, 8)), seeds=(0, 5)):
    """Every rule of the task: shapes, zero biases, small weights, and the exact draws of
    ``rng.normal(0, 0.01, shape)`` from ``np.random.default_rng(seed)`` in its order."""
    task = "init"
    for (vocab_size, embed_dim, hidden_dim), seed in zip(sizes, seeds):
        params = call(task, init_char_rnn_model, vocab_size, embed_dim, hidden_dim, seed=seed)
        reference = reference_init(vocab_size, embed_dim, hidden_dim, seed)
        if not isinstance(params, dict) or set(params) != set(RNN_NAMES):
            fail(task, f"a dict with keys {', '.join(RNN_NAMES)} expected, got "
                       f"{sorted(params) if isinstance(params, dict) else type_name(params)}")
        for name in RNN_NAMES:
            value = array(task, name, params[name], shape=reference[name].shape,
                          dtype_kind="f")
            if name.startswith("b_") and np.any(value != 0):
                fail(task, f"{name} should start at zero")
            if not name.startswith("b_"):
                if np.all(value == 0):
                    fail(task, f"{name} is all zeros: every unit would learn the same thing; "
                               f"draw small random values")
                if not np.std(value) < 0.1:
                    fail(task, f"{name} has standard deviation {np.std(value):.3g}: keep the "
                               f"initial weights small (0.01 scale), or tanh saturates")
        for name in ("embedding", "W_xh", "W_hh", "W_hy"):
            close(task, f"{name} (seed {seed})", reference[name], params[name], 1e-12,
                  hint=" (draw each weight matrix with rng.normal(0, 0.01, shape) from "
                       "rng = np.random.default_rng(seed), in the order embedding, W_xh, "
                       "W_hh, W_hy)")
    passed(task, f"{len(sizes)} sizes")


def check_forward(char_rnn_forward, seeds=(0, 1)):
    task = "forward"
    for seed in seeds:
        params, inputs, _, h0 = rnn_case(seed)
        expected_logits, expected_states = reference_forward(inputs, h0, params)
        result = call(task, char_rnn_forward, inputs, h0.copy(), params)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(task, "char_rnn_forward should return (logits_seq, h_states)")
        logits, states = result
        array(task, "logits", logits, shape=expected_logits.shape)
        if len(states) != len(expected_states):
            fail(task, f"{len(expected_states)} hidden states expected (one per input "
                       f"character, h_1 … h_T), got {len(states)}")
        for step, (want, got) in enumerate(zip(expected_states, states)):
            close(task, f"h_states[{step}]", want, got, 1e-6, hint=(
                " (h_t = tanh(embedding[x_t] @ W_xh + h_{t-1} @ W_hh + b_h); is W_hh "
                "applied on the right side?)"))
        close(task, "logits", expected_logits, logits, 1e-6)
    passed(task, f"{len(seeds)} random sequences")


def check_loss(sequence_cross_entropy_loss, seeds=(0, 1)):
    task = "loss"
    for seed in seeds:
        rng = np.random.default_rng(seed)
        logits, targets = rng.normal(0, 3, (8, 6)), rng.integers(0, 6, 8)
        loss = call(task, sequence_cross_entropy_loss, logits, targets)
        close(task, "loss", reference_loss(logits, targets), loss, 1e-6,
              hint=" (the mean over steps of -log softmax(logits)[target])")
    extreme = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    loss = call(task, sequence_cross_entropy_loss, extreme, np.array([0, 1]))
    if not np.isfinite(loss):
        fail(task, "logits of 1000 gave a loss that is not finite: subtract the largest logit "
                   "before exp")
    passed(task, f"{len(seeds)} random sequences and large logits")


def check_backward(char_rnn_backward, seeds=(0,), tolerance=1e-5):
    task = "backward"
    for seed in seeds:
        params, inputs, targets, h0 = rnn_case(seed, vocab_size=5, embed_dim=3, hidden_dim=4,
                                               steps=5)
        with alone(char_rnn_backward, others("char_rnn_backward")):
            grads = call(task, char_rnn_backward, inputs, targets, h0.copy(),
                         {name: value.copy() for name, value in params.items()})
        if not isinstance(grads, dict) or set(grads) != set(RNN_NAMES):
            fail(task, f"a dict of gradients with keys {', '.join(RNN_NAMES)} expected")
        for name in RNN_NAMES:
            got = array(task, f"d{name}", grads[name], shape=params[name].shape)
            numeric = lab_rnn.numerical_gradient(params, inputs, targets, h0, name)
            error = relative_error(numeric, got.astype(float))
            if not error <= tolerance:
                fail(task, f"d{name} relative error {error:.1e} (≤ {tolerance:g} expected) "
                           f"against numerical gradients")
    passed(task, f"every gradient against numerical gradients, {len(seeds)} sequence(s)")


def check_clip(clip_gradients, seeds=(0, 1), limit=5.0):
    task = "clip"
    for seed in seeds:
        rng = np.random.default_rng(seed)
        grads = {name: rng.normal(0, 8, (3, 4)) for name in RNN_NAMES}
        original = {name: value.copy() for name, value in grads.items()}
        clipped = call(task, clip_gradients, grads, limit)
        expected = lab_rnn.clip_gradients(original, limit)
        for name in RNN_NAMES:
            got = array(task, f"clipped {name}", clipped[name], shape=(3, 4))
            if np.max(np.abs(got)) > limit:
                fail(task, f"d{name} has values up to {np.max(np.abs(got)):.3g} (every value "
                           f"in [-{limit:g}, {limit:g}] expected)")
            close(task, f"clipped {name}", expected[name], got, 1e-12,
                  hint=" (clip each element to [-limit, limit]; keep the ones inside)")
    passed(task, f"{len(seeds)} gradient sets")


def check_adagrad(adagrad_update, seeds=(0, 1), learning_rate=0.1):
    task = "adagrad"
    for seed in seeds:
        params, *_ = rnn_case(seed)
        rng = np.random.default_rng(seed + 100)
        grads = {name: rng.normal(0, 1, value.shape) for name, value in params.items()}
        memory = {name: rng.uniform(0, 2, value.shape) for name, value in params.items()}
        want_params = {name: value.copy() for name, value in params.items()}
        want_memory = {name: value.copy() for name, value in memory.items()}
        lab_rnn.adagrad_step(want_params, grads, want_memory, learning_rate)
        call(task, adagrad_update, params, grads, memory, learning_rate, in_place=(0, 2))
        for name in RNN_NAMES:
            close(task, f"memory[{name!r}] after the update", want_memory[name], memory[name],
                  1e-9, hint=" (memory += grad ** 2, in place)")
            close(task, f"params[{name!r}] after the update", want_params[name], params[name],
                  1e-9, hint=" (param -= learning_rate * grad / sqrt(memory + 1e-8), in place)")
    passed(task, f"{len(seeds)} updates")


def check_temperature(temperature_probabilities, seeds=(0, 1),
                      temperatures=(0.5, 1.0, 2.0)):
    task = "temperature"
    for seed in seeds:
        logits = np.random.default_rng(seed).normal(0, 2, 9)
        for temperature in temperatures:
            with alone(temperature_probabilities, others("temperature_probabilities")):
                got = call(task, temperature_probabilities, logits, temperature)
            close(task, f"probabilities at temperature {temperature}",
                  reference_temperature(logits, temperature), got, 1e-9,
                  hint=" (divide the logits by the temperature before the softmax)")
    passed(task, f"{len(seeds)} distributions at temperatures {temperatures}")


def check_sample(sample_char_rnn, seeds=(0, 1), length=40):
    task = "sample"
    params, *_ = rnn_case(3, vocab_size=6)
    characters = list("abcdef")
    char_to_idx = {character: index for index, character in enumerate(characters)}
    idx_to_char = dict(enumerate(characters))
    for seed in seeds:
        expected = generate_text(params, "c", char_to_idx, characters, length,
                                         np.random.RandomState(seed))
        with alone(sample_char_rnn, others("sample_char_rnn")):
            got = call(task, sample_char_rnn, char_to_idx["c"], params, char_to_idx,
                       idx_to_char, length, np.random.RandomState(seed))
        if not isinstance(got, str) or len(got) != length:
            fail(task, f"a string of {length} characters expected (without the start "
                       f"character), got {got!r}")
        if got != expected:
            frequencies = sampled_frequencies(sample_char_rnn, params, char_to_idx,
                                              idx_to_char)
            reference = np.array([expected.count(c) for c in characters]) / length
            fail(task, f"with np.random.RandomState({seed}) the reference draws {expected!r}, "
                       f"got {got!r}; draw each character with "
                       f"np.argmax(rng.multinomial(1, p)) and carry h from step to step"
                       f" (your character frequencies {np.round(frequencies, 2).tolist()}, "
                       f"the reference's {np.round(reference, 2).tolist()})")
    passed(task, f"exact draws under {len(seeds)} seeds")


def sampled_frequencies(sample_char_rnn, params, char_to_idx, idx_to_char, length=400):
    with alone(sample_char_rnn, others("sample_char_rnn")):
        text = call("sample", sample_char_rnn, 2, params, char_to_idx, idx_to_char, length,
                    np.random.RandomState(99))
    return np.array([text.count(character) for character in char_to_idx]) / max(len(text), 1)


TRAINING_TEXT = "the cat sat on the mat. the dog sat on the log. " * 8
TRAINING_STEPS = 300
TRAINING_GOAL = 1.5  # nats per character on TRAINING_TEXT after TRAINING_STEPS steps (the
# lab reaches 0.08 to 1.34 from seeds 0 to 5; the characters' frequencies alone give 2.3)
TRAINING_TOLERANCE = 1e-6  # against the lab loop, over the first TRAINING_EXACT steps
TRAINING_EXACT = 100  # steps over which a loop is the lab's to within TRAINING_TOLERANCE: a
# change of 1e-13 in the initial parameters (another order of floating-point operations)
# moves step 100's loss by 3e-11, step 200's by 2e-5 and step 300's by 2e-3 (training is
# chaotic at the last bits), so the parameters are compared after TRAINING_EXACT steps


@functools.lru_cache(maxsize=4)
def reference_training(text, steps):
    """The task's loop is the lab's own ``train`` (seed 0, chunks of ``SEQ_LENGTH``, a zero
    state at the start of each pass, each step forward, backward, clip, Adagrad, the last
    state carried on): its (parameters, loss of each step)."""
    from labs.char_rnn.training import train

    result = train(text, steps, seed=0, sample_every=0, log=lambda *_: None)
    return result["params"], np.array(result["losses"])


def check_training(train_char_rnn, text=TRAINING_TEXT, steps=TRAINING_STEPS,
                   goal=TRAINING_GOAL, exact=TRAINING_EXACT):
    """The student's loop, with the lab's pieces, must be the lab's loop: the lab loop's
    loss at each of the first ``exact`` steps and its parameters after ``exact`` steps (so
    parameters built any other way, and a loss curve written by hand, fail), and after
    ``steps`` steps the text's loss below ``goal``."""
    task = "training"
    hint = (" (each step: the next chunk, forward from the carried state, the loss, backward, "
            "clip to CLIP, Adagrad with LEARNING_RATE; a zero state at the start of each "
            "pass over the text)")
    trained = {}
    for count in (exact, steps):
        with alone(train_char_rnn, others("train_char_rnn")):
            result = call(task, train_char_rnn, text, count)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(task, "train_char_rnn should return (params, losses)")
        params, losses = result
        if not hasattr(losses, "__len__") or len(losses) != count:
            fail(task, f"one loss per step expected ({count}), got "
                       f"{len(losses) if hasattr(losses, '__len__') else type_name(losses)}")
        if not isinstance(params, dict) or set(params) != set(RNN_NAMES):
            fail(task, f"a dict of parameters with keys {', '.join(RNN_NAMES)} expected")
        losses = array(task, "losses", losses, shape=(count,)).astype(np.float64)
        want_params, want_losses = reference_training(text, count)
        shared = min(count, exact)
        wrong = np.flatnonzero(~(np.abs(losses[:shared] - want_losses[:shared])
                                 <= TRAINING_TOLERANCE))
        if len(wrong):
            step = int(wrong[0])
            fail(task, f"the loss of step {step} is {losses[step]:.6g}; the lab's loop, with "
                       f"the same pieces from the same start, gives {want_losses[step]:.6g}"
                       f"{hint}")
        if count == exact:
            for name in RNN_NAMES:
                close(task, f"params[{name!r}] after {count} steps", want_params[name],
                      params[name], TRAINING_TOLERANCE,
                      hint=" (return the parameters your steps trained)")
        trained = params
    char_to_index, _ = lab_rnn.index_characters(text)
    encoded = lab_rnn.encode(text, char_to_index)
    final = evaluate({name: np.asarray(value, float) for name, value in trained.items()},
                     encoded)
    if not final < goal:
        fail(task, f"after {steps} steps the text's loss is {final:.3f} nats per character; "
                   f"below {goal} expected (a uniform guess costs "
                   f"{math.log(len(char_to_index)):.2f}, the characters' frequencies "
                   f"{unigram_loss(encoded, encoded, len(char_to_index)):.2f}){hint}")
    passed(task, f"the lab loop's losses and parameters over {exact} steps; loss "
                 f"{final:.3f} < {goal} after {steps}")


# ---------------------------------------------------------------- poetry (Keras)
POETRY_TEXT = "nel mezzo del cammin di nostra vita\nmi ritrovai per una selva oscura\n"


def course_windows(text, maxlen, step):
    """The course's ``vectorise`` read back as strings: windows and next characters."""
    chars, x, y = course.vectorise(text, maxlen, step)
    sentences = ["".join(chars[i] for i in row.argmax(-1)) for row in x]
    return chars, sentences, [chars[i] for i in y.argmax(-1)], x, y


def check_windows(make_windows, cases=((10, 3), (7, 1))):
    task = "windows"
    for maxlen, step in cases:
        _, sentences, next_chars, _, _ = course_windows(POETRY_TEXT, maxlen, step)
        result = call(task, make_windows, POETRY_TEXT, maxlen, step)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(task, "make_windows should return (sentences, next_chars)")
        got_sentences, got_next = list(result[0]), list(result[1])
        if len(got_sentences) != len(sentences):
            fail(task, f"{len(sentences)} windows expected for maxlen {maxlen}, step {step} "
                       f"on {len(POETRY_TEXT)} characters, got {len(got_sentences)}")
        for number, (want, got) in enumerate(zip(sentences, got_sentences)):
            if want != got:
                fail(task, f"window {number}: {want!r} expected, got {got!r}")
        for number, (want, got) in enumerate(zip(next_chars, got_next)):
            if want != got:
                fail(task, f"next character of window {number} ({sentences[number]!r}): "
                           f"{want!r} expected, got {got!r} (the character right after the "
                           f"window)")
    passed(task, f"{len(cases)} (maxlen, step) pairs")


def check_one_hot(one_hot_encode, cases=((10, 3), (5, 2))):
    task = "one_hot"
    for maxlen, step in cases:
        chars, sentences, next_chars, x, y = course_windows(POETRY_TEXT, maxlen, step)
        result = call(task, one_hot_encode, sentences, next_chars, chars)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(task, "one_hot_encode should return (x, y)")
        got_x = array(task, "x", result[0], shape=x.shape, dtype_kind="b")
        got_y = array(task, "y", result[1], shape=y.shape, dtype_kind="b")
        if not np.array_equal(got_x, x):
            fail(task, "x has a 1 in the wrong place: x[i, t, char_indices[sentence[t]]] = 1")
        if not np.array_equal(got_y, y):
            fail(task, "y has a 1 in the wrong place: y[i, char_indices[next_char]] = 1")
    passed(task, f"{len(cases)} cases: shapes (windows, maxlen, vocabulary), bool")


def summary_of(task, model):
    """The facts the model checks compare, from a Keras model or from a sandbox's answer."""
    if isinstance(model, ModelSummary):
        return model
    if not hasattr(model, "layers") or not hasattr(model, "count_params"):
        fail(task, f"a Keras model expected, got {type_name(model)}")
    return model_summary(model)


def layer_summary(summary):
    return [(name, shape) for name, shape in summary["layers"]]


def check_char_lstm(build_char_lstm, cases=((40, 57), (10, 12))):
    task = "model"
    for maxlen, vocabulary_size in cases:
        reference = model_summary(course.char_model(maxlen, vocabulary_size))
        model = summary_of(task, call(task, build_char_lstm, maxlen, vocabulary_size))
        if layer_summary(model) != layer_summary(reference):
            fail(task, f"layers {layer_summary(reference)} expected, got "
                       f"{layer_summary(model)}")
        if model["params"] != reference["params"]:
            fail(task, f"{reference['params']:,} parameters expected, got {model['params']:,}")
        if model["last_activation"] != "softmax":
            fail(task, "the last layer's activation should be softmax")
        if model["optimizer"] != reference["optimizer"]:
            fail(task, f"compile with {reference['optimizer']}, got "
                       f"{model['optimizer'] or 'no optimizer'}")
        if not math.isclose(float(model["learning_rate"] or 0), 0.01, rel_tol=1e-6):
            fail(task, f"learning rate 0.01 expected, got {float(model['learning_rate'] or 0):g}")
        if model["loss"] != reference["loss"]:
            fail(task, f"loss {reference['loss']!r} expected, got {model['loss']!r}")
    passed(task, f"{len(cases)} shapes: layers, parameters, loss and optimizer as the course's")


def check_sample_preds(sample, seeds=(0, 1), temperatures=(0.2, 1.0, 1.5), draws=200):
    task = "sample"
    preds = np.array([0.5, 0.25, 0.15, 0.07, 0.03])
    for temperature in temperatures:
        for seed in seeds:
            expected_rng, got_rng = np.random.RandomState(seed), np.random.RandomState(seed)
            expected = [int(course.sample(preds, temperature, expected_rng))
                        for _ in range(draws)]
            got = [int(call(task, sample, preds, temperature, got_rng, in_place=(2,)))
                   for _ in range(draws)]
            if got != expected:
                counts = np.bincount(got, minlength=len(preds)) / draws
                want = np.bincount(expected, minlength=len(preds)) / draws
                fail(task, f"at temperature {temperature}, seed {seed}: draws "
                           f"{expected[:8]}… expected, got {got[:8]}… (your frequencies "
                           f"{counts.round(2).tolist()}, the reference's "
                           f"{want.round(2).tolist()}; reweight log(preds) / temperature "
                           f"before normalising, then draw with "
                           f"random_state.multinomial(1, preds, 1))")
    passed(task, f"exact draws at temperatures {temperatures}")


def check_generate(generate_text, seeds=(0, 3), length=30):
    task = "generate"
    chars, *_ = course_windows(POETRY_TEXT, 10, 3)
    model = TinyModel(len(chars))
    sentence = POETRY_TEXT[:10]
    for seed in seeds:
        expected = course.generate(model, sentence, chars, 10, length, 0.8, seed)
        with alone(generate_text, {"sample": course.sample}):
            got = call(task, generate_text, model, sentence, chars, 10, length, 0.8, seed)
        if got != expected:
            fail(task, f"with seed {seed}: {expected!r} expected, got {got!r} (seed numpy, "
                       f"then each step: one-hot the window, predict, sample, slide the "
                       f"window by the new character)")
    passed(task, f"{len(seeds)} seeds, {length} characters")


def check_units(nats_to_bits, perplexity, values=(0.0, 1.0, 1.3862943611198906, 2.5)):
    task = "units"
    for nats in values:
        close(task, f"nats_to_bits({nats})", measures.bits(nats),
              call(task, nats_to_bits, nats), 1e-9, hint=" (divide by ln 2)")
        close(task, f"perplexity({nats})", measures.perplexity(nats),
              call(task, perplexity, nats), 1e-9, hint=" (exp of the nats)")
    passed(task, f"{len(values)} values")


# ---------------------------------------------------------------- language models
def check_token_perplexity(perplexity_from_log_probabilities, seeds=(0, 1)):
    from labs.words import model as words

    task = "perplexity"
    for seed in seeds:
        log_probabilities = np.log(np.random.default_rng(seed).uniform(0.01, 1, 50))
        close(task, "perplexity", words.perplexity(np.exp(log_probabilities)),
              call(task, perplexity_from_log_probabilities, log_probabilities), 1e-6,
              hint=" (exp of the mean negative log-probability)")
    passed(task, f"{len(seeds)} sequences")


def check_bits_per_character(bits_per_character, seeds=(0, 1)):
    task = "bits_per_character"
    for seed in seeds:
        rng = np.random.default_rng(seed)
        log_probabilities = np.log(rng.uniform(0.01, 1, 12))
        text = "x" * int(rng.integers(20, 60))
        expected = measures.bits_per_character(-float(np.sum(log_probabilities)), len(text))
        close(task, "bits per character", expected,
              call(task, bits_per_character, log_probabilities, text), 1e-9,
              hint=" (the tokens' total nats, in bits, over the text's characters)")
    passed(task, f"{len(seeds)} texts")


def distributions(seeds):
    for seed in seeds:
        rng = np.random.default_rng(seed)
        yield rng.dirichlet(np.full(12, 0.5))
    # Sums 0.46, 0.73, 0.89, 1: no p of the checks sits on a sum, where 0.4 + 0.3 + 0.2 =
    # 0.8999999999999999 would decide a token by floating-point rounding.
    yield np.array([0.46, 0.27, 0.16, 0.11])


def check_top_k(top_k_filter, seeds=(0, 1), ks=(1, 3, 4)):
    task = "top_k"
    for probabilities in distributions(seeds):
        for k in ks:
            expected = sampling.distribution(probabilities, "top-k", top_k=k)
            close(task, f"top-{k} of {np.round(probabilities, 3).tolist()}", expected,
                  call(task, top_k_filter, probabilities.copy(), k), 1e-9,
                  hint=" (keep the k most probable, zero the rest, renormalise)")
    passed(task, f"{len(list(distributions(seeds)))} distributions, k in {ks}")


def check_top_p(top_p_filter, seeds=(0, 1), ps=(0.1, 0.5, 0.7, 0.9, 1.0)):
    task = "top_p"
    for probabilities in distributions(seeds):
        for p in ps:
            expected = sampling.distribution(probabilities, "top-p", top_p=p)
            close(task, f"top-p {p} of {np.round(probabilities, 3).tolist()}", expected,
                  call(task, top_p_filter, probabilities.copy(), p), 1e-9,
                  hint=" (keep the most probable tokens until their sum reaches p, the one "
                       "that crosses p included; renormalise)")
    passed(task, f"{len(list(distributions(seeds)))} distributions, p in {ps}")


def check_no_repeat(ban_repeated_ngrams, seeds=(0, 1), sizes=(1, 2, 3), vocabulary=6):
    """Against the lab's keras-hub guard ``banned_logits`` (on a one-row batch)."""
    from labs.gpt2.generate import banned_logits

    task = "no_repeat"
    for seed in seeds:
        rng = np.random.default_rng(seed)
        tokens = rng.integers(0, vocabulary, 14)
        logits = rng.normal(0, 1, vocabulary).astype(np.float32)
        for size in sizes:
            buffer = np.concatenate([tokens, [0]])[None, :]
            expected = np.asarray(banned_logits(logits[None, :], buffer, len(tokens), size))[0]
            got = array(task, f"logits for n = {size}",
                        call(task, ban_repeated_ngrams, logits.copy(), tokens.copy(), size),
                        shape=(vocabulary,))
            want_banned = set(np.flatnonzero(expected < -1e8).tolist())
            got_banned = set(np.flatnonzero(~(got > -1e8)).tolist())
            if want_banned != got_banned:
                fail(task, f"n = {size} after {tokens.tolist()}: tokens {sorted(want_banned)} "
                           f"should be banned, got {sorted(got_banned)} (a token is banned "
                           f"when it would complete an n-gram already in the text)")
            kept = sorted(set(range(vocabulary)) - want_banned)
            close(task, f"the logits that stay (n = {size})", logits[kept], got[kept], 1e-6)
    passed(task, f"{len(seeds)} token sequences, n in {sizes}")


# ---------------------------------------------------------------- spam (Keras, scikit-learn)
def token_vector_batch(seed, vector_size=8, lengths=(3, 50, 61, 1, 0)):
    """Messages as arrays of token vectors: short, exactly ``maxlen``, longer, one token,
    and empty."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 1, (length, vector_size)).astype(np.float32) for length in lengths]


def check_pad(pad_batch, seeds=(0, 1), maxlen=50):
    from labs.spam import data as spam_data

    task = "pad"
    for seed in seeds:
        sequences = token_vector_batch(seed)
        expected = spam_data.pad(sequences, maxlen, sequences[0].shape[1])
        got = array(task, "batch", call(task, pad_batch, [s.copy() for s in sequences], maxlen),
                    shape=expected.shape, dtype_kind="f")
        for row, sequence in enumerate(sequences):
            if not np.allclose(got[row], expected[row]):
                kept = min(len(sequence), maxlen)
                filled = np.flatnonzero(np.any(got[row] != 0, axis=-1)).tolist()
                shown = f"{filled[0]}–{filled[-1]}" if filled else "none"
                fail(task, f"message {row} ({len(sequence)} tokens): its first {kept} vectors "
                           f"expected in rows 0–{kept - 1}, zeros after them (post-padding, as "
                           f"the course pads); got vectors in rows {shown}")
    passed(task, f"{len(seeds)} batches: short, exactly {maxlen}, longer, one token, empty")


def check_ragged(ragged_batch, seeds=(0, 1)):
    from labs.spam import data as spam_data

    task = "ragged"
    for seed in seeds:
        sequences = token_vector_batch(seed, lengths=(3, 7, 1, 12))
        expected = spam_data.to_ragged(sequences)
        got = call(task, ragged_batch, [s.copy() for s in sequences])
        if not hasattr(got, "row_lengths"):
            fail(task, f"a tf.RaggedTensor expected, got {type_name(got)}")
        lengths = np.asarray(got.row_lengths())
        if lengths.tolist() != np.asarray(expected.row_lengths()).tolist():
            fail(task, f"row lengths {np.asarray(expected.row_lengths()).tolist()} expected "
                       f"(one row per message, its own length), got {lengths.tolist()}")
        close(task, "flat values", np.asarray(expected.flat_values),
              np.asarray(got.flat_values), 1e-6)
    passed(task, f"{len(seeds)} batches of different lengths")


def model_layers(summary):
    return [(name, shape) for name, shape in summary["layers"] if name != "InputLayer"]


def check_classifier(build_classifier, variants=("simplernn", "lstm", "gru", "bi-lstm"),
                     maxlen=50, vector_size=96, units=64):
    from labs.spam import models as spam_models

    task = "classifier"
    for variant in variants:
        reference = model_summary(spam_models.build_model(variant, "padded", vector_size,
                                                          maxlen, units))
        model = summary_of(task, call(task, build_classifier, variant, maxlen, vector_size,
                                      units))
        if model["output_shape"] != (None, 1):
            fail(task, f"{variant}: output shape (None, 1) expected (one spam probability per "
                       f"message), got {model['output_shape']}")
        if model_layers(model) != model_layers(reference):
            fail(task, f"{variant}: layers {model_layers(reference)} expected, got "
                       f"{model_layers(model)}")
        if model["params"] != reference["params"]:
            fail(task, f"{variant}: {reference['params']:,} parameters expected, got "
                       f"{model['params']:,}")
        if model["last_activation"] != "sigmoid":
            fail(task, f"{variant}: the last layer's activation should be sigmoid")
        if model["loss"] != reference["loss"]:
            fail(task, f"{variant}: loss {reference['loss']!r} expected, got "
                       f"{model['loss']!r}")
    passed(task, f"{', '.join(variants)}: layers, output shapes, parameters, loss")


def check_scores(spam_scores, seeds=(0, 1, 2)):
    from labs.spam.train import evaluate

    task = "scores"
    cases = [np.random.default_rng(seed).integers(0, 2, (2, 40)) for seed in seeds]
    cases.append(np.array([[0, 0, 1, 1], [0, 0, 0, 0]]))  # no spam predicted: precision 0
    for labels, predictions in cases:
        expected = evaluate(labels, predictions)
        got = call(task, spam_scores, labels.copy(), predictions.copy())
        if not isinstance(got, dict):
            fail(task, f"a dict expected, got {type_name(got)}")
        for name in ("precision", "recall", "f1"):
            if name not in got:
                fail(task, f"the dict should hold {name!r}")
            close(task, f"{name} for labels {labels[:6].tolist()}… and predictions "
                        f"{predictions[:6].tolist()}…", expected[f"spam_{name}"], got[name],
                  1e-9, hint=" (of the spam class, label 1; 0 when nothing is predicted spam)")
        close(task, "confusion_matrix", expected["confusion_matrix"],
              got.get("confusion_matrix"), 0,
              hint=" (rows: true ham, true spam; columns: predicted ham, predicted spam)")
    passed(task, f"{len(cases)} label sets, one with no spam predicted")


def check_baseline(tfidf_linear_svc, seed=0, slack=0.03):
    """The student's TF-IDF + LinearSVC against the lab's tuned one on the lab's grouped
    split: its spam F1 on the test part may not be lower by more than ``slack``."""
    from pathlib import Path

    from labs.spam import data as spam_data
    from labs.spam.baselines import train_baseline
    from labs.spam.train import evaluate

    task = "baseline"
    messages = spam_data.load_messages(Path(__file__).resolve().parent.parent / "datasets")
    train, test = spam_data.split_indices(messages.labels, messages.texts, "grouped", seed=seed)
    texts, labels = messages.texts, messages.labels
    scores = array(task, "scores", call(task, tfidf_linear_svc, texts[train].copy(),
                                        labels[train].copy(), texts[test].copy()),
                   shape=(len(test),))
    reference_scores, threshold, c, *_ = cached(train_baseline)("tfidf-svm", texts, labels,
                                                                train, test, seed)
    reference = evaluate(labels[test], reference_scores, threshold)["spam_f1"]
    got = evaluate(labels[test], scores, 0.0)["spam_f1"]
    if not got >= reference - slack:
        fail(task, f"spam F1 {got:.3f} on the test part; the lab's baseline (word and character "
                   f"TF-IDF, C = {c:g} chosen by grouped cross-validation on the training part) "
                   f"reaches {reference:.3f}: at least {reference - slack:.3f} expected")
    passed(task, f"spam F1 {got:.3f} against the lab's {reference:.3f} on {len(test)} messages")
