"""``make demo`` in a real browser: headless Chromium driven by Playwright, on the models that
the notebooks' quick runs trained (``executed_notebooks``: a quick spam run with its
baselines, quick Leopardi runs, the tiny random GPT-2). The page's numbers are compared
with the command line's on the same model and input."""

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPOSITORY
from demo.browser import answered
from labs.browser import find_browser

# Found, not imported: Gradio takes seconds to import, and only the process that runs these
# tests (one, as they share the notebooks' runs) needs it.
if not all(importlib.util.find_spec(name) for name in ("gradio", "playwright")):
    if os.environ.get("CI"):  # CI installs them (.ci/run): there, missing is a failure
        raise ImportError("CI runs the demo's tests: Gradio or Playwright is missing")
    pytest.skip("the demo's browser tests need Gradio and Playwright: run `make demo-setup` "
                "once", allow_module_level=True)

MESSAGE = "WINNER!! You have won a 1000 GBP prize. Call 09061701461 to claim now"
OTHER_MESSAGE = "Are we still meeting for lunch at one? I'll bring the notes"
SEED_TEXT = "Sempre caro mi fu quest'ermo colle,\n"
WAIT_MS = 120_000


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_browser(),
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


def serve(models_dir, preset=None):
    from demo.app import build, launch

    app = build(models_dir, preset)
    return app, launch(app)


@pytest.fixture(scope="module")
def demo(executed_notebooks):
    output, _ = executed_notebooks
    app, url = serve(output / "models", output / "tiny-gpt2")
    yield url, output / "models"
    app.close()


@pytest.fixture
def page(browser, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.goto(demo[0])
    yield page
    context.close()


def classify(page, text):
    """Type ``text``, classify, wait for the answer; ``(status, {model: row})``."""
    page.fill("#spam-message textarea", text)
    status, _ = answered(page, "#spam-status", "answered|⚠️",
                         lambda: page.click("#spam-classify"), WAIT_MS)
    return status, read_table(page, status)


def read_table(page, status):
    """``{model: row}`` of the spam table that ``status`` announced (empty after an error)."""
    if "answered" not in status:
        return {}
    count = int(status.split()[0])
    page.wait_for_function(f"document.querySelectorAll('#spam-table [data-testid^=cell-]')"
                           f".length >= {count * 7} && document.querySelector("
                           "'#spam-table [data-testid=cell-0-0]').innerText.trim() !== ''",
                           timeout=WAIT_MS)
    cells = page.evaluate("""() => [...document.querySelectorAll(
        '#spam-table [data-testid^=cell-]')].map(c => [c.dataset.row, c.dataset.col,
        c.innerText.trim()])""")
    rows = {}
    for row, column, text_ in cells:
        rows.setdefault(int(row), {})[int(column)] = text_
    table = [[cells_[column] for column in sorted(cells_)] for _, cells_ in sorted(rows.items())]
    assert len(table) == count
    return {row[0]: row for row in table}


def predicted(models_dir, model, text, capsys):
    """``python -m labs.spam predict`` on the same run: (label, score as printed)."""
    from labs.spam import cli

    capsys.readouterr()
    cli.main(["predict", "--models-dir", str(models_dir), "--model", model, text])
    label, score, _ = capsys.readouterr().out.strip().split("\t", 2)
    return label, score


def test_the_spam_table_is_every_saved_model_and_equals_predict(page, demo, capsys):
    from labs import runs
    from labs.spam.lab import saved_models

    url, models_dir = demo
    assert "QUICK run" in page.inner_text("#spam-run")  # the notebooks' run is a quick one
    status, table = classify(page, MESSAGE)
    assert "answered" in status, status
    folder = runs.latest(models_dir / "spam", "make spam")[0]
    assert sorted(table) == saved_models(folder)
    assert {"tfidf-svm_text", "tfidf-logreg_text", "tfidf-words-default-lr_text"} <= set(table)
    for model, row in table.items():
        label, score = predicted(models_dir, model, MESSAGE, capsys)
        assert float(row[3]) == pytest.approx(float(score), abs=1e-12), model
        assert row[6] == label, model
    comparison = json.loads((folder / "comparison.json").read_text())
    assert list(table) == [row["model"] for row in comparison if row["model"] in table]
    why = page.inner_text("#spam-why")
    assert "tfidf-logreg_text" in why and "contribution" in why
    assert "Keras backend" in page.inner_text("#footer") and "CPU" in page.inner_text("#footer")


def test_the_logistic_regressions_contributions_are_exact(demo):
    from labs.spam.lab import load_saved

    model, _ = load_saved("tfidf-logreg_text", demo[1])
    contributions, logit = model.contributions(MESSAGE, top=10_000)
    assert sum(value for _, value in contributions) + model.model.intercept_[0] == \
        pytest.approx(logit)
    assert logit == pytest.approx(model.model.decision_function(model.features([MESSAGE]))[0])
    magnitudes = [abs(value) for _, value in contributions]
    assert magnitudes == sorted(magnitudes, reverse=True)


@pytest.mark.parametrize("method, parameter", [("greedy", None), ("temperature", "1.0")])
def test_the_poetry_tab_writes_what_generate_writes(page, demo, capsys, method, parameter):
    """Greedy, and temperature sampling from the same random seed: the page's text is the
    command line's, character for character (stateful, as the page generates)."""
    from labs.poetry import cli

    page.get_by_role("tab", name="Poetry generator").click()
    page.wait_for_function("(document.querySelector('#poetry-run input') || {value: ''})"
                           ".value.includes('published')", timeout=WAIT_MS)
    run_label = page.input_value("#poetry-run input")
    assert "QUICK run" in run_label  # the decoy: published as full, trained with --quick
    assert "QUICK run" in page.inner_text("#poetry-note")
    run_id = run_label.split()[0]
    page.fill("#poetry-seed textarea", SEED_TEXT)
    page.locator("#poetry-method").get_by_label(method).check()
    if parameter:
        page.fill("#poetry-parameter input", parameter)
    page.fill("#poetry-random-seed input", "7")
    page.fill("#poetry-length input[type=number]", "150")
    page.press("#poetry-length input[type=number]", "Tab")
    status, _ = answered(page, "#poetry-status", "characters/s",
                         lambda: page.click("#poetry-write"), WAIT_MS)
    assert "150 characters" in status
    text = page.input_value("#poetry-text textarea")
    capsys.readouterr()
    cli.main(["generate", "--corpus", "leopardi", "--models-dir", str(demo[1]), "--run", run_id,
              "--method", method, "--generation", "stateful", "--seed-text", SEED_TEXT,
              "--length", "150", "--random-seed", "7"]
             + (["--temperature", parameter] if parameter else []))
    assert text == capsys.readouterr().out.rstrip("\n")


@pytest.mark.parametrize("text, message", [
    ("   ", "is empty"),
    ("x" * 100_000, "is 100,000 characters long"),
    ("call me\x00now", "is not text"),
], ids=["empty", "100 kB", "not text"])
def test_a_bad_message_is_one_line_in_the_page_and_the_app_keeps_serving(page, text, message):
    status, table = classify(page, text)
    assert message in status and "Traceback" not in status and table == {}
    status, table = classify(page, MESSAGE)
    assert "answered" in status and table


def test_two_browser_sessions_at_once_each_get_their_own_answer(browser, demo, capsys):
    pages = []
    for text in (MESSAGE, OTHER_MESSAGE):
        page = browser.new_context().new_page()
        page.goto(demo[0])
        page.fill("#spam-message textarea", text)
        pages.append((page, text))
    # Both requests are sent before either answer is read: the server has them together.
    for page, _ in pages:
        page.click("#spam-classify")
    for page, text in pages:
        page.wait_for_function("/answered/.test(document.querySelector('#spam-status')"
                               ".innerText) && !/processing|queue:/.test(document."
                               "querySelector('#spam-status').innerText)", timeout=WAIT_MS)
        table = read_table(page, page.inner_text("#spam-status").strip())
        label, score = predicted(demo[1], "tfidf-logreg_text", text, capsys)
        assert float(table["tfidf-logreg_text"][3]) == pytest.approx(float(score), abs=1e-12)
        assert page.input_value("#spam-message textarea") == text
        page.context.close()


def test_gpt2_tab_labels_the_test_model_and_chats(page):
    page.get_by_role("tab", name="GPT-2").click()
    assert "RANDOM TEST MODEL" in page.inner_text("#gpt2-note")
    page.fill("#gpt2-prompt textarea", "The meaning of")
    page.click("#gpt2-continue")
    page.wait_for_function("document.querySelector('#gpt2-status').innerText.includes('tokens/s')",
                           timeout=WAIT_MS)
    assert page.input_value("#gpt2-text textarea").startswith("The meaning of")
    page.fill("#gpt2-line textarea", "")
    page.press("#gpt2-line textarea", "Enter")
    page.wait_for_function("document.querySelector('#gpt2-status').innerText.includes('empty')",
                           timeout=WAIT_MS)
    page.fill("#gpt2-line textarea", "hello there")
    page.press("#gpt2-line textarea", "Enter")
    page.wait_for_function("document.querySelector('#gpt2-chat').innerText.includes('hello there')",
                           timeout=WAIT_MS)


def test_with_nothing_published_each_tab_names_the_command_that_makes_it(browser, tmp_path):
    app, url = serve(tmp_path / "models")
    try:
        page = browser.new_page()
        page.goto(url)
        assert "make spam" in page.inner_text("#spam-run")
        status, _ = classify(page, MESSAGE)
        assert "make spam" in status
        page.get_by_role("tab", name="Poetry generator").click()
        page.wait_for_function("document.querySelector('#poetry-note').innerText.includes("
                               "'make poetry')", timeout=WAIT_MS)
        page.get_by_role("tab", name="GPT-2").click()
        assert "make gpt2" in page.inner_text("#gpt2-note")
        page.close()
    finally:
        app.close()


def test_the_demo_command_refuses_bad_options_in_one_line(tmp_path):
    for arguments, expected in ((["--port", "0"], "--port"),
                                (["--gpt2-preset", str(tmp_path / "nope")], "no such folder")):
        result = subprocess.run([sys.executable, "-m", "demo", *arguments], cwd=REPOSITORY,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and expected in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3  # usage + the one error line


def test_a_served_page_is_up_within_seconds_of_the_command(tmp_path):
    """``python -m demo`` from start to a page that answers (measured; the bound is loose)."""
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "demo", "--models-dir",
                                str(tmp_path), "--port", str(port)], cwd=REPOSITORY,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert re.match(rf"serving http://127\.0\.0\.1:{port}", line), line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200
        assert time.perf_counter() - started < 90
    finally:
        process.terminate()
        process.wait(timeout=30)


def open_poetry(page):
    page.get_by_role("tab", name="Poetry generator").click()
    page.wait_for_function("(document.querySelector('#poetry-run input') || {value: ''})"
                           ".value.includes('published')", timeout=WAIT_MS)
    page.fill("#poetry-seed textarea", SEED_TEXT)


def write_status(page, box, value):
    """Type ``value`` into ``box`` (a number box's input), write; the status line."""
    page.fill(box, value)
    page.press(box, "Tab")
    status, _ = answered(page, "#poetry-status", "⚠️|characters/s",
                         lambda: page.click("#poetry-write"), WAIT_MS)
    return status


def test_every_bad_number_in_the_poetry_tab_is_one_line_naming_its_box(page):
    """Emptied, negative, past NumPy's seed range, 1e30: each a ⚠️ line that names the box
    (each was a bare "Error" in the page and a traceback in the server's log), and the
    next good request is answered."""
    open_poetry(page)
    cases = [("#poetry-parameter input", "", "its parameter (the temperature) is empty"),
             ("#poetry-parameter input", "-5", "its parameter (the temperature) must be from"),
             ("#poetry-random-seed input", "", "random seed is empty"),
             ("#poetry-random-seed input", "-5", "random seed must be from 0 to 4,294,967,295"),
             ("#poetry-random-seed input", "4294967296", "random seed must be from 0"),
             ("#poetry-random-seed input", "1e30", "random seed must be from 0")]
    for box, value, message in cases:
        status = write_status(page, box, value)
        assert status.startswith("⚠️") and message in status, (box, value, status)
        assert "\n" not in status and "--" not in status
        write_status(page, box, "3" if "seed" in box else "0.5")  # good again
    page.fill("#poetry-seed textarea", "日本")
    status = write_status(page, "#poetry-random-seed input", "3")
    assert "never saw: '日' '本'; remove them" in status and "--drop-unknown" not in status
    page.fill("#poetry-seed textarea", SEED_TEXT)
    assert "characters/s" in write_status(page, "#poetry-random-seed input", "3")


def test_the_gpt2_tabs_boxes_are_checked_and_its_slider_fits_the_model(page):
    page.get_by_role("tab", name="GPT-2").click()
    slider = page.locator("#gpt2-new-tokens input[type=number]")
    assert slider.get_attribute("max") == "64"  # the tiny model's context is 128
    page.fill("#gpt2-prompt textarea", "The meaning of")
    page.locator("#gpt2-method").get_by_label("greedy").check()
    page.fill("#gpt2-top-k input", "")  # greedy reads no top-k: an empty box is fine
    page.press("#gpt2-top-k input", "Tab")
    status, _ = answered(page, "#gpt2-status", "⚠️|tokens/s",
                         lambda: page.click("#gpt2-continue"), WAIT_MS)
    assert "tokens/s" in status, status
    for box, value, message in (("#gpt2-seed input", "", "random seed is empty"),
                                ("#gpt2-no-repeat input", "-1",
                                 "no repeated n-gram must be from 0 to 20")):
        page.fill(box, value)
        page.press(box, "Tab")
        status, _ = answered(page, "#gpt2-status", "⚠️|tokens/s",
                             lambda: page.click("#gpt2-continue"), WAIT_MS)
        assert status.startswith("⚠️") and message in status, status
        page.fill(box, "3")


def test_an_empty_or_unusable_gpt2_preset_is_refused_at_start(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"class_name": "BertBackbone"}')
    for folder, expected in (("empty", "holds no GPT-2 preset"),
                             ("other", "is not a GPT-2 preset")):
        result = subprocess.run([sys.executable, "-m", "demo", "--gpt2-preset",
                                 str(tmp_path / folder)], cwd=REPOSITORY,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_ctrl_c_while_the_demo_starts_is_one_line(tmp_path):
    """Ctrl-C in the first seconds (Gradio importing) is one line and status 130; it was a
    KeyboardInterrupt traceback from Gradio's imports. (start_lab: with Ctrl-C as a terminal
    delivers it, which a test process under xdist ignores.)"""
    import signal

    from conftest import start_lab

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start_lab("demo", ["--models-dir", str(tmp_path), "--port", str(port)])
    time.sleep(1.5)  # inside Gradio's imports
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in error, error
    assert len(error.strip().splitlines()) == 1 and "interrupted" in error
