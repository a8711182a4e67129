"""Poetry generator lab: the story, from the corpus to the samples.

    python -m labs.poetry train --corpus leopardi        # model, checkpoints and report
    python -m labs.poetry generate --corpus leopardi --temperature 0.5 --length 400
    python -m labs.poetry train --corpus nietzsche --objective every-step --cell gru
    python -m labs.poetry train --corpus nietzsche --resume   # after Ctrl-C or a crash
    python -m labs.poetry compare --corpus nietzsche          # time to quality, ~35 minutes

Training follows the course (windows of ``maxlen`` characters → the next character) with
three changes a student can see in the report: the last 10% of the text is held out for
validation (loss in nats, bits per character, perplexity), the best epoch is kept, and
generation runs the trained weights in NumPy, ~50× faster than one ``model.predict`` per
character, with the same probabilities. Every setting is a field of ``config.Config``;
the command line is ``labs.poetry.cli``, generation ``labs.poetry.generate``, the time-to-
quality comparison ``labs.poetry.compare``.
"""

import json

import keras

from labs import backends, runs
from labs.cli import LabError
from labs.poetry import data, models, report, train
from labs.poetry.config import QUICK, Config
from labs.poetry.generate import Generator
from labs.reports import atomic_write_json
from labs.saving import model_paths, save_model
from labs.training import replicas, training_logs, write_summary


def train_command(args):
    """Corpus → vocabulary → held-out split → windows → model → fit → save → report."""
    config = Config.from_args(args, replicas())
    resumed, config = resume_run(config, args) if args.resume else (None, config)
    keras.utils.set_random_seed(config.seed)
    backends.deterministic()
    corpus = data.read_corpus(config.corpus, args.datasets_dir, config.lowercase,
                              config.characters, config.maxlen)
    prepared = train.training_data(config, corpus)
    run = resumed or start_run(config, args)
    metadata = config.model_metadata(corpus.vocabulary)
    model = models.build(config, len(corpus.vocabulary))
    epoch_report = train.EpochReport(metadata, corpus.held_out_text, config.sample_every,
                                     config.seed)
    write_summary(model, run.reports / "model_summary.txt")
    logs = training_logs(run.reports / "training_log.csv",
                         run.tensorboard if args.tensorboard else None)
    checkpoints = train.Checkpoints(run.models, metadata, run.reports / "training_log.csv")
    if resumed and (problem := checkpoints.damage()):
        runs.abandon(run, problem)
    history, seconds = train.fit(model, prepared, config, epoch_report, logs, checkpoints)
    save_model(model, metadata, model_paths(run.models)[0])
    generator = Generator(model, metadata)
    metrics = train.run_metrics(config, corpus, prepared, model, history, epoch_report, seconds)
    comparison = train.generation_comparison(
        generator, corpus.held_out_text, config.seed,
        QUICK["generated"] if config.quick else train.COMPARISON_LENGTH)
    metrics.update(generation_comparison=comparison, run=run.run_id,
                   generation_chars_per_second=comparison["window"]["chars_per_second"])
    print_result(metrics)
    final = report.final_samples(metrics, generator, corpus.held_out_text, metrics["seed"])
    index = report.write_report(metrics, epoch_report.samples, final, run)
    runs.write_results(run, *report.results_table(metrics), samples=report.page_samples(*final))
    runs.publish(run, f"20-poetry-{config.corpus}", index, args.keep)
    print(f"wrote {run.models}, {run.reports} ({run.describe()})")
    return metrics


def resume_run(config, args):
    """``--resume``: the last interrupted run, running again, and its configuration (the
    options it started with; one given here that would change it is refused before the run
    is touched)."""
    saved = {}

    def check(run):
        saved["config"] = config.with_saved(saved_options(run), getattr(args, "given", ()),
                                            run.run_id)

    run = runs.resume(f"poetry/{args.corpus}", args.reports_dir, args.models_dir, check=check)
    return run, saved["config"]


def start_run(config, args):
    """A new run, with the settings it was trained with (what --resume reads back)."""
    run = runs.start(f"poetry/{config.corpus}", run_description(config), config.quick,
                     args.reports_dir, args.models_dir)
    atomic_write_json(run.models / "options.json", config.options())
    return run


def saved_options(run):
    """The options of the run being resumed: it continues as it started."""
    try:
        options = json.loads((run.models / "options.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        options = None
    if not isinstance(options, dict):
        raise LabError(f"run {run.run_id} has no readable options.json in {run.models}; it "
                       "cannot be resumed: delete it and train again")
    return options


def run_description(config):
    """The short part of the run id: cell and units, then what differs from the course."""
    parts = [f"{config.cell}{config.units}"]
    if config.objective == "every-step":
        parts.append(f"every-step{config.seq_length}")
    if config.inputs == "embedding" and config.cell != "transformer":
        parts.append(f"embedding{config.embedding_dim}")
    return "-".join(parts)


def print_result(metrics):
    print(f"epoch {metrics['best_epoch']} (chosen on the {metrics['chosen_on']}): held-out "
          f"loss {metrics['held_out_loss_nats']:.4f} nats, "
          f"{metrics['held_out_bits_per_char']:.3f} bits/char, perplexity "
          f"{metrics['held_out_perplexity']:.2f}; generation "
          f"{metrics['generation_chars_per_second']:,.0f} chars/s")
