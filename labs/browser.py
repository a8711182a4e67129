"""Open reports/index.html in a real browser (headless Chromium) and check it.

    python -m labs.browser                 # check reports/index.html, save reports/index.png

The page checks itself when opened as ``index.html#check`` (labs/index.html): it counts
the images that failed to load and sorts every table by every column, both ways, and
writes the result as JSON into ``<pre id="check">``. Chromium's ``--dump-dom`` prints the
page after its load event, so this module only has to read that JSON back.
"""

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from labs.cli import REPORTS_DIR, LabError, run_lab

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SCREENSHOT = "index.png"
WINDOW = (1280, 2400)


def find_browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise LabError(f"no headless browser found (tried {', '.join(BROWSERS)}); install one, "
                   "e.g. `apt-get install chromium`")


def chromium(url, *options, timeout=120):
    """Run headless Chromium on ``url``; its standard output."""
    with tempfile.TemporaryDirectory(prefix="rnn-labs-chromium-") as profile:
        command = [find_browser(), "--headless", "--no-sandbox", "--disable-gpu",
                   "--hide-scrollbars", f"--user-data-dir={profile}", *options, url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise LabError(f"{command[0]} failed on {url}: {result.stderr.strip()[-300:]}")
    return result.stdout


def page_check(index):
    """The page's own check of ``index`` (a path): images, broken images, tables sorted."""
    url = Path(index).resolve().as_uri() + "#check"
    dom = chromium(url, "--virtual-time-budget=10000", "--dump-dom")
    found = re.search(r'<pre id="check">(.*?)</pre>', dom, re.S)
    if not found or not found.group(1).strip():
        raise LabError(f"{index}: the page did not run its check (is it an rnn-labs index?)")
    return json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">").replace("&quot;", '"'))


def check_index(reports_dir):
    """Check reports_dir/index.html and save a screenshot beside it; the check's result."""
    index = Path(reports_dir) / "index.html"
    if not index.is_file():
        raise LabError(f"{index} does not exist; run a lab first (make spam, make poetry)")
    result = page_check(index)
    problems = [f"image not loaded: {source}" for source in result["broken"]]
    problems += [f"table '{table['header']}…' does not sort" for table in result["tables"]
                 if not table["sorted"]]
    if problems:
        raise LabError(f"{index}: " + "; ".join(problems))
    screenshot = index.parent / SCREENSHOT
    chromium(index.resolve().as_uri(), f"--window-size={WINDOW[0]},{WINDOW[1]}",
             f"--screenshot={screenshot.resolve()}")
    print(f"{index}: {result['images']} images loaded, {len(result['tables'])} table(s) sort "
          f"by every column; screenshot {screenshot}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labs.browser",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR,
                        help="folder of index.html (default: %(default)s)")
    args = parser.parse_args(argv)
    return run_lab("labs.browser", lambda options: check_index(options.reports_dir), args)


if __name__ == "__main__":
    main()
