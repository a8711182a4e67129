"""Command-line pieces every lab shares: option types and the data/output folders."""

import argparse
from pathlib import Path

from labs import data


class LabError(Exception):
    """A user error (bad option, missing model, unusable input): each lab's main prints it
    as one line, never as a traceback."""


def positive_int(text):
    """An argparse type: a whole number of at least 1, with a message naming the option."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_folder_options(parser, reports_dir, models_dir=None):
    """--datasets-dir and --reports-dir (and --models-dir when the lab saves models)."""
    parser.add_argument("--datasets-dir", type=Path, default=data.DATASETS_DIR,
                        help="where the data files live (default: %(default)s)")
    parser.add_argument("--reports-dir", type=Path, default=reports_dir,
                        help="where the reports go (default: %(default)s)")
    if models_dir is not None:
        parser.add_argument("--models-dir", type=Path, default=models_dir,
                            help="where the models go (default: %(default)s)")
