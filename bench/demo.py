"""``make demo`` measured: time to a served page, the spam tab's answer for every model, and
the poetry tab's characters per second against ``python -m labs.poetry generate``'s.

    python -m bench.demo                        # the published runs in models/
    python -m bench.demo --models-dir elsewhere/models

The page is driven in headless Chromium (Playwright), as the tests drive it; the numbers are
the page's own status lines (server side) and the browser's wall time around them. Writes
``reports/bench/demo.md``; nothing is asserted.
"""

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from demo.browser import answered
from labs.browser import find_browser
from labs.cli import MODELS_DIR, REPORTS_DIR
from labs.reports import atomic_write_text, device_line

MESSAGES = ("WINNER!! You have won a 1000 GBP prize. Call 09061701461 to claim now",
            "Are we still meeting for lunch at one? I'll bring the notes",
            "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005",
            "I'm on my way home, do you need anything from the shop?",
            "URGENT! Your mobile number has been awarded a 2000 prize GUARANTEED",
            "Sorry, I'll call you later")
SEED_TEXT = "Sempre caro mi fu quest'ermo colle,\n"
LENGTH = 1_000


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(models_dir, port):
    """``python -m demo`` (what ``make demo`` runs once installed); seconds to a page."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "demo", "--models-dir", str(models_dir),
                                "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as response:
        response.read()
    return process, time.perf_counter() - started


def spam_latencies(page):
    """``[(models, server seconds, browser seconds)]``: the first answer loads the models."""
    results = []
    for message in MESSAGES:
        page.fill("#spam-message textarea", message)
        status, wall = answered(page, "#spam-status", "answered|⚠️",
                                lambda: page.click("#spam-classify"), 600_000)
        found = re.search(r"(\d+) models answered in ([\d.]+) s", status)
        if not found:
            raise SystemExit(f"the spam tab did not answer: {status}")
        results.append((int(found.group(1)), float(found.group(2)), wall))
    return results


def poetry_speed(page):
    page.get_by_role("tab", name="Poetry generator").click()
    page.wait_for_function("(document.querySelector('#poetry-run input') || {value: ''})"
                           ".value.includes('published')", timeout=60_000)
    run_id = page.input_value("#poetry-run input").split()[0]
    page.fill("#poetry-seed textarea", SEED_TEXT)
    page.fill("#poetry-length input[type=number]", str(LENGTH))
    page.press("#poetry-length input[type=number]", "Tab")
    speeds = []
    for _ in range(3):
        status, _ = answered(page, "#poetry-status", "characters/s",
                             lambda: page.click("#poetry-write"), 600_000)
        speeds.append(float(re.search(r"\(([\d,]+) characters/s\)", status).group(1)
                            .replace(",", "")))
    return run_id, speeds


def command_line_speed(models_dir, run_id):
    speeds = []
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-m", "labs.poetry", "generate", "--corpus", "leopardi",
             "--models-dir", str(models_dir), "--run", run_id, "--generation", "stateful",
             "--temperature", "0.5", "--seed-text", SEED_TEXT, "--length", str(LENGTH)],
            capture_output=True, text=True, check=True)
        speeds.append(float(re.search(r"\(([\d,]+) characters/s\)", result.stderr).group(1)
                            .replace(",", "")))
    return speeds


def writable_folder(parser, folder, option):
    """Before any work: ``folder`` made and writable, or one line naming ``option``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as error:
        parser.error(f"{option}: cannot write {folder} ({error.strerror or error}); give a "
                     f"folder you can write to")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.demo",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR)
    args = parser.parse_args(argv)
    writable_folder(parser, args.reports_dir / "bench", "--reports-dir")
    from playwright.sync_api import sync_playwright

    import keras

    port = free_port()
    process, startup = start(args.models_dir, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=find_browser(),
                                                 args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            spam = spam_latencies(page)
            run_id, page_speeds = poetry_speed(page)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    cli_speeds = command_line_speed(args.models_dir, run_id)
    later = spam[1:]
    lines = [
        "# make demo, measured", "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {device_line(keras)}; models from "
        f"`{args.models_dir}`.", "",
        "| measure | value |", "|---|---|",
        f"| `python -m demo` start to a served page | {startup:.1f} s |",
        f"| spam tab, first answer ({spam[0][0]} models, each loaded on this first use) | "
        f"{spam[0][1]:.2f} s in the server, {spam[0][2]:.2f} s in the browser |",
        f"| spam tab, later answers (median of {len(later)}) | "
        f"{statistics.median(s for _, s, _ in later):.3f} s in the server, "
        f"{statistics.median(w for _, _, w in later):.3f} s in the browser |",
        f"| poetry tab, Leopardi run {run_id}, {LENGTH:,} characters, temperature 0.5, "
        f"stateful (3 runs) | {', '.join(f'{s:,.0f}' for s in page_speeds)} characters/s |",
        f"| `python -m labs.poetry generate`, the same (3 runs) | "
        f"{', '.join(f'{s:,.0f}' for s in cli_speeds)} characters/s |",
        f"| page / command line (medians) | "
        f"{statistics.median(page_speeds) / statistics.median(cli_speeds):.2f}× |", ""]
    path = args.reports_dir / "bench" / "demo.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
