"""The command-line contract every lab shares.

- one error type, ``LabError``: a user error (bad option, missing model, unusable data)
  that the lab prints as one line, never as a traceback;
- ``run_lab``: the one place that turns those errors into ``prog: error: ...`` and an exit;
- ``with_default_command``: a lab with subcommands runs its first one when none is given;
- the same folder options (``--datasets-dir``, ``--reports-dir``, ``--models-dir``) and the
  same shape of quick settings (``QUICK`` dicts, described by ``quick_help``) in every lab.
"""

import argparse
import sys
from pathlib import Path

DATASETS_DIR = Path("datasets")
REPORTS_DIR = Path("reports")
MODELS_DIR = Path("models")


class LabError(ValueError):
    """A user error, printed as one line. It is a ``ValueError`` so that library callers
    (tests, notebooks) can catch it the way they catch any bad argument."""


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
    """--datasets-dir and --reports-dir, and --models-dir when the lab saves models."""
    parser.add_argument("--datasets-dir", type=Path, default=DATASETS_DIR,
                        help="where the data files live (default: %(default)s)")
    if reports_dir is not None:
        parser.add_argument("--reports-dir", type=Path, default=reports_dir,
                            help="where the reports go (default: %(default)s)")
    if models_dir is not None:
        parser.add_argument("--models-dir", type=Path, default=models_dir,
                            help="where the models are saved and loaded (default: %(default)s)")


def quick_help(quick):
    """The help text of --quick, built from the lab's ``QUICK`` settings."""
    parts = [f"{value:,} {name.replace('_', ' ')}" for name, value in quick.items()]
    return "smoke run: " + ", ".join(parts)


def apply_quick(args, quick):
    """Cap every option named in ``quick`` at its quick value when --quick is given."""
    if args.quick:
        for name, value in quick.items():
            if getattr(args, name, None) is not None:
                setattr(args, name, min(getattr(args, name), value))
    return args


def with_default_command(argv, commands):
    """The argument list with ``commands[0]`` inserted when no command (or help) is given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*commands, "-h", "--help"):
        argv.insert(0, commands[0])
    return argv


def run_lab(prog, command, args):
    """Run ``command(args)``; a ``LabError`` becomes one line on stderr and exit status 1."""
    try:
        return command(args)
    except LabError as error:
        sys.exit(f"{prog}: error: {error}")
