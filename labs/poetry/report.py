"""The poetry lab's report: history plot, samples after and during training, index section."""

import math

import keras
import numpy as np

from labs.poetry.config import QUICK
from labs.poetry.data import random_window
from labs.reports import atomic_write_json, atomic_write_text, device_line, plot_history

REPORT_TEMPERATURES = (0.2, 0.5, 1.0, 1.2)
PAGE_TEMPERATURES = (0.2, 0.5, 1.0)  # the lab page's three (make docs)
REPORT_LENGTH = 400
TOP_K = 5
TOP_P = 0.9


def plot_losses(metrics, path):
    """Training, validation and (every-step runs) held-out loss per epoch, in nats and in
    bits per character."""
    history = dict(metrics["history"])
    if "held_out_loss" not in history:  # the course's runs validate on the held-out text
        history["held_out_loss"] = history.pop("val_loss")
    for name in ("loss", "val_loss", "held_out_loss"):
        if name in history:
            history[name.replace("loss", "bits")] = [value / math.log(2)
                                                     for value in history[name]]
    plot_history(history, path,
                 [("loss", "loss (nats per character)"), ("bits", "bits per character")],
                 f"{metrics['corpus']}: {metrics['cell']} × {metrics['layers']}, "
                 f"{metrics['units']} units (epoch {metrics['best_epoch']}, chosen on the "
                 f"{metrics['chosen_on']})")


def sampling_methods():
    """(title, Generator.generate options) for every sample the report shows."""
    methods = [(f"temperature {temperature}", {"method": "temperature", "temperature": temperature})
               for temperature in REPORT_TEMPERATURES]
    return methods + [("greedy", {"method": "greedy"}),
                      (f"top-k (k = {TOP_K})", {"method": "top-k", "top_k": TOP_K}),
                      (f"top-p (p = {TOP_P})", {"method": "top-p", "top_p": TOP_P})]


def final_samples(metrics, generator, held_out_text, seed):
    """One held-out seed and a sample from it per method: (seed text, [(title, text)]);
    shorter for a quick run."""
    rng = np.random.RandomState(seed)
    seed_text = random_window(held_out_text, metrics["maxlen"], rng)
    length = QUICK["generated"] if metrics.get("quick") else REPORT_LENGTH
    return seed_text, [(title, generator.generate(seed_text, length, rng, **options))
                       for title, options in sampling_methods()]


def samples_markdown(metrics, training_samples, final, seed):
    """samples.md: one sample per method from one held-out seed, then the epochs' samples."""
    corpus, (seed_text, samples) = metrics["corpus"], final
    lines = [f"# Samples: {corpus}\n",
             f"Model: {model_text(metrics)}, epoch {metrics['best_epoch']} of "
             f"{metrics['epochs_run']} (chosen on the {metrics['chosen_on']}), held-out loss "
             f"{metrics['held_out_loss_nats']:.4f} nats "
             f"({metrics['held_out_bits_per_char']:.3f} bits/char). Seeds are windows of "
             f"the held-out text; random seed {seed}. Regenerate with "
             f"`python -m labs.poetry generate --corpus {corpus}`.\n", f"{device_line(keras)}\n",
             "## After training\n"]
    for title, text in samples:
        lines += [f"### {title}\n", f"Seed: `{seed_text!r}`\n", "```text", seed_text + text,
                  "```\n"]
    lines += generation_section(metrics["generation_comparison"], metrics["maxlen"])
    lines.append("## During training\n")
    for entry in training_samples:
        lines.append(f"### Epoch {entry['epoch']} (seed `{entry['seed_text']!r}`)\n")
        for temperature, text in entry["samples"].items():
            lines += [f"Temperature {temperature}:\n", "```text", entry["seed_text"] + text,
                      "```\n"]
    return "\n".join(lines)


def generation_section(comparison, maxlen):
    """The same seed, temperature 0.5, generated both ways, with the speed of each."""
    window, stateful = comparison["window"], comparison["stateful"]
    lines = ["## Window or stateful generation\n",
             f"The course re-reads the last {maxlen} characters for every new one; a stateful "
             "generator warms the LSTM's state on the seed once and then takes one step per "
             f"character: {stateful['chars_per_second']:,.0f} against "
             f"{window['chars_per_second']:,.0f} characters per second here "
             f"({stateful['chars_per_second'] / window['chars_per_second']:.1f}×, "
             f"{comparison['length']:,} characters each, one process). The first character is "
             "drawn from the same distribution; after that the stateful model reads a context "
             f"longer than the {maxlen} characters it was trained on, a state it never saw, "
             f"and may drift (`--generation stateful` in `generate`). {divergence(comparison)}\n",
             f"Seed: `{comparison['seed_text']!r}`, temperature 0.5.\n"]
    for name, result in (("Window (the course's)", window), ("Stateful", stateful)):
        lines += [f"### {name}\n", "```text", comparison["seed_text"] + result["text"], "```\n"]
    return lines


def divergence(comparison):
    """Where the two generations part, measured on this run's texts."""
    window, stateful = comparison["window"]["text"], comparison["stateful"]["text"]
    differing = [number for number, (a, b) in enumerate(zip(window, stateful)) if a != b]
    if not differing:
        return (f"Here the two texts are identical for all {len(window):,} characters: this "
                "model's predictions hardly depend on anything older than its window.")
    return (f"Here the two texts part after {differing[0]:,} characters, once the stateful "
            "model's context outgrows the window.")


def model_text(metrics):
    """The model in words: cell, layers, units, objective and input."""
    objective = metrics.get("objective", "next-char")
    if metrics["cell"] == "transformer":
        return (f"causal transformer, {metrics['layers']} block(s) of {metrics['units']} units "
                f"and {metrics['heads']} heads, every-step on sequences of "
                f"{metrics['seq_length']}")
    return (f"{metrics['cell']} × {metrics['layers']} ({metrics['units']} units), "
            + ("next-char windows (the course's)" if objective == "next-char" else
               f"every-step on sequences of {metrics['seq_length']}")
            + (f", character embedding {metrics['embedding_dim']}"
               if metrics.get("inputs") == "embedding" else ", one-hot input"))


def summary_lines(metrics):
    """The run in four lines: model, corpus, held-out loss at the chosen epoch, speed."""
    return [f"- Model: {model_text(metrics)}; seed {metrics['seed']}",
            f"- Corpus: {metrics['corpus_characters']:,} characters, vocabulary "
            f"{metrics['vocabulary_size']}, maxlen {metrics['maxlen']}, step {metrics['step']}"
            + (" — QUICK MODE" if metrics["quick"] else ""),
            f"- Held-out loss (next character after {metrics['maxlen']}) "
            f"{metrics['held_out_loss_nats']:.4f} nats = "
            f"{metrics['held_out_bits_per_char']:.3f} bits/char, perplexity "
            f"{metrics['held_out_perplexity']:.2f} (uniform guess: "
            f"{metrics['uniform_loss_nats']:.2f} nats), epoch {metrics['best_epoch']}, chosen on "
            f"the {metrics['chosen_on']}",
            f"- {metrics['median_seconds_per_epoch']:.1f} s per epoch; generation "
            f"{metrics['generation_chars_per_second']:,.0f} characters/s (window, as the "
            f"course), "
            f"{metrics['generation_comparison']['stateful']['chars_per_second']:,.0f} stateful"]


def results_table(metrics):
    """The page's row of this corpus (labs/poetry/README.md, through ``runs.write_results``)."""
    stateful = metrics["generation_comparison"]["stateful"]["chars_per_second"]
    columns = ["corpus", "model", "characters / vocabulary", "held-out loss (epoch of run)",
               "bits/char", "perplexity", "s per epoch", "generation, chars/s (stateful)"]
    row = [metrics["corpus"], model_text(metrics),
           f"{metrics['corpus_characters']:,} / {metrics['vocabulary_size']}",
           f"{metrics['held_out_loss_nats']:.3f} nats ({metrics['best_epoch']} of "
           f"{metrics['epochs_run']})", f"{metrics['held_out_bits_per_char']:.2f}",
           f"{metrics['held_out_perplexity']:.2f}", f"{metrics['median_seconds_per_epoch']:.0f}",
           f"{metrics['generation_chars_per_second']:,.0f} ({stateful:,.0f})"]
    return columns, [row], (f"{metrics['corpus']}: {metrics['held_out_bits_per_char']:.2f} "
                            "bits/char held out")


def write_report(metrics, training_samples, final, run):
    """history.png, metrics.json and samples.md in the run's folder (``final``: the
    ``final_samples``); returns the run's section of reports/index.md, with the samples at
    each temperature."""
    plot_losses(metrics, run.reports / "history.png")
    atomic_write_json(run.reports / "metrics.json", metrics)
    atomic_write_text(run.reports / "samples.md",
                      samples_markdown(metrics, training_samples, final, metrics["seed"]))
    corpus, folder = metrics["corpus"], run.link
    return "\n".join([f"## Poetry generator: {corpus}\n", f"- {run.describe()}",
                      f"- {device_line(keras)}",
                      *summary_lines(metrics),
                      f"- [samples]({folder}/samples.md), [metrics]({folder}/metrics.json)\n",
                      f"![{corpus} training history]({folder}/history.png)\n",
                      *index_samples(*final)])


def page_samples(seed_text, samples):
    """The lab page's samples (``runs.write_results``): the temperature samples, each from
    the same held-out seed, so that a student sees what the temperature changes."""
    shown = {f"temperature {temperature}" for temperature in PAGE_TEMPERATURES}
    return [{"label": f"{title}, from the held-out seed {seed_text!r}", "text": seed_text + text}
            for title, text in samples if title in shown]


def index_samples(seed_text, samples):
    """The temperature samples of the report, for the index: what the model writes."""
    lines = [f"Samples after training, seed `{seed_text!r}` (held-out text):\n"]
    for title, text in samples:
        if title.startswith("temperature"):
            lines += [f"**{title.capitalize()}**\n", "```text", seed_text + text, "```\n"]
    return lines
