"""Fixtures of the analysis toolkit tests: the chacra executable ($CHACRA_BINARY, set by ctest), one small run
made by the tests themselves, and the analysis package on sys.path."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "analysis"))

# Small enough to run in a couple of seconds, large enough for every outcome of the comparison.
RUN_ARGS = ["--set", "population.households=1500", "--set", "population.districts=6", "--set", "run.years=3",
            "--set", "run.replicates=3", "--seed", "7"]


def _binary():
    exe = os.environ.get("CHACRA_BINARY")
    if exe:
        return exe
    for candidate in ("build/chacra", "build-rel/chacra"):
        path = os.path.join(ROOT, candidate)
        if os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture(scope="session")
def chacra():
    exe = _binary()
    if exe is None:
        pytest.skip("no chacra executable: set CHACRA_BINARY (ctest does)")
    return exe


def _supports(chacra, command):
    res = subprocess.run([chacra, command, "--help"], capture_output=True, text=True)
    return res.returncode == 0


@pytest.fixture(scope="session")
def has_compare(chacra):
    return _supports(chacra, "compare")


@pytest.fixture(scope="session")
def has_export(chacra):
    return _supports(chacra, "export")


@pytest.fixture(scope="session")
def run_file(chacra, tmp_path_factory):
    """A chacra output file of the default scenario's four arms, 3 replicates of 1,500 households, 3 years."""
    path = str(tmp_path_factory.mktemp("run") / "small.h5")
    res = subprocess.run([chacra, "run", "-o", path, "--force", "--quiet", *RUN_ARGS], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    return path


@pytest.fixture(scope="session")
def compare_rows(chacra, has_compare, run_file):
    """`chacra compare --format json` of the run, the arms' rows (skips while the executable has no compare
    command)."""
    if not has_compare:
        pytest.skip("this chacra has no compare command")
    return [r for r in _compare_json(chacra, run_file) if r["arm"] != "interaction"]


def _compare_json(chacra, path):
    res = subprocess.run([chacra, "compare", path, "--format", "json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="session")
def interaction_rows(chacra, has_compare, run_file):
    """The interaction rows of `chacra compare --format json` (pseudo-arm "interaction": the run has the four arms
    both, juntos_only, hw_only and no_programme)."""
    if not has_compare:
        pytest.skip("this chacra has no compare command")
    return [r for r in _compare_json(chacra, run_file) if r["arm"] == "interaction"]


@pytest.fixture(scope="session")
def evaluation_json(tmp_path_factory):
    """An evaluation file with the fields of `chacra evaluate --format json` (made up numbers: the report's
    handling of it is under test, not the evaluation)."""
    rows = [
        {"outcome": "income", "unit": "PEN/year", "published": 1400, "model_mean": 1250.5, "p2_5": 980.25,
         "p97_5": 1530.0, "coverage": 0.9, "rd_mean": 1300.0, "n_replicates": 40, "calibration_target": True,
         "pass": True, "description": "ITT on monetary household income"},
        {"outcome": "vegetable_garden", "unit": "share", "published": 0.22, "model_mean": 0.2, "p2_5": 0.15,
         "p97_5": 0.26, "coverage": 0.95, "rd_mean": 0.21, "n_replicates": 40, "calibration_target": True,
         "pass": True, "description": "ITT on the share growing vegetables"},
        {"outcome": "sprinkler_irrigation", "unit": "share", "published": 0.2, "model_mean": 0.12, "p2_5": 0.1,
         "p97_5": 0.14, "coverage": 0.1, "rd_mean": 0.11, "n_replicates": 40, "calibration_target": True,
         "pass": False, "description": "ITT on sprinkler use"},
        {"outcome": "pasture_ha", "unit": "ha", "published": None, "model_mean": 0.03, "p2_5": 0.02, "p97_5": 0.04,
         "coverage": None, "rd_mean": 0.04, "n_replicates": 40, "calibration_target": False, "pass": None,
         "description": "ITT on pasture area"},
    ]
    path = tmp_path_factory.mktemp("eval") / "eval.json"
    path.write_text(json.dumps(rows))
    return str(path)


# -- a real browser (test_report_browser.py, test_dashboard_browser.py) ---------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# No network, no first-run or background services: a page must need nothing beyond this machine.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("python3-selenium")
    if missing:
        pytest.fail(f"the browser test needs {', '.join(missing)}: apt-get install chromium chromium-driver "
                    "python3-selenium (tools/setup.sh installs them)")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                                "--window-size=1280,900"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
