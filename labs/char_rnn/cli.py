"""The command line: ``python -m labs.char_rnn --help``."""

import argparse

from labs.char_rnn.config import (CORPORA, EMBED_DIM, HIDDEN_DIM, ITERATIONS, LEARNING_RATE,
                                  QUICK, SEED, SEQ_LENGTH)
from labs.char_rnn.lab import run
from labs.cli import (add_run_options, apply_quick, finite_positive_float, non_negative_int,
                      positive_int, quick_help, run_lab)

DESCRIPTION = ("A character RNN from scratch in NumPy: what the Keras layers do, one function "
               "a step.")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m labs.char_rnn",
                                     description=DESCRIPTION)
    parser.add_argument("--corpus", choices=CORPORA, default="leopardi",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--iterations", type=positive_int, default=ITERATIONS,
                        help="training chunks (default: %(default)s)")
    parser.add_argument("--embed-dim", type=positive_int, default=EMBED_DIM,
                        help="embedding size (default: %(default)s)")
    parser.add_argument("--hidden", type=positive_int, default=HIDDEN_DIM,
                        help="hidden units (default: %(default)s)")
    parser.add_argument("--seq-length", type=positive_int, default=SEQ_LENGTH,
                        help="characters per BPTT chunk (default: %(default)s)")
    parser.add_argument("--learning-rate", type=finite_positive_float, default=LEARNING_RATE,
                        help="Adagrad learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    add_run_options(parser, models=False)
    return parser


def main(argv=None):
    args = apply_quick(build_parser().parse_args(argv), QUICK)
    return run_lab("labs.char_rnn", run, args)
