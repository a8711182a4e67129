"""Keras's three backends and the course's model in native PyTorch, side by side on this CPU.

    python -m bench.backends          # make bench-backends (make bench runs it too), ~6 minutes:
                                      # reports/bench-backends.{md,json}
    python -m bench.backends --smoke  # a tiny slice and 2 epochs: checks that it runs

Keras reads ``KERAS_BACKEND`` once per process, so each backend trains in a fresh process of
its own, and so does the native PyTorch model: their peak memory is their own (each process
imports what the labs import, TensorFlow's tf.data included, except the native one, which
imports PyTorch and NumPy only). Every run starts from the same initial weights, built once
under TensorFlow (``labs.poetry.models``, saved as ``.keras``; the native model gets them
copied: PyTorch's LSTM has Keras's gate order, and its second bias is set to zero), sees the
same batches in the same order, and is scored on the same held-out windows.

Two models, both from the poetry lab: the course's char-LSTM (next character after a window
of 40, one-hot, LSTM 128, RMSprop 0.01, clipnorm 1, batch 128, as the course trains it) and
the every-step LSTM (sequences of 100, the next character at every position). Seconds per
epoch are the median of the epochs after the first (the first also traces or compiles and
is reported apart). Threads: each library's default, every core of this machine
(TensorFlow's intra-op pool, ``torch.get_num_threads()``, XLA's CPU pool); the report says
how many that is.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench import writable_reports_dir
from labs.reports import cpu_name

RUNNERS = ("tensorflow", "torch", "jax", "native")  # the last: the course model in PyTorch
MODELS = ("course", "every-step")
NAMES = {"tensorflow": "Keras on TensorFlow", "torch": "Keras on PyTorch",
         "jax": "Keras on JAX", "native": "native PyTorch (nn.LSTM)"}
# Characters of Nietzsche for each model: the course's windows (step 3, 40 long) cost about
# 13 steps of the LSTM per character, the every-step sequences one, so it gets more text.
FULL = {"characters": {"course": 100_000, "every-step": 600_000}, "epochs": 3}
SMOKE = {"characters": {"course": 5_000}, "epochs": 2}  # the course model only
MAXLEN, STEP, SEQ_LENGTH, UNITS, BATCH_SIZE = 40, 3, 100, 128, 128


def peak_megabytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def prepare(folder, characters):
    """The slice of Nietzsche, its windows and sequences (the last tenth held out), and the
    two models' initial weights, saved under TensorFlow."""
    from labs.poetry import data
    from labs.poetry.models import build_model

    text = data.load_corpus("nietzsche", Path("datasets"), log=lambda *_: None)[0]
    vocabulary = data.build_vocabulary([text])
    arrays, names = {}, [name for name in MODELS if name in characters]
    for name in names:
        encoded = data.encode(text[:characters[name]], vocabulary)
        cut = int(0.9 * len(encoded))
        for part, ids in (("train", encoded[:cut]), ("held", encoded[cut:])):
            arrays[f"{name}_{part}_x"], arrays[f"{name}_{part}_y"] = (
                data.windows(ids, MAXLEN, STEP) if name == "course"
                else data.every_step_sequences(ids, SEQ_LENGTH))
    np.savez(folder / "data.npz", **arrays)
    import keras

    keras.utils.set_random_seed(0)
    for name in names:
        model = build_model(len(vocabulary), MAXLEN, units=UNITS,
                            objective="next-char" if name == "course" else "every-step")
        model.optimizer.build(model.trainable_variables)
        model.save(folder / f"{name}.keras")
        if name == "course":
            np.savez(folder / "course-weights.npz", *model.get_weights())
    return len(vocabulary)


class EpochSeconds:
    """Seconds of every epoch, for a Keras callback or a hand-written loop."""

    def __init__(self):
        self.seconds, self.started = [], None

    def begin(self):
        self.started = time.perf_counter()

    def end(self):
        self.seconds.append(time.perf_counter() - self.started)


def keras_worker(folder, epochs, imported):
    """Under this process's KERAS_BACKEND: both models trained, timed and scored."""
    import keras

    from labs import backends, saving
    from labs.poetry import models  # noqa: F401  (registers the one-hot layer for loading)

    data, results = np.load(folder / "data.npz"), {}
    for name in [name for name in MODELS if (folder / f"{name}.keras").exists()]:
        model = saving.load_model(folder / f"{name}.keras", "python -m bench.backends")
        timer = EpochSeconds()
        callback = keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda *_, timer=timer: timer.begin(),
            on_epoch_end=lambda *_, timer=timer: timer.end())
        model.fit(data[f"{name}_train_x"], data[f"{name}_train_y"], batch_size=BATCH_SIZE,
                  epochs=epochs, shuffle=False, verbose=0, callbacks=[callback])
        loss = model.evaluate(data[f"{name}_held_x"], data[f"{name}_held_y"], batch_size=1024,
                              verbose=0)
        results[name] = {"epoch_seconds": timer.seconds, "held_out_loss": float(loss)}
    return {"models": results, "import_seconds": imported, "peak_mb": peak_megabytes(),
            "version": backends.describe(), "threads": threads()}


def native_model(vocabulary_size, weights):
    """One-hot → nn.LSTM → nn.Linear with the Keras model's initial weights copied in."""
    import torch
    from torch import nn

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(vocabulary_size, UNITS, batch_first=True)
            self.linear = nn.Linear(UNITS, vocabulary_size)

        def forward(self, ids):
            one_hot = nn.functional.one_hot(ids.long(), vocabulary_size).float()
            out, _ = self.lstm(one_hot)
            return self.linear(out[:, -1])

    model = CharLSTM()
    kernel, recurrent, bias, dense_kernel, dense_bias = (torch.tensor(w) for w in weights)
    with torch.no_grad():
        model.lstm.weight_ih_l0.copy_(kernel.T)
        model.lstm.weight_hh_l0.copy_(recurrent.T)
        model.lstm.bias_ih_l0.copy_(bias)
        model.lstm.bias_hh_l0.zero_()
        model.linear.weight.copy_(dense_kernel.T)
        model.linear.bias.copy_(dense_bias)
    return model


def keras_rmsprop(parameters, learning_rate=0.01, rho=0.9, epsilon=1e-7):
    """RMSprop as Keras computes it, epsilon inside the square root (``torch.optim.RMSprop``
    adds it outside: not the same optimizer, so not the same weights after an epoch)."""
    import torch

    velocities = [torch.zeros_like(parameter) for parameter in parameters]

    @torch.no_grad()
    def step():
        for parameter, velocity in zip(parameters, velocities):
            velocity.mul_(rho).add_(parameter.grad.square(), alpha=1 - rho)
            parameter.sub_(learning_rate * parameter.grad / (velocity + epsilon).sqrt())
    return step


def native_worker(folder, epochs, imported):
    """The course model in plain PyTorch: RMSprop as Keras's (rho 0.9, epsilon 1e-7), each
    weight's gradient clipped at norm 1 as Keras's clipnorm, batches in order."""
    import torch

    from labs.words.torch_model import clip_each

    data = np.load(folder / "data.npz")
    weights = list(np.load(folder / "course-weights.npz").values())
    model = native_model(weights[-1].shape[0], weights)
    optimizer_step = keras_rmsprop(list(model.parameters()))
    loss_function = torch.nn.CrossEntropyLoss()
    x, y = (torch.as_tensor(data[f"course_train_{a}"], dtype=torch.long) for a in "xy")
    timer = EpochSeconds()
    for _ in range(epochs):
        timer.begin()
        for start in range(0, len(x), BATCH_SIZE):
            model.zero_grad()
            batch = slice(start, start + BATCH_SIZE)
            loss_function(model(x[batch]), y[batch]).backward()
            clip_each(model, 1.0)
            optimizer_step()
        timer.end()
    with torch.no_grad():
        held = [torch.as_tensor(data[f"course_held_{a}"], dtype=torch.long) for a in "xy"]
        loss = float(loss_function(model(held[0]), held[1]))
    return {"models": {"course": {"epoch_seconds": timer.seconds, "held_out_loss": loss}},
            "import_seconds": imported, "peak_mb": peak_megabytes(),
            "version": f"PyTorch {torch.__version__}", "threads": threads()}


def threads():
    """The thread counts the libraries in this process use (0: TensorFlow's all-cores)."""
    counts = {"cpu_count": os.cpu_count()}
    if "torch" in sys.modules:
        counts["torch"] = sys.modules["torch"].get_num_threads()
    if "tensorflow" in sys.modules:
        counts["tensorflow_intra_op"] = (
            sys.modules["tensorflow"].config.threading.get_intra_op_parallelism_threads())
    return counts


def run_runner(runner, folder, epochs, log):
    """One runner in a fresh process; its results, or the last lines of its error."""
    log(f"bench.backends: {NAMES[runner]}")
    environment = dict(os.environ, KERAS_BACKEND="torch" if runner == "native" else runner)
    result = subprocess.run(
        [sys.executable, "-m", "bench.backends", "--worker", runner, "--folder", str(folder),
         "--epochs", str(epochs)], env=environment, capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent.parent)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:] or ["no output"]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(smoke=False, log=print):
    """Every runner on the same slice and initial weights; the results as a dict."""
    sizes = SMOKE if smoke else FULL
    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "smoke": smoke, **sizes, "machine": f"CPU {cpu_name()} ({os.cpu_count()} threads)"}
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        results["vocabulary"] = prepare(folder, sizes["characters"])
        results["runners"] = {runner: run_runner(runner, folder, sizes["epochs"], log)
                              for runner in RUNNERS}
    return results


def steady(seconds):
    """Seconds per epoch after the first (which also traces or compiles)."""
    return statistics.median(seconds[1:] or seconds)


def table_rows(results):
    runners = results["runners"]
    reference = runners["tensorflow"].get("models", {})
    rows = []
    for runner, result in runners.items():
        if "error" in result:
            rows.append(f"| {NAMES[runner]} | failed: {' '.join(result['error'])} |||||||")
            continue
        for name, measured in result["models"].items():
            seconds, base = steady(measured["epoch_seconds"]), reference.get(name)
            ratio = f"{seconds / steady(base['epoch_seconds']):.2f}×" if base else ""
            delta = (f"{measured['held_out_loss'] - base['held_out_loss']:+.4f}" if base else "")
            rows.append(f"| {NAMES[runner]} | {name} | {seconds:.2f} | {ratio} | "
                        f"{measured['epoch_seconds'][0]:.2f} | {measured['held_out_loss']:.4f} "
                        f"({delta}) | {result['peak_mb']:,.0f} | {result['import_seconds']:.1f} |")
    return rows


def write_report(results, reports_dir):
    from labs.reports import atomic_write_json, atomic_write_text

    runners = results["runners"]
    versions = "; ".join(f"{NAMES[r]}: {v.get('version', '?')}" for r, v in runners.items())
    threads_line = json.dumps({r: v.get("threads") for r, v in runners.items()})
    lines = ["# Keras's three backends and native PyTorch" + (" — SMOKE RUN" if results["smoke"]
                                                              else ""), "",
             f"- {results['date']}, {results['machine']}; Nietzsche lowercased (vocabulary "
             f"{results['vocabulary']}), its first "
             + ", ".join(f"{count:,} characters for the {name} model"
                         for name, count in results["characters"].items())
             + f", the last tenth of each held out; {results['epochs']} epochs "
             "from the same initial weights, the same batches in the same order",
             f"- {versions}", f"- threads: {threads_line}", "",
             "| runner | model | s/epoch (after the first) | ratio to TensorFlow | first epoch s "
             f"| held-out loss after {results['epochs']} epochs (Δ TensorFlow) | peak MB | "
             "import s |", "|---|---|---:|---:|---:|---:|---:|---:|", *table_rows(results), ""]
    reports_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(reports_dir / "bench-backends.md", "\n".join(lines) + "\n")
    atomic_write_json(reports_dir / "bench-backends.json", results)


def worker_main(runner, folder, epochs):
    """In the fresh process: import, time the import, train; one JSON line on stdout."""
    started = time.perf_counter()
    if runner == "native":
        import torch  # noqa: F401

        result = native_worker(folder, epochs, time.perf_counter() - started)
    else:
        import labs  # noqa: F401  (the labs' defaults and a quiet TensorFlow)
        import keras  # noqa: F401

        from labs.poetry import models  # noqa: F401  (what a lab imports, TensorFlow too)

        result = keras_worker(folder, epochs, time.perf_counter() - started)
    print(json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.backends",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny slice and 2 epochs")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"),
                        help="where bench-backends.md and .json go (default: %(default)s)")
    parser.add_argument("--worker", choices=RUNNERS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.folder, args.epochs)
    writable_reports_dir(parser, Path(args.reports_dir))
    results = run(args.smoke)
    write_report(results, args.reports_dir)
    print(f"wrote {args.reports_dir / 'bench-backends.md'}")
    return results


if __name__ == "__main__":
    main()
