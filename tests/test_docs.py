"""The documentation cannot drift from the code: every relative link and #anchor of every
Markdown page resolves, every `make` target a page names exists, and every command line a
page shows (`python -m labs…`, `python -m bench…`, `exercises/grade.py`) parses with its
program's own options, a dry check that runs nothing."""

import json
import re
import shlex
import subprocess
import sys

import pytest

from conftest import REPOSITORY, load_docs_build

sys.path.insert(0, str(REPOSITORY))

PAGES = sorted(path for path in REPOSITORY.rglob("*.md")  # what runs write is not a page
               if not {".venv", "node_modules", ".pytest_cache"} & set(path.parts)
               and not (path.relative_to(REPOSITORY).parts[0] in ("reports", "models")
                        and path.name != "README.md"))
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
COMMAND = re.compile(r"(?:\.venv/bin/)?python3? (?:-m (labs[\w.]*|bench[\w.]*|demo)|"
                     r"(exercises/grade\.py))((?: +[^#`\n|;&]+)?)")


def relative(path):
    return path.relative_to(REPOSITORY).as_posix()


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[|\]\([^)]*\)", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", path.read_text("utf-8")), re.M):
        base = slug(heading)
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found


def links(path):
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def code(path):
    """The page's code: fenced blocks and inline spans (not a generated sample: a model's
    text is not a command, even where Nietzsche writes "make of")."""
    text = re.sub(r"<!-- samples: [^>]*-->.*?<!-- /samples -->", "",
                  path.read_text(encoding="utf-8"), flags=re.S)
    return [*FENCE.findall(text), *re.findall(r"`([^`\n]+)`", FENCE.sub("", text))]


def broken_links(path):
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        destination = (path.parent / file).resolve() if file else path
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target} (no such heading)")
    return broken


def make_targets():
    help_text = subprocess.run(["make", "-s", "-C", str(REPOSITORY), "-n", "help"],
                               capture_output=True, text=True).stdout
    makefile = (REPOSITORY / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z0-9-]+):", makefile, re.M)), help_text


def named_targets(path):
    names = set()
    for snippet in code(path):
        for line in snippet.splitlines():
            line = re.sub(r"(^|\s)#.*", "", line)  # a shell comment is prose
            for match in re.finditer(r"(?:^|[\s;&(])make ((?:[a-z0-9-]+ ?)+)", line):
                names |= {word for word in match.group(1).split() if "=" not in word}
    return names


def placeholder(match):
    """A page's ``<corpus>``, ``<run id>``… as a value the parser accepts."""
    return {"<corpus>": "leopardi"}.get(match.group(0), "x")


def commands(path):
    """(program, argv) of every command line the page shows."""
    found = []
    for snippet in code(path):
        for line in snippet.replace("\\\n", " ").splitlines():
            for module, script, rest in COMMAND.findall(line):
                try:
                    argv = shlex.split(re.sub(r"<[^<>]*>", placeholder, rest.strip()))
                except ValueError:
                    continue
                if argv:  # a bare program name is a mention, not a command line
                    found.append((module or script, argv))
    return found


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_relative_link_and_anchor_resolves(page):
    assert broken_links(page) == []


def test_the_link_check_sees_a_broken_link_and_a_broken_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [lost](#nowhere) "
                    "[web](https://example.org)\n")
    assert broken_links(page) == ["missing.md (no such file)", "#nowhere (no such heading)"]


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_make_target_a_page_names_exists(page):
    targets, _ = make_targets()
    assert sorted(named_targets(page) - targets) == []


def test_the_target_check_sees_a_missing_target(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Run `make spam QUICK=1`, then\n\n```bash\nmake poetry-tune\nmake nope\n```\n")
    targets, _ = make_targets()
    assert named_targets(page) == {"spam", "poetry-tune", "nope"}
    assert named_targets(page) - targets == {"nope"}


class DryRun(Exception):
    """Raised in place of running the command, once its options parsed."""


def main_of(program):
    import importlib

    if program == "exercises/grade.py":
        return importlib.import_module("exercises.grade").main
    for name in (f"{program}.cli", f"{program}.app", program):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, "main"):
            return module.main
    raise AssertionError(f"no program {program}")


PROGRAMS = ("labs.spam", "labs.poetry", "labs.gpt2", "labs.words", "labs.char_rnn",
            "labs.data", "bench.run", "bench.gpt2", "bench.backends", "bench.demo",
            "bench.grading", "demo",
            "exercises/grade.py")
# Options of the other tools the pages show (git clone, pip install).
FOREIGN = {"--depth", "--quiet", "--extra-index-url"}


def options_of(program):
    """Every option of ``program`` and of its subcommands, read from its parser."""
    import argparse

    found = set()
    original = argparse.ArgumentParser.parse_args

    def collect(parser, *arguments, **keywords):
        stack = [parser]
        while stack:
            current = stack.pop()
            for action in current._actions:
                found.update(option for option in action.option_strings
                             if option.startswith("--"))
                if isinstance(action, argparse._SubParsersAction):
                    stack.extend(action.choices.values())
        raise DryRun()

    argparse.ArgumentParser.parse_args = collect
    try:
        main_of(program)([])
    except (DryRun, SystemExit):
        pass
    finally:
        argparse.ArgumentParser.parse_args = original
    return found


def named_options(path):
    return {option for snippet in code(path)
            for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", snippet)}


def parse(program, argv, monkeypatch):
    """Parse ``argv`` as ``program`` does, and stop once it is parsed: None, or the parser's
    one-line error."""
    import argparse

    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, *arguments, **keywords):
        original(parser, *arguments, **keywords)
        raise DryRun()

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    try:
        main_of(program)(argv)
    except DryRun:
        return None
    except SystemExit as exit:
        return None if exit.code in (0, None) else str(exit.code)
    finally:
        monkeypatch.undo()
    raise AssertionError(f"{program} {argv} never parsed its options")


def all_commands():
    return [(relative(page), program, argv) for page in PAGES
            for program, argv in commands(page)]


@pytest.mark.parametrize("page, program, argv", all_commands(),
                         ids=[f"{page}:{program} {' '.join(argv)}"[:90]
                              for page, program, argv in all_commands()])
def test_every_command_a_page_shows_parses(page, program, argv, monkeypatch, capsys):
    error = parse(program, argv, monkeypatch)
    message = capsys.readouterr().err.strip().splitlines()
    assert error is None and not [line for line in message if "error:" in line], (
        f"{page}: python -m {program} {' '.join(argv)}: {error or message[-1]}")


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_option_a_page_names_exists(page):
    known = set().union(*(options_of(program) for program in PROGRAMS)) | FOREIGN
    assert sorted(named_options(page) - known) == []


def test_the_option_check_sees_a_removed_option(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Give `--trials 4` or `--no-such-option`.\n")
    known = options_of("labs.poetry")
    assert "--trials" in known and named_options(page) - known == {"--no-such-option"}


def test_the_command_check_sees_a_removed_option(monkeypatch, capsys):
    assert parse("labs.poetry", ["train", "--corpus", "leopardi"], monkeypatch) is None
    capsys.readouterr()
    parse("labs.poetry", ["train", "--no-such-option"], monkeypatch)
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


# ---------------------------------------------------------------- results tables (make docs)
docs_build = load_docs_build()


def test_every_results_table_is_what_its_results_files_give():
    stale = [relative(page) for page in docs_build.stale()]
    assert not stale, f"run make docs (a results table is never edited by hand): {stale}"


def test_the_results_check_sees_a_table_edited_by_hand(tmp_path):
    results = {"lab": "words/nietzsche", "run": "20261206-120000-lstm", "kind": "full",
               "date": "2026-12-06", "machine": "a CPU, 2 threads", "versions": {"python": "3"},
               "columns": ["tokens", "bits/char"], "rows": [["words", "2.175"]],
               "headline": "words: 2.175 bits/char", "notes": []}
    folder = tmp_path / "labs" / "words"
    (folder / "results").mkdir(parents=True)
    (folder / "results" / docs_build.file_name(results)).write_text(json.dumps(results))
    page = folder / "README.md"
    page.write_text("# Words\n\n<!-- results: words/nietzsche -->\n<!-- /results -->\n"
                    "Headline: <!-- headline: words/nietzsche --><!-- /headline -->\n"
                    "<!-- samples: words/nietzsche -->\n<!-- /samples -->\n")
    assert "No samples recorded yet" in docs_build.render(page.read_text(), tmp_path, page)
    results["samples"] = [{"label": "greedy", "text": "the will to power is"}]
    (folder / "results" / docs_build.file_name(results)).write_text(json.dumps(results))
    page.write_text(docs_build.render(page.read_text(), tmp_path, page))
    assert "| words | 2.175 |" in page.read_text() and "words: 2.175 bits/char" in page.read_text()
    assert "*greedy* (words/nietzsche, run `20261206-120000-lstm`):\n\n```text\nthe will to " \
        "power is\n```" in page.read_text()
    assert docs_build.stale(tmp_path) == []
    for written, typed in (("| words | 2.175 |", "| words | 2.075 |"),
                           ("words: 2.175 bits/char", "words: 2.0 bits/char"),
                           ("the will to power is", "the will to power was")):
        page.write_text(page.read_text().replace(written, typed))
        assert docs_build.stale(tmp_path) == [page]
        page.write_text(docs_build.render(page.read_text(), tmp_path, page))


def test_a_full_run_writes_its_results_and_make_docs_records_it_a_quick_one_never(tmp_path,
                                                                                 monkeypatch):
    """A full run is recorded only when made with its make target's options: this one,
    120 iterations of a small model, is skipped in one line; with a target that runs it so
    (a stand-in for make char-rnn's 300,000 iterations), it is recorded, once. A quick run
    is never a result: only its time is recorded (README.md's times), when it was made as
    the target's QUICK=1 makes it."""
    from labs.char_rnn import cli as char_rnn

    reports = tmp_path / "reports"
    small = ["--iterations", "120", "--seq-length", "10", "--hidden", "8"]
    for extra in (small, ["--quick"]):
        char_rnn.main([*extra, "--reports-dir", str(reports)])
    written = {json.loads(path.read_text())["kind"]: json.loads(path.read_text())
               for path in reports.glob("char_rnn/leopardi/runs/*/results.json")}
    assert set(written) == {"full", "quick"}
    full = written["full"]
    assert full["rows"][0][:2] == ["leopardi", "120"] and "bits/char held out" in full["headline"]
    assert {"python", "numpy"} <= set(full["versions"]) and full["machine"]
    assert full["settings"]["iterations"] == 120 and full["settings"]["hidden"] == 8
    assert full["seconds"] > 0  # the run's wall time, for the README's times
    assert [sample["label"].split(" (")[0] for sample in full["samples"]] == [
        "after 15 iterations", "after 120 iterations"]  # what the page shows of the run
    said = []
    quick_record = tmp_path / "labs" / "char_rnn" / "results" / "quick--leopardi.json"
    assert docs_build.collect(reports, tmp_path, log=said.append) == [quick_record]
    assert said == [f"skipped char_rnn/leopardi run {full['run']}: it was made with "
                    f"--hidden 8 (make char-rnn: 128), --iterations 120 (make char-rnn: "
                    f"300000), --seq-length 10 (make char-rnn: 25)"]
    quick = docs_build.newest_quick("char_rnn/leopardi", tmp_path)
    assert quick["seconds"] == written["quick"]["seconds"] > 0 and "rows" not in quick
    assert docs_build.newest("char_rnn/leopardi", tmp_path) is None  # never a result
    assert docs_build.timing(["char_rnn/leopardi"], tmp_path) == (
        f"full run not timed yet (quick: {docs_build.duration(quick['seconds'])})")
    char_rnn.main(["--quick", "--hidden", "8", "--reports-dir", str(reports)])
    said.clear()
    assert docs_build.collect(reports, tmp_path, log=said.append) == []
    assert said[-1].startswith("skipped the time of char_rnn/leopardi run ") and \
        said[-1].endswith("--hidden other than make char-rnn QUICK=1's")
    monkeypatch.setattr(docs_build, "TARGETS", [
        (r"char_rnn/(?P<corpus>\w+)", "labs.char_rnn.cli", "--corpus {corpus} " + " ".join(small),
         "make char-rnn")])
    [recorded] = docs_build.collect(reports, tmp_path)
    assert recorded == (tmp_path / "labs" / "char_rnn" / "results" /
                        f"leopardi--{full['run']}.json")
    assert docs_build.newest("char_rnn/leopardi", tmp_path)["run"] == full["run"]
    assert docs_build.collect(reports, tmp_path) == []  # once
    assert docs_build.timing(["char_rnn/leopardi"], tmp_path) == (
        f"{docs_build.duration(full['seconds'])} (quick: "
        f"{docs_build.duration(quick['seconds'])})")


def test_a_lab_started_as_a_module_counts_its_imports_in_its_wall_time(tmp_path):
    """README's times are what a reader's clock shows: ``python -m labs.<lab>`` counts from
    the package's import (TensorFlow's seconds included), not from the command's start.
    Here two seconds pass between the import and the command."""
    started = ("import time, runpy, sys; sys.orig_argv = [sys.executable, '-m', "
               "'labs.char_rnn']; import labs; time.sleep(2); "
               "sys.argv = ['labs.char_rnn', '--quick', '--iterations', '20', '--reports-dir', "
               f"{str(tmp_path)!r}]; runpy.run_module('labs.char_rnn', run_name='__main__', "
               "alter_sys=True)")
    result = subprocess.run([sys.executable, "-c", started], cwd=REPOSITORY,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = tmp_path.glob("char_rnn/leopardi/runs/*/results.json")
    assert json.loads(path.read_text())["seconds"] >= 2


def test_make_docs_never_records_what_is_not_a_result():
    """Not finite, a test preset's row, a model worse than guessing, fewer cells than the
    recorded run, a headline whose number the table does not hold: each refused, saying
    why."""
    recorded = docs_build.newest("char_rnn/leopardi")
    expected, _ = docs_build.target_settings("char_rnn/leopardi")

    def results(rows, headline=None, lab="char_rnn/leopardi"):
        return {**recorded, "lab": lab, "run": "29991231-000000-h128", "rows": rows,
                "headline": recorded["headline"] if headline is None else headline,
                "settings": expected}

    good = recorded["rows"]
    assert docs_build.refusal(results(good)) is None
    infinite = [[*good[0][:3], "inf", *good[0][4:]]]
    assert "not finite" in docs_build.refusal(results(infinite, "held-out loss inf nats/char"))
    worse = [[*good[0][:3], "4.5 (above uniform: not a result)", *good[0][4:]]]
    assert "not a result" in docs_build.refusal(results(worse, "held-out loss 4.5"))
    assert "headline holds a number" in docs_build.refusal(results(good, "held-out loss 1.0"))
    gpt2 = docs_build.newest("gpt2/nietzsche/compare")
    blanked = [[row[0], *["" for _ in row[1:]]] for row in gpt2["rows"]]
    blanked[0][4] = "TEST PRESET, not a result"
    assert "not a result" in docs_build.refusal({**gpt2, "rows": blanked})
    blanked[0][4] = "1.9"
    assert "fewer than the recorded run" in docs_build.refusal({**gpt2, "rows": blanked})


def test_a_results_file_edited_alone_fails_the_docs_check(tmp_path):
    """The headline is checked against its own results file's table: a number changed in one
    and not the other fails ``--check`` (the page's table alone would still render)."""
    results = dict(docs_build.newest("char_rnn/leopardi"))
    folder = tmp_path / "labs" / "char_rnn" / "results"
    folder.mkdir(parents=True)
    path = folder / docs_build.file_name(results)
    path.write_text(json.dumps(results))
    assert docs_build.inconsistent(tmp_path) == []
    number = re.search(r"\d+\.\d+", results["headline"]).group(0)  # the headline's first
    assert any(number in cell for row in results["rows"] for cell in row)
    results["rows"] = [[cell.replace(number, f"{float(number) - 0.1:.2f}") for cell in row]
                       for row in results["rows"]]
    path.write_text(json.dumps(results))
    assert docs_build.inconsistent(tmp_path) == [path]


def test_reports_readme_names_the_folders_the_labs_write():
    """Every ``<lab>/runs/<id>/`` folder reports/README.md names is one a lab starts runs in
    (labs.runs.start), and every such lab is named there (it once named char_rnn_numpy/,
    poetry/<corpus>/compare.md, and no GPT-2)."""
    started = set()
    for source in (REPOSITORY / "labs").rglob("*.py"):
        for key in re.findall(r'runs\.start\(f?"([^"]+)"', source.read_text(encoding="utf-8")):
            started.add(re.sub(r"\{[^}]*corpus\}", "<corpus>", key))
    started.add("words/<corpus>")  # labs.words names its runs with lab_name(corpus, ...)
    started |= {"poetry/<corpus>/tune", "poetry/<corpus>/tune-long"}  # tune.tune_lab(args)
    named = set(re.findall(r"`([\w<>/-]+)/runs/<id>/", (REPOSITORY / "reports" / "README.md")
                           .read_text(encoding="utf-8")))
    assert named - {"<lab>"} == started


# ---------------------------------------------------------------- numbers typed by hand
@pytest.mark.parametrize("page", [relative(path) for path in docs_build.checked_pages()])
def test_no_measured_number_is_typed_by_hand_on_a_page(page):
    """A measured number in a page's prose comes from a results file through make docs, or it
    goes to a dated page of docs/history/ (the labs' constants are allowed: docs/build.py's
    CONSTANTS)."""
    assert docs_build.hand_typed_numbers((REPOSITORY / page).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", [relative(path) for path in docs_build.student_pages()])
def test_a_students_page_has_no_sentence_too_long_to_read_aloud(page):
    assert docs_build.long_sentences((REPOSITORY / page).read_text(encoding="utf-8")) == []


def test_the_sentence_check_sees_the_135_word_sentence_of_2026_12_07():
    """The spam page's longest sentence of 2026-12-07 ("Neural models that read what the
    n-gram models read ..."), as a list item in a paragraph of shorter ones."""
    sentence = " ".join(["Neural models that read what the n-gram models read"] + ["word"] * 125)
    text = f"# Page\n\nA short one. Another.\n\n- **Input.** {sentence}. Then a short one.\n"
    assert [words for words, _ in docs_build.long_sentences(text)] == [136]
    assert docs_build.long_sentences(f"<!-- results: spam -->\n{sentence}.\n<!-- /results -->") \
        == []


# Numbers that had drifted from the pages' own tables on 2026-12-07 (issue #51).
DRIFTED = ["the GRU takes 0.7–0.8 of the time",
           "(hybrid: 2.7× the time of the spaCy Bi-GRU)",
           "Adding characters lifts the Bi-GRU from 0.925 to 0.954.",
           "the tuned configuration reaches 1.35 nats … in 0.43× the course model's time",
           "without it, every epoch took 1.2-1.5 s",
           "make spam      # runs a lab (QUICK=1: a smoke run of about a minute)",
           "its best (1.523) after 827 s of training"]


@pytest.mark.parametrize("sentence", DRIFTED)
def test_the_number_check_sees_each_drifted_number(sentence):
    text = f"# A page\n\nSome prose.\n\n{sentence}\n"
    if sentence.startswith("make "):
        text = f"# A page\n\n```bash\n{sentence}\n```\n"
    assert docs_build.hand_typed_numbers(text), sentence
    generated = f"<!-- results: spam -->\n{sentence}\n<!-- /results -->\n"
    assert docs_build.hand_typed_numbers(generated) == []
