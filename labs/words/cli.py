"""The command line: ``python -m labs.words --help``."""

import argparse

from labs.cli import (add_keras_options, add_run_options, apply_quick, non_negative_int,
                      positive_int, quick_help, run_lab, whole_number)
from labs.words.config import (BATCH_SIZE, CELLS, CORPORA, EPOCHS, FRAMEWORKS, GENERATED_WORDS,
                               MIN_COUNT, QUICK, SEED, TOKENIZATIONS, VOCABULARY_SIZE)
from labs.words.lab import words_command

DESCRIPTION = "Word-level language model: Embedding → LSTM → softmax over words, with perplexity."


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m labs.words",
                                     description=DESCRIPTION)
    parser.add_argument("--corpus", choices=CORPORA, default="nietzsche",
                        help="text to learn from (default: %(default)s)")
    parser.add_argument("--tokens", choices=TOKENIZATIONS, default="words",
                        help="words (rare ones <unk>) or subword (a byte-level BPE learned from "
                             "the training text) (default: %(default)s)")
    parser.add_argument("--vocabulary-size", type=whole_number(300, 100_000),
                        default=VOCABULARY_SIZE,
                        help="tokens of the learned BPE, --tokens subword (default: %(default)s)")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS,
                        help="epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help="batch size (default: %(default)s)")
    parser.add_argument("--min-count", type=positive_int, default=MIN_COUNT,
                        help="rarer words become <unk>, --tokens words (default: %(default)s)")
    parser.add_argument("--seed-phrase", help="beginning for the samples (default: one per corpus)")
    parser.add_argument("--length", type=positive_int, default=GENERATED_WORDS,
                        help="tokens to generate per sample (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="keras",
                        help="keras, or pytorch: the course's RNNModel written natively in "
                             "PyTorch, same sizes and data (default: %(default)s)")
    parser.add_argument("--cell", choices=CELLS, default="lstm",
                        help="lstm, or rnn: a simple RNN (the course's nn.RNN) (default: "
                             "%(default)s)")
    parser.add_argument("--quick", action="store_true", help=quick_help(QUICK))
    add_keras_options(parser)
    add_run_options(parser, models=False)
    return parser


def main(argv=None):
    args = apply_quick(build_parser().parse_args(argv), QUICK)
    return run_lab("labs.words", words_command, args)
