"""A class with every hostile notebook of the tests among honest ones, graded as an
instructor grades it (exercises/grade.py), measured: the whole class's time, each
notebook's, the grading workers' and this process's peak memory, and that every honest row
holds its points.

    python -m bench.grading                  # 20 honest notebooks + the hostile ones
    python -m bench.grading --honest 4 --timeout 5
    python -m bench.grading --honest 60 --no-hostile --loop   # the instructor's loop's cost

The honest notebooks are the solution and its deliberate mistakes (tests/test_exercises.py's
MISTAKES), in turn; the hostile ones are tests/hostile.py's, and the sleeper (eight cells that
ignore the alarm and sleep), which only the per-notebook bound keeps short. Writes
reports/bench-grading.json, prints a table and records it as a run of
``exercises/grading`` (``exercises/grading-loop`` with --loop): ``make docs`` writes the
exercises page's tables from it when it was made with the settings above.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "tests")]

from bench import record  # noqa: E402
from exercises import build, grade, grading  # noqa: E402


def honest_notebooks(count):
    """(name, notebook, the points it earns) for ``count`` honest students."""
    from test_exercises import MISTAKES, with_mistake

    points = {task: value for task, value, _ in grade.tasks_of("char-rnn")}
    full = sum(points.values())
    kinds = [("solution", build.master("char-rnn"), full)]
    for task, correct, wrong in MISTAKES["char-rnn"]:
        kinds.append((f"mistake-{task}", with_mistake("char-rnn", task, correct, wrong),
                      full - points[task]))
    return [(f"honest-{number:02d}-{kinds[number % len(kinds)][0]}",
             *kinds[number % len(kinds)][1:]) for number in range(count)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--honest", type=int, default=20, help="honest notebooks (default 20)")
    parser.add_argument("--timeout", type=int, default=5,
                        help="seconds per cell (default 5: the sleeper's bound is then "
                             "2 x 5 x 11 = 110 s)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-hostile", action="store_true",
                        help="honest notebooks only")
    parser.add_argument("--loop", action="store_true",
                        help="grade the class twice: alone (no feedback, no class report), "
                             "then with the feedback pages, the class report and the similar "
                             "pairs; write reports/bench-grading-loop.json")
    args = parser.parse_args(argv)
    if args.honest < 1 or args.timeout < 1 or args.workers < 1:
        parser.error("--honest, --timeout and --workers must be at least 1")
    if args.loop:
        return loop(args)
    import hostile

    with tempfile.TemporaryDirectory(prefix="rnn-labs-bench-grading-") as scratch:
        folder = Path(scratch) / "class"
        folder.mkdir()
        expected = {}
        for name, book, earned in honest_notebooks(args.honest):
            nbformat.write(book, folder / f"{name}.ipynb")
            expected[name] = earned
        makers = ([] if args.no_hostile
                  else [*hostile.NOTEBOOKS.items(), ("sleeper", hostile.sleeper)])
        hostile_names = [name for name, _ in makers]
        for name, make in makers:
            nbformat.write(make(), folder / f"{name}.ipynb")
        started = time.perf_counter()
        output, tasks, rows, _ = grade.grade("char-rnn", folder, Path(scratch) / "grades",
                                             timeout=args.timeout, workers=args.workers,
                                             log=lambda line: print(line, flush=True))
        seconds = time.perf_counter() - started
        csv_rows = (output / "grades.csv").read_text(encoding="utf-8").splitlines()[1:]
    bound = grade.notebook_bound("char-rnn", args.timeout)
    by_student = {row["student"]: row for row in rows}
    totals = {student: grade.auto_total(tasks, row["scores"])[0]
              for student, row in by_student.items()}
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "honest": args.honest, "hostile": len(hostile_names), "timeout": args.timeout,
        "notebook_bound": bound, "workers": args.workers, "seconds": round(seconds, 1),
        "csv_rows": len(csv_rows), "students": len(rows),
        "honest_rows_at_their_points": sum(totals[name] == points
                                           for name, points in expected.items()),
        "longest_hostile": max(((by_student[name]["seconds"], name) for name in hostile_names),
                               default=(0.0, "none")),
        "longest_honest": max(by_student[name]["seconds"] for name in expected),
        "grader_worker_peak_mb": max(row["grader_mb"] for row in rows),
        "this_process_peak_mb": round(grading.peak_mb(), 1),
        "hostile_totals": {name: totals[name] for name in hostile_names},
    }
    path = REPOSITORY / "reports" / "bench-grading.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    points = {task: value for task, value, _ in grade.tasks_of("char-rnn")}
    full = sum(points.values())
    expected_hostile = {name: full - sum(points[task] for task in lost)
                        for name, lost in hostile.LOST.items() if name in hostile_names}
    exact = sum(totals[name] == value for name, value in expected_hostile.items())
    rows = [
        ["class", f"{args.honest} honest + {len(hostile_names)} hostile char-rnn notebooks, "
                  f"--timeout {args.timeout}, --workers {args.workers}"],
        ["whole class (feedback pages and class report included)", f"{seconds:.1f} s"],
        ["grades.csv", f"{len(csv_rows)} rows of {len(rows)} students"],
        ["honest rows at their points", f"{result['honest_rows_at_their_points']} of "
                                        f"{args.honest}"],
        ["longest honest notebook", f"{result['longest_honest']:.1f} s"],
        ["longest hostile notebook", f"{result['longest_hostile'][0]:.1f} s "
                                     f"({result['longest_hostile'][1]}; bound {bound:g} s)"],
        ["grading worker's peak memory", f"{result['grader_worker_peak_mb']:.0f} MB"],
        ["the grader's own peak memory", f"{result['this_process_peak_mb']:.0f} MB"],
        ["hostile notebooks at exactly their points (the solution's, less the tasks each "
         "attacks)", f"{exact} of {len(expected_hostile)}"],
        [f"hostile notebooks' totals (of {full:g})", ", ".join(
            f"{name} {total:g}" for name, total in result["hostile_totals"].items())],
    ]
    print("\n| measure | value |\n|---|---|\n"
          + "".join(f"| {name} | {value} |\n" for name, value in rows) + f"\nwrote {path}")
    as_stated = (args.honest, args.timeout, args.workers, args.no_hostile) == (20, 5, 1, False)
    record("exercises/grading", f"{args.honest}+{len(hostile_names)}", ["measure", "value"],
                 rows, notes=[
                     "Peak memory: each process's resident high-water mark; the sandboxes "
                     "are bounded on their own.",
                     "The sleeper's cells ignore the alarm and sleep: only the notebook's "
                     "bound ends it."], full=as_stated)
    return 0


def loop(args):
    """Grading alone against grading with the instructor's loop, on one class."""
    with tempfile.TemporaryDirectory(prefix="rnn-labs-bench-loop-") as scratch:
        folder = Path(scratch) / "class"
        folder.mkdir()
        for name, book, _ in honest_notebooks(args.honest):
            nbformat.write(book, folder / f"{name}.ipynb")
        timings = {}
        for label, extra in (("grading alone", {"feedback": False, "report": False}),
                             ("with feedback, class report, similar pairs", {})):
            started = time.perf_counter()
            output, _, rows, _ = grade.grade("char-rnn", folder, Path(scratch) / label,
                                             timeout=args.timeout, workers=args.workers,
                                             log=lambda *_: None, **extra)
            timings[label] = round(time.perf_counter() - started, 1)
            print(f"{label}: {timings[label]:.1f} s", flush=True)
        pages = len(list((output / "feedback").glob("*.html")))
        started = time.perf_counter()
        grade.class_report(output, "char-rnn", grade.tasks_of("char-rnn"), rows, 0.8, True)
        report_seconds = time.perf_counter() - started
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "notebooks": args.honest, "workers": args.workers, "timeout": args.timeout,
              "seconds": timings, "feedback_pages": pages,
              "class_report_seconds": round(report_seconds, 1)}
    path = REPOSITORY / "reports" / "bench-grading-loop.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    alone, with_loop = timings.values()
    print(f"{args.honest} notebooks: alone {alone:.1f} s, with the loop {with_loop:.1f} s "
          f"({with_loop / alone:.2f}×; {pages} feedback pages; the class report alone "
          f"{report_seconds:.1f} s); wrote {path}")
    per_page = (with_loop - alone - report_seconds) / max(pages, 1)
    rows = [["class", f"{args.honest} honest char-rnn notebooks (the solution and its "
                      f"deliberate mistakes, in turn), --timeout {args.timeout}, "
                      f"--workers {args.workers}"],
            ["grading alone", f"{alone:.1f} s"],
            ["with feedback pages, class report and similar pairs",
             f"{with_loop:.1f} s ({with_loop / alone:.2f}×)"],
            ["the class report, similarity included", f"{report_seconds:.1f} s"],
            ["feedback pages", f"{pages}, about {per_page:.2f} s each"]]
    full = (args.honest, args.timeout, args.workers, args.no_hostile) == (60, 5, 1, True)
    record("exercises/grading-loop", f"{args.honest}", ["measure", "value"], rows,
                 notes=["A feedback page is nbgrader's HTML export of the graded notebook."],
                 full=full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
