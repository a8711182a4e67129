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
sys.path.insert(0, str(REPOSITORY))
MARK = re.compile(r"(<!-- results: (?P<labs>[^>]+?) -->\n)(?P<table>.*?)(<!-- /results -->)",
                  re.S)
# One number in a line of text (README.md's table of labs): the results files' headlines.
# What a lab produces (generated text, a prediction), from its newest results' "samples".
SAMPLES = re.compile(r"(<!-- samples: (?P<labs>[^>]+?) -->\n)(?P<table>.*?)(<!-- /samples -->)",
                     re.S)
HEADLINE = re.compile(r"(<!-- headline: (?P<labs>[^>]+?) -->)(?P<text>[^\n]*?)(<!-- /headline -->)")
# How long a make target takes (README.md's table of labs): the full runs' wall times, and
# the newest quick run's (``quick--<lab>.json``: its time only, recorded by make docs).
TIME = re.compile(r"(<!-- time: (?P<labs>[^>]+?) -->)(?P<text>[^\n]*?)(<!-- /time -->)")


# Measurements that are not a lab's, and the folder beside whose page they live.
OUTSIDE_LABS = ("exercises",)


def results_folder(lab, repository=REPOSITORY):
    """``labs/<package>/results/``: where a lab's committed results files live
    (``exercises/results/`` for the grading benchmark's, ``exercises/grading``)."""
    top = lab.split("/")[0]
    return repository / ("" if top in OUTSIDE_LABS else "labs") / top / "results"


def file_name(results):
    """``<lab key>--<run id>.json``: one file per run, the newest last when sorted."""
    key = results["lab"].split("/", 1)[-1].replace("/", "-")
    return f"{key}--{results['run']}.json"


# What make runs for each lab's results (the Makefile's targets): a run is recorded only when
# it was made with the options the lab's own parser gives that command line.
TARGETS = [
    # The char-RNN page's example, recorded like a full run (a short run on the other text).
    (r"char_rnn/nietzsche", "labs.char_rnn.cli",
     "--corpus nietzsche --iterations 20000 --hidden 64",
     "python -m labs.char_rnn --corpus nietzsche --iterations 20000 --hidden 64"),
    (r"char_rnn/(?P<corpus>\w+)", "labs.char_rnn.cli", "--corpus {corpus}", "make char-rnn"),
    (r"poetry/(?P<corpus>\w+)", "labs.poetry.cli", "train --corpus {corpus}", "make poetry"),
    (r"poetry/(?P<corpus>\w+)/compare", "labs.poetry.cli", "compare --corpus {corpus}",
     "make poetry-compare"),
    (r"poetry/(?P<corpus>\w+)/tune", "labs.poetry.cli", "tune --corpus {corpus}",
     "make poetry-tune"),
    (r"poetry/(?P<corpus>\w+)/tune-long", "labs.poetry.cli",
     "tune --corpus {corpus} --halving --trials 8 --trial-minutes course",
     "make poetry-tune-long"),
    (r"poetry/(?P<corpus>\w+)/goal", "labs.poetry.cli", "compare --goal --corpus {corpus}",
     "make poetry-goal"),
    (r"spam", "labs.spam.cli", "train", "make spam"),
    (r"words/(?P<corpus>\w+)", "labs.words.cli", "--tokens words --corpus {corpus}",
     "make words"),
    (r"words/(?P<corpus>\w+)-subword", "labs.words.cli", "--tokens subword --corpus {corpus}",
     "make words"),
    (r"words/(?P<corpus>\w+)-pytorch", "labs.words.cli", "--framework pytorch --corpus {corpus}",
     "make words-pytorch"),
    (r"gpt2/(?P<corpus>\w+)/compare", "labs.gpt2.cli", "compare --corpus {corpus}",
     "make gpt2"),
]
# Options that say where a run reads and writes, or how it is run, never what it measures.
PLACES = {"reports_dir", "models_dir", "datasets_dir", "cache_dir", "keep", "resume",
          "tensorboard", "distribute", "cpu_replicas", "verbose", "workers", "worker",
          "worker_number", "storage", "sample_every", "seed_phrase", "length", "command"}
UNFILLED = {"", "—", "not measured yet"}
NOT_A_NUMBER = re.compile(r"(?<![\w.])[-+]?(nan|inf|infinity)(?![\w.])", re.I)


def target_settings(lab, quick=False):
    """(the options its make target runs ``lab`` with, the target), or None; ``quick``: the
    target with QUICK=1 (``--quick``)."""
    import importlib
    import shlex

    for pattern, module, arguments, target in TARGETS:
        match = re.fullmatch(pattern, lab)
        if match:
            cli = importlib.import_module(module)
            parser = (getattr(cli, "build_parser", None) or cli.parser)()
            options = vars(parser.parse_args(shlex.split(arguments.format(**match.groupdict()))
                                             + (["--quick"] if quick else [])))
            return {name: plain(value) for name, value in options.items()}, target
    return None


def plain(value):
    from labs.cli import plain as as_json

    return as_json(value)


def option(name):
    return "--" + name.replace("_", "-")


def refusal(results, repository=REPOSITORY):
    """Why a complete full run's results are not recorded, in one line, or None."""
    cells = [str(cell) for row in results.get("rows", []) for cell in row]
    if any(NOT_A_NUMBER.search(cell) for cell in [*cells, results.get("headline", "")]):
        return "a number in its table is not finite"
    if any("test preset" in cell.lower() or "not a result" in cell.lower() for cell in cells):
        return "its table holds a row that is not a result (a test preset, or a model worse " \
               "than a uniform guess)"
    if not numbers_agree(results):
        return "its headline holds a number that its table does not"
    previous = newest(results["lab"], repository)
    if previous is not None and filled(results) < filled(previous):
        return (f"its table fills {filled(results)} cells, fewer than the recorded run "
                f"{previous['run']}'s {filled(previous)}")
    target = target_settings(results["lab"])
    if target is None:
        return None
    expected, make = target
    recorded = results.get("settings")
    if recorded is None:
        return "it records no options (made before runs recorded them)"
    differing = [name for name in sorted(expected) if name not in PLACES
                 and recorded.get(name, expected[name]) != expected[name]]
    if differing:
        shown = ", ".join(f"{option(name)} {recorded[name]} ({make}: {expected[name]})"
                          for name in differing)
        return f"it was made with {shown}"
    return None


def filled(results):
    return sum(str(cell).strip() not in UNFILLED for row in results["rows"] for cell in row)


NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")


def numbers_agree(results):
    """Every number of the headline is a number of the table (so neither is edited alone)."""
    numbers = {match.replace(",", "") for cell in (c for row in results["rows"] for c in row)
               for match in NUMBER.findall(str(cell))}
    return all(match.replace(",", "") in numbers
               for match in NUMBER.findall(results.get("headline", "")))


def full_runs(reports_root, kind="full"):
    """The results of every complete full (or ``kind``) run under ``reports_root``."""
    for path in sorted(Path(reports_root).glob("**/runs/*/results.json")):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            status = json.loads((path.parent / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if results.get("kind") == kind and status.get("status") == "complete":
            yield results


def collect(reports_root, repository=REPOSITORY, log=print):
    """Copy each complete full run's results into its lab's results folder (once), unless it
    is not the lab's own full run (``refusal``: said in one line)."""
    copied = []
    for results in full_runs(reports_root):
        target = results_folder(results["lab"], repository) / file_name(results)
        if target.exists():
            continue
        reason = refusal(results, repository)
        if reason:
            log(f"skipped {results['lab']} run {results['run']}: {reason}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        copied.append(target)
    for results in full_runs(reports_root, "quick"):
        target = results_folder(results["lab"], repository) / quick_name(results["lab"])
        previous = newest_quick(results["lab"], repository)
        if results.get("seconds") is None or (previous and previous["run"] >= results["run"]):
            continue
        reason = quick_refusal(results)
        if reason:
            log(f"skipped the time of {results['lab']} run {results['run']}: {reason}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({name: results.get(name) for name in QUICK_FIELDS},
                                     indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        copied.append(target)
    return copied


# A quick run is recorded for its time only (README.md says how long a smoke run takes).
QUICK_FIELDS = ("lab", "run", "kind", "date", "machine", "versions", "settings", "seconds")


def quick_name(lab):
    return "quick--" + lab.split("/", 1)[-1].replace("/", "-") + ".json"


def quick_refusal(results):
    """Why a quick run's time is not its make target's with QUICK=1, or None."""
    target = target_settings(results["lab"], quick=True)
    if target is None:
        return None
    expected, make = target
    recorded = results.get("settings") or {}
    resolved = quick_values(results["lab"])  # set by --quick itself, after parsing
    differing = [name for name in sorted(expected) if name not in PLACES | resolved
                 and recorded.get(name, expected[name]) != expected[name]]
    return (f"it was made with {', '.join(option(name) for name in differing)} other than "
            f"{make} QUICK=1's") if differing else None


def quick_values(lab):
    """The options a lab's --quick caps after parsing (its cli's ``QUICK``)."""
    import importlib

    for pattern, module, _, _ in TARGETS:
        if re.fullmatch(pattern, lab):
            return set(getattr(importlib.import_module(module), "QUICK", {}))
    return set()


def newest_quick(lab, repository=REPOSITORY):
    """The time record of the newest quick run of ``lab``, or None."""
    path = results_folder(lab, repository) / quick_name(lab)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def newest(lab, repository=REPOSITORY):
    """The newest committed results of ``lab`` (``poetry/leopardi``), or None."""
    results = [json.loads(path.read_text(encoding="utf-8"))
               for path in results_folder(lab, repository).glob("*.json")]
    results = [entry for entry in results if entry["lab"] == lab
               and entry.get("kind", "full") == "full"]
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


def samples(labs, repository=REPOSITORY):
    """The Markdown between a page's samples marks: each sample of the newest results of
    ``labs``, its label in italics and its text in a code block."""
    found = [(lab, newest(lab, repository)) for lab in labs]
    shown = [(lab, results["run"], sample) for lab, results in found if results
             for sample in results.get("samples", [])]
    if not shown:
        return ("No samples recorded yet: the newest full run of " + ", ".join(
            f"`{lab}`" for lab in labs) + " predates them; run it again, then `make docs`.\n")
    lines = []
    for lab, run, sample in shown:
        text = sample["text"].replace("```", "` ` `")
        lines += [f"*{cell(sample['label'])}* ({lab}, run `{run}`):", "", "```text", text,
                  "```", ""]
    return "\n".join(lines)


def headline(labs, repository=REPOSITORY):
    """The headlines of the newest results of ``labs``, joined, or what to run."""
    found = [newest(lab, repository) for lab in labs]
    if None in found:
        return "no full run recorded yet"
    return "; ".join(cell(results["headline"]) for results in found)


def duration(seconds):
    """A wall time as a reader plans with it: seconds under two minutes, else minutes."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def timing(labs, repository=REPOSITORY):
    """How long the make target of ``labs`` takes, full and quick (the sum of its runs)."""
    full = [newest(lab, repository) for lab in labs]
    quick = [newest_quick(lab, repository) for lab in labs]
    full_seconds = [results.get("seconds") if results else None for results in full]
    quick_seconds = [results.get("seconds") if results else None for results in quick]
    full_text = (duration(sum(full_seconds)) if None not in full_seconds
                 else "full run not timed yet")
    quick_text = (duration(sum(quick_seconds)) if None not in quick_seconds
                  else "not timed yet")
    return f"{full_text} (quick: {quick_text})"


def render(text, repository=REPOSITORY, page=None):
    """``text`` with every marked table and headline rewritten."""
    text = MARK.sub(lambda match: match.group(1) + table(match.group("labs").split(),
                                                         repository, page)
                    + match.group(4), text)
    text = SAMPLES.sub(lambda match: match.group(1) + samples(match.group("labs").split(),
                                                              repository)
                       + match.group(4), text)
    text = TIME.sub(lambda match: match.group(1) + timing(match.group("labs").split(),
                                                         repository)
                    + match.group(4), text)
    return HEADLINE.sub(lambda match: match.group(1) + headline(match.group("labs").split(),
                                                                repository)
                        + match.group(4), text)


def pages(repository=REPOSITORY):
    """The pages with a results table: README.md, the labs' pages and docs/."""
    candidates = [repository / "README.md", *repository.glob("labs/*/README.md"),
                  *repository.glob("labs/*/NOTES.md"),
                  *(repository / top / "README.md" for top in OUTSIDE_LABS),
                  *repository.glob("docs/*.md")]
    return sorted(path for path in candidates
                  if path.is_file() and any(mark.search(path.read_text(encoding="utf-8"))
                                            for mark in (MARK, HEADLINE, SAMPLES, TIME)))


def inconsistent(repository=REPOSITORY):
    """The committed results files whose headline holds a number their table does not."""
    files = [*repository.glob("labs/*/results/*.json"),
             *(path for top in OUTSIDE_LABS
               for path in (repository / top / "results").glob("*.json"))]
    return [path for path in sorted(files) if not path.name.startswith("quick--")
            and not numbers_agree(json.loads(path.read_text(encoding="utf-8")))]


def stale(repository=REPOSITORY):
    """The pages whose tables differ from what their results files give."""
    return [page for page in pages(repository)
            if render(page.read_text(encoding="utf-8"), repository, page)
            != page.read_text(encoding="utf-8")]


# ---------------------------------------------------------------- numbers typed by hand
# Every page but the dated ones of docs/history/: every measured number in its prose comes
# from a results file (a generated block, a headline), or it goes to a dated page.
# Measured-looking: a number with a unit of loss, size, time or speed, a ratio (1.9×), a
# decimal with three places (0.925: a loss, an F1), a range of decimals (0.7–0.8), or "about
# a minute".
PAGES = ("README.md", "*/README.md", "labs/*/README.md", "labs/*/NOTES.md", "docs/*.md")
GENERATED = re.compile(r"<!-- (results|headline|samples|time): [^>]*-->.*?<!-- /\1 -->",
                       re.S)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
UNIT = (r"(?:nats?|bits?(?:/char)?|seconds?|s|ms|min|minutes?|hours?|%|chars?/s|"
        r"characters/s|tokens/s|kB|MB|GB|MiB|GiB)(?![\w/])")
MEASURED = re.compile(r"(?<![\w.\-/])(?:\d[\d,]*(?:\.\d+)?[ \u00a0]?" + UNIT
                      + r"|\d+(?:\.\d+)?×|\d+\.\d{3,}|\d+\.\d+[–-]\d+\.\d+"
                      r"|\babout (?:a|an|half an?) (?:minute|hour)\b)")
# Constants of the labs, not measurements: the splits and the interval, the goal, the sizes
# of the pretrained model, the poetry comparison's budgets, the grader's limits and timeouts
# and its similarity threshold, the backends' smoke-test tolerance.
CONSTANTS = {"5%", "10%", "85%", "90%", "95%", "12.5%", "1.35 nats", "1.30 nats", "0.5 GB",
             "477 MB", "10 s", "3.10–3.13", "2.5 minutes", "1 minute", "20 MB", "256 MiB",
             "64 MiB", "1,536 MiB", "6 GiB", "2 GB", "16 MiB", "120 s", "80%", "0.02 nats"}


def prose(text):
    """A page's text outside generated blocks, code and link targets; the comments of its
    code blocks are prose (``# about 30 s`` is a claim)."""
    text = GENERATED.sub("", text)
    text = FENCE.sub(lambda block: "\n".join(line.split("#", 1)[1] if "#" in line else ""
                                             for line in block.group(0).splitlines()), text)
    return LINK_TARGET.sub("]", INLINE_CODE.sub("", text))


def hand_typed_numbers(text):
    """(line, number) of every measured-looking number of ``text``'s prose."""
    clean = prose(text)
    return [(clean[:match.start()].count("\n") + 1, match.group(0))
            for match in MEASURED.finditer(clean) if match.group(0) not in CONSTANTS]


# A student reads a lab's page aloud in one sitting: no sentence of its prose (outside
# generated blocks, code and tables) runs over about 40 words.
STUDENT_PAGES = ("README.md", "labs/*/README.md")
LONGEST_SENTENCE = 40
PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )")  # a blank line, or a list item
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(\[])")


def long_sentences(text, limit=LONGEST_SENTENCE):
    """(words, the sentence's start) of every sentence of ``text``'s prose over ``limit``."""
    text = FENCE.sub("", GENERATED.sub("", text))
    body = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith(("|", "#")))
    found = []
    for paragraph in PARAGRAPH.split(body):
        for sentence in SENTENCE_END.split(" ".join(paragraph.split())):
            if len(sentence.split()) > limit:
                found.append((len(sentence.split()), sentence[:80]))
    return found


def student_pages(repository=REPOSITORY):
    return sorted(path for pattern in STUDENT_PAGES for path in repository.glob(pattern))


def checked_pages(repository=REPOSITORY):
    """Every page whose prose ``hand_typed_numbers`` checks (not docs/history/'s, nor a
    hidden folder's, such as a virtualenv's)."""
    return sorted({path for pattern in PAGES for path in repository.glob(pattern)
                   if not path.relative_to(repository).parts[0].startswith(".")})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python docs/build.py", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a page's table is out of date")
    parser.add_argument("--reports-dir", type=Path, default=REPOSITORY / "reports",
                        help="where the runs are (default: reports/)")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date, disagreeing = stale(), inconsistent()
        for page in out_of_date:
            print(f"{page.relative_to(REPOSITORY)}: a results table differs from its results "
                  "file: run make docs (a table is never edited by hand)", file=sys.stderr)
        for path in disagreeing:
            print(f"{path.relative_to(REPOSITORY)}: its headline holds a number its table does "
                  "not: a results file is written by its lab, never edited", file=sys.stderr)
        return 1 if out_of_date or disagreeing else 0
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
