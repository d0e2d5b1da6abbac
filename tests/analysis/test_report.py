"""analysis/report.py writes every figure as a valid PNG and one self-contained HTML page, every figure says
what it shows (title, units, caption with scenario and seed), and the report's numbers are those of
`chacra compare --format json`."""

import base64
import html
import json
import math
import os
import re
import struct
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from chacra_analysis.report import KEY_OUTCOMES, build_report

from conftest import ROOT

RUN_FIGURES = ["income_consumption", "poverty", "adoption"]
COMPARISON_FIGURES = ["quantile_effects", "cost_effect_frontier"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes):
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def _check_png(path):
    data = open(path, "rb").read()
    assert len(data) > 20_000, f"{path}: only {len(data)} bytes"
    width, height = _png_size(data)
    assert width >= 800 and height >= 400, (path, width, height)
    assert data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND", f"{path}: truncated PNG"
    return data


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.cells, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag in ("img", "script", "link") and re.match(r"(https?:)?//", a.get("src", "") or a.get("href", "")):
            self.external.append(a)
        if tag == "td" and "data-mean-effect" in a:
            self.cells.append(a)


@pytest.fixture(scope="module")
def report(run_file, chacra, has_compare, evaluation_json, tmp_path_factory):
    outdir = str(tmp_path_factory.mktemp("report"))
    data = build_report(run_file, outdir, evaluation=evaluation_json, chacra=chacra if has_compare else None)
    return outdir, data


def test_every_figure_is_a_valid_png(report, has_compare, run_file):
    outdir, data = report
    expected = list(RUN_FIGURES) + ["evaluation_forest"]
    with __import__("h5py").File(run_file, "r") as f:
        stored = "comparison" in f
    if has_compare or stored:
        expected += COMPARISON_FIGURES
    for name in expected:
        assert name in data["figures"], (name, data["notes"])
        _check_png(os.path.join(outdir, f"{name}.png"))
    not_drawn = [n for n in data["notes"] if "not drawn" in n]
    if has_compare or stored:
        assert not not_drawn, data["notes"]
    else:  # without a comparison the report says why its figures are missing
        assert len(not_drawn) == 1 and "quantile_effects.png" in not_drawn[0], data["notes"]


def test_html_is_self_contained_and_embeds_every_figure(report):
    outdir, data = report
    text = open(os.path.join(outdir, "report.html"), encoding="utf-8").read()
    page = _Page()
    page.feed(text)
    assert not page.external, page.external
    embedded = []
    for src in page.images:
        assert src.startswith("data:image/png;base64,"), src[:60]
        embedded.append(base64.b64decode(src.split(",", 1)[1]))
    files = [open(os.path.join(outdir, fig["file"]), "rb").read() for fig in data["figures"].values()]
    assert embedded == files
    for fig in data["figures"].values():
        assert html.escape(fig["title"]) in text
    assert "scenario_yaml" not in json.dumps(data["provenance"])


def test_figures_say_what_they_show(report):
    """Titles, units and a caption with the scenario and the seeds on every figure."""
    _, data = report
    for name, fig in data["figures"].items():
        caption = fig["caption"]
        assert len(fig["title"]) > 10
        if name == "evaluation_forest":
            assert "scenario" in caption and "seed" in caption, caption
        else:
            assert "Scenario 'sequencing'" in caption and "run seed 7" in caption and "population seed" in caption, caption
    assert "PEN per household per year" in data["figures"]["income_consumption"]["title"]
    assert "% of households" in data["figures"]["poverty"]["title"]
    assert "% of households" in data["figures"]["adoption"]["title"]


def test_figure_data_equal_the_file(report, run_file):
    """The income paths are the replicate means of /aggregates."""
    import numpy as np

    from chacra_analysis import load_aggregates

    _, data = report
    agg = load_aggregates(run_file, "income_monetary_pen")
    drawn = data["figures"]["income_consumption"]["data"]["income_monetary_pen"]
    for arm, line in drawn.items():
        want = agg[agg["arm"] == arm].groupby("period")["income_monetary_pen"].mean()
        assert np.allclose(line["mean"], want.to_numpy(), rtol=0, atol=1e-9)
        lows = agg[agg["arm"] == arm].groupby("period")["income_monetary_pen"].min()
        assert np.allclose(line["low"], lows.to_numpy(), rtol=0, atol=1e-9)


def _same(a, b):
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    if isinstance(b, float) or isinstance(a, float):
        return float(a) == float(b)
    return a == b


def test_report_numbers_equal_chacra_compare(report, compare_rows):
    outdir, data = report
    # Every comparison row of the report data.
    assert len(data["comparison"]) == len(compare_rows)
    for got, want in zip(data["comparison"], compare_rows):
        for k, v in want.items():
            assert _same(got[k], v), (k, got[k], v, want)
    index = {(r["arm"], r["outcome"], r["subgroup"], r["statistic"]): r for r in compare_rows}
    # The key-effects table of the HTML page.
    page = _Page()
    page.feed(open(os.path.join(outdir, "report.html"), encoding="utf-8").read())
    keys = {(o, s) for o, s, _ in KEY_OUTCOMES}
    expected_cells = [r for r in compare_rows if r["subgroup"] == "all" and (r["outcome"], r["statistic"]) in keys]
    assert len(page.cells) == len(expected_cells) > 0
    for cell in page.cells:
        want = index[(cell["data-arm"], cell["data-outcome"], cell["data-subgroup"], cell["data-statistic"])]
        for attr, field in (("data-mean-effect", "mean_effect"), ("data-ci-low", "ci_low"), ("data-ci-high", "ci_high")):
            value = float(cell[attr])
            assert _same(value, want[field]), (cell, want)
    # The numbers drawn in the comparison figures.
    q = data["figures"]["quantile_effects"]["data"]
    for key, arms in q.items():
        outcome, stat = key.split("/")
        for arm, line in arms.items():
            for i, quantile in enumerate(line["quantile"]):
                want = index[(arm, outcome, "all", f"{stat}_q{quantile}")]
                assert line["mean_effect"][i] == want["mean_effect"]
                assert line["ci_low"][i] == want["ci_low"] and line["ci_high"][i] == want["ci_high"]
    frontier = data["figures"]["cost_effect_frontier"]["data"]
    for arm, cost in frontier["cost"].items():
        row = next(r for r in compare_rows if r["outcome"] == "cost_per_household_pen" and r["subgroup"] == "all")
        want = row["reference_value"] if arm == row["reference"] else index[(arm, "cost_per_household_pen", "all",
                                                                               "horizon_total")]["arm_value"]
        assert cost == want
    points = frontier["panels"]["poverty_headcount/final_year"]["points"]
    for arm, p in points.items():
        if arm == compare_rows[0]["reference"]:
            continue
        want = index[(arm, "poverty_headcount", "all", "final_year")]
        assert p["effect"] == pytest.approx(-100 * want["mean_effect"], rel=1e-12)


def test_report_script_runs_and_fails_cleanly(run_file, chacra, tmp_path):
    script = os.path.join(ROOT, "analysis", "report.py")
    env = dict(os.environ, CHACRA_BINARY=chacra, MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, script, run_file, "-o", str(tmp_path / "r")], capture_output=True,
                         text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert os.path.exists(tmp_path / "r" / "report.html")
    assert "wrote" in res.stdout
    res = subprocess.run([sys.executable, script, str(tmp_path / "missing.h5"), "-o", str(tmp_path / "m")],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 1 and "missing.h5" in res.stderr
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    res = subprocess.run([sys.executable, script, str(bad), "-o", str(tmp_path / "b")], capture_output=True,
                         text=True, env=env)
    assert res.returncode == 1 and "not a readable HDF5 file" in res.stderr


def test_report_with_real_evaluation(chacra, run_file, tmp_path):
    """The forest plot from what `chacra evaluate --format json` prints (a short run of its scenario)."""
    if subprocess.run([chacra, "evaluate", "--help"], capture_output=True).returncode != 0:
        pytest.skip("this chacra has no evaluate command")
    scenario = os.path.join(ROOT, "configs", "evaluation_2017.yaml")
    args = [chacra, "evaluate", "--format", "json", "--replicates", "2", "--quiet"]
    res = subprocess.run(args + ([scenario] if os.path.exists(scenario) else []), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    for field in ("outcome", "published", "model_mean", "p2_5", "p97_5", "coverage"):
        assert all(field in r for r in rows), field
    path = tmp_path / "eval.json"
    path.write_text(res.stdout)
    data = build_report(run_file, str(tmp_path / "r"), evaluation=str(path), evaluation_seed="1")
    assert "evaluation_forest" in data["figures"]
    _check_png(tmp_path / "r" / "evaluation_forest.png")
    drawn = data["figures"]["evaluation_forest"]["data"]
    for r in rows:
        if r["published"] is not None:
            assert drawn[r["outcome"]]["model_mean"] == r["model_mean"]
            assert drawn[r["outcome"]]["published"] == r["published"]


def test_report_without_panel(chacra, tmp_path):
    """A run written with output.panel: false still gets its paths over time, and the report says what is
    missing and why."""
    path = str(tmp_path / "nopanel.h5")
    res = subprocess.run([chacra, "run", "-o", path, "--quiet", "--set", "population.households=600",
                          "--set", "population.districts=4", "--set", "run.years=2", "--set", "output.panel=false"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    data = build_report(path, str(tmp_path / "r"), chacra=chacra)
    assert set(data["figures"]) == {"income_consumption", "poverty"}
    for name in data["figures"]:
        _check_png(tmp_path / "r" / f"{name}.png")
    notes = " ".join(data["notes"])
    assert "adoption.png not drawn" in notes and "quantile_effects.png" in notes
    assert "Notes" in open(tmp_path / "r" / "report.html", encoding="utf-8").read()
