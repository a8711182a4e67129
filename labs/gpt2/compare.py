"""One table a student can read: every model of the course on the same held-out text.

    python -m labs.gpt2 compare --corpus nietzsche

It trains nothing: it reads the newest complete run of each lab that measured this corpus's
held-out last 10% in bits per character, and the sample each wrote from the same prompt (the
held-out window the poetry comparison samples from):

- the course's next-char LSTM and the best every-step model: ``make poetry-compare``;
- the word-level LSTM on words and on a learned byte-level BPE: ``make words``;
- GPT-2 zero-shot (``python -m labs.gpt2 evaluate``) and fine-tuned (``... finetune``).

A row whose run is missing says which command measures it. A row of a test preset (the
tests' tiny GPT-2) is labelled as a test: its numbers check the code, they are not results.
"""

import json
import math
import re

from labs import runs
from labs.gpt2.config import COMPARISON_TEMPERATURE
from labs.gpt2.lab import TEST_NOTE
from labs.poetry.data import CORPORA, held_out_parts
from labs.reports import atomic_write_json, atomic_write_text, device_line


def poetry_rows(corpus, reports_dir):
    """The course model's row and the best every-step model's, from the last comparison."""
    try:
        pointer = json.loads((reports_dir / "poetry" / corpus / "compare" / "latest.json")
                             .read_text(encoding="utf-8"))
        folder = reports_dir / "poetry" / corpus / "compare" / "runs" / pointer["run"]
        rows = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
    course, every_step = rows[0], min(rows[1:], key=lambda row: row["best_loss"])

    def row(result, label):
        return {"model": f"{label}: {result['configuration']}", "tokens": "characters",
                "parameters": result["parameters"], "training_seconds": result["seconds"][-1],
                "bits_per_character": result["best_loss"] / math.log(2),
                "sample": result["samples"].get(str(COMPARISON_TEMPERATURE)),
                "measured": f"make poetry-compare (run {pointer['run']})",
                "quick": pointer.get("quick", False), "test": False}
    return row(course, "course char-LSTM"), row(every_step, "best every-step model")


def word_row(corpus, tokens, reports_dir, quick):
    lab = f"words/{corpus}" + ("-subword" if tokens == "subword" else "")
    metrics = runs.latest_metrics(lab, reports_dir, lambda metrics: quick or not metrics["quick"])
    if metrics is None or "held_out_bits_per_char" not in metrics:
        return None
    return {"model": f"word LSTM ({tokens})", "tokens": metrics["tokenization"],
            "parameters": metrics["parameters"], "training_seconds": metrics["training_seconds"],
            "bits_per_character": metrics["held_out_bits_per_char"],
            "sample": metrics["comparison_sample"],
            "measured": f"make words (run {metrics['run']})",
            "quick": metrics["quick"], "test": False}


def gpt2_row(corpus, kind, reports_dir, quick):
    lab = f"gpt2/{corpus}/" + ("finetune" if kind == "fine-tuned" else "evaluate")

    def wanted(metrics):
        return (quick or not metrics["quick"]) and metrics.get("model", "fine-tuned") == kind
    real = runs.latest_metrics(lab, reports_dir, lambda m: wanted(m) and not m["test_preset"])
    metrics = real or runs.latest_metrics(lab, reports_dir, wanted)
    if metrics is None:
        return None
    command = "finetune" if kind == "fine-tuned" else "evaluate"
    return {"model": f"GPT-2 {kind} ({metrics['preset']})", "tokens": "GPT-2 byte-level BPE",
            "parameters": metrics["parameters"],
            "training_seconds": metrics.get("training_seconds", 0.0),
            "bits_per_character": metrics["held_out"]["bits_per_character"],
            "sample": metrics["sample"],
            "measured": f"python -m labs.gpt2 {command} (run {metrics['run']})",
            "quick": metrics["quick"], "test": metrics["test_preset"]}


MISSING = {"course char-LSTM": "`make poetry-compare`",
           "best every-step model": "`make poetry-compare`",
           "word LSTM (words)": "`make words`", "word LSTM (subword)": "`make words`",
           "GPT-2 zero-shot": "`make gpt2` (downloads GPT-2 once)",
           "GPT-2 fine-tuned": "`make gpt2` (downloads GPT-2 once)"}


def compare_command(args):
    parts = held_out_parts(args.corpus, args.datasets_dir, log=lambda *_: None)
    reports_dir = args.reports_dir
    course, every_step = poetry_rows(args.corpus, reports_dir)
    found = {"course char-LSTM": course, "best every-step model": every_step,
             "word LSTM (words)": word_row(args.corpus, "words", reports_dir, args.quick),
             "word LSTM (subword)": word_row(args.corpus, "subword", reports_dir, args.quick),
             "GPT-2 zero-shot": gpt2_row(args.corpus, "zero-shot", reports_dir, args.quick),
             "GPT-2 fine-tuned": gpt2_row(args.corpus, "fine-tuned", reports_dir, args.quick)}
    run = runs.start(f"gpt2/{args.corpus}/compare", "table", args.quick, reports_dir)
    table, samples = table_and_samples(found)
    lines = [f"# Every model on the same held-out text: {args.corpus}\n",
             f"- {run.describe()}", f"- {device_line()}", *reading_lines(args, parts), "",
             *table, "",
             f"## Samples from the same prompt (temperature {COMPARISON_TEMPERATURE})\n",
             "The prompt, a window of the held-out text:\n", "```text", parts.prompt, "```", "",
             *samples]
    if any(row and row["test"] for row in found.values()):
        lines.insert(1, TEST_NOTE + "\n")
    atomic_write_text(run.reports / "compare.md", "\n".join(lines) + "\n")
    atomic_write_json(run.reports / "compare.json", found)
    runs.write_results(run, *cells_of(table))
    runs.publish(run, f"52-gpt2-{args.corpus}-compare",
                 "\n".join([f"## Every model on the held-out text: {args.corpus}\n",
                            f"- {run.describe()}", "", *table,
                            f"\n[report and samples]({run.link}/compare.md)\n"]), args.keep)
    print("\n".join(table))
    print(f"wrote {run.reports / 'compare.md'}")
    return found


def table_and_samples(found):
    """The Markdown table (one row per model, measured or not) and the samples section."""
    table = ["| model | tokens | parameters | training here | held-out bits/char | measured by |",
             "|---|---|---:|---:|---:|---|"]
    samples = []
    for name, row in found.items():
        if row is None:
            table.append(f"| {name} | | | | not measured yet | {MISSING[name]} |")
            continue
        label = row["model"] + (" — TEST PRESET, not a result" if row["test"] else "") + (
            " — QUICK run" if row["quick"] else "")
        training = (f"{row['training_seconds']:.0f} s" if row["training_seconds"]
                    else "none (pretrained)")
        table.append(f"| {label} | {row['tokens']} | {row['parameters']:,} | {training} | "
                     f"{row['bits_per_character']:.3f} | {row['measured']} |")
        if row["sample"]:
            samples += [f"**{label}**\n", "```text", row["sample"].strip(), "```", ""]
    return table, samples


def cells_of(table):
    """(columns, rows) of the Markdown ``table`` lines, for ``runs.write_results``."""
    def split(line):
        return [cell.strip().replace("\\|", "|")
                for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    return split(table[0]), [split(line) for line in table[2:]]


def reading_lines(args, parts):
    """How to read the table: the text, the measure, what each model scores."""
    maxlen = CORPORA[args.corpus]["maxlen"]
    return [f"- the poetry lab's held-out last 10% of {args.corpus} ({len(parts.held_out):,} "
            "characters" + (", lowercased as the poetry lab reads it" if
                            args.corpus == "nietzsche" else "") + "); bits per character = "
            "the text's total negative log-likelihood, in bits, over the characters scored",
            "- what each scores: the character models every character after the first "
            f"{maxlen}, each from the {maxlen} before it; the word models every token after "
            "their first window "
            "(words: a `<unk>` is charged the cost of spelling its word with the training "
            "text's character frequencies, and the spaces between tokens are not predicted, "
            "which favours them slightly); GPT-2 every token, in windows of its context",
            "- training here: seconds of training on this machine (the character models' "
            "budget or early stop; GPT-2's pretraining is not counted)"]
