"""Inside the sandbox: a submission's cells, run one at a time, and its functions, called on
the grader's inputs. Only values go back (exercises/values.py); the checks are not here.

    python exercises/harness.py     (started by exercises/sandbox.py, never by hand)

The grader writes requests on standard input and reads the answers on standard output,
each a length-prefixed JSON message. Before any student code runs, the harness keeps the
two pipes for itself and points file descriptors 0, 1 and 2 at /dev/null, so a print (or
a write to fd 1) cannot reach the grader; what a cell prints is captured for its output.

Requests:
    {"op": "cell", "source": ..., "timeout": s}            run one code cell (IPython)
    {"op": "names", "names": [...]}                         which names exist, callable?
    {"op": "call", "name": ..., "args": ..., "kwargs": ..., "replacements": {...},
     "timeout": s}                                          call a function on values

A call also reports whether the student's code called a lab's function (``labs/`` or the
checks) directly: the labs are public, and copying one is for the instructor to judge.
"""

import contextlib
import importlib
import io
import os
import signal
import struct
import sys
import time

import values

HEADER = struct.Struct(">Q")
OUTPUT_LIMIT = 100_000  # characters of a cell's output kept
ROOT = os.environ.get("RNN_LABS_ROOT", "")
TRUSTED = tuple(path for path in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                                  os.path.dirname(os.path.abspath(__file__)), ROOT} if path)
LAB_FILES = tuple(os.path.join(ROOT, part) for part in ("labs" + os.sep,
                                                        os.path.join("exercises", "checks.py")))


HARNESS_PID = os.getpid()  # a process forked by the student's code is not the harness


class TimedOut(BaseException):
    """The grader's time for this request is up (raised by the interval timer)."""


def on_alarm(signum, frame):
    raise TimedOut()


@contextlib.contextmanager
def time_limit(seconds):
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def read_message(stream):
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    return values.loads(payload)


def write_message(stream, message):
    payload = values.dumps(message)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=config)


def clipped(text):
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n… (output cut)"


def run_cell(ipython, request):
    captured = io.StringIO()
    timed_out = False
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        try:
            with time_limit(request.get("timeout", 60)):
                result = ipython.run_cell(str(request.get("source", "")), store_history=False)
        except TimedOut:  # raised outside the cell's own code (IPython's machinery)
            result, timed_out = None, True
    error = None
    if result is not None:
        failure = result.error_before_exec or result.error_in_exec
        timed_out = isinstance(failure, TimedOut)
        if failure is not None and not timed_out:
            error = {"ename": type(failure).__name__, "evalue": str(failure)[:2000]}
    return {"output": clipped(captured.getvalue()), "error": error, "timeout": timed_out}


def describe_names(ipython, request):
    found = {}
    for name in request.get("names", []):
        if not isinstance(name, str):
            continue
        if name not in ipython.user_ns:
            found[name] = {"defined": False}
            continue
        value = ipython.user_ns[name]
        found[name] = {"defined": True, "callable": callable(value),
                       "type": type(value).__name__,
                       "function_name": str(getattr(value, "__name__", name))[:200]}
    return {"names": found}


def resolve(reference):
    module, _, attribute = str(reference).partition(":")
    value = importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def is_student_code(filename):
    return not filename.startswith(TRUSTED) and not filename.startswith("<frozen")


class LabCalls:
    """A profile hook: the lab functions that student code calls directly."""

    def __init__(self, exempt):
        self.exempt = exempt
        self.found = []

    def __call__(self, frame, event, argument):
        if event != "call":
            return
        code = frame.f_code
        if not code.co_filename.startswith(LAB_FILES) or code in self.exempt:
            return
        caller = frame.f_back
        if caller is not None and is_student_code(caller.f_code.co_filename):
            module = frame.f_globals.get("__name__", "?")
            name = f"{module}.{getattr(code, 'co_qualname', code.co_name)}"
            if name not in self.found and len(self.found) < 10:
                self.found.append(name)


def call_function(ipython, request):
    name = request.get("name")
    function = ipython.user_ns.get(name)
    if not callable(function):
        return {"status": "missing"}
    try:
        args = values.decode(request.get("args"))
        kwargs = values.decode(request.get("kwargs"))
        replacements = {str(key): resolve(reference)
                        for key, reference in (request.get("replacements") or {}).items()}
    except Exception as error:
        return {"status": "bad-request", "message": f"{type(error).__name__}: {error}"[:500]}
    namespace = getattr(function, "__globals__", ipython.user_ns)
    missing = object()
    saved = {key: namespace.get(key, missing) for key in replacements}
    namespace.update(replacements)
    hook = LabCalls({getattr(value, "__code__", None) for value in replacements.values()})
    captured = io.StringIO()
    reply = {}
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            with time_limit(request.get("timeout", 60)):
                sys.setprofile(hook)
                try:
                    result = function(*args, **kwargs)
                finally:
                    sys.setprofile(None)
                reply = {"status": "ok", "value": values.encode(result),
                         "after": [values.encode(argument) for argument in args]}
    except TimedOut:
        reply = {"status": "timeout"}
    except BaseException as error:  # the student's exception (SystemExit too), by name
        reply = {"status": "raised", "ename": type(error).__name__,
                 "evalue": str(error)[:2000]}
    finally:
        for key, value in saved.items():
            if value is missing:
                namespace.pop(key, None)
            else:
                namespace[key] = value
    reply["lab_calls"] = hook.found
    return reply


def end_strays():
    """In the sandbox (a PID namespace of its own), end every process the student's code
    left behind (a fork bomb's, a background job's) before the next request: they would
    take the CPU from the next task. Only the namespace's init and the harness remain."""
    if os.environ.get("RNN_LABS_SANDBOX") != "bwrap" or os.getpid() != HARNESS_PID:
        return
    for _ in range(100):
        others = [int(name) for name in os.listdir("/proc")
                  if name.isdigit() and int(name) not in (1, os.getpid())]
        if not others:
            return
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        time.sleep(0.01)


def main():
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(quiet, descriptor)
    sys.stdin = io.StringIO()

    def orphan():  # a process the student's code forks never speaks for the submission
        for stream in (requests, answers):
            os.dup2(quiet, stream.fileno())

    os.register_at_fork(after_in_child=orphan)
    ipython = shell()
    write_message(answers, {"ready": True, "python": sys.version.split()[0]})
    handlers = {"cell": run_cell, "names": describe_names, "call": call_function}
    while True:
        request = read_message(requests)
        if request is None or request.get("op") == "exit":
            return 0
        handler = handlers.get(request.get("op"))
        try:
            reply = handler(ipython, request) if handler else {"status": "bad-request"}
        except TimedOut:
            reply = {"status": "timeout", "timeout": True}
        end_strays()
        try:
            write_message(answers, reply)
        except (TypeError, ValueError) as error:
            write_message(answers, {"status": "bad-value", "message": str(error)[:500]})


if __name__ == "__main__":
    sys.exit(main())
