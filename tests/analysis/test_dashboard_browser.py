"""`chacra serve` in a real browser (headless chromium through selenium, as test_report_browser.py): the server
starts on a free port over a small run and a small Morris sweep made here; the pages show the file's numbers
(the run's /comparison, `chacra compare --reference` for another reference arm, the sweep's effects and Morris
table), switching outcome and reference arm reloads them, and the Vega charts draw those same rows (read back
through each chart's view). The scenario page: each parameter shows the registry's unit, range and
description; a value out of range and a broken uploaded YAML get `chacra validate`'s message word for word;
an edited scenario (smaller, one arm fewer, another reference arm) runs with progress into the runs folder,
its page charts the new file, and the file, its comparison as CSV and the report download. Also the command's
errors: a missing or invalid file exits 2, a port in use exits 1. Screenshots are kept under
$CHACRA_DASHBOARD_SCREENSHOTS when that is set (docs/img/dashboard*.png come from there)."""

import math
import os
import re
import socket
import subprocess

import pytest

from chacra_analysis import ChacraOutput, ChacraSweep, compare_json

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


def _start(chacra, files, port="0", extra=()):
    proc = subprocess.Popen([chacra, "serve", *files, "--port", port, *extra], stdout=subprocess.PIPE,
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


def _drawn(browser, figure_id, data, timeout=30):
    """The rows the chart `figure_id` draws (its Vega view's data set `data`), once drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = f"return document.querySelector('#{figure_id} div.chart').dataset.drawn"
    WebDriverWait(browser, timeout).until(lambda d: d.execute_script(script) in ("1", "error"))
    assert browser.execute_script(script) == "1", browser.find_element("id", figure_id).text
    assert browser.find_elements("css selector", f"#{figure_id} svg")  # drawn as SVG, in the page
    return browser.execute_script(f"return window.chacraViews['{figure_id}'].data('{data}')")


def _symbols(browser, figure_id):
    """How many point marks the chart's SVG holds (what the reader sees, not only the data behind it)."""
    return browser.execute_script(f"return document.querySelectorAll('#{figure_id} svg g.mark-symbol.role-mark path').length")


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
        # The chart draws one interval per arm (the table's numbers), the reference none.
        drawn = {r["arm"]: r for r in _drawn(browser, "effects-chart", "effects")}
        assert set(drawn) == {a for a in arms if a != ref} and _symbols(browser, "effects-chart") == len(drawn)
        for arm, r in drawn.items():
            assert _close(r["mean_effect"], table[arm]["effect"]) and _close(r["ci_low"], table[arm]["low"])
        assert outcome in browser.find_element("id", "effects-chart").text
        assert {r["arm"] for r in _drawn(browser, "paths-chart", "paths")} == {a for a in arms if a != ref}
        # The frontier places every arm, the reference at the origin.
        frontier = {r["arm"]: r for r in _drawn(browser, "frontier-chart", "frontier")}
        assert set(frontier) == set(arms) and frontier[ref]["cost"] == 0
        return table

    check("poverty_headcount", reference, stored)
    # The reach funnel: every stage of every module per arm, the mean over replicates of the file's reach.
    with ChacraOutput(run_file) as out:
        reach = out.reach()
    if len(reach):
        want = reach.groupby(["arm", "module", "item"])["value"].mean()
        drawn = _drawn(browser, "funnel-chart", "reach")
        assert len(drawn) == len(want) and {r["arm"] for r in drawn} == set(arms)
        for r in drawn:
            assert _close(r["value"], float(want[(r["arm"], r["module"], r["item"])])), r
    else:
        assert browser.find_elements("id", "no-reach")
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
    # The chart draws every point of every arm (one panel per parameter).
    drawn = _drawn(browser, "sweep-chart", "sweep")
    assert len(drawn) == len(effects) and {r["arm"] for r in drawn} == {a for a in arms if a != reference}
    assert all(p in drawn[0] for p in params)
    assert _symbols(browser, "sweep-chart") == len(params) * len(effects)  # every point in every panel
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
            assert r.status == 200 and b"effects-chart-spec" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- the scenario page: edit, check, run, see, download ------------------------------------------------------

# Small enough for seconds: the edits the test types into the page (on top of the shipped default scenario).
SMALL = {"population.households": "300", "population.districts": "3", "run.years": "2", "run.replicates": "2"}


@pytest.fixture(scope="module")
def studio(chacra, tmp_path_factory):
    """`chacra serve` with no file: the scenario page alone, runs written under a folder of the test's."""
    runs = tmp_path_factory.mktemp("runs")
    proc, url, port = _start(chacra, [], extra=["--runs", str(runs)])
    yield url, str(runs)
    proc.terminate()
    proc.wait(timeout=10)


def _validate_message(chacra, path, sets):
    res = subprocess.run([chacra, "validate", path] + [a for k, v in sets.items() for a in ("--set", f"{k}={v}")],
                         capture_output=True, text=True)
    assert res.returncode == 2, res.stdout
    return res.stderr.strip()


def _type(browser, name, value):
    field = browser.find_element("name", name)
    browser.execute_script("arguments[0].scrollIntoView(); arguments[0].closest('details').open = true", field)
    field.clear()
    field.send_keys(value)
    return field


def _submit_and_wait(browser, button_id, url_part, timeout=240):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element("id", button_id).click()
    WebDriverWait(browser, timeout).until(
        lambda d: url_part in d.current_url and d.execute_script("return document.readyState") == "complete")


def test_scenario_page_edits_checks_runs_and_downloads(browser, studio, chacra, tmp_path):
    import json
    import urllib.request

    url, runs = studio
    browser.set_window_size(1280, 900)
    browser.get(url + "/scenario")
    assert browser.find_element("id", "scenario-title").text == "sequencing"
    # Each parameter shows the registry's unit, range and description.
    registry = {p["name"]: p for p in json.loads(subprocess.run(
        [chacra, "params", "--format", "json"], capture_output=True, text=True, check=True).stdout)}
    row = browser.find_element("css selector", "tr[data-name='juntos.transfer_pen']")
    p = registry["juntos.transfer_pen"]
    browser.execute_script("arguments[0].closest('details').open = true", row)
    assert p["unit"] in row.text and p["description"] in row.text and "[0, 100000]" in row.text
    assert len(browser.find_elements("css selector", "tr[data-name]")) == len(registry)
    # A value out of range: the page says what chacra validate says, word for word, and runs nothing.
    for name, value in SMALL.items():
        _type(browser, f"p:{name}", value)
    field = _type(browser, "p:juntos.transfer_pen", "-5")
    assert "out-of-range" in field.get_attribute("class")  # flagged as typed
    editor = browser.find_element("id", "editor")
    browser.find_element("id", "run-button").click()
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 60).until(EC.staleness_of(editor))
    want = _validate_message(chacra, os.path.join(ROOT, "configs", "default.yaml"),
                             {**SMALL, "juntos.transfer_pen": "-5"})
    assert browser.find_element("id", "error").text == want
    assert not [f for f in os.listdir(runs) if f.endswith(".h5")]
    # Fixed: run it (one arm less, its reference another), follow the progress, land on the result.
    _type(browser, "p:juntos.transfer_pen", "250")
    browser.find_element("id", "arm:hw_then_juntos").click()  # untick
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element("id", "reference")).select_by_visible_text("juntos_only")
    browser.execute_script("""for (const d of document.querySelectorAll('details.section'))
                                  d.open = d.id === 'section-juntos'; window.scrollTo(0, 0);""")
    _shot(browser, "dashboard_scenario.png")
    _submit_and_wait(browser, "run-button", "/run/")
    made = [f for f in os.listdir(runs) if f.endswith(".h5")]
    assert len(made) == 1
    path = os.path.join(runs, made[0])
    with ChacraOutput(path) as out:
        arms = list(out.arms)
        stored = out.comparison()
        yaml_text = out.provenance()["scenario_yaml"]
    assert "hw_then_juntos" not in arms and len(arms) == 5
    assert stored.attrs["reference_arm"] == "juntos_only"
    assert "transfer_pen: 250" in yaml_text and "households: 300" in yaml_text
    # The chart and the table show the new file's numbers.
    rows = _drawn(browser, "effects-chart", "effects")
    expect = _expect(stored, "poverty_headcount", "juntos_only", arms)
    assert {r["arm"] for r in rows} == set(expect) == {a for a in arms if a != "juntos_only"}
    for r in rows:
        assert _close(r["mean_effect"], float(expect[r["arm"]]["mean_effect"])), r
    table = _table(browser, "effects")
    for arm, row in expect.items():
        assert _close(table[arm]["effect"], float(row["mean_effect"]))
    # Paths, frontier and (when stored) the funnel are drawn.
    assert {r["arm"] for r in _drawn(browser, "paths-chart", "paths")} == set(expect)
    frontier = _drawn(browser, "frontier-chart", "frontier")
    assert {r["arm"] for r in frontier} == set(arms)
    # Downloads: the file itself, the comparison as CSV, the report.
    base = browser.current_url.split("?")[0]
    with urllib.request.urlopen(base + "/file.h5", timeout=60) as r:
        with open(path, "rb") as fh:
            assert r.read() == fh.read()
    with urllib.request.urlopen(base + "/comparison.csv?reference=juntos_only", timeout=60) as r:
        import io
        import pandas as pd
        csv = pd.read_csv(io.StringIO(r.read().decode()))
    assert len(csv) == len(stored) and set(csv["reference"]) == {"juntos_only"}
    with urllib.request.urlopen(base + "/report.html", timeout=120) as r:
        assert r.status == 200 and b"<html" in r.read()[:2000].lower()
    for link in ("download-h5", "download-csv", "download-report"):
        assert browser.find_element("id", link).get_attribute("href").startswith(base)


def _upload(browser, path):
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element("id", "upload")
    browser.find_element("id", "scenario-file").send_keys(str(path))
    browser.find_element("id", "upload-button").click()
    WebDriverWait(browser, 60).until(EC.staleness_of(old))
    WebDriverWait(browser, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_scenario_page_upload_errors_are_the_command_lines(browser, studio, chacra, tmp_path):
    url, runs = studio
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\narms:\n  - name: a\n    set: {juntos.transfer_pen: [}\n")
    browser.get(url + "/scenario")
    _upload(browser, bad)
    message = browser.find_element("id", "error").text
    res = subprocess.run([chacra, "validate", os.path.join(runs, "uploads", "broken.yaml")], capture_output=True,
                         text=True)
    assert res.returncode == 2 and message == res.stderr.strip()
    assert "YAML syntax error" in message and "broken.yaml:4:" in message
    # A good one is kept and offered.
    good = tmp_path / "mine.yaml"
    good.write_text("name: mine\narms:\n  - name: none\n    set: {juntos.enabled: false, haku_winay.enabled: false}\n"
                    "  - name: juntos\n    set: {haku_winay.enabled: false}\n")
    browser.get(url + "/scenario")
    _upload(browser, good)
    assert "upload:mine.yaml" in browser.current_url
    assert browser.find_element("id", "scenario-title").text == "mine"
    assert {e.get_attribute("value") for e in browser.find_elements("css selector", "input[name='arm']")} == \
        {"none", "juntos"}
