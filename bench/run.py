"""Benchmarks: the labs' pipelines against the course's recipes, in one run, on one machine.

    python -m bench.run            # `make bench`: ~20 minutes, writes reports/bench.{md,json}
    python -m bench.run --smoke    # tiny inputs, one repeat: checks that the bench runs

Every timing is repeated (median and spread of at least 3) and reported as a ratio of two
measurements taken in this same run, since absolute seconds on a shared machine drift.
Nothing here is asserted by the test suite; targets are stated, met or missed, in the report.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import spacy
import tensorflow as tf

from bench import gpt2, writable_reports_dir
from labs import course, data, embeddings
from labs.cli import LabError
from labs.poetry import data as poetry_data
from labs.poetry import cli as poetry_cli
from labs.poetry.config import Config as PoetryConfig
from labs.poetry.generate import load_generator
from labs.poetry.models import build_model as build_char_model
from labs.reports import (atomic_write_json, atomic_write_text, markdown_table, pyplot, save_figure,
                          write_index_section)
from labs.spam import data as spam_data
from labs.spam.config import INPUT_KINDS, RECIPES
from labs.spam.config import Settings as SpamSettings
from labs.spam import models as spam_models
from labs.spam import train as spam_train
from labs.training import EpochTimer

REPEATS = 3  # every timing: median and spread (min–max) of this many runs


@dataclass(frozen=True)
class Sizes:
    """How much each measure runs. The report's labels are built from these, so a smoke
    run says what it actually measured."""
    repeats: int = REPEATS
    generation_length: int = 400  # characters per generation timing
    scaling_lengths: tuple = (100, 400, 1600)  # characters, for the scaling line
    training_fraction: float = 1.0  # of Leopardi, for the course-vs-lab epoch
    scaling_fractions: tuple = (0.25, 0.5, 1.0)  # of Leopardi, for the scaling line
    training_epochs: int = 3  # per process: the first is warm-up (tracing), the rest measured
    training_rounds: int = 2  # course, lab, course, lab: 4 measured epochs of each
    maxlen: int = 40  # the course's Leopardi window
    step: int = 1
    feature_messages: int = 2000
    spam_epochs: int = 4  # padded vs ragged: the first is warm-up
    spam_messages: int = None  # None: the whole collection
    end_to_end: bool = True  # make spam QUICK=1, make poetry QUICK=1


FULL = Sizes()
SMOKE = Sizes(repeats=1, generation_length=20, scaling_lengths=(10, 20, 40),
              training_fraction=0.01, scaling_fractions=(0.005,), training_epochs=2,
              training_rounds=1, maxlen=10, step=5, feature_messages=50, spam_epochs=2,
              spam_messages=300, end_to_end=False)  # seconds, not minutes
# What each measure should reach, stated in the report as met or missed, never asserted.
TARGETS = {"generation speedup": 50, "epoch time ratio": 0.8, "memory ratio": 0.5,
           "feature speedup": 2, "cached feature speedup": 50, "scaling deviation": 0.15}
TEMPERATURE = 0.5
SEED = 42
SECTIONS = ("Generation", "Training epoch", "Spam features", "Padded vs ragged", "Scaling",
            "End to end", "GPT-2 base on this CPU")


def heading(name):
    """``## N. name``: one numbering, the order of ``SECTIONS``."""
    return f"## {SECTIONS.index(name) + 1}. {name}"


def summary(values):
    """Median and spread (min–max) of repeated measurements."""
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def spread(stats, digits=2):
    return f"{stats['median']:.{digits}f} ({stats['min']:.{digits}f}–{stats['max']:.{digits}f})"


def row(measure, course, lab, ratio, target, met):
    return {"measure": measure, "course": course, "lab": lab, "ratio": ratio,
            "target": target, "met": "yes" if met else ("n/a" if met is None else "**no**")}


# ---------------------------------------------------------------- Generation (and Scaling)
def leopardi_generator(models_dir, workdir, smoke, log):
    """The trained Leopardi model if `make poetry` left one, else a quick one for the bench
    (always in a smoke run)."""
    if not smoke:
        try:
            generator = load_generator("leopardi", models_dir)
            quick = " (a QUICK run)" if generator.metadata["quick"] else ""
            return generator, f"the last `make poetry` Leopardi model{quick}"
        except LabError:
            pass
    log("training a quick Leopardi model for the generation benchmark")
    # A smoke run only needs a model to generate with: a small one trains in a second.
    small = ["--units", "32", "--step", "9"] if smoke else []
    poetry_cli.main(["train", "--corpus", "leopardi", "--quick", *small, "--models-dir",
                     str(workdir), "--reports-dir", str(Path(workdir) / "reports")])
    return load_generator("leopardi", workdir), "a quick model (no trained model found)"


def bench_generation(generator, source, repeats, length, lengths, log):
    metadata = generator.metadata
    chars, maxlen = metadata["vocabulary"], metadata["maxlen"]
    # The course's network takes one-hot float input; same weights, course input layer.
    course_model = build_char_model(len(chars), maxlen, metadata["cell"], metadata["layers"],
                                    metadata["units"], one_hot_inside=False)
    course_model.set_weights(generator.model.get_weights())
    text = "".join(poetry_corpus())
    seed_text = text[1000:1000 + maxlen]
    course_seconds, lab_seconds, same = [], [], []
    for repeat in range(repeats):
        started = time.perf_counter()
        course_text = course.generate(course_model, seed_text, chars, maxlen, length,
                                      TEMPERATURE, SEED + repeat)
        course_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        lab_text = generator.generate(seed_text, length, np.random.RandomState(SEED + repeat),
                                      temperature=TEMPERATURE)
        lab_seconds.append(time.perf_counter() - started)
        same.append(course_text == lab_text)
        log(f"generation {repeat + 1}/{repeats}: course {length / course_seconds[-1]:.0f} chars/s, "
            f"lab {length / lab_seconds[-1]:.0f} chars/s, same text: {same[-1]}")
    course_rate = summary(length / seconds for seconds in course_seconds)
    lab_rate = summary(length / seconds for seconds in lab_seconds)
    ratio = summary(slow / fast for slow, fast in zip(course_seconds, lab_seconds))
    scaling = {}
    for count in lengths:
        seconds = []
        for repeat in range(repeats):
            started = time.perf_counter()
            generator.generate(seed_text, count, np.random.RandomState(repeat),
                               temperature=TEMPERATURE)
            seconds.append(time.perf_counter() - started)
        scaling[count] = summary(seconds)
    return {"model": source, "length": length, "temperature": TEMPERATURE,
            "course_chars_per_second": course_rate, "lab_chars_per_second": lab_rate,
            "speedup": ratio, "same_text": same, "scaling_seconds": scaling}


def poetry_corpus():
    return poetry_data.load_corpus("leopardi", log=lambda message: None)


# ---------------------------------------------------------------- Training epoch (and Scaling)
def run_worker(recipe, batch_size, epochs, fraction, maxlen, step, log):
    command = [sys.executable, "-m", "bench.train_epoch", "--recipe", recipe, "--batch-size",
               str(batch_size), "--epochs", str(epochs), "--fraction", str(fraction),
               "--maxlen", str(maxlen), "--step", str(step)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {completed.stderr.strip()[-500:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    steady = result["epoch_seconds"][1:] or result["epoch_seconds"]
    result["steady_epoch"] = summary(steady)
    log(f"training {recipe} batch {batch_size} fraction {fraction}: "
        f"{spread(result['steady_epoch'], 1)} s/epoch, peak {result['peak_rss_mb']:.0f} MB")
    return result


def combine(runs):
    """One recipe measured in several processes: all steady epochs, the largest peak."""
    combined = dict(runs[0])
    combined["epoch_seconds"] = [seconds for run in runs for seconds in run["epoch_seconds"]]
    combined["steady_epoch"] = summary(value for run in runs
                                       for value in run["steady_epoch"]["runs"])
    combined["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    combined["rss_after_imports_mb"] = max(run["rss_after_imports_mb"] for run in runs)
    return combined


def bench_training(sizes, log, default_batch=PoetryConfig.batch_size):
    """Course vs lab at batch 128 (alternating processes, so that a slow spell of the
    machine hits both), the lab at its default batch, and the lab on parts of the corpus."""
    def worker(recipe, batch_size, part):
        return run_worker(recipe, batch_size, sizes.training_epochs, part, sizes.maxlen,
                          sizes.step, log)

    fraction = sizes.training_fraction
    course_runs, lab_runs = [], []
    for _ in range(sizes.training_rounds):
        course_runs.append(worker("course", 128, fraction))
        lab_runs.append(worker("lab", 128, fraction))
    lab_default = worker("lab", default_batch, fraction)
    scaling = {fraction: lab_default}
    for part in sizes.scaling_fractions:
        if part != fraction:
            scaling[part] = worker("lab", default_batch, part)
    return {"course": combine(course_runs), "lab": combine(lab_runs),
            "lab_default_batch": lab_default, "default_batch_size": default_batch,
            "fraction": fraction, "maxlen": sizes.maxlen, "step": sizes.step,
            "rounds": sizes.training_rounds, "scaling": scaling}


# ---------------------------------------------------------------- Spam features
def bench_features(messages, repeats, log):
    texts = list(data.load_sms(data.locate("sms_spam.tsv", log=lambda m: None))["text"][:messages])
    name = embeddings.choose_pipeline()
    full = spacy.load(name)
    keep = "tok2vec" if not full.vocab.vectors_length else None
    disable = [pipe for pipe in full.pipe_names if pipe != keep]
    lab_nlp = embeddings.load_pipeline(name)
    course_seconds, lab_seconds, cached_seconds = [], [], []
    with tempfile.TemporaryDirectory() as cache_dir:
        for _ in range(repeats):
            started = time.perf_counter()
            course_vectors = []
            for sample in texts:  # the course loop
                doc = full(sample, disable=disable)
                course_vectors.append([token.vector for token in doc])
            course_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            lab_vectors = embeddings.extract(lab_nlp, texts, progress=False)
            lab_seconds.append(time.perf_counter() - started)
        embeddings.cached_token_vectors(texts, name, cache_dir=cache_dir, progress=False,
                                        log=lambda m: None)
        for _ in range(repeats):
            started = time.perf_counter()
            embeddings.cached_token_vectors(texts, name, cache_dir=cache_dir, progress=False,
                                            log=lambda m: None)
            cached_seconds.append(time.perf_counter() - started)
    same = all(np.allclose(np.array(course_vectors[index]).reshape(-1, lab_vectors.vector_size),
                           lab_vectors.sequence(index), atol=1e-5) for index in range(len(texts)))
    rate = lambda seconds: summary(len(texts) / value for value in seconds)  # noqa: E731
    result = {"pipeline": name, "messages": len(texts), "course_disabled": disable,
              "course_messages_per_second": rate(course_seconds),
              "lab_messages_per_second": rate(lab_seconds),
              "cached_messages_per_second": rate(cached_seconds),
              "speedup": summary(c / lab for c, lab in zip(course_seconds, lab_seconds)),
              "cached_speedup": summary(c / hit for c, hit in zip(course_seconds, cached_seconds)),
              "same_vectors": same}
    log(f"features: course {spread(result['course_messages_per_second'], 0)} msg/s, lab "
        f"{spread(result['lab_messages_per_second'], 0)}, cached "
        f"{spread(result['cached_messages_per_second'], 0)}")
    return result


# ---------------------------------------------------------------- Padded vs ragged
def bench_padded_ragged(epochs, messages, log):
    """The spam lab's own ``fit`` for LSTM and Bi-LSTM, padded and ragged, timed per epoch."""
    frame = data.load_sms(data.locate("sms_spam.tsv", log=lambda m: None))
    if messages:
        frame = frame.iloc[:messages]
    labels = (frame["label"] == "spam").to_numpy().astype(np.float32)
    features = embeddings.cached_token_vectors(frame["text"], progress=False, log=lambda m: None)
    texts = frame["text"].to_numpy()
    train, test = spam_data.split_indices(labels, texts, "grouped", SEED)
    fold = spam_data.Fold(train, test, labels, texts, fit=train, validation=test)
    settings = SpamSettings(replace(RECIPES["course"], epochs=epochs))
    results = {}
    for variant in ("lstm", "bi-lstm"):
        for inputs in INPUT_KINDS:
            keras.utils.set_random_seed(SEED)
            model = spam_models.build_model(variant, inputs, features.vector_size)
            timer = EpochTimer()
            spam_train.fit(model, inputs, features, fold, settings, SEED, callbacks=[timer])
            results[f"{variant}_{inputs}"] = summary(timer.seconds[1:] or timer.seconds)
            log(f"spam {variant} {inputs}: {spread(results[f'{variant}_{inputs}'])} s/epoch")
    lengths = features.lengths[train]
    return {"epoch_seconds": results, "mean_tokens": float(lengths.mean()),
            "max_tokens": int(lengths.max()),
            "truncated_share": float(np.mean(lengths > settings.maxlen)),
            "maxlen": settings.maxlen, "messages": len(frame), "epochs": epochs}


# ---------------------------------------------------------------- End to end
def bench_end_to_end(workdir, log):
    results = {}
    for target in ("spam", "poetry"):
        arguments = f"--reports-dir {workdir}/reports --models-dir {workdir}/models"
        command = ["make", "--no-print-directory", target, "QUICK=1", f"ARGS={arguments}"]
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(f"make {target} QUICK=1 failed: {completed.stderr.strip()[-500:]}")
        results[target] = seconds
        log(f"make {target} QUICK=1: {seconds:.0f} s")
    return results


# ---------------------------------------------------------------- report
def linearity(points):
    """Least-squares line through (size, seconds) and the largest relative deviation."""
    sizes = np.array([size for size, _ in points], float)
    seconds = np.array([value for _, value in points], float)
    slope, intercept = np.polyfit(sizes, seconds, 1)
    fitted = slope * sizes + intercept
    return {"slope": float(slope), "intercept": float(intercept),
            "max_relative_deviation": float(np.max(np.abs(seconds - fitted)
                                                   / np.maximum(seconds, 1e-9)))}


def table(rows):
    return markdown_table(pd.DataFrame(rows))


def generation_section(results):
    generation = results["generation"]
    target = TARGETS["generation speedup"]
    rows = [row(f"characters per second ({generation['length']} chars, "
                f"T = {generation['temperature']})",
                spread(generation["course_chars_per_second"], 0),
                spread(generation["lab_chars_per_second"], 0),
                f"{generation['speedup']['median']:.0f}×", f"≥ {target}×",
                generation["speedup"]["median"] >= target),
            row("same text for the same random seed", "", "",
                f"{sum(generation['same_text'])}/{len(generation['same_text'])}", "all",
                all(generation["same_text"]))]
    return [f"{heading('Generation')} (Leopardi model)\n",
            f"Model: {generation['model']}. Course: re-feed the window, one `model.predict` "
            "per character, `np.random.multinomial` sampling (`labs.course.generate`). Lab: the "
            "same window procedure with the weights in NumPy (`labs.poetry.models`), the same "
            "sampler and seed.\n", table(rows)]


def training_section(results):
    training = results["training"]
    course_run, lab, default = training["course"], training["lab"], training["lab_default_batch"]
    time_ratio = lab["steady_epoch"]["median"] / course_run["steady_epoch"]["median"]
    memory_ratio = lab["peak_rss_mb"] / course_run["peak_rss_mb"]
    course_data = course_run["peak_rss_mb"] - course_run["rss_after_imports_mb"]
    lab_data = lab["peak_rss_mb"] - lab["rss_after_imports_mb"]
    data_ratio = lab_data / course_data if course_data > 0 else float("nan")
    default_ratio = default["steady_epoch"]["median"] / course_run["steady_epoch"]["median"]
    time_target, memory_target = TARGETS["epoch time ratio"], TARGETS["memory ratio"]
    rows = [row("seconds per epoch, batch 128 (epochs 2+)", spread(course_run["steady_epoch"], 1),
                spread(lab["steady_epoch"], 1), f"{time_ratio:.2f}×", f"≤ {time_target}×",
                time_ratio <= time_target),
            row("peak resident memory, MB", f"{course_run['peak_rss_mb']:.0f}",
                f"{lab['peak_rss_mb']:.0f}", f"{memory_ratio:.2f}×", f"≤ {memory_target}×",
                memory_ratio <= memory_target),
            row("memory above the TensorFlow import, MB", f"{course_data:.0f}", f"{lab_data:.0f}",
                f"{data_ratio:.2f}×", "(context)", None),
            row(f"lab at its default batch {training['default_batch_size']}: seconds per epoch",
                spread(course_run["steady_epoch"], 1), spread(default["steady_epoch"], 1),
                f"{default_ratio:.2f}×", "(context)", None)]
    part = ("whole text" if training["fraction"] == 1 else
            f"{training['fraction']:.1%} of the text")
    return [f"{heading('Training epoch')} (Leopardi char-LSTM)\n",
            f"{course_run['windows']:,} windows (maxlen {training['maxlen']}, step "
            f"{training['step']}, {part}), LSTM(128) → Dense(softmax), RMSprop 0.01, each recipe "
            f"in its own processes (course and lab alternate, {training['rounds']} round(s); the "
            "first epoch of each process is warm-up). Course: boolean "
            "one-hot `X`, `model.fit(X, y, batch_size=128)`. Lab: uint8 windows, one-hot "
            "inside the model, `tf.data` without autotune.\n", table(rows)]


def features_section(results):
    features = results["features"]
    rows = [row("messages per second: lab (nlp.pipe, needed components only)",
                spread(features["course_messages_per_second"], 0),
                spread(features["lab_messages_per_second"], 0),
                f"{features['speedup']['median']:.2f}×", f"≥ {TARGETS['feature speedup']}×",
                features["speedup"]["median"] >= TARGETS["feature speedup"]),
            row("messages per second: lab, cached rerun",
                spread(features["course_messages_per_second"], 0),
                spread(features["cached_messages_per_second"], 0),
                f"{features['cached_speedup']['median']:.0f}×",
                f"≥ {TARGETS['cached feature speedup']}×",
                features["cached_speedup"]["median"] >= TARGETS["cached feature speedup"]),
            row("identical vectors", "", "", "yes" if features["same_vectors"] else "no", "yes",
                features["same_vectors"])]
    return [f"{heading('Spam features')} (spaCy token vectors)\n",
            f"{features['messages']:,} messages, pipeline `{features['pipeline']}`. Course: "
            f"`nlp(sample, disable={features['course_disabled']})` per message (everything "
            "`token.vector` does not need is disabled, the fastest form of the course loop).\n",
            table(rows)]


def padded_ragged_section(results):
    padded = results["padded_ragged"]
    seconds = padded["epoch_seconds"]

    def ratio(variant):
        return seconds[f"{variant}_ragged"]["median"] / seconds[f"{variant}_padded"]["median"]

    rows = [{"measure": f"{variant}: seconds per epoch",
             "padded": spread(seconds[f"{variant}_padded"]),
             "ragged": spread(seconds[f"{variant}_ragged"]), "ratio": f"{ratio(variant):.2f}×"}
            for variant in ("lstm", "bi-lstm")]
    return [f"{heading('Padded vs ragged')} spam training\n",
            f"{padded['messages']:,} messages, {padded['epochs']} epochs (the first is "
            f"warm-up). Training messages: mean {padded['mean_tokens']:.1f} tokens, longest "
            f"{padded['max_tokens']}, {padded['truncated_share']:.1%} longer than maxlen "
            f"{padded['maxlen']}. Padded reads {padded['maxlen']} steps per message; ragged "
            "batches are bucketed by length and densified only to their own longest message. "
            "Both run the spam lab's own `fit`.\n",
            table(rows)]


def plot_scaling(generation_points, epoch_points, fits, fractions, path):
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, points, fit, xlabel, title in (
            (axes[0], generation_points, fits[0], "characters generated", "Generation time"),
            (axes[1], epoch_points, fits[1], "training windows ("
             + ", ".join(f"{fraction:.1%}" for fraction in fractions) + " of Leopardi)",
             "Training epoch time (lab, default batch)")):
        xs = np.array([x for x, _ in points], float)
        axis.plot(xs, [y for _, y in points], "o", label="measured (median)")
        grid = np.linspace(0, xs.max() * 1.05, 50)
        axis.plot(grid, fit["slope"] * grid + fit["intercept"], "--", label="least-squares line")
        axis.set_xlabel(xlabel)
        axis.set_ylabel("seconds")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    save_figure(figure, path)


def scaling_section(results, reports_dir):
    scaling, training = results["generation"]["scaling_seconds"], results["training"]["scaling"]
    generation_points = [(int(length), stats["median"]) for length, stats in scaling.items()]
    epoch_points = [(training[fraction]["windows"], training[fraction]["steady_epoch"]["median"])
                    for fraction in sorted(training)]
    fits = linearity(generation_points), linearity(epoch_points)
    plot_scaling(generation_points, epoch_points, fits, sorted(training),
                 reports_dir / "bench_scaling.png")
    rows = [{"measure": "generation: seconds for "
                        + ", ".join(str(x) for x, _ in generation_points) + " chars",
             "lab": ", ".join(f"{y:.2f}" for _, y in generation_points), "fit": fits[0]},
            {"measure": "training: seconds per epoch for "
                        + ", ".join(f"{x:,}" for x, _ in epoch_points) + " windows",
             "lab": ", ".join(f"{y:.1f}" for _, y in epoch_points), "fit": fits[1]}]
    for entry in rows:
        deviation = entry.pop("fit")["max_relative_deviation"]
        entry.update(ratio=f"max deviation from a line {deviation:.0%}",
                     target=f"linear (< {TARGETS['scaling deviation']:.0%})",
                     met="yes" if deviation < TARGETS["scaling deviation"] else "**no**")
    return [f"{heading('Scaling')}\n", table(rows), "![scaling](bench_scaling.png)\n"]


def end_to_end_section(results):
    if not results.get("end_to_end"):
        return []
    end = results["end_to_end"]
    return [f"{heading('End to end')}\n",
            f"- `make spam QUICK=1`: {end['spam']:.0f} s wall time",
            f"- `make poetry QUICK=1`: {end['poetry']:.0f} s wall time",
            "- Full runs (`make spam`, `make poetry`) are measured outside the bench; see "
            "the lab pages (labs/spam/README.md, labs/poetry/README.md), written from their "
            "results files.\n"]


def header_lines(results, smoke):
    machine = results["machine"]
    return ["# Benchmarks: the labs against the course's recipes\n",
            f"Run {results['date']} on {machine['cpus']} CPU cores ({machine['processor']}), "
            f"Python {machine['python']}, TensorFlow {machine['tensorflow']}, Keras "
            f"{machine['keras']}, spaCy {machine['spacy']}. Medians with min–max over "
            f"{results['repeats']} repeats; ratios are taken within this run."
            + (" **SMOKE RUN: tiny inputs, numbers meaningless.**" if smoke else "") + "\n"]


def write_report(results, reports_dir, smoke):
    """bench.md (one section per measure), bench.json, bench_scaling.png, index section."""
    lines = [*header_lines(results, smoke), *generation_section(results),
             *training_section(results), *features_section(results),
             *padded_ragged_section(results), *scaling_section(results, reports_dir),
             *end_to_end_section(results),
             *(gpt2.section(results["gpt2"], heading("GPT-2 base on this CPU")[3:])
               if results.get("gpt2") else [])]
    missed = [line for line in lines if "**no**" in line]
    lines += ["## Targets missed\n", "None." if not missed else
              "Each row marked **no** above missed its target; the numbers are as measured."]
    atomic_write_text(reports_dir / "bench.md", "\n".join(lines) + "\n")
    atomic_write_json(reports_dir / "bench.json", results)
    write_index_section("90-bench", "## Benchmarks\n\n[bench.md](bench.md) ([JSON](bench.json)): "
                        "the labs against the course's recipes, measured in one run.\n\n"
                        "![scaling](bench_scaling.png)\n", reports_dir)


def machine_description():
    return {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "spacy": spacy.__version__}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_benchmarks(results, args, workdir):
    """Every measurement, smoke-sized or full, into ``results``."""
    sizes = SMOKE if args.smoke else FULL
    generator, source = leopardi_generator(args.models_dir, workdir, args.smoke, log)
    results["generation"] = bench_generation(generator, source, sizes.repeats,
                                             sizes.generation_length, sizes.scaling_lengths, log)
    results["training"] = bench_training(sizes, log)
    results["features"] = bench_features(sizes.feature_messages, sizes.repeats, log)
    results["padded_ragged"] = bench_padded_ragged(sizes.spam_epochs, sizes.spam_messages, log)
    if sizes.end_to_end:
        results["end_to_end"] = bench_end_to_end(workdir, log)
    if not args.smoke:  # its own smoke test: python -m bench.gpt2 --smoke
        results["gpt2"] = gpt2.run(log=log)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny inputs and one repeat: checks the bench runs, measures nothing")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"),
                        help="where bench.md and bench.json go (default: %(default)s)")
    parser.add_argument("--models-dir", type=Path, default=Path("models"),
                        help="where the trained Leopardi model is (default: %(default)s)")
    args = parser.parse_args(argv)
    writable_reports_dir(parser, Path(args.reports_dir))
    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "smoke": args.smoke, "repeats": (SMOKE if args.smoke else FULL).repeats,
               "machine": machine_description()}
    with tempfile.TemporaryDirectory() as workdir:
        run_benchmarks(results, args, workdir)
    write_report(results, Path(args.reports_dir), args.smoke)
    log(f"wrote {Path(args.reports_dir) / 'bench.md'}")
    return results


if __name__ == "__main__":
    main()
