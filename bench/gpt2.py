"""What GPT-2 base costs on this CPU: GPT-2 base's shape with random weights, built offline.

    python -m bench.gpt2            # make bench-gpt2, ~3 minutes: reports/bench-gpt2.{md,json}
                                    # (make bench runs it too, as its last section)
    python -m bench.gpt2 --smoke    # the tiny size, in this process: checks that it runs

The time and memory of a computation do not depend on the values of the weights, so GPT-2
base's shape (``tiny-preset --size base --tokenizer gpt2``: 12 layers, 768 wide, context
1,024, GPT-2's real 50,257-token BPE) costs what ``gpt2_base_en`` costs, without its
download. Every command the lab runs is measured in a process of its own, so that its peak
resident memory is its own: building and saving the preset, loading it, generating with
each sampler (keras-hub's cached generation; the first call of each sampler compiles and is
timed apart), scoring at the full context of 1,024, and fine-tuning steps at the lab's
4 × 128 tokens (the first step compiles and is timed apart). What a ``make gpt2`` budget
buys is computed from those rates. TensorFlow uses its default threads (every core).
"""

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import writable_reports_dir

SAMPLERS = ("greedy", "temperature", "top-k", "top-p", "beam")
TASKS = ("build", "load", "generate", "score", "finetune")


def peak_megabytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def held_out_parts():
    from labs.poetry.data import held_out_parts as parts

    return parts("nietzsche", Path("datasets"), log=lambda *_: None)


def measure(task, folder, size, new_tokens, windows, steps):
    """One task on the preset in ``folder``; returns its measurements (this process)."""
    from labs.gpt2 import presets

    if task == "build":
        started = time.perf_counter()
        presets.build_test_preset(folder, "", "gpt2", size)
        seconds = time.perf_counter() - started
        files = sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())
        return {"seconds": seconds, "megabytes_on_disk": files / 2**20}
    started = time.perf_counter()
    model, _ = presets.load_folder(folder)
    loaded = {"load_seconds": time.perf_counter() - started, "parameters": model.count_params(),
              "context": int(model.backbone.max_sequence_length)}
    if task == "load":
        return loaded
    return {**loaded, **{"generate": generation_rates, "score": scoring_rate,
                         "finetune": step_times}[task](model, new_tokens, windows, steps)}


def generation_rates(model, new_tokens, windows, steps):
    """New tokens per second of each sampler, after a first call that compiles it."""
    from labs.gpt2.config import Generation
    from labs.gpt2.generate import Generator

    prompt = held_out_parts().prompt
    generator = Generator(model)
    prompt_ids = generator.encode(prompt)
    rates = {}
    for method in SAMPLERS:
        generator.use(Generation(method=method, max_new_tokens=new_tokens))
        started = time.perf_counter()
        generator.continue_ids(prompt_ids)
        first = time.perf_counter() - started
        started = time.perf_counter()
        ids = generator.continue_ids(prompt_ids)[0]
        seconds = time.perf_counter() - started
        rates[method] = {"first_call_seconds": first, "tokens": len(ids),
                         "tokens_per_second": len(ids) / seconds}
    return {"prompt_tokens": len(prompt_ids) + 1, "samplers": rates}


def scoring_rate(model, new_tokens, windows, steps):
    """Tokens scored per second in windows of the full context (stride: half of it), the
    first batch of windows (compilation) timed apart."""
    from labs.gpt2.config import Scoring
    from labs.gpt2.evaluate import Scorer, score_windows

    scorer = Scorer(model, Scoring())
    ids = [scorer.start, *scorer.encode(held_out_parts().held_out)]
    per_batch = scorer.batch_size
    started = time.perf_counter()
    scorer.log_probabilities(ids[:scorer.context])  # one window: compiles
    first = time.perf_counter() - started
    span = score_windows(len(ids), scorer.context, scorer.stride)[:windows]
    end = span[-1][1]
    started = time.perf_counter()
    scorer.log_probabilities(ids[:end])
    seconds = time.perf_counter() - started
    all_windows = len(score_windows(len(ids), scorer.context, scorer.stride))
    return {"first_call_seconds": first, "windows": len(span), "tokens_scored": end - 1,
            "seconds": seconds, "tokens_per_second": (end - 1) / seconds,
            "batch_of_windows": per_batch, "stride": scorer.stride,
            "held_out_tokens": len(ids) - 1, "held_out_windows": all_windows}


def step_times(model, new_tokens, windows, steps):
    """Seconds of each fine-tuning step at the lab's default shape (``FineTuning``)."""
    import keras

    from labs.gpt2.config import FineTuning
    from labs.gpt2.finetune import compile_for_training, sequences, training_dataset

    settings = FineTuning()
    parts = held_out_parts()
    tokenizer = model.preprocessor.tokenizer
    ids = [int(number) for number in tokenizer(parts.fit[:200_000])]
    rows = sequences(ids, settings.sequence_length)

    class Timer(keras.callbacks.Callback):
        seconds = []

        def on_train_batch_begin(self, batch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    model.preprocessor = None
    compile_for_training(model, settings.learning_rate)
    timer = Timer()
    model.fit(training_dataset(rows, settings.batch_size, settings.seed), steps_per_epoch=steps,
              epochs=1, verbose=0, callbacks=[timer])
    fit_characters = len(parts.fit)
    return {"first_step_seconds": timer.seconds[0], "step_seconds": timer.seconds[1:],
            "median_step_seconds": statistics.median(timer.seconds[1:]),
            "batch_size": settings.batch_size, "sequence_length": settings.sequence_length,
            "characters_per_token": 200_000 / len(ids),
            "fit_tokens": round(fit_characters * len(ids) / 200_000),
            "validation_characters": len(parts.validation), "eval_every": settings.eval_every}


def run_task(task, folder, size, new_tokens, windows, steps, in_process):
    """``measure`` in a fresh process (its peak memory its own), or here for a smoke run."""
    if in_process:
        return {**measure(task, folder, size, new_tokens, windows, steps),
                "peak_megabytes": peak_megabytes()}
    command = [sys.executable, "-m", "bench.gpt2", "--worker", task, "--folder", str(folder),
               "--size", size, "--new-tokens", str(new_tokens), "--windows", str(windows),
               "--steps", str(steps)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {completed.stderr.strip()[-800:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def timestamped(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(smoke=False, log=timestamped):
    """Every task, in order, on a preset built in a temporary folder."""
    size, new_tokens, windows, steps = ("tiny", 8, 2, 3) if smoke else ("base", 32, 4, 6)
    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "smoke": smoke, "size": size, "machine": machine(), "tasks": {}}
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir) / "preset"
        for task in TASKS:
            log(f"GPT-2 {size}: {task}")
            results["tasks"][task] = run_task(task, folder, size, new_tokens, windows, steps,
                                              in_process=smoke)
    results["budget"] = budget(results["tasks"])
    return results


def budget(tasks, minutes=10):
    """What ``make gpt2``'s default budget buys, from the measured rates."""
    tuning, scoring = tasks["finetune"], tasks["score"]
    steps = minutes * 60 / tuning["median_step_seconds"]
    tokens = steps * tuning["batch_size"] * tuning["sequence_length"]
    validation_tokens = tuning["validation_characters"] / tuning["characters_per_token"]
    # Windows of the full context, each scoring ``stride`` new tokens: the per-token rate
    # measured on the held-out text applies to the validation part too.
    validation_seconds = validation_tokens / scoring["tokens_per_second"]
    held_out_seconds = scoring["held_out_tokens"] / scoring["tokens_per_second"]
    evaluations = int(steps // tuning["eval_every"]) + 1
    return {"minutes": minutes, "steps": steps, "tokens": tokens,
            "passes_over_fit_part": tokens / tuning["fit_tokens"],
            "evaluations": evaluations, "validation_seconds": validation_seconds,
            "held_out_seconds": held_out_seconds,
            "wall_minutes": (minutes * 60 + evaluations * validation_seconds
                             + 3 * held_out_seconds) / 60}


def machine():
    import keras
    import keras_hub
    import tensorflow as tf

    processor = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os
    return {"cpus": os.cpu_count(), "processor": processor,
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "keras_hub": keras_hub.__version__}


def section(results, title="GPT-2 base on this CPU"):
    """The report's lines (Markdown)."""
    tasks, spent = results["tasks"], results["budget"]
    machine_line = results["machine"]
    parameters = tasks["load"]["parameters"]
    lines = [f"## {title}\n",
             f"GPT-2 {results['size']}'s shape ({parameters:,} parameters, random weights, "
             f"GPT-2's real BPE), {results['date']}, {machine_line['cpus']} cores "
             f"({machine_line['processor']}), TensorFlow {machine_line['tensorflow']}, Keras "
             f"{machine_line['keras']}, keras-hub {machine_line['keras_hub']}. Each command in "
             "a process of its own; single measurements (one run), not medians."
             + (" **SMOKE RUN: the tiny size, in one process; numbers meaningless.**"
                if results["smoke"] else "") + "\n",
             "| command | measure | value | peak memory |", "|---|---|---:|---:|"]

    def memory(task):
        return f"{tasks[task]['peak_megabytes']:,.0f} MB"

    lines.append(f"| tiny-preset --size {results['size']} --tokenizer gpt2 | build and save "
                 f"| {tasks['build']['seconds']:.1f} s ({tasks['build']['megabytes_on_disk']:,.0f}"
                 f" MB on disk) | {memory('build')} |")
    lines.append(f"| load (`--preset DIR`) | `from_preset` | {tasks['load']['load_seconds']:.1f} s "
                 f"| {memory('load')} |")
    generation = tasks["generate"]
    for method, rate in generation["samplers"].items():
        lines.append(f"| generate --method {method} | new tokens/s ({rate['tokens']} new, "
                     f"prompt {generation['prompt_tokens']}); first call (compiles) "
                     f"{rate['first_call_seconds']:.1f} s | {rate['tokens_per_second']:.1f} | "
                     + (memory("generate") if method == SAMPLERS[0] else "″") + " |")
    score = tasks["score"]
    lines.append(f"| evaluate | tokens scored/s, windows of {tasks['score']['context']:,} "
                 f"(stride {score['stride']}, {score['windows']} windows); first window "
                 f"{score['first_call_seconds']:.1f} s | {score['tokens_per_second']:.1f} | "
                 f"{memory('score')} |")
    tuning = tasks["finetune"]
    lines.append(f"| finetune | seconds per step at {tuning['batch_size']} × "
                 f"{tuning['sequence_length']} (median of {len(tuning['step_seconds'])} after the "
                 f"first) | {tuning['median_step_seconds']:.2f} | {memory('finetune')} |")
    lines.append(f"| finetune | the first step (compilation) | "
                 f"{tuning['first_step_seconds']:.1f} s | ″ |")
    lines += ["", f"**What `make gpt2`'s {spent['minutes']}-minute budget buys** (computed from "
              f"the rates above): about {spent['steps']:,.0f} steps, {spent['tokens']:,.0f} "
              f"training tokens, {spent['passes_over_fit_part']:.2f} passes over the fit part "
              f"({tuning['fit_tokens']:,} tokens); {spent['evaluations']} validation scores of "
              f"about {spent['validation_seconds']:.0f} s each (not counted in the budget), and "
              f"the held-out text ({score['held_out_tokens']:,} tokens, "
              f"{score['held_out_windows']} windows) scored three times (zero-shot, before, "
              f"after) in about {spent['held_out_seconds']:.0f} s each: about "
              f"{spent['wall_minutes']:.0f} minutes of wall time in all.\n"]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.gpt2",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="the tiny size in this process: checks the bench runs")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"),
                        help="where bench-gpt2.md and .json go (default: %(default)s)")
    parser.add_argument("--worker", choices=TASKS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", default="base", help=argparse.SUPPRESS)
    for name in ("--new-tokens", "--windows", "--steps"):
        parser.add_argument(name, type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import labs  # noqa: F401  (quiets TensorFlow's start-up lines)

    if args.worker:
        result = measure(args.worker, args.folder, args.size, args.new_tokens, args.windows,
                         args.steps)
        print(json.dumps({**result, "peak_megabytes": peak_megabytes()}))
        return result
    from labs.reports import atomic_write_json, atomic_write_text

    writable_reports_dir(parser, Path(args.reports_dir))
    results = run(args.smoke)
    reports = Path(args.reports_dir)
    reports.mkdir(parents=True, exist_ok=True)
    atomic_write_text(reports / "bench-gpt2.md", "\n".join(
        ["# Benchmark: GPT-2 base on a CPU\n", *section(results, "Measured")]) + "\n")
    atomic_write_json(reports / "bench-gpt2.json", results)
    print(f"wrote {reports / 'bench-gpt2.md'}")
    return results


if __name__ == "__main__":
    main()
