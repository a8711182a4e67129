"""The GPT-2 lab's runs: ``evaluate`` and ``finetune``, each a run with a report.

    reports/gpt2/<corpus>/evaluate/runs/<run id>/   report.md, metrics.json
    reports/gpt2/<corpus>/finetune/runs/<run id>/   report.md, metrics.json, evaluations.csv
    models/gpt2/<corpus>/finetune/runs/<run id>/preset/   the best checkpoint (--run loads it)

A run of a test preset (``presets.build_test_preset``) says so in its id, its report and
its metrics (``"test_preset": true``); ``compare`` labels it as a test, never a result.
"""

import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras
import pandas as pd

from labs import runs
from labs.cli import REPORTS_DIR, LabError, note_progress
from labs.runs import BACKUP
from labs.gpt2 import presets
from labs.gpt2.config import COMPARISON_TEMPERATURE, COMPARISON_TOKENS, Generation
from labs.gpt2.evaluate import Scorer
from labs.gpt2.finetune import finetune, training_rows
from labs.gpt2.generate import Generator
from labs.poetry.data import held_out_parts
from labs.reports import atomic_write_json, atomic_write_text, device_line, markdown_table

TEST_NOTE = ("**TEST PRESET**: a randomly initialised GPT-2 built for the tests; its "
             "numbers check the code, they are not results")


def load_model(args):
    """The model a command works with: ``--run`` (a fine-tuned run) or ``--preset``."""
    if getattr(args, "run", None):
        lab = f"gpt2/{args.corpus}/finetune"
        folder, run_id, _ = runs.find(lab, args.models_dir, args.run,
                                      f"python -m labs.gpt2 finetune --corpus {args.corpus}")
        status = runs.read_status(Path(getattr(args, "reports_dir", REPORTS_DIR)) / lab / "runs"
                                  / run_id).get("status", "complete")
        if status != "complete":
            print(f"run {run_id} did not finish ({status}): this is its best checkpoint so far",
                  file=sys.stderr)
        if not (folder / "preset" / "config.json").is_file():
            raise LabError(f"run {run_id} has no checkpoint yet ({folder / 'preset'}); pick "
                           "another run or fine-tune again")
        model, source = presets.load_folder(folder / "preset", f"fine-tuned run {run_id}")
        return model, {**source, "fine_tuned_run": run_id}
    model, source = presets.load(args.preset, args.models_dir)
    return model, {**source, "fine_tuned_run": None}


def text_parts(args):
    parts = held_out_parts(args.corpus, args.datasets_dir, log=lambda *_: None)
    if args.quick:
        limit = args.quick_characters
        parts = replace(parts, fit=parts.fit[:20 * limit], validation=parts.validation[:limit],
                        held_out=parts.held_out[:limit])
    return parts


def comparison_sample(model, prompt, seed):
    """The prompt's continuation that ``compare`` shows: temperature sampling, 50 tokens."""
    generator = Generator(model, Generation(method="temperature",
                                            temperature=COMPARISON_TEMPERATURE,
                                            max_new_tokens=COMPARISON_TOKENS, seed=seed))
    return prompt + generator.generate(prompt)[0][0]


def header(run, source, model, parts, args, kind=None):
    kind = kind or (f"fine-tuned (run {source['fine_tuned_run']})" if source["fine_tuned_run"]
                    else "zero-shot")
    lines = [f"- {run.describe()}", f"- {device_line(keras)}",
             f"- model: {source['preset']}, {model.count_params():,} parameters, {kind}; "
             f"context {model.backbone.max_sequence_length} tokens",
             f"- text: {args.corpus}, the poetry lab's held-out last 10% "
             f"({len(parts.held_out):,} characters" + (", QUICK: its beginning only"
                                                       if args.quick else "") + ")"]
    return ([TEST_NOTE + "\n"] if source["test"] else []) + lines


def publish(run, args, name, title, lines, keep):
    runs.publish(run, f"5{name}-gpt2-{args.corpus}",
                 "\n".join([f"## GPT-2: {title}, {args.corpus}\n", *lines,
                            f"\n[report]({run.link}/report.md)\n"]), keep)


# ---------------------------------------------------------------- evaluate
def evaluate_command(args):
    """Model → held-out bits per character (and a sample from the comparison prompt)."""
    model, source = load_model(args)
    parts = text_parts(args)
    kind = "finetuned" if source["fine_tuned_run"] else "zero-shot"
    scorer = Scorer(model, args.scoring)
    run = runs.start(f"gpt2/{args.corpus}/evaluate", kind + ("-test" if source["test"] else ""),
                     args.quick, args.reports_dir)
    started = time.perf_counter()
    score = scorer.bits_per_character(parts.held_out)
    seconds = time.perf_counter() - started
    metrics = {"run": run.run_id, "corpus": args.corpus, "model": kind, "preset": source["preset"],
               "fine_tuned_run": source["fine_tuned_run"], "test_preset": source["test"],
               "parameters": model.count_params(), "held_out": score,
               "scoring_seconds": seconds, "prompt": parts.prompt,
               "sample": comparison_sample(model, parts.prompt, args.generation.seed),
               "sample_temperature": COMPARISON_TEMPERATURE, "quick": args.quick}
    atomic_write_json(run.reports / "metrics.json", metrics)
    lines = header(run, source, model, parts, args) + [
        f"- held-out: **{score['bits_per_character']:.3f} bits per character** "
        f"({score['tokens']:,} tokens, {score['characters_per_token']:.2f} characters each; "
        f"{score['nats_per_token']:.3f} nats per token, perplexity {score['perplexity']:.1f}; "
        f"windows of {score['context']} tokens, stride {score['stride']}; {seconds:.0f} s)"]
    sample = [f"\nFrom the comparison prompt at temperature {COMPARISON_TEMPERATURE}:\n",
              "```text", metrics["sample"], "```"]
    atomic_write_text(run.reports / "report.md",
                      "\n".join([f"# GPT-2 on {args.corpus}: {kind}\n", *lines, *sample]) + "\n")
    publish(run, args, "0", f"{kind} held-out bits per character", lines, args.keep)
    print(f"held-out {score['bits_per_character']:.3f} bits/char on {args.corpus} "
          f"({kind}); wrote {run.reports / 'report.md'}")
    return metrics


# ---------------------------------------------------------------- finetune
def finetune_command(args):
    """Model → fine-tuned on the fit part for the budget, checkpoint chosen on the
    validation part → held-out bits per character before and after. ``--resume``
    continues the last interrupted run from its last checkpoint (``finetune`` module)."""
    resumed = getattr(args, "resumed", None)  # set by resume_run, before the settings
    keras.utils.set_random_seed(args.seed)  # before the model exists: its dropout seeds too
    model, source = load_model(args)
    parts = text_parts(args)
    settings = args.finetuning
    scorer = Scorer(model, args.scoring)
    training_rows(scorer.encode(parts.fit), settings, int(model.backbone.max_sequence_length))
    description = f"{settings.budget_minutes:g}min" + ("-test" if source["test"] else "")
    run = resumed or runs.start(f"gpt2/{args.corpus}/finetune", description, args.quick,
                                args.reports_dir, args.models_dir)
    if not resumed:
        atomic_write_json(run.models / "options.json",
                          {name: getattr(args, name) for name in RESUMED_OPTIONS})
    before = saved_before(run) or scorer.bits_per_character(parts.held_out)
    atomic_write_json(run.models / "before.json", before)
    print(f"held-out before fine-tuning: {before['bits_per_character']:.3f} bits/char",
          file=sys.stderr)
    note_progress("during fine-tuning", "the best checkpoint so far is kept in "
                  f"{run.models / 'preset'} (generate --run {run.run_id} loads it); continue "
                  f"with `python -m labs.gpt2 finetune --corpus {args.corpus} --resume`")
    try:
        history, sequence_count = finetune(model, parts.fit, parts.validation, settings,
                                           run.models / "preset", scorer, run.models / BACKUP)
    except LabError as error:  # a damaged backup: this run cannot continue
        runs.abandon(run, str(error))
    metrics = finetune_metrics(run, args, source, model, parts, history, sequence_count, before)
    lines = write_finetune_report(run, args, source, model, parts, metrics)
    publish(run, args, "1", "fine-tuned", lines, args.keep)
    shutil.rmtree(run.models / BACKUP, ignore_errors=True)  # complete: nothing to resume
    print(f"held-out {before['bits_per_character']:.3f} → "
          f"{metrics['held_out']['bits_per_character']:.3f} bits/char; wrote "
          f"{run.reports / 'report.md'}")
    return metrics


def finetune_metrics(run, args, source, model, parts, history, sequence_count, before):
    """The best checkpoint scored on the held-out text, and what the run did (metrics.json)."""
    settings = args.finetuning
    best, _ = presets.load_folder(run.models / "preset", f"run {run.run_id}")
    after = Scorer(best, args.scoring).bits_per_character(parts.held_out)
    chosen = min(history, key=lambda row: row["validation_bits_per_character"])
    metrics = {"run": run.run_id, "corpus": args.corpus, "preset": source["preset"],
               "test_preset": source["test"],
               "parameters": model.count_params(), "settings": settings.__dict__,
               "sequences": sequence_count, "steps": history[-1]["step"],
               "training_seconds": history[-1]["training_seconds"],
               "chosen_step": chosen["step"], "evaluations": history,
               "held_out_before": before, "held_out": after, "prompt": parts.prompt,
               "sample": comparison_sample(best, parts.prompt, settings.seed),
               "sample_temperature": COMPARISON_TEMPERATURE, "quick": args.quick,
               "resumed": bool(getattr(args, "resumed", None))}
    atomic_write_json(run.reports / "metrics.json", metrics)
    return metrics


# What a fine-tuning run is started with, saved in its models folder: --resume continues
# with these, and refuses a command line that would change one of them.
RESUMED_OPTIONS = ("preset", "quick", "context", "stride", "seed", "budget_minutes",
                   "max_steps", "eval_every", "sequence_length", "batch_size", "learning_rate")


def resume_run(args):
    """``finetune --resume``: the last interrupted run, running again, as ``args.resumed``,
    and ``args`` given the options it started with."""
    def check(run):  # before the run is touched: a refused command changes nothing
        runs.with_saved_options(args, run, run.models / "options.json", RESUMED_OPTIONS,
                                "fine-tune a new run without --resume")

    args.resumed = runs.resume(f"gpt2/{args.corpus}/finetune", args.reports_dir,
                               args.models_dir, "checkpoint", check)
    return args


def saved_before(run):
    """The held-out score before fine-tuning, as a resumed run measured it at its start."""
    try:
        before = json.loads((run.models / "before.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return before if isinstance(before, dict) and "bits_per_character" in before else None


def write_finetune_report(run, args, source, model, parts, metrics):
    """report.md and evaluations.csv of a fine-tuning run; returns its summary lines."""
    settings, history, chosen = args.finetuning, metrics["evaluations"], metrics["chosen_step"]
    before, after = metrics["held_out_before"], metrics["held_out"]
    table = pd.DataFrame(history).rename(columns={
        "training_seconds": "training s", "training_loss": "training loss (nats/token)",
        "validation_bits_per_character": "validation bits/char", "saved": "best so far"})
    table.to_csv(run.reports / "evaluations.csv", index=False)
    lines = header(run, source, model, parts, args, "the starting point") + [
        f"- fine-tuned on the first 85% ({metrics['sequences']:,} sequences of "
        f"{settings.sequence_length} tokens), batch {settings.batch_size}, AdamW "
        f"{settings.learning_rate:g}: {metrics['steps']} steps in "
        f"{metrics['training_seconds']:.0f} s of training; the checkpoint of step "
        f"{chosen} has the best validation score (the next 5%)",
        f"- held-out: **{before['bits_per_character']:.3f} → {after['bits_per_character']:.3f} "
        f"bits per character** (perplexity per token {before['perplexity']:.1f} → "
        f"{after['perplexity']:.1f})"]
    report = [f"# GPT-2 fine-tuned on {args.corpus}\n", *lines, "",
              markdown_table(table), "",
              f"From the comparison prompt at temperature {COMPARISON_TEMPERATURE}:\n",
              "```text", metrics["sample"], "```",
              f"\nGenerate with it: `python -m labs.gpt2 generate --corpus {args.corpus} "
              f"--run {run.run_id} --prompt \"...\"`"]
    atomic_write_text(run.reports / "report.md", "\n".join(report) + "\n")
    return lines


def check_budget(minutes):
    if not 0 < minutes < 24 * 60:
        raise LabError(f"--budget-minutes must be above 0 and below a day, got {minutes}")
