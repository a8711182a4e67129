"""Benchmarks: the labs' pipelines against the course's recipes, in one run, on one machine.

    python -m bench.run            # `make bench`: ~15 minutes, writes reports/bench.{md,json}
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
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import labs  # noqa: F401  (quiets TensorFlow)
from labs import data
from labs.reports import atomic_write_json, atomic_write_text, markdown_table, write_index_section

REPEATS = 3
GENERATION_LENGTH = 400
SCALING_LENGTHS = (100, 400, 1600)
SCALING_FRACTIONS = (0.25, 0.5, 1.0)
TRAINING_EPOCHS = 3  # per process: the first is warm-up (tracing), the others are measured
TRAINING_ROUNDS = 2  # course, lab, course, lab: 4 measured epochs of each
SPAM_EPOCHS = 4  # padded vs ragged: the first is warm-up, three are measured
FEATURE_MESSAGES = 2000
TEMPERATURE = 0.5
SEED = 42


def summary(values):
    """Median and spread (min–max) of repeated measurements."""
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def spread(stats, digits=2):
    return f"{stats['median']:.{digits}f} ({stats['min']:.{digits}f}–{stats['max']:.{digits}f})"


def row(measure, course, lab, ratio, target, met, unit=""):
    return {"measure": measure, "course": course, "lab": lab, "ratio": ratio,
            "target": target, "met": "yes" if met else ("n/a" if met is None else "**no**"),
            "unit": unit}


# ---------------------------------------------------------------- 1 and 5a: generation
def course_generate(model, text, chars, char_indices, maxlen, length, temperature, seed):
    """The course / Keras-example loop: re-feed the window, one model.predict per character."""
    def sample(preds, temperature=1.0):
        preds = np.asarray(preds).astype("float64")
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = np.random.multinomial(1, preds, 1)
        return np.argmax(probas)

    np.random.seed(seed)
    sentence = text
    generated = ""
    for i in range(length):
        x_pred = np.zeros((1, maxlen, len(chars)))
        for t, char in enumerate(sentence):
            x_pred[0, t, char_indices[char]] = 1.0
        preds = model.predict(x_pred, verbose=0)[0]
        next_index = sample(preds, temperature)
        next_char = chars[next_index]
        sentence = sentence[1:] + next_char
        generated += next_char
    return generated


def leopardi_generator(models_dir, workdir, smoke, log):
    """The trained Leopardi model if `make poetry` left one, else a quick one for the bench."""
    from labs import poetry

    try:
        if smoke:
            raise poetry.LabError("smoke run: train a tiny model")
        return poetry.load_generator("leopardi", models_dir), "models/poetry_leopardi.keras"
    except poetry.LabError:
        log("training a quick Leopardi model for the generation benchmark")
        poetry.main(["train", "--corpus", "leopardi", "--quick", "--models-dir", str(workdir),
                     "--reports-dir", str(Path(workdir) / "reports" / "poetry")])
        return poetry.load_generator("leopardi", workdir), "a quick model (no trained model found)"


def bench_generation(generator, source, repeats, length, lengths, log):
    from labs.models import build_char_model

    metadata = generator.metadata
    chars, maxlen = metadata["vocabulary"], metadata["maxlen"]
    char_indices = {char: index for index, char in enumerate(chars)}
    # The course's network takes one-hot float input; same weights, course input layer.
    course_model = build_char_model(len(chars), maxlen, metadata["cell"], metadata["layers"],
                                    metadata["units"], one_hot_inside=False)
    course_model.set_weights(generator.model.get_weights())
    text = "".join(poetry_corpus())
    seed_text = text[1000:1000 + maxlen]
    course_seconds, lab_seconds, same = [], [], []
    for repeat in range(repeats):
        started = time.perf_counter()
        course_text = course_generate(course_model, seed_text, chars, char_indices, maxlen,
                                      length, TEMPERATURE, SEED + repeat)
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
    ratio = summary(course / lab for course, lab in zip(course_seconds, lab_seconds))
    scaling = {}
    for count in lengths:
        seconds = []
        for repeat in range(repeats):
            started = time.perf_counter()
            generator.generate(seed_text, count, np.random.RandomState(repeat), temperature=TEMPERATURE)
            seconds.append(time.perf_counter() - started)
        scaling[count] = summary(seconds)
    return {"model": source, "length": length, "temperature": TEMPERATURE,
            "course_chars_per_second": course_rate, "lab_chars_per_second": lab_rate,
            "speedup": ratio, "same_text": same, "scaling_seconds": scaling}


def poetry_corpus():
    from labs import poetry

    return poetry.load_corpus("leopardi", log=lambda message: None)


# ---------------------------------------------------------------- 2 and 5b: training epochs
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
    combined["steady_epoch"] = summary(value for run in runs for value in run["steady_epoch"]["runs"])
    combined["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    combined["rss_after_imports_mb"] = max(run["rss_after_imports_mb"] for run in runs)
    return combined


def bench_training(log, epochs=TRAINING_EPOCHS, rounds=TRAINING_ROUNDS, fraction=1.0,
                   scaling_fractions=SCALING_FRACTIONS, maxlen=40, step=1, default_batch=256):
    """Course vs lab at batch 128 (alternating processes, so that a slow spell of the
    machine hits both), the lab at its default batch, and the lab on parts of the corpus."""
    def worker(recipe, batch_size, part):
        return run_worker(recipe, batch_size, epochs, part, maxlen, step, log)

    course_runs, lab_runs = [], []
    for _ in range(rounds):
        course_runs.append(worker("course", 128, fraction))
        lab_runs.append(worker("lab", 128, fraction))
    lab_default = worker("lab", default_batch, fraction)
    scaling = {fraction: lab_default}
    for part in scaling_fractions:
        if part != fraction:
            scaling[part] = worker("lab", default_batch, part)
    return {"course": combine(course_runs), "lab": combine(lab_runs),
            "lab_default_batch": lab_default, "default_batch_size": default_batch,
            "scaling": scaling}


# ---------------------------------------------------------------- 3: spam features
def bench_features(messages, repeats, log):
    from labs import embeddings

    texts = list(data.load_sms(data.locate("sms_spam.tsv", log=lambda m: None))["text"][:messages])
    name = embeddings.choose_pipeline()
    import spacy

    full = spacy.load(name)
    keep = "tok2vec" if not full.vocab.vectors_length else None
    disable = [pipe for pipe in full.pipe_names if pipe != keep]
    lab_nlp = embeddings.load_pipeline(name)
    course_seconds, lab_seconds, cached_seconds = [], [], []
    with tempfile.TemporaryDirectory() as cache_dir:
        for repeat in range(repeats):
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
        for repeat in range(repeats):
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
              "speedup": summary(c / l for c, l in zip(course_seconds, lab_seconds)),
              "cached_speedup": summary(c / l for c, l in zip(course_seconds, cached_seconds)),
              "same_vectors": same}
    log(f"features: course {spread(result['course_messages_per_second'], 0)} msg/s, lab "
        f"{spread(result['lab_messages_per_second'], 0)}, cached "
        f"{spread(result['cached_messages_per_second'], 0)}")
    return result


# ---------------------------------------------------------------- 4: padded vs ragged
def bench_padded_ragged(epochs, messages, log):
    import keras

    from labs import embeddings, spam
    from labs.models import EpochTimer, build_spam_model

    frame = data.load_sms(data.locate("sms_spam.tsv", log=lambda m: None))
    if messages:
        frame = frame.iloc[:messages]
    labels = (frame["label"] == "spam").to_numpy().astype(np.float32)
    features = embeddings.cached_token_vectors(frame["text"], progress=False, log=lambda m: None)
    train, test = spam.split_indices(labels, frame["text"].to_numpy(), "grouped", SEED)
    results = {}
    for variant in ("lstm", "bi-lstm"):
        for inputs in ("padded", "ragged"):
            keras.utils.set_random_seed(SEED)
            model = build_spam_model(variant, inputs, features.vector_size)
            timer = EpochTimer()
            if inputs == "padded":
                x = embeddings.pad(features.sequences(train), spam.MAXLEN, features.vector_size)
                xt = embeddings.pad(features.sequences(test), spam.MAXLEN, features.vector_size)
                model.fit(x, labels[train], batch_size=spam.BATCH_SIZE, epochs=epochs,
                          validation_data=(xt, labels[test]), callbacks=[timer], verbose=0)
            else:
                model.fit(spam.ragged_dataset(features, train, labels[train], spam.BATCH_SIZE, SEED),
                          validation_data=spam.ragged_dataset(features, test, labels[test],
                                                              spam.BATCH_SIZE),
                          epochs=epochs, callbacks=[timer], shuffle=False, verbose=0)
            results[f"{variant}_{inputs}"] = summary(timer.seconds[1:] or timer.seconds)
            log(f"spam {variant} {inputs}: {spread(results[f'{variant}_{inputs}'])} s/epoch")
    lengths = features.lengths[train]
    return {"epoch_seconds": results, "mean_tokens": float(lengths.mean()),
            "max_tokens": int(lengths.max()), "truncated_share": float(np.mean(lengths > spam.MAXLEN))}


# ---------------------------------------------------------------- 6: end to end
def bench_end_to_end(workdir, log):
    results = {}
    for target in ("spam", "poetry"):
        arguments = (f"--reports-dir {workdir}/reports/{target} --models-dir {workdir}/models")
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


def write_report(results, reports_dir, smoke):
    import pandas as pd

    from labs.reports import pyplot, save_figure

    machine = results["machine"]
    lines = ["# Benchmarks: the labs against the course's recipes\n",
             f"Run {results['date']} on {machine['cpus']} CPU cores ({machine['processor']}), "
             f"Python {machine['python']}, TensorFlow {machine['tensorflow']}, Keras "
             f"{machine['keras']}, spaCy {machine['spacy']}. Medians with min–max over "
             f"{results['repeats']} repeats; ratios are taken within this run."
             + (" **SMOKE RUN: tiny inputs, numbers meaningless.**" if smoke else "") + "\n"]

    generation = results["generation"]
    rows = [row("characters per second (400 chars, T = 0.5)",
                spread(generation["course_chars_per_second"], 0),
                spread(generation["lab_chars_per_second"], 0),
                f"{generation['speedup']['median']:.0f}×", "≥ 50×",
                generation["speedup"]["median"] >= 50),
            row("same text for the same random seed", "", "",
                f"{sum(generation['same_text'])}/{len(generation['same_text'])}", "all",
                all(generation["same_text"]))]
    lines += ["## 1. Generation (Leopardi model)\n",
              f"Model: {generation['model']}. Course: re-feed the window, one `model.predict` "
              "per character, `np.random.multinomial` sampling. Lab: the same window procedure "
              "with the weights in NumPy (`labs.charmodel`), the same sampler and seed.\n",
              markdown_table(pd.DataFrame(rows).drop(columns="unit"))]

    training = results["training"]
    course, lab, default = training["course"], training["lab"], training["lab_default_batch"]
    time_ratio = lab["steady_epoch"]["median"] / course["steady_epoch"]["median"]
    memory_ratio = lab["peak_rss_mb"] / course["peak_rss_mb"]
    course_data = course["peak_rss_mb"] - course["rss_after_imports_mb"]
    lab_data = lab["peak_rss_mb"] - lab["rss_after_imports_mb"]
    data_ratio = lab_data / course_data if course_data > 0 else float("nan")
    rows = [row("seconds per epoch, batch 128 (epochs 2+)", spread(course["steady_epoch"], 1),
                spread(lab["steady_epoch"], 1), f"{time_ratio:.2f}×", "≤ 0.8×", time_ratio <= 0.8),
            row("peak resident memory, MB", f"{course['peak_rss_mb']:.0f}", f"{lab['peak_rss_mb']:.0f}",
                f"{memory_ratio:.2f}×", "≤ 0.5×", memory_ratio <= 0.5),
            row("memory above the TensorFlow import, MB",
                f"{course['peak_rss_mb'] - course['rss_after_imports_mb']:.0f}",
                f"{lab['peak_rss_mb'] - lab['rss_after_imports_mb']:.0f}", f"{data_ratio:.2f}×",
                "(context)", None),
            row(f"lab at its default batch {training['default_batch_size']}: seconds per epoch",
                spread(course["steady_epoch"], 1), spread(default["steady_epoch"], 1),
                f"{default['steady_epoch']['median'] / course['steady_epoch']['median']:.2f}×",
                "(context)", None)]
    lines += ["## 2. Training epoch (Leopardi char-LSTM)\n",
              f"{course['windows']:,} windows (maxlen 40, step 1, whole text), LSTM(128) → "
              "Dense(softmax), RMSprop 0.01, each recipe in its own processes (course and lab "
              "alternate, two rounds; the first epoch of each process is warm-up). Course: boolean "
              "one-hot `X`, `model.fit(X, y, batch_size=128)`. Lab: uint8 windows, one-hot "
              "inside the model, `tf.data` without autotune.\n",
              markdown_table(pd.DataFrame(rows).drop(columns="unit"))]

    features = results["features"]
    rows = [row("messages per second: lab (nlp.pipe, needed components only)",
                spread(features["course_messages_per_second"], 0),
                spread(features["lab_messages_per_second"], 0),
                f"{features['speedup']['median']:.2f}×", "≥ 2×", features["speedup"]["median"] >= 2),
            row("messages per second: lab, cached rerun",
                spread(features["course_messages_per_second"], 0),
                spread(features["cached_messages_per_second"], 0),
                f"{features['cached_speedup']['median']:.0f}×", "≥ 50×",
                features["cached_speedup"]["median"] >= 50),
            row("identical vectors", "", "", "yes" if features["same_vectors"] else "no", "yes",
                features["same_vectors"])]
    lines += ["## 3. Spam features (spaCy token vectors)\n",
              f"{features['messages']:,} messages, pipeline `{features['pipeline']}`. Course: "
              f"`nlp(sample, disable={features['course_disabled']})` per message (everything "
              "`token.vector` does not need is disabled, the fastest form of the course loop).\n",
              markdown_table(pd.DataFrame(rows).drop(columns="unit"))]

    padded = results["padded_ragged"]
    seconds = padded["epoch_seconds"]
    rows = [row(f"{variant}: seconds per epoch (padded → ragged)", spread(seconds[f"{variant}_padded"]),
                spread(seconds[f"{variant}_ragged"]),
                f"{seconds[f'{variant}_ragged']['median'] / seconds[f'{variant}_padded']['median']:.2f}×",
                "(context)", None) for variant in ("lstm", "bi-lstm")]
    lines += ["## 4. Padded vs ragged spam training\n",
              f"Training messages: mean {padded['mean_tokens']:.1f} tokens, longest "
              f"{padded['max_tokens']}, {padded['truncated_share']:.1%} longer than maxlen 50. "
              "Padded reads 50 steps per message; ragged batches are bucketed by length and "
              "densified only to their own longest message. Columns: padded, ragged, ratio.\n",
              markdown_table(pd.DataFrame(rows).drop(columns=["unit"]).rename(
                  columns={"course": "padded", "lab": "ragged"}))]

    scaling = generation["scaling_seconds"]
    generation_points = [(int(length), stats["median"]) for length, stats in scaling.items()]
    epoch_points = [(training["scaling"][fraction]["windows"],
                     training["scaling"][fraction]["steady_epoch"]["median"])
                    for fraction in sorted(training["scaling"])]
    generation_fit, epoch_fit = linearity(generation_points), linearity(epoch_points)
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for axis, points, fit, xlabel, title in (
            (left, generation_points, generation_fit, "characters generated", "Generation time"),
            (right, epoch_points, epoch_fit, "training windows (25%, 50%, 100% of Leopardi)",
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
    save_figure(figure, reports_dir / "bench_scaling.png")
    rows = [row("generation: seconds for " + ", ".join(str(x) for x, _ in generation_points) + " chars",
                "", ", ".join(f"{y:.2f}" for _, y in generation_points),
                f"max deviation from a line {generation_fit['max_relative_deviation']:.0%}",
                "linear", generation_fit["max_relative_deviation"] < 0.15),
            row("training: seconds per epoch for " + ", ".join(f"{x:,}" for x, _ in epoch_points)
                + " windows", "", ", ".join(f"{y:.1f}" for _, y in epoch_points),
                f"max deviation from a line {epoch_fit['max_relative_deviation']:.0%}",
                "linear", epoch_fit["max_relative_deviation"] < 0.15)]
    lines += ["## 5. Scaling\n", markdown_table(pd.DataFrame(rows).drop(columns=["unit", "course"])),
              "![scaling](bench_scaling.png)\n"]

    if results.get("end_to_end"):
        end = results["end_to_end"]
        lines += ["## 6. End to end\n",
                  f"- `make spam QUICK=1`: {end['spam']:.0f} s wall time",
                  f"- `make poetry QUICK=1`: {end['poetry']:.0f} s wall time",
                  "- Full runs (`make spam`, `make poetry`) are measured outside the bench; see "
                  "the README for the dated figures.\n"]
    missed = [line for line in lines if "**no**" in line]
    lines.append("## Targets missed\n")
    lines.append("None." if not missed else
                 "Each row marked **no** above missed its target; the numbers are as measured.")
    atomic_write_text(reports_dir / "bench.md", "\n".join(lines) + "\n")
    atomic_write_json(reports_dir / "bench.json", results)
    write_index_section("90-bench", "## Benchmarks\n\n[bench.md](bench.md) ([JSON](bench.json)): "
                        "the labs against the course's recipes, measured in one run.\n\n"
                        "![scaling](bench_scaling.png)\n", reports_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny inputs and one repeat: checks the bench runs, measures nothing")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"),
                        help="where bench.md and bench.json go (default: %(default)s)")
    parser.add_argument("--models-dir", type=Path, default=Path("models"),
                        help="where the trained Leopardi model is (default: %(default)s)")
    args = parser.parse_args(argv)
    import keras
    import spacy
    import tensorflow as tf

    from labs import poetry

    def log(message):
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    repeats = 1 if args.smoke else REPEATS
    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "smoke": args.smoke, "repeats": repeats,
               "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                           "python": platform.python_version(), "tensorflow": tf.__version__,
                           "keras": keras.__version__, "spacy": spacy.__version__}}
    with tempfile.TemporaryDirectory() as workdir:
        generator, source = leopardi_generator(args.models_dir, workdir, args.smoke, log)
        results["generation"] = bench_generation(
            generator, source, repeats, 20 if args.smoke else GENERATION_LENGTH,
            (10, 20, 40) if args.smoke else SCALING_LENGTHS, log)
        if args.smoke:  # 1% of Leopardi, short windows: seconds, not minutes
            results["training"] = bench_training(log, epochs=2, rounds=1, fraction=0.01,
                                                 scaling_fractions=(0.005,), maxlen=10, step=5)
        else:
            results["training"] = bench_training(log, default_batch=poetry.BATCH_SIZE)
        results["features"] = bench_features(50 if args.smoke else FEATURE_MESSAGES, repeats, log)
        results["padded_ragged"] = bench_padded_ragged(2 if args.smoke else SPAM_EPOCHS,
                                                       300 if args.smoke else None, log)
        if not args.smoke:
            results["end_to_end"] = bench_end_to_end(workdir, log)
    write_report(results, Path(args.reports_dir), args.smoke)
    log(f"wrote {Path(args.reports_dir) / 'bench.md'}")
    return results


if __name__ == "__main__":
    main()
