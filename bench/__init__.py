"""Benchmarks: the labs' pipelines against the course's recipes, measured in one run."""

import labs  # noqa: F401  (before Keras: the labs' defaults and a quiet TensorFlow start-up)


def writable_reports_dir(parser, folder):
    """``folder`` made (if need be) and writable, checked before any work: a benchmark that
    cannot write its report stops in one line at once, not after its minutes of measuring."""
    import os
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        if isinstance(error, (FileExistsError, NotADirectoryError)) or folder.is_file():
            reason = "it is a file, not a folder"
        parser.exit(2, f"{parser.prog}: error: --reports-dir {folder}: {reason}; give a folder "
                       f"you can write to{os.linesep}")


def record(lab, description, columns, rows, notes=(), full=True, headline=""):
    """A benchmark's table as a finished run of ``lab`` under ``reports/`` (its
    ``results.json``, as the labs write theirs), so that ``make docs`` copies it into the
    page's results folder and writes the page's table from it: no measured number on a page
    is typed by hand. ``full``: made with the settings the page states (else a subset run,
    which ``make docs`` never records)."""
    from pathlib import Path

    from labs import runs

    reports = Path(__file__).resolve().parent.parent / "reports"
    run = runs.start(lab, description, quick=False, reports_root=reports, partial=not full)
    runs.write_results(run, columns, rows, headline=headline, notes=notes)
    runs.write_status(run, "complete")
    print(f"wrote reports/{run.link}/results.json" + ("" if full else
          " (other settings than the page's: make docs does not record it)"))
    return run
