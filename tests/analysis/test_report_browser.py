"""The report page in a real browser: Debian's chromium, headless, driven by selenium through chromedriver
(tools/setup.sh installs chromium, chromium-driver and python3-selenium). At laptop and desktop widths the page
does not overflow sideways, every table fits inside the page, every image loads, and a screenshot of the whole
page shows it (kept under $CHACRA_REPORT_SCREENSHOTS when that is set, to look at)."""

import io
import os
import shutil
import tempfile

import pytest

from chacra_analysis.report import build_report


@pytest.fixture(scope="module")
def page(run_file, chacra, evaluation_json, tmp_path_factory):
    outdir = str(tmp_path_factory.mktemp("report_page"))
    build_report(run_file, outdir, evaluation=evaluation_json, chacra=chacra)
    return os.path.join(outdir, "report.html")


_LAYOUT = """
const doc = document.documentElement, body = document.body.getBoundingClientRect();
const images = Array.from(document.images);
return {
  scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, scrollHeight: doc.scrollHeight,
  images: images.length,
  broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
  wideImages: images.filter(i => i.getBoundingClientRect().right > body.right + 1).map(i => i.alt),
  wideTables: Array.from(document.querySelectorAll('table')).filter(
      t => t.getBoundingClientRect().right > body.right + 1 || t.parentElement.scrollWidth >
           t.parentElement.clientWidth + 1).map(t => t.className || t.rows[0].innerText.slice(0, 40)),
  figcaptions: document.querySelectorAll('figcaption').length,
};
"""


@pytest.mark.parametrize("width", [1280, 1024])
def test_report_fits_the_page_in_a_browser(browser, page, width, tmp_path):
    from PIL import Image

    browser.set_window_size(width, 900)
    browser.get("file://" + page)
    layout = browser.execute_script(_LAYOUT)
    assert layout["images"] == layout["figcaptions"] >= 6, layout
    assert not layout["broken"], layout
    assert layout["scrollWidth"] <= layout["clientWidth"], f"the page overflows sideways at {width} px: {layout}"
    assert not layout["wideTables"] and not layout["wideImages"], layout
    # A screenshot of the whole page.
    chrome = browser.execute_script("return window.outerHeight - window.innerHeight")
    browser.set_window_size(width, min(layout["scrollHeight"] + chrome, 30000))
    png = browser.get_screenshot_as_png()
    shot = Image.open(io.BytesIO(png))
    assert shot.width >= width - 20 and shot.height >= layout["scrollHeight"] - 10, (shot.size, layout)
    assert len(shot.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 200  # drawn, not a blank page
    path = tmp_path / f"report_{width}.png"
    path.write_bytes(png)
    keep = os.environ.get("CHACRA_REPORT_SCREENSHOTS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(path, os.path.join(keep, path.name))


def test_overflow_check_finds_a_page_that_overflows(browser):
    """The check itself: a table wider than the page is reported."""
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as fh:
        fh.write("<!DOCTYPE html><html><body style='max-width:800px'><table><tr><td style='white-space:nowrap'>"
                 + "wide " * 400 + "</td></tr></table></body></html>")
    try:
        browser.set_window_size(1024, 600)
        browser.get("file://" + fh.name)
        layout = browser.execute_script(_LAYOUT)
        assert layout["scrollWidth"] > layout["clientWidth"] and layout["wideTables"], layout
    finally:
        os.unlink(fh.name)
