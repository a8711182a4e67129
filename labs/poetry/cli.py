"""The poetry lab's command line: ``python -m labs.poetry {train,generate,compare}``.

Every default comes from ``config.Config`` (training) or the module that uses it; the
commands themselves are ``lab.train_command``, ``generate.generate_command`` and
``compare.compare_command``.
"""

import argparse
import math
from pathlib import Path

from labs import sampling
from labs.cli import (MODELS_DIR, add_folder_options, add_keras_options, float_in,
                      add_run_options, finite_positive_float, non_negative_int, positive_int,
                      given_options, quick_help, run_lab, whole_number, with_default_command)
from labs.poetry import compare, data, lab, models, report, train, tune
from labs.poetry.config import (CELLS, EMBEDDING_DIM, INPUTS, OBJECTIVES, QUICK, SCHEDULES,
                                 Config)
from labs.poetry.generate import generate_command
from labs.training import on_devices

COMMANDS = ("train", "generate", "compare", "tune")
DROPOUT_RATE = float_in(0.0, 1.0, "a dropout rate: give a number from 0 up to, not including, 1")
NON_NEGATIVE_FLOAT = float_in(0.0, math.inf, "a finite number of 0 or more")


def add_train_parser(commands):
    parser = commands.add_parser("train", help="train a character model and write its report")
    parser.add_argument("--corpus", choices=data.CORPORA, default="leopardi",
                        help="text to learn from (default: %(default)s)")
    defaults = {name: ", ".join(f"{settings[name]} {corpus}" for corpus, settings
                                in data.CORPORA.items()) for name in ("maxlen", "step", "epochs")}
    parser.add_argument("--maxlen", type=positive_int,
                        help=f"window length (default: {defaults['maxlen']})")
    parser.add_argument("--step", type=positive_int,
                        help=f"stride between windows (default: {defaults['step']})")
    case = parser.add_mutually_exclusive_group()
    case.add_argument("--lowercase", dest="lowercase", action="store_true", default=None,
                      help="lowercase the text (default for Nietzsche)")
    case.add_argument("--keep-case", dest="lowercase", action="store_false",
                      help="keep the case (default for Leopardi)")
    add_model_options(parser)
    add_optimizer_options(parser)
    parser.add_argument("--epochs", type=positive_int,
                        help=f"maximum epochs; early stopping after {train.PATIENCE} without "
                             f"improvement (default: {defaults['epochs']})")
    parser.add_argument("--sample-every", type=positive_int, default=Config.sample_every,
                        help="epochs between samples in the report (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=Config.seed,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    parser.add_argument("--verbose", action="store_true", help="Keras progress bars")
    parser.add_argument("--resume", action="store_true",
                        help="continue the last interrupted run of --corpus from its last "
                             "complete epoch, with its own options")
    add_keras_options(parser)
    add_run_options(parser)
    return parser


def add_optimizer_options(parser):
    """How the network learns: optimizer, learning rate and its schedule, clipping, batch."""
    parser.add_argument("--optimizer", choices=models.OPTIMIZERS, default=Config.optimizer,
                        help="optimizer (default: %(default)s)")
    parser.add_argument("--learning-rate", type=finite_positive_float,
                        default=Config.learning_rate,
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--clipnorm", type=finite_positive_float, default=Config.clipnorm,
                        help="clip each gradient at this norm (default: %(default)s)")
    parser.add_argument("--schedule", choices=SCHEDULES, default=Config.schedule,
                        help="learning rate: constant, or cosine (5%% warm-up, then a cosine "
                             "to 0 at the last epoch) (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=Config.batch_size,
                        help="batch size (default: %(default)s; the course uses 128)")


def add_model_options(parser):
    """The network and what it learns: cell, size, objective, input encoding."""
    parser.add_argument("--cell", choices=CELLS, default=Config.cell,
                        help="recurrent cell, or a small causal transformer (default: "
                             "%(default)s)")
    parser.add_argument("--objective", choices=OBJECTIVES,
                        help="next-char: a window → the next character (the course's; default "
                             "for recurrent cells); every-step: sequences → the next character "
                             "at every position (always for the transformer)")
    parser.add_argument("--heads", type=positive_int, default=Config.heads,
                        help="attention heads of --cell transformer (default: %(default)s)")
    parser.add_argument("--seq-length", type=positive_int, default=Config.seq_length,
                        help="sequence length for --objective every-step (default: %(default)s)")
    parser.add_argument("--input", dest="inputs", choices=INPUTS,
                        help="one-hot characters (the course's, default for recurrent cells) or "
                             "a learned embedding (always for the transformer)")
    parser.add_argument("--embedding-dim", type=positive_int,
                        help=f"size of the character embedding for --input embedding (default: "
                             f"{EMBEDDING_DIM}; the transformer's is --units wide)")
    parser.add_argument("--layers", type=positive_int, default=Config.layers,
                        help="stacked recurrent layers (default: %(default)s)")
    parser.add_argument("--units", type=positive_int, default=Config.units,
                        help="units per layer (default: %(default)s)")
    parser.add_argument("--dropout", type=DROPOUT_RATE, default=Config.dropout,
                        help="dropout after each recurrent layer or transformer part, 0 to "
                             "below 1 (default: %(default)s)")


def add_generate_parser(commands):
    parser = commands.add_parser("generate", help="generate text from a trained model")
    parser.add_argument("--corpus", choices=data.CORPORA, default="leopardi",
                        help="which trained model (default: %(default)s)")
    parser.add_argument("--seed-text", help="beginning of the text (default: a random window "
                                            "of the corpus)")
    parser.add_argument("--length", type=positive_int, default=report.REPORT_LENGTH,
                        help="characters to generate (default: %(default)s)")
    parser.add_argument("--temperature", type=finite_positive_float, action="append",
                        help="sampling temperature; repeat for several samples (default: 1.0)")
    parser.add_argument("--method", choices=sampling.METHODS, default="temperature",
                        help="sampling method (default: %(default)s)")
    parser.add_argument("--top-k", type=int,
                        help=f"k for --method top-k (default: {report.TOP_K})")
    parser.add_argument("--top-p", type=float,
                        help=f"p for --method top-p (default: {report.TOP_P})")
    parser.add_argument("--random-seed", type=non_negative_int, default=Config.seed,
                        help="same seed, same text (default: %(default)s)")
    parser.add_argument("--drop-unknown", action="store_true",
                        help="drop seed characters outside the vocabulary instead of failing")
    parser.add_argument("--interactive", action="store_true",
                        help="prompt for beginnings and stream the continuations")
    parser.add_argument("--generation", choices=("window", "stateful"), default="window",
                        help="window: re-read the last maxlen characters for each new one, as "
                             "the course does (default); stateful: carry the state forward, "
                             "one step per character (much faster; drifts past maxlen)")
    parser.add_argument("--run", help="run id under models/poetry/<corpus>/runs/ (default: the "
                                      "last full run, else the last quick one)")
    add_folder_options(parser, None, MODELS_DIR)


def add_compare_parser(commands):
    parser = commands.add_parser("compare", help="train several configurations for the same "
                                                 "time and compare their held-out loss curves")
    parser.add_argument("--corpus", choices=data.CORPORA, default="nietzsche",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--budget-minutes", type=budget_minutes,
                        help="minutes of training per configuration, or 'course': the course "
                             "model's time to its best epoch in this run (default: "
                             f"{budget_defaults()})")
    parser.add_argument("--configurations", nargs="+", choices=compare.CONFIGURATIONS,
                        default=list(compare.CONFIGURATIONS), metavar="NAME",
                        help="which configurations, by name (default: all: "
                             f"{'; '.join(compare.CONFIGURATIONS)})")
    parser.add_argument("--goal", action="store_true",
                        help="the lab's goal where it is defined (make poetry-goal): the course "
                             "model, then the tuned configuration for the course model's time "
                             "to its best, in a run of their own (poetry/<corpus>/goal); "
                             "--budget-minutes and --configurations are then fixed")
    parser.add_argument("--tuned", type=Path, metavar="BEST_JSON",
                        help="the tuned configuration from this best.json (or the tuning run "
                             "folder holding one), e.g. a make poetry-tune-long run's winner "
                             "measured at the goal's budget (default: the last make poetry-tune "
                             "run's, else the committed winner)")
    parser.add_argument("--reference", type=Path,
                        help="a course run's metrics.json (make poetry, same machine) to use as "
                             "the reference curve instead of training the course model again")
    parser.add_argument("--seed", type=non_negative_int, default=Config.seed,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: the first {QUICK['characters']:,} characters, "
                             f"{QUICK['budget_minutes']} minutes per configuration")
    add_run_options(parser, models=False)


def budget_minutes(text):
    """``--budget-minutes``: a finite number above 0, or ``course``."""
    return compare.COURSE_BUDGET if text == compare.COURSE_BUDGET else \
        finite_positive_float(text)


def budget_defaults():
    return ", ".join(f"{minutes:g} {corpus}" for corpus, minutes in compare.BUDGET_MINUTES.items())


def trial_minutes(text):
    """--trial-minutes: minutes (0 or more), or 'course'."""
    if text == compare.COURSE_BUDGET:
        return text
    try:
        return NON_NEGATIVE_FLOAT(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a finite number of 0 or more "
                                         "nor 'course'") from None


def add_tune_parser(commands):
    parser = commands.add_parser("tune", help="search every-step configurations, each trained "
                                              "for the same seconds, scored on the validation "
                                              "part")
    parser.add_argument("--corpus", choices=data.CORPORA, default="nietzsche",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--trials", type=positive_int, default=tune.TRIALS,
                        help="configurations to try (default: %(default)s)")
    parser.add_argument("--trial-minutes", type=trial_minutes,
                        help="minutes of training per trial; 0: one epoch each; 'course': the "
                             "course model's time to its best in the last goal run (make "
                             "poetry-goal) (default: the comparison's budget: "
                             f"{budget_defaults()})")
    parser.add_argument("--halving", action="store_true",
                        help="multi-fidelity: Optuna's successive halving over seconds of "
                             "training; every trial starts, only the best third at a ninth and "
                             "at a third of --trial-minutes go on (make poetry-tune-long)")
    parser.add_argument("--seed", type=non_negative_int, default=Config.seed,
                        help="random seed of the search and of every trial (default: "
                             "%(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: the first {QUICK['characters']:,} characters, at most "
                             f"{QUICK['budget_minutes']} minutes per trial")
    parser.add_argument("--resume", action="store_true",
                        help="continue the last unfinished tuning run: its finished trials are "
                             "kept, a trial cut off is tried again, with the run's own options")
    parser.add_argument("--workers", type=whole_number(1, 64), default=1,
                        help="processes training trials side by side, each with its share of "
                             "the cores (default: %(default)s)")
    parser.add_argument("--storage", metavar="URL",
                        help="keep the study in this database (sqlite:///tune.db, postgresql://"
                             "user:password@host/db) so that tunes on other machines join it "
                             "(default: a journal file in the run's folder)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # a worker of --workers: its run
    parser.add_argument("--worker-number", type=int, default=0, help=argparse.SUPPRESS)
    add_run_options(parser, models=False)
    return parser


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m labs.poetry",
                                     description=lab.__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    parser.train = add_train_parser(commands)
    add_generate_parser(commands)
    add_compare_parser(commands)
    parser.tune = add_tune_parser(commands)
    return parser


def main(argv=None):
    argv = with_default_command(argv, COMMANDS)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("train", "tune"):  # what --resume must not silently change
        args.given = given_options(getattr(parser, args.command), argv[1:])
    command = {"train": on_devices(lab.train_command), "generate": generate_command,
               "compare": compare.compare_command, "tune": tune.tune_command}[args.command]
    return run_lab("labs.poetry", command, args)


if __name__ == "__main__":
    main()
