"""``make docs``: every lab page's results tables, written from committed results files.

    python docs/build.py            # copy the full runs' results into labs/<lab>/results/,
                                    # then rewrite every page's tables from them
    python docs/build.py --check    # exit 1, naming the page, when a table differs from what
                                    # its results files give (tests/test_docs.py runs it)

A full run of a lab writes ``results.json`` in its report (``labs.runs.write_results``: the
table, the run id, the date, the machine, the versions). A page marks where a table goes::

    <!-- results: poetry/leopardi poetry/nietzsche -->
    (generated: do not edit)
    <!-- /results -->

and the table between the marks is the newest committed results file of each lab named, row
after row, with a line saying which run on which machine measured it. A number typed into
the table by hand is undone by ``make docs`` and fails the suite.
"""

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
MARK = re.compile(r"(<!-- results: (?P<labs>[^>]+?) -->\n)(?P<table>.*?)(<!-- /results -->)",
                  re.S)
# One number in a line of text (README.md's table of labs): the results files' headlines.
HEADLINE = re.compile(r"(<!-- headline: (?P<labs>[^>]+?) -->)(?P<text>[^\n]*?)(<!-- /headline -->)")


def results_folder(lab, repository=REPOSITORY):
    """``labs/<package>/results/``: where a lab's committed results files live."""
    return repository / "labs" / lab.split("/")[0] / "results"


def file_name(results):
    """``<lab key>--<run id>.json``: one file per run, the newest last when sorted."""
    key = results["lab"].split("/", 1)[-1].replace("/", "-")
    return f"{key}--{results['run']}.json"


def full_runs(reports_root):
    """The results of every complete full run under ``reports_root``."""
    for path in sorted(Path(reports_root).glob("**/runs/*/results.json")):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            status = json.loads((path.parent / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if results.get("kind") == "full" and status.get("status") == "complete":
            yield results


def collect(reports_root, repository=REPOSITORY):
    """Copy each complete full run's results into its lab's results folder (once)."""
    copied = []
    for results in full_runs(reports_root):
        target = results_folder(results["lab"], repository) / file_name(results)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                              encoding="utf-8")
            copied.append(target)
    return copied


def newest(lab, repository=REPOSITORY):
    """The newest committed results of ``lab`` (``poetry/leopardi``), or None."""
    results = [json.loads(path.read_text(encoding="utf-8"))
               for path in results_folder(lab, repository).glob("*.json")]
    results = [entry for entry in results if entry["lab"] == lab]
    return max(results, key=lambda entry: entry["run"]) if results else None


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(labs, repository=REPOSITORY, page=None):
    """The Markdown between a page's marks: one table of the newest results of ``labs``."""
    found = [(lab, newest(lab, repository)) for lab in labs]
    missing = [lab for lab, results in found if results is None]
    if missing:
        return ("No full run of " + ", ".join(f"`{lab}`" for lab in missing) + " has been "
                "recorded yet: make one with the command this page gives, then `make docs`.\n")
    columns = found[0][1]["columns"]
    lines = ["| " + " | ".join(map(cell, columns)) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for _, results in found:
        if results["columns"] != columns:
            raise ValueError(f"{results['lab']}: its columns differ from {found[0][0]}'s; put "
                             "them in tables of their own")
        lines += ["| " + " | ".join(map(cell, row)) + " |" for row in results["rows"]]
    lines.append("")
    for _, results in found:  # what the run said about itself: data, settings, device
        lines += [f"- {cell(note)}" for note in results.get("notes", [])]
    if any(results.get("notes") for _, results in found):
        lines.append("")
    for lab, results in found:
        path = results_folder(lab, repository) / file_name(results)
        link = Path(os.path.relpath(path, page.parent if page else repository)).as_posix()
        versions = ", ".join(f"{name} {version}" for name, version in results["versions"].items())
        lines.append(f"Measured by run `{results['run']}` ({lab}) on {results['date']}, "
                     f"{results['machine']}; {versions} ([results file]({link})).  ")
    return "\n".join(lines).rstrip() + "\n"


def headline(labs, repository=REPOSITORY):
    """The headlines of the newest results of ``labs``, joined, or what to run."""
    found = [newest(lab, repository) for lab in labs]
    if None in found:
        return "no full run recorded yet"
    return "; ".join(cell(results["headline"]) for results in found)


def render(text, repository=REPOSITORY, page=None):
    """``text`` with every marked table and headline rewritten."""
    text = MARK.sub(lambda match: match.group(1) + table(match.group("labs").split(),
                                                         repository, page)
                    + match.group(4), text)
    return HEADLINE.sub(lambda match: match.group(1) + headline(match.group("labs").split(),
                                                                repository)
                        + match.group(4), text)


def pages(repository=REPOSITORY):
    """The pages with a results table: README.md, the labs' pages and docs/."""
    candidates = [repository / "README.md", *repository.glob("labs/*/README.md"),
                  *repository.glob("docs/*.md")]
    return sorted(path for path in candidates
                  if path.is_file() and (MARK.search(path.read_text(encoding="utf-8"))
                                         or HEADLINE.search(path.read_text(encoding="utf-8"))))


def stale(repository=REPOSITORY):
    """The pages whose tables differ from what their results files give."""
    return [page for page in pages(repository)
            if render(page.read_text(encoding="utf-8"), repository, page)
            != page.read_text(encoding="utf-8")]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python docs/build.py", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a page's table is out of date")
    parser.add_argument("--reports-dir", type=Path, default=REPOSITORY / "reports",
                        help="where the runs are (default: reports/)")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for page in out_of_date:
            print(f"{page.relative_to(REPOSITORY)}: a results table differs from its results "
                  "file: run make docs (a table is never edited by hand)", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in collect(args.reports_dir):
        print(f"recorded {path.relative_to(REPOSITORY)}")
    for page in pages():
        text = page.read_text(encoding="utf-8")
        rendered = render(text, REPOSITORY, page)
        if rendered != text:
            temporary = page.with_name(f".{page.name}.tmp")
            temporary.write_text(rendered, encoding="utf-8")
            shutil.move(temporary, page)
            print(f"rewrote the tables of {page.relative_to(REPOSITORY)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
