"""Where runs live: every training run in a folder of its own, published only when complete.

    reports/<lab>/runs/<run id>/      the run's report (plots, tables, metrics, run.json)
    models/<lab>/runs/<run id>/       the run's models and their metadata
    models/<lab>/latest.json          the last complete full run (quick runs: latest-quick.json,
                                      runs of a subset: latest-subset.json)
    reports/index.md, index.html      one section per lab, from its last published run
    reports/tensorboard/<lab>/<id>/   TensorBoard logs of the run, with --tensorboard

A run id is its start time and a short description (``20261125-173000-grouped``, with
``-quick`` for smoke runs), so runs sort in time and never overwrite each other. A run is
*published* (its pointer written, its index section rewritten) only when it completes, and a
quick run (or a run of a subset, ``partial``) never replaces a full run's pointer or
section: ``make spam QUICK=1`` after ``make spam`` leaves the full run's models and reports
untouched, and ``predict`` keeps using them. A run that fails, is interrupted or is killed
before it completes is not published; the next run of the same lab removes its folders
(unless its process is still running, or it left a training backup that ``--resume``
continues), and any stray ``.name.tmp-*`` file, before it starts.
"""

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from labs.cli import KEEP_RUNS, ON_FAILURE, SETTINGS, STARTED, LabError
from labs.reports import atomic_write_json, cpu_name, write_index_section

POINTERS = {"full": "latest.json", "quick": "latest-quick.json", "subset": "latest-subset.json"}
BACKUP = "backup"  # Keras BackupAndRestore state in a run's models folder: it can be resumed


@dataclass
class Run:
    lab: str  # "spam", "poetry/leopardi", ...
    run_id: str
    quick: bool
    reports_root: Path
    models_root: Path
    partial: bool = False  # a subset of what a full run does (compare --configurations)

    @property
    def reports(self):
        return self.reports_root / self.lab / "runs" / self.run_id

    @property
    def models(self):
        return self.models_root / self.lab / "runs" / self.run_id

    @property
    def tensorboard(self):
        """TensorBoard logs (``--tensorboard``): one tree, so ``make tensorboard`` shows all."""
        return self.reports_root / "tensorboard" / self.lab / self.run_id

    @property
    def pointers(self):
        """Where ``latest.json`` lives: beside the models, or the reports for labs that
        save none."""
        return self.models_root / self.lab

    @property
    def link(self):
        """The run's report folder relative to reports/, for the links in index.md."""
        return f"{self.lab}/runs/{self.run_id}"

    @property
    def kind(self):
        """Which pointer it takes when published: ``full``, ``quick`` or ``subset``."""
        return "quick" if self.quick else "subset" if self.partial else "full"

    def describe(self):
        return self.run_id + {"full": "", "quick": " (QUICK smoke run)",
                              "subset": " (SUBSET run)"}[self.kind]


def start(lab, description, quick, reports_root, models_root=None, now=None, partial=False):
    """Create the folders of a new run (after removing what killed runs left behind).
    A lab that saves no model passes no ``models_root``: its runs live in reports/ only."""
    reports_root = Path(reports_root)
    models_root = reports_root if models_root is None else Path(models_root)
    remove_leftovers(lab, reports_root, models_root)
    stamp = f"{now or datetime.now():%Y%m%d-%H%M%S}-{description}" + (
        "-quick" if quick else "-subset" if partial else "")
    run_id, number = stamp, 1
    while (reports_root / lab / "runs" / run_id).exists():
        number += 1
        run_id = f"{stamp}-{number}"
    run = Run(lab, run_id, quick, reports_root, models_root, partial)
    for folder in {run.reports, run.models}:
        make_folder(folder)
    write_status(run, "running")
    ON_FAILURE.append(lambda status: write_status(run, status))
    return run


def make_folder(folder):
    """mkdir -p with one-line errors (a file in the way, no permission)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise LabError(f"cannot create folder {folder}: a file with that name is in the way; "
                       "move it or pick another folder option") from None
    except PermissionError:
        raise LabError(f"cannot create folder {folder}: permission denied; pick another "
                       "folder option or fix its permissions") from None


def write_status(run, status, **details):
    atomic_write_json(run.reports / "run.json", {
        "run": run.run_id, "lab": run.lab, "quick": run.quick, "status": status,
        "pid": os.getpid(), "updated": f"{datetime.now():%Y-%m-%d %H:%M:%S}",
        **backend_fields(), **details})


def backend_fields():
    """The Keras backend a run trains on and its version. Only for the labs that import
    Keras: the NumPy char-RNN has none, and importing Keras for it would cost seconds."""
    if "keras" not in sys.modules:
        return {}
    from labs import backends

    return {"backend": backends.name(), "backend_version": backends.version(),
            "keras_version": sys.modules["keras"].__version__}


def read_status(run_folder):
    try:
        return json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def process_alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def remove_leftovers(lab, reports_root, models_root):
    """Stray temporary files anywhere, and runs of ``lab`` whose process died unfinished."""
    for root in (reports_root, models_root):
        if root.is_dir():
            for stray in root.rglob(".*.tmp-*"):
                if stray.is_file():
                    stray.unlink(missing_ok=True)
    runs = reports_root / lab / "runs"
    for folder in sorted(runs.iterdir()) if runs.is_dir() else []:
        status = read_status(folder)
        running_elsewhere = (status.get("status") == "running" and status.get("pid") != os.getpid()
                             and process_alive(status.get("pid")))
        if status.get("status") == "complete" or running_elsewhere:
            continue
        if (models_root / lab / "runs" / folder.name / BACKUP).is_dir():
            print(f"keeping interrupted run {folder.name}: its state is saved; continue it "
                  "with --resume, or delete the folder", file=sys.stderr)
            continue
        print(f"removing unfinished run {folder.name} (status: "
              f"{status.get('status', 'unknown')})", file=sys.stderr)
        remove_run(lab, folder.name, reports_root, models_root)


def resume(lab, reports_root, models_root, unit="epoch", check=None):
    """The newest unfinished run of ``lab`` that left a backup (``BACKUP``), running again.
    ``unit`` is what the lab backs up (an epoch, a checkpoint), for the messages. ``check``
    (the run) may refuse the command (a ``LabError``) before anything is written: a refused
    command leaves the run as it was."""
    reports_root, models_root = Path(reports_root), Path(models_root)
    runs = reports_root / lab / "runs"
    unsaved, running = [], []
    for folder in sorted(runs.iterdir(), reverse=True) if runs.is_dir() else []:
        status = read_status(folder)
        if status.get("status") == "running" and status.get("pid") != os.getpid() \
                and process_alive(status.get("pid")):
            running.append((folder.name, status.get("pid")))
            continue
        if status.get("status") == "complete":
            continue
        if (models_root / lab / "runs" / folder.name / BACKUP).is_dir():
            run = Run(lab, folder.name, bool(status.get("quick")), reports_root, models_root)
            if check is not None:
                check(run)
            return restart(run)
        if status.get("status") in ("interrupted", "running"):
            unsaved.append(folder.name)
    if unsaved:
        raise LabError(f"run {unsaved[0]} of {lab} stopped before its first {unit} was saved: "
                       "there is nothing to resume; train again without --resume (that removes "
                       "it)")
    if running:
        name, pid = running[0]
        raise LabError(f"run {name} of {lab} is still running (process {pid}): let it "
                       f"finish, or stop it (kill {pid}) and then --resume it")
    raise LabError(f"no interrupted run of {lab} to resume in {runs}: --resume continues a run "
                   "that was stopped during training")


def with_saved_options(args, run, path, names, again):
    """``args`` given the options ``names`` that a resumed ``run`` saved in ``path`` (JSON)
    when it started: it continues as it started. An option given on this command line
    (``args.given``) that would change one is refused; ``again`` says how to start anew."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        saved = {name: saved[name] for name in names}
    except (OSError, ValueError, KeyError, TypeError):
        abandon(run, f"its options ({path}) are missing or damaged")
    changed = [f"--{name.replace('_', '-')} {getattr(args, name)} (it has {saved[name]})"
               for name in sorted(getattr(args, "given", ())) if name in saved
               and getattr(args, name) != saved[name]]
    if changed:
        raise LabError(f"--resume continues {run.run_id} with the options it started with; "
                       f"{', '.join(changed)} would change it: drop the option, or {again}")
    for name, value in saved.items():
        setattr(args, name, value)
    return args


def abandon(run, problem):
    """A run that cannot be resumed (``problem`` says why): marked failed, its backup
    removed, so that it no longer looks resumable and the next run removes it."""
    shutil.rmtree(run.models / BACKUP, ignore_errors=True)
    write_status(run, "failed", reason=problem)
    raise LabError(f"run {run.run_id} cannot be resumed: {problem}; it is marked failed and the "
                   "next run removes it: train again without --resume")


def restart(run):
    write_status(run, "running", resumed=True)
    ON_FAILURE.append(lambda outcome: write_status(run, outcome))
    print(f"resuming run {run.run_id}", file=sys.stderr)
    return run


def publish(run, index_name, index_markdown, keep=KEEP_RUNS):
    """Mark the run complete, point ``latest`` at it and rewrite its index section; a quick
    or subset run takes the index section only while no full run has been published."""
    ON_FAILURE.clear()
    write_status(run, "complete")
    pointer = {"run": run.run_id, "quick": run.quick, "reports": str(run.reports),
               "models": str(run.models)}
    atomic_write_json(run.pointers / POINTERS[run.kind], pointer)
    if run.kind == "full" or not (run.pointers / POINTERS["full"]).is_file():
        write_index_section(index_name, index_markdown, run.reports_root)
    prune(run, keep)


RESULTS = "results.json"  # a run's results table, as its lab's page shows it (make docs)
VERSIONED = ("tensorflow", "keras", "numpy", "scikit-learn", "spacy", "torch", "jax")


def write_results(run, columns, rows, headline="", notes=(), samples=()):
    """``results.json`` in the run's report: the table the lab's page shows (``columns``,
    ``rows`` of text) and its ``headline`` (README.md's one number), with the run id, the
    date, the machine, the versions that made it and its wall time in seconds (from the
    command's start; a resumed run: this process's part; None outside ``run_lab``).
    ``samples``: what the lab produces, shown on its page (``{"label": ..., "text": ...}``:
    generated text, a prediction), in the order given.
    ``make docs`` copies a full run's into ``labs/<lab>/results/`` and writes the page's table
    from it, so no number on a page is typed by hand."""
    from importlib import metadata

    versions = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    atomic_write_json(run.reports / RESULTS, {
        "lab": run.lab, "run": run.run_id, "kind": run.kind,
        "date": datetime.now().strftime("%Y-%m-%d"),
        "machine": f"{cpu_name()}, {os.cpu_count()} threads", "versions": versions,
        "columns": list(columns), "rows": [[str(cell) for cell in row] for row in rows],
        "headline": headline, "notes": list(notes), "settings": dict(SETTINGS),
        "samples": [{"label": str(sample["label"]), "text": str(sample["text"])}
                    for sample in samples],
        "seconds": round(time.monotonic() - STARTED["monotonic"], 1) if STARTED else None})


def published(lab, models_root):
    """Run ids that a pointer names (never pruned)."""
    names = set()
    for pointer in POINTERS.values():
        try:
            names.add(json.loads((Path(models_root) / lab / pointer).read_text())["run"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return names


def prune(run, keep):
    """Keep the ``keep`` newest complete runs of the lab (and the published ones)."""
    runs = run.reports_root / run.lab / "runs"
    complete = [folder.name for folder in sorted(runs.iterdir())
                if read_status(folder).get("status") == "complete"]
    protected = published(run.lab, run.models_root) | {run.run_id}
    for name in complete[:-keep] if keep else complete:
        if name not in protected:
            remove_run(run.lab, name, run.reports_root, run.models_root)


def remove_run(lab, run_id, reports_root, models_root):
    """A run's report, models and TensorBoard folders."""
    for folder in (reports_root / lab / "runs" / run_id, models_root / lab / "runs" / run_id,
                   reports_root / "tensorboard" / lab / run_id):
        shutil.rmtree(folder, ignore_errors=True)


def find(lab, models_root, run_id=None, train_hint="make"):
    """The models folder of ``run_id``, or of the last full run (else the last quick one).

    Returns ``(folder, run id, quick)``; says on stderr which run it uses and warns when
    that run is a quick one.
    """
    root = Path(models_root) / lab
    if run_id:
        check_run_id(run_id)
        folder = root / "runs" / run_id
        if not folder.is_dir():
            available = sorted(path.name for path in (root / "runs").glob("*")) if (
                root / "runs").is_dir() else []
            raise LabError(f"no run {run_id!r} in {root / 'runs'}; available: "
                           f"{', '.join(available) or 'none'}")
        quick = run_id.endswith("-quick") or "-quick-" in run_id
    else:
        folder, run_id, quick = latest(root, train_hint)
    print(f"using run {run_id} ({folder})" + (
        " — a QUICK smoke run: train a full one for real results" if quick else ""),
        file=sys.stderr)
    return folder, run_id, quick


def check_run_id(run_id):
    """``--run`` names a run folder, never a path: a model outside the lab's runs is not
    one of its runs."""
    if not run_id or run_id != Path(run_id).name or run_id in (".", "..") or "\\" in run_id:
        raise LabError(f"--run takes a run id (a folder name such as 20261125-173000-lstm128), "
                       f"not a path: {run_id!r}")


def latest(root, train_hint):
    for kind in ("full", "quick"):
        try:
            pointer = json.loads((root / POINTERS[kind]).read_text(encoding="utf-8"))
            folder = root / "runs" / pointer["run"]
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError):
            raise LabError(f"{root / POINTERS[kind]} is damaged; delete it and train again "
                           f"(`{train_hint}`)") from None
        if folder.is_dir():
            return folder, pointer["run"], kind == "quick"
    left = sorted(folder.name for folder in (root / "runs").glob("*") if folder.is_dir())
    if left:
        raise LabError(f"no published run in {root} (the one it named was deleted); pick one "
                       f"with --run ({', '.join(left[-3:])}) or train again with `{train_hint}`")
    raise LabError(f"no trained run in {root}; train one with `{train_hint}`")


def latest_metrics(lab, reports_dir, wanted=lambda metrics: True):
    """The metrics of the newest complete run of ``lab`` that ``wanted`` accepts, or None."""
    folder = reports_dir / lab / "runs"
    for run_folder in sorted(folder.iterdir(), reverse=True) if folder.is_dir() else []:
        if read_status(run_folder).get("status") != "complete":
            continue
        try:
            metrics = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if wanted(metrics):
            return {**metrics, "run": run_folder.name}
    return None
