"""reports/index.html: written with index.md, checked in a real browser (headless Chromium).

CI installs Chromium (.ci/run); elsewhere the browser tests skip when none is installed.
"""

import os
import shutil

import pytest

from labs import browser
from labs.cli import LabError
from labs.reports import index_html, write_index_section

from conftest import SPAM_NOTEBOOK_VARIANTS

needs_browser = pytest.mark.skipif(
    not any(shutil.which(name) for name in browser.BROWSERS) and not os.environ.get("CI"),
    reason="no headless Chromium installed (CI installs it)")


def test_the_html_index_is_written_with_the_markdown_one(tmp_path):
    write_index_section("10-lab", "## A lab\n\n| model | F1 |\n|---|---|\n| b | 0.9 |\n"
                        '| a | 0.95 |\n\n<img src="plot.png" width="10">\n', tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<h2>A lab</h2>" in page
    assert "<thead>" in page and "<td>0.95</td>" in page
    assert '<img src="plot.png" width="10">' in page  # raw HTML from the sections passes
    assert "http://" not in page and "https://" not in page  # nothing to fetch: works offline


def test_markdown_special_characters_are_escaped_in_the_page():
    page = index_html("## A <b>bold</b> & `x < y`\n")
    assert "<code>x &lt; y</code>" in page


@pytest.mark.slow
@needs_browser
def test_the_labs_index_loads_every_image_and_sorts_its_tables(executed_notebooks):
    """The index the notebooks' quick spam and poetry runs wrote, opened in Chromium."""
    output, _ = executed_notebooks
    reports = output / "reports"
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert "SMS spam detector" in page and "Poetry generator: leopardi" in page
    assert "Temperature 0.5" in page and "Device: " in page and "Python " in page
    result = browser.check_index(reports)
    # The spam plot and each spam model's two, then the poetry lab's.
    assert result["images"] > 2 * len(SPAM_NOTEBOOK_VARIANTS) + 1 and result["broken"] == []
    spam = [table for table in result["tables"] if table["header"] == "model"]
    assert spam and spam[0]["rows"] == len(SPAM_NOTEBOOK_VARIANTS) + 3 and spam[0]["sorted"]
    screenshot = reports / browser.SCREENSHOT
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@needs_browser
def test_a_missing_image_fails_the_check_and_names_it(tmp_path):
    write_index_section("10-lab", "## A lab\n\n![plot](missing/plot.png)\n", tmp_path)
    with pytest.raises(LabError, match="image not loaded: missing/plot.png"):
        browser.check_index(tmp_path)
