"""`chacra serve` in a real browser (headless chromium through selenium, as test_report_browser.py): the server
starts on a free port over a small run and a small Morris sweep made here; the pages show the file's numbers
(the run's /comparison, `chacra compare --reference` for another reference arm, the sweep's effects and Morris
table), switching outcome and reference arm reloads them, and the charts draw one mark per arm. Also the
command's errors: a missing or invalid file exits 2, a port in use exits 1. Screenshots are kept under
$CHACRA_DASHBOARD_SCREENSHOTS when that is set (docs/img/dashboard.png comes from there)."""

import math
import os
import re
import socket
import subprocess

import pytest

from chacra_analysis import ChacraOutput, ChacraSweep, compare_json

# A Morris design of 2 trajectories over 2 parameters (6 points) on a tiny population: a few seconds.
MORRIS = """design: morris
parameters:
  juntos.transfer_pen: [100, 400]
  haku_winay.takeup_rate: [0.5, 0.9]
trajectories: 2
seed: 3
"""
SWEEP_ARGS = ["--set", "population.households=400", "--set", "population.districts=4", "--set", "run.years=2",
              "--replicates", "2", "--seed", "7", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def sweep_file(chacra, tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    (d / "morris.yaml").write_text(MORRIS)
    path = str(d / "morris.h5")
    res = subprocess.run([chacra, "sweep", "--design", str(d / "morris.yaml"), "-o", path, *SWEEP_ARGS],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    return path


def _start(chacra, files, port="0"):
    proc = subprocess.Popen([chacra, "serve", *files, "--port", port], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # the address, flushed once the port is bound
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        pytest.fail(f"chacra serve printed {line!r}; stderr: {proc.stderr.read()}")
    return proc, f"http://127.0.0.1:{m.group(1)}", int(m.group(1))


@pytest.fixture(scope="module")
def server(chacra, run_file, sweep_file):
    proc, url, port = _start(chacra, [run_file, sweep_file])
    yield url, port
    proc.terminate()
    proc.wait(timeout=10)


def _shot(browser, name):
    keep = os.environ.get("CHACRA_DASHBOARD_SCREENSHOTS")
    if not keep:
        return
    os.makedirs(keep, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    chrome = browser.execute_script("return window.outerHeight - window.innerHeight")
    browser.set_window_size(1280, min(height + chrome, 4000))
    browser.save_screenshot(os.path.join(keep, name))
    browser.set_window_size(1280, 900)


def _table(browser, table_id, key="data-arm"):
    """{row key: {cell class: full value}} of a table's number cells."""
    return browser.execute_script(f"""
        const out = {{}};
        for (const tr of document.querySelectorAll('#{table_id} tr[{key}]')) {{
          const row = {{}};
          for (const td of tr.querySelectorAll('td[data-value]'))
            if (td.className) row[td.className] = td.dataset.value === '' ? null : Number(td.dataset.value);
          out[tr.getAttribute('{key}')] = row;
        }}
        return out;""")


def _gids(browser, figure_id, prefix):
    return set(browser.execute_script(
        f"return Array.from(document.querySelectorAll('#{figure_id} svg [id^=\"{prefix}\"]')).map(e => e.id)"))


def _close(a, b):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None) == (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def _choose(browser, select_id, value):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    old = browser.find_element("id", "choices")
    Select(browser.find_element("id", select_id)).select_by_value(value)  # onchange submits the form
    WebDriverWait(browser, 30).until(lambda d: f"{select_id}=" in d.current_url and
                                     d.execute_script("return document.readyState") == "complete")
    from selenium.common.exceptions import StaleElementReferenceException
    try:
        old.tag_name
        pytest.fail("the page did not reload after choosing " + value)
    except StaleElementReferenceException:
        pass


def _expect(comp, outcome, reference, arms):
    sel = comp[(comp["outcome"] == outcome) & (comp["statistic"] == "final_year") & (comp["subgroup"] == "all")
               & (comp["arm"] != "interaction")]
    assert set(sel["reference"]) == {reference}
    return {r["arm"]: r for _, r in sel.iterrows() if r["arm"] in arms}


def test_run_page_shows_the_comparison_and_switches(browser, server, run_file, chacra):
    url, _ = server
    browser.set_window_size(1280, 900)
    browser.get(url + "/")
    assert "morris.h5" in browser.find_element("id", "files").text
    browser.get(url + "/run/0")
    with ChacraOutput(run_file) as out:
        stored = out.comparison()
        arms = list(out.arms)
    reference = stored.attrs["reference_arm"]
    others = [a for a in arms if a != reference]

    def check(outcome, ref, comp):
        table = _table(browser, "effects")
        assert browser.execute_script("return document.querySelector('#effects').dataset.reference") == ref
        order = browser.execute_script(
            "return Array.from(document.querySelectorAll('#effects tr[data-arm]')).map(tr => tr.dataset.arm)")
        assert order == [a for a in arms if a != ref]  # the file's order of arms
        for arm, row in _expect(comp, outcome, ref, table).items():
            got = table[arm]
            for cls, col in (("effect", "mean_effect"), ("low", "ci_low"), ("high", "ci_high"),
                             ("arm-value", "arm_value"), ("ref-value", "reference_value")):
                assert _close(got[cls], float(row[col])), (outcome, ref, arm, cls, got[cls], row[col])
        # The chart draws one interval per arm, the reference none.
        assert _gids(browser, "effects-chart", "effect-") == {f"effect-{a}" for a in arms if a != ref}
        assert outcome in browser.find_element("id", "effects-chart").text
        assert _gids(browser, "paths-chart", "path-") == {f"path-{a}" for a in arms if a != ref}
        return table

    check("poverty_headcount", reference, stored)
    _shot(browser, "dashboard_run.png")
    _choose(browser, "outcome", "income_monetary_pen")
    by_first = check("income_monetary_pen", reference, stored)
    # Another reference arm: computed by chacra compare --reference, and on common random numbers an effect
    # against arm B is the effect against the stored reference minus B's.
    new_ref = others[0]
    _choose(browser, "reference", new_ref)
    assert "outcome=income_monetary_pen" in browser.current_url  # the other choices are kept
    by_new = check("income_monetary_pen", new_ref, compare_json(run_file, new_ref, chacra))
    for arm in others[1:]:
        assert math.isclose(by_new[arm]["effect"], by_first[arm]["effect"] - by_first[new_ref]["effect"],
                            rel_tol=1e-9, abs_tol=1e-9), arm
    assert math.isclose(by_new[reference]["effect"], -by_first[new_ref]["effect"], rel_tol=1e-9, abs_tol=1e-9)


def test_sweep_page_shows_effects_and_sensitivity(browser, server, sweep_file):
    url, _ = server
    browser.set_window_size(1280, 900)
    browser.get(url + "/sweep/1")
    _choose(browser, "outcome", "income_monetary_pen")
    with ChacraSweep(sweep_file) as s:
        effects = s.effects("income_monetary_pen")
        sens = s.sensitivity()
        params, arms = list(s.parameters), list(s.arms)
    reference = effects["reference"].iloc[0]
    assert browser.find_element("id", "reference").text == reference
    # Every point's effect, for every arm.
    shown = browser.execute_script("""
        return Array.from(document.querySelectorAll('#sweep-effects tr[data-point]')).map(tr => [
          Number(tr.dataset.point), tr.dataset.arm, Number(tr.querySelector('td.effect').dataset.value),
          Number(tr.querySelector('td.low').dataset.value), Number(tr.querySelector('td.high').dataset.value)]);""")
    assert len(shown) == len(effects) > 0
    expect = {(int(r["point"]), r["arm"]): r for _, r in effects.iterrows()}
    for point, arm, eff, low, high in shown:
        r = expect[(point, arm)]
        assert _close(eff, r["mean_effect"]) and _close(low, r["ci_low"]) and _close(high, r["ci_high"])
    # One chart panel per parameter, one series per arm in each.
    assert _gids(browser, "sweep-chart", "sweep-") == {f"sweep-{p}-{a}" for p in params for a in arms
                                                      if a != reference}
    svg_text = browser.find_element("id", "sweep-chart").text
    assert all(p in svg_text for p in params)
    # The Morris table: mu* of every arm and parameter, as the file stores it.
    assert browser.execute_script("return document.querySelector('#sensitivity').dataset.method") == "morris"
    rows = browser.execute_script("""
        return Array.from(document.querySelectorAll('#sensitivity tr[data-arm]')).map(tr => [
          tr.dataset.arm, tr.dataset.parameter, Number(tr.querySelector('td.mu-star').dataset.value)]);""")
    sel = sens[(sens["outcome"] == "income_monetary_pen") & (sens["statistic"] == "final_year") &
               (sens["subgroup"] == "all")]
    assert len(rows) == len(sel) > 0
    want = {(r["arm"], r["parameter"]): r["mu_star"] for _, r in sel.iterrows()}
    for arm, parameter, mu_star in rows:
        assert _close(mu_star, want[(arm, parameter)]), (arm, parameter)
    # The transfer moves Juntos's income effect, take-up of Haku Wiñay does not.
    assert want[("juntos_only", "juntos.transfer_pen")] > 0 and want[("juntos_only", "haku_winay.takeup_rate")] == 0
    # One arm only.
    _choose(browser, "arm", "juntos_only")
    assert {r[0] for r in browser.execute_script(
        "return Array.from(document.querySelectorAll('#sensitivity tr[data-arm]')).map(tr => [tr.dataset.arm])")} \
        == {"juntos_only"}
    _shot(browser, "dashboard_sweep.png")


def test_serve_errors(chacra, run_file, server, tmp_path):
    _, port = server
    res = subprocess.run([chacra, "serve", str(tmp_path / "missing.h5")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "missing.h5: no such file" in res.stderr, res.stderr
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    res = subprocess.run([chacra, "serve", str(junk)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "not an HDF5 file" in res.stderr, res.stderr
    res = subprocess.run([chacra, "serve"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "at least one" in res.stderr
    # The test server holds its port.
    res = subprocess.run([chacra, "serve", run_file, "--port", str(port)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in res.stderr, res.stderr


def test_server_starts_on_a_port_that_was_free_and_stops(chacra, run_file):
    """--port N listens on N (a port free a moment ago) and the process ends on SIGTERM."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, url, got = _start(chacra, [run_file], str(port))
    try:
        assert got == port
        import urllib.request
        with urllib.request.urlopen(url + "/run/0", timeout=60) as r:
            assert r.status == 200 and b"<svg" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
