"""The command-line contract every lab shares.

- one error type, ``LabError``: a user error (bad option, missing model, unusable data)
  that the lab prints as one line, never as a traceback;
- ``run_lab``: the one place that turns those errors into ``prog: error: ...`` and an exit;
- ``with_default_command``: a lab with subcommands runs its first one when none is given;
- the same folder options (``--datasets-dir``, ``--reports-dir``, ``--models-dir``) and the
  same shape of quick settings (``QUICK`` dicts, described by ``quick_help``) in every lab.
"""

import argparse
import contextlib
import errno
import math
import signal
import sys
import time
import threading
from pathlib import Path

import labs

DATASETS_DIR = Path("datasets")
REPORTS_DIR = Path("reports")
MODELS_DIR = Path("models")
KEEP_RUNS = 5  # complete runs kept per lab (labs/runs.py)


class LabError(ValueError):
    """A user error, printed as one line. It is a ``ValueError`` so that library callers
    (tests, notebooks) can catch it the way they catch any bad argument."""


def whole_number(low, high=None):
    """An argparse type: a whole number from ``low`` (to ``high``), with a message that
    names the bound."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if high is None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0, 2**32 - 1)  # seeds: NumPy's range


def finite_positive_float(text):
    """An argparse type for rates and temperatures: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def float_in(low, high, expected):
    """An argparse type for a number in [low, high); ``expected`` says what to give."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value < high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
        return value
    return parse


def add_run_options(parser, models=True):
    """Run options of a training command: the report and model roots, and how many runs
    to keep. Each run writes under <reports-dir>/<lab>/runs/<run id>/ (labs/runs.py)."""
    add_folder_options(parser, REPORTS_DIR, MODELS_DIR if models else None)
    parser.add_argument("--keep", type=positive_int, default=KEEP_RUNS,
                        help="complete runs kept per lab; older ones are deleted, the published "
                             "ones never (default: %(default)s)")


def add_keras_options(parser):
    """Options of every Keras training: TensorBoard logs and where the model runs."""
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard logs under <reports-dir>/tensorboard/<lab>/"
                             "<run id>/ (make tensorboard shows them)")
    parser.add_argument("--distribute", action="store_true",
                        help="train with tf.distribute.MirroredStrategy on every GPU (or every "
                             "logical CPU, see --cpu-replicas); the batch size is per replica. "
                             "Without it one GPU is used when there is one, else the CPU")
    parser.add_argument("--cpu-replicas", type=whole_number(0, 64), default=0, metavar="N",
                        help="split the CPU into N logical devices, to try --distribute without "
                             "GPUs (default: no split)")


def add_folder_options(parser, reports_dir, models_dir=None):
    """--datasets-dir and --reports-dir, and --models-dir when the lab saves models."""
    parser.add_argument("--datasets-dir", type=Path, default=DATASETS_DIR,
                        help="where the data files live (default: %(default)s)")
    if reports_dir is not None:
        parser.add_argument("--reports-dir", type=Path, default=reports_dir,
                            help="root of the reports: index.md and one folder per lab "
                                 "(default: %(default)s)")
    if models_dir is not None:
        parser.add_argument("--models-dir", type=Path, default=models_dir,
                            help="root of the saved models, one folder per lab "
                                 "(default: %(default)s)")


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


def given_options(parser, argv):
    """The destinations of the options written on the command line ``argv`` (argparse
    records values, not whether a value was given): ``--resume`` refuses to change them."""
    tokens = [token.split("=", 1)[0] for token in argv if token.startswith("--")]
    return {action.dest for action in parser._actions for token in tokens
            if any(option == token or (len(token) > 3 and option.startswith(token))
                   for option in action.option_strings)}


def with_default_command(argv, commands):
    """The argument list with ``commands[0]`` inserted when no command (or help) is given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*commands, "-h", "--help"):
        argv.insert(0, commands[0])
    return argv


# What an interrupted command had done, for its one-line goodbye (set by the labs as they go).
PROGRESS = {"done": "", "kept": "the last complete run is untouched"}
# Called with "failed" or "interrupted" when a command ends that way (labs.runs marks its run).
ON_FAILURE = []


def fail(status):
    while ON_FAILURE:
        ON_FAILURE.pop()(status)


def note_progress(done, kept=None):
    """Record what is finished (``"after epoch 3 of lstm_padded"``) and what Ctrl-C keeps."""
    PROGRESS["done"] = done
    if kept is not None:
        PROGRESS["kept"] = kept


# Ctrl-C seen during a command. Python can lose the KeyboardInterrupt it raises (one that
# lands in a __del__ or a weakref callback is only printed, one inside TensorFlow's tracing
# may be swallowed), so the signal is also remembered: check_interrupted raises it again.
INTERRUPTED = []


def on_interrupt(signum, frame):
    INTERRUPTED.append(signum)
    raise KeyboardInterrupt


def check_interrupted():
    """Raise the Ctrl-C this command already received, if any (training calls it each batch)."""
    if INTERRUPTED:
        raise KeyboardInterrupt


@contextlib.contextmanager
def remembered_interrupts():
    """``on_interrupt`` as Ctrl-C's handler while a command runs (in the main thread, where
    Python's default handler is in place; an ignored SIGINT stays ignored)."""
    INTERRUPTED.clear()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) not in (signal.default_int_handler,
                                                       labs.interrupted_while_starting)):
        yield
        return
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# The options of the command now running (``run_lab``), as plain values: a run's results
# file records them, and ``make docs`` records only runs made with its make target's options.
SETTINGS = {}
# When the command started: results.json records the run's wall time from it (a resumed run:
# this process's part only). A lab started as ``python -m labs.<lab>``: from the package's
# import, so that the imports (TensorFlow's seconds) count, as a reader's clock counts them.
STARTED = {}


def plain(value):
    """An option's value as JSON holds it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    return str(value)


def run_lab(prog, command, args):
    """Run ``command(args)``. A ``LabError`` or an operating-system error (permission
    denied, disk full) becomes one line and exit status 1; Ctrl-C one line and status 130."""
    STARTED["monotonic"] = labs.IMPORTED if labs._started_as() == prog else time.monotonic()
    SETTINGS.clear()
    SETTINGS.update({name: plain(value) for name, value in getattr(args, "__dict__", {}).items()
                     if not name.startswith("_") and name != "given"})
    try:
        with remembered_interrupts():
            result = command(args)
        ON_FAILURE.clear()
        return result
    except LabError as error:
        fail("failed")
        sys.exit(f"{prog}: error: {error}")
    except OSError as error:
        fail("failed")
        sys.exit(f"{prog}: error: {os_error_line(error)}")
    except KeyboardInterrupt:
        fail("interrupted")
        done = f" {PROGRESS['done']}" if PROGRESS["done"] else ""
        print(f"\n{prog}: interrupted{done}; {PROGRESS['kept']}", file=sys.stderr)
        sys.exit(130)
    except Exception:  # a bug, not a user error: its traceback, and the run marked failed
        fail("failed")
        raise


def utf8_text(text, what, fix="type it again or convert it (iconv -t UTF-8)"):
    """``text`` if it is UTF-8 text; an argument or a line read with ``surrogateescape`` that
    held other bytes (Latin-1, say) is a ``LabError`` naming ``what``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise LabError(f"{what} is not UTF-8 text; {fix}") from None
    return text


def decoded(line, number):
    """One line of standard input (bytes, or text when stdin is already text) as text."""
    if isinstance(line, str):
        return utf8_text(line, f"line {number} of standard input",
                         "convert the file (iconv -t UTF-8) and pipe it again").rstrip("\n")
    try:
        return line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise LabError(f"line {number} of standard input is not UTF-8 text; convert the file "
                       "(iconv -t UTF-8) and pipe it again") from None


def os_error_line(error):
    """An operating-system error in one line that names the file and what to do."""
    where = f" ({error.filename})" if error.filename else ""
    if error.errno == errno.ENOSPC:
        return (f"no space left on the device{where}: free some space (`make clean` removes "
                "old runs and caches) and run again; finished runs are untouched")
    return f"{error.strerror or error}{where}; check the path and its permissions"
