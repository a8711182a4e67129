"""The spam lab's command line: ``python -m labs.spam {train,predict}``.

Defaults come from ``config`` (the recipes, the quick caps) and the modules that use them;
the commands themselves are ``lab.train_command`` and ``lab.predict_command``.
"""

import argparse
from pathlib import Path

from labs import embeddings
from labs.cli import (MODELS_DIR, add_folder_options, add_keras_options, add_run_options,
                      non_negative_int, positive_int, quick_help, run_lab, with_default_command)
from labs.spam import baselines, data, lab, models, text_models
from labs.spam.config import INPUT_KINDS, QUICK, RECIPES, Settings
from labs.training import on_devices

COMMANDS = ("train", "predict")


def add_train_parser(commands):
    parser = commands.add_parser("train", help="train and compare every model (default)")
    parser.add_argument("--recipe", choices=RECIPES, default="tuned",
                        help="tuned: validation part, early stopping, threshold on validation "
                             "(default); course: the course's procedure exactly")
    parser.add_argument("--folds", type=positive_int, default=Settings.folds,
                        help="stratified grouped folds; every model sees the same ones; 1 = one "
                             "80/20 split (default: %(default)s)")
    parser.add_argument("--repeats", type=positive_int, default=Settings.repeats,
                        help="differently seeded k-fold splits (seed, seed + 1, ...); the "
                             "intervals and paired tests use all repeats × folds, with the "
                             "corrected variance (default: %(default)s)")
    parser.add_argument("--variants", nargs="+", choices=lab.ALL_VARIANTS,
                        default=list(lab.DEFAULT_VARIANTS), metavar="VARIANT",
                        help=f"which neural models, of: {', '.join(lab.ALL_VARIANTS)}; the "
                             f"first {len(models.VARIANTS)} read spaCy vectors, the others learn "
                             "their input from the text (default: all but "
                             f"{', '.join(text_models.OPT_IN)}, the slowest)")
    parser.add_argument("--baselines", nargs="*", choices=baselines.BASELINES,
                        default=list(baselines.BASELINES),
                        help="which classical baselines (default: all; none with no name)")
    parser.add_argument("--inputs", choices=(*INPUT_KINDS, "both"),
                        help="padded to --maxlen, ragged (no truncation), or both (default: "
                             "ragged for the tuned recipe, padded for the course's)")
    test_percent = round(100 * data.TEST_SIZE)
    parser.add_argument("--split", choices=data.SPLITS, default="grouped",
                        help=f"with --folds 1: grouped (stratified {100 - test_percent}/"
                             f"{test_percent}, no text on both sides; default) or course (the "
                             f"course's plain train_test_split(test_size={data.TEST_SIZE}))")
    parser.add_argument("--seed", type=non_negative_int, default=Settings.seed,
                        help="seed of the folds; fold k trains with seed + k (default: "
                             "%(default)s)")
    parser.add_argument("--epochs", type=positive_int,
                        help="maximum epochs (default: the recipe's, 40 tuned, 20 course)")
    parser.add_argument("--batch-size", type=positive_int,
                        help="batch size (default: the recipe's, 32 tuned, 512 course)")
    add_input_options(parser)
    add_keras_options(parser)
    add_run_options(parser)


def add_input_options(parser):
    parser.add_argument("--maxlen", type=positive_int, default=Settings.maxlen,
                        help="tokens kept per message for padded inputs (default: %(default)s)")
    parser.add_argument("--spacy-model", default=None,
                        help="spaCy pipeline (default: best installed of "
                             f"{', '.join(embeddings.PREFERRED_PIPELINES)})")
    parser.add_argument("--token-features", action=argparse.BooleanOptionalAction,
                        help="append spaCy token attributes to each vector ("
                             f"{', '.join(embeddings.TOKEN_ATTRIBUTES)}) (default: the "
                             "recipe's, on tuned, off course)")
    parser.add_argument("--pooling", choices=models.POOLINGS,
                        help="what an RNN passes on: its last hidden state, or the maximum of "
                             "each unit over time (default: the recipe's, max tuned, last course)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    parser.add_argument("--verbose", action="store_true", help="print Keras progress per epoch")
    parser.add_argument("--cache-dir", type=Path, default=embeddings.CACHE_DIR,
                        help="token-vector cache (default: %(default)s)")


def add_predict_parser(commands):
    parser = commands.add_parser("predict", help="classify messages with a trained model")
    parser.add_argument("texts", nargs="*",
                        help="messages to classify (default: one per line from stdin)")
    parser.add_argument("--model", default="lstm_ragged",
                        help="<variant>_<inputs>, e.g. bi-gru_padded or words-gru_text "
                             "(default: %(default)s)")
    parser.add_argument("--spacy-model", default=None,
                        help="check that the model was built for this spaCy pipeline")
    parser.add_argument("--run", help="run id under models/spam/runs/ (default: the last full "
                                      "run, else the last quick one)")
    add_folder_options(parser, None, MODELS_DIR)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m labs.spam", description=lab.__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `python -m labs.spam train --help` or `... predict --help` for their options.")
    commands = parser.add_subparsers(dest="command", metavar="{train,predict}")
    add_train_parser(commands)
    add_predict_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(with_default_command(argv, COMMANDS))
    if args.command == "train":
        return run_lab("labs.spam", on_devices(lab.train_command), args)
    return run_lab("labs.spam", lab.predict_command, args)


if __name__ == "__main__":
    main()
