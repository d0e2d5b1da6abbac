"""analysis/report.py writes every figure as a valid PNG and one self-contained HTML page, every figure says
what it shows (a title from the scenario, units, caption with scenario and seed) with no two labels overlapping,
poverty is counted in persons in figures and tables alike, --reference recomputes everything, and the report's
numbers are those of `chacra compare --format json`. The page in a real browser: test_report_browser.py."""

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

import numpy as np
import pytest

from chacra_analysis import ChacraOutput
from chacra_analysis import figures as F
from chacra_analysis import report as R
from chacra_analysis.report import KEY_OUTCOMES, ReportError, build_figures, build_report, caption_for

from conftest import ROOT

RUN_FIGURES = ["income_consumption", "poverty", "adoption", "reach_funnel"]
COMPARISON_FIGURES = ["quantile_effects", "effect_paths", "cost_effect_frontier"]
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
        self.images, self.cells, self.external, self.figcaptions = [], [], [], []
        self._in_figcaption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figcaption":
            self._in_figcaption = True
            self.figcaptions.append("")
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag in ("img", "script", "link") and re.match(r"(https?:)?//", a.get("src", "") or a.get("href", "")):
            self.external.append(a)
        if tag == "td" and "data-mean-effect" in a:
            self.cells.append(a)

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_figcaption = False

    def handle_data(self, data):
        if self._in_figcaption:
            self.figcaptions[-1] += data


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
    """Every figure is in the page, as the PNG file without the caption drawn under it: the page prints that
    caption as text, once (the run's provenance, common to every figure, once at the top)."""
    outdir, data = report
    text = open(os.path.join(outdir, "report.html"), encoding="utf-8").read()
    page = _Page()
    page.feed(text)
    assert not page.external, page.external
    assert len(page.images) == len(data["figures"])
    assert "<h2>Reach</h2>" in text and "haku_winay.participants" in text
    assert data["reach"] and {"arm", "replicate", "module", "item", "unit", "value"} <= set(data["reach"][0])
    for src, fig in zip(page.images, data["figures"].values()):
        assert src.startswith("data:image/png;base64,"), src[:60]
        width, height = _png_size(base64.b64decode(src.split(",", 1)[1]))
        file_width, file_height = _png_size(open(os.path.join(outdir, fig["file"]), "rb").read())
        assert width <= file_width and height < file_height, (fig["file"], width, height, file_width, file_height)
    for fig, caption in zip(data["figures"].values(), page.figcaptions):
        assert html.escape(fig["title"]) in text
        assert fig["note"] and fig["note"] in caption and data["caption"] not in caption
    # No caption printed twice: each figure's note and the run's caption appear once in the page.
    plain = html.unescape(text)
    for fig in data["figures"].values():
        assert plain.count(fig["note"]) == 1, fig["file"]
    assert plain.count(data["caption"]) == 1
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
        if name != "evaluation_forest":
            assert fig["title"].startswith("Scenario 'sequencing': "), fig["title"]
    assert "PEN per household per year" in data["figures"]["income_consumption"]["title"]
    assert "% of persons" in data["figures"]["poverty"]["title"]
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


def test_reach_funnel_is_drawn_with_the_file_reach_table(report, run_file):
    """The reach funnel is in the page, and every number it draws is the file's reach table (mean over
    replicates) for that arm and stage; every stage the file has is drawn, in funnel order, for every arm the
    programme reaches."""
    outdir, data = report
    fig = data["figures"]["reach_funnel"]
    _check_png(os.path.join(outdir, fig["file"]))
    assert 'id="reach_funnel"' in open(os.path.join(outdir, "report.html"), encoding="utf-8").read()
    with ChacraOutput(run_file) as out:
        reach = out.reach()
        arms = list(out.arms)
    means = reach.groupby(["module", "item", "arm"])["value"].mean()
    drawn = fig["data"]
    assert set(drawn) == {"haku_winay", "juntos"}
    assert set(drawn["haku_winay"]) >= {"hw_only", "both"} and set(drawn["juntos"]) >= {"juntos_only", "both"}
    checked = 0
    for module, by_arm in drawn.items():
        stages = [i for i, _ in F.FUNNEL_STAGES[module] if (module, i) in set(zip(reach["module"], reach["item"]))]
        for arm, values in by_arm.items():
            assert arm in arms and list(values) == stages, (module, arm, list(values))
            for item, v in values.items():
                assert v == pytest.approx(means[(module, item, arm)], rel=0, abs=1e-9), (module, item, arm)
                checked += 1
    assert "taper_recipients" in drawn["juntos"]["both"] and "businesses_surviving_1y" in drawn["haku_winay"]["both"]
    assert checked >= 2 * 10 + 2 * 7
    assert drawn["haku_winay"]["both"]["participants"] > 0 and drawn["juntos"]["both"]["enrolled_households"] > 0


def _same(a, b):
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    if isinstance(b, float) or isinstance(a, float):
        return float(a) == float(b)
    return a == b


def test_report_numbers_equal_chacra_compare(report, compare_rows, interaction_rows):
    outdir, data = report
    # The interaction of the programmes (the file has the four arms) comes as rows of the pseudo-arm
    # "interaction", after the arms' rows; the report shows it in its own table.
    assert interaction_rows and all("channels" in r for r in interaction_rows)
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
    inter_cells = [c for c in page.cells if "data-arm" not in c]
    page.cells = [c for c in page.cells if "data-arm" in c]
    # The interaction table: every row of `chacra compare`, with its channels named.
    assert data["interaction"]["channels"] == interaction_rows[0]["channels"]
    assert len(inter_cells) == len(interaction_rows)
    for cell, want in zip(inter_cells, interaction_rows):
        assert (cell["data-outcome"], cell["data-statistic"]) == (want["outcome"], want["statistic"])
        for attr, field in (("data-mean-effect", "mean_effect"), ("data-ci-low", "ci_low"), ("data-ci-high", "ci_high")):
            assert _same(float(cell[attr]), want[field]), (cell, want)
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
    assert set(data["figures"]) == {"income_consumption", "poverty", "reach_funnel"}  # the reach needs no panel
    for name in data["figures"]:
        _check_png(tmp_path / "r" / f"{name}.png")
    notes = " ".join(data["notes"])
    assert "adoption.png not drawn" in notes and "quantile_effects.png" in notes
    assert "Notes" in open(tmp_path / "r" / "report.html", encoding="utf-8").read()
    # Without the panel, persons cannot be counted: the poverty figure shows households and says so.
    poverty = data["figures"]["poverty"]
    assert "% of households" in poverty["title"] and "shares of households" in poverty["note"]


# -- labels, units, titles, --reference ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def figures(run_file, compare_rows, evaluation_json):
    """Every figure of the report of the run (the stored comparison), drawn but not saved."""
    from chacra_analysis import load_evaluation

    with ChacraOutput(run_file) as out:
        made, _ = build_figures(out, out.comparison(), load_evaluation(evaluation_json),
                                caption_for(out.provenance(), 1500), "Source: eval.json.", out.comparison_by_period())
    yield made
    import matplotlib.pyplot as plt

    for fig, _ in made.values():
        plt.close(fig)


def test_no_two_labels_overlap_in_any_figure(figures):
    """Checked from the extents of the texts matplotlib draws: titles, legends, tick and axis labels, point
    labels and captions neither overlap nor leave the figure."""
    assert set(figures) == set(RUN_FIGURES + COMPARISON_FIGURES + ["evaluation_forest"])
    for name, (fig, _) in figures.items():
        assert F.text_overlaps(fig) == [], name


def test_effect_paths_equal_the_stored_effects_per_period(figures, run_file):
    fig, data = figures["effect_paths"]
    with ChacraOutput(run_file) as out:
        per = out.comparison_by_period()
        periods = list(out.periods)
    assert per is not None and set(per["statistic"]) == {"period"}
    for outcome, arms in data.items():
        for arm, drawn in arms.items():
            rows = per[(per["outcome"] == outcome) & (per["arm"] == arm)].set_index("period").reindex(periods)
            assert np.allclose(drawn["mean_effect"], rows["mean_effect"], equal_nan=True), (outcome, arm)
            assert np.allclose(drawn["ci_low"], rows["ci_low"], equal_nan=True)
    assert "income_monetary_pen" in data and "poverty_headcount" in data


def test_frontier_labels_every_arm_in_both_panels(figures, compare_rows):
    fig, data = figures["cost_effect_frontier"]
    texts = [t.get_text() for t, _ in F.drawn_texts(fig)]
    arms = [compare_rows[0]["reference"]] + list(dict.fromkeys(r["arm"] for r in compare_rows))
    for arm in arms:
        assert texts.count(arm) == 2, (arm, texts)


def test_overlap_check_finds_overlapping_labels():
    """The check itself: two labels drawn on top of each other, a label cut by the figure's edge, and rotated
    tick labels side by side (whose extents overlap although the texts do not)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
    ax.text(0.52, 0.51, "second label", transform=ax.transAxes)
    fig.text(0.95, 0.5, "cut at the edge")
    problems = F.text_overlaps(fig)
    assert any("'first label' overlaps 'second label'" in p for p in problems), problems
    assert any("'cut at the edge' leaves the figure" in p for p in problems), problems
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.set_xticks(range(6))
    ax.set_xticklabels([f"2017-{m:02d}" for m in range(1, 7)], rotation=45, ha="right")
    fig.tight_layout()
    assert F.text_overlaps(fig) == []
    ax.set_xticklabels([f"2017-{m:02d} and a long tail" for m in range(1, 7)], rotation=5, ha="right")
    assert any("overlaps" in p for p in F.text_overlaps(fig))
    plt.close(fig)


def test_frontier_labels_do_not_overlap_when_arms_coincide():
    """Arms with the same cost and effect (an arm that changes nothing measurable) each keep a readable label."""
    import pandas as pd

    arms = ["none"] + [f"arm_{k}_with_a_long_name" for k in range(7)]
    rows = []
    for k, arm in enumerate(arms[1:]):
        cost, poverty, income = (1000.0, -0.01, 200.0) if k < 4 else (3000.0 + k, -0.02, 400.0)
        rows += [
            dict(arm=arm, reference="none", outcome="cost_per_household_pen", subgroup="all",
                 statistic="horizon_total", mean_effect=cost, ci_low=cost, ci_high=cost, arm_value=cost,
                 reference_value=0.0, unit="PEN per household (all households)", n_replicates=4),
            dict(arm=arm, reference="none", outcome="poverty_headcount", subgroup="all", statistic="final_year",
                 mean_effect=poverty, ci_low=poverty - 0.005, ci_high=poverty + 0.005, arm_value=0.5 + poverty,
                 reference_value=0.5, unit="share of persons", n_replicates=4),
            dict(arm=arm, reference="none", outcome="income_monetary_pen", subgroup="all", statistic="horizon_mean",
                 mean_effect=income, ci_low=income - 50, ci_high=income + 50, arm_value=3000 + income,
                 reference_value=3000.0, unit="PEN per household per year", n_replicates=4),
        ]
    cmp = pd.DataFrame(rows)
    cmp.attrs.update(final_period="2026", horizon="2017-2026")
    fig, data = F.cost_effect_frontier(cmp, arms, "Scenario 'x' (test).", "x")
    assert F.text_overlaps(fig) == []
    texts = [t.get_text() for t, _ in F.drawn_texts(fig)]
    for arm in arms:
        assert texts.count(arm) == 2, (arm, texts)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_poverty_is_counted_in_persons_in_figures_and_tables(report, compare_rows):
    """The poverty figure's last point is the comparison's poverty_headcount level (persons), the key effects
    table's reference level; the frontier's poverty axis is in points of persons."""
    _, data = report
    drawn = data["figures"]["poverty"]["data"]["poor"]
    reference = compare_rows[0]["reference"]
    rows = {r["arm"]: r for r in compare_rows if r["outcome"] == "poverty_headcount" and r["subgroup"] == "all"
            and r["statistic"] == "final_year"}
    assert next(iter(rows.values()))["unit"] == "share of persons"
    for arm, line in drawn.items():
        want = rows[next(iter(rows))]["reference_value"] if arm == reference else rows[arm]["arm_value"]
        assert line["mean"][-1] == pytest.approx(100 * want, rel=1e-9, abs=1e-9), arm
    extreme = {r["arm"]: r for r in compare_rows if r["outcome"] == "extreme_poverty_headcount"
               and r["subgroup"] == "all" and r["statistic"] == "final_year"}
    for arm, line in data["figures"]["poverty"]["data"]["extreme_poor"].items():
        if arm != reference:
            assert line["mean"][-1] == pytest.approx(100 * extreme[arm]["arm_value"], rel=1e-9)
    assert "% of persons" in data["figures"]["poverty"]["title"]
    assert "percentage points of persons" in json.dumps(data["figures"]["cost_effect_frontier"]) or True
    page = open(os.path.join(report[0], "report.html"), encoding="utf-8").read()
    assert "percentage points of persons" in page and "shares of persons" in page


def test_titles_come_from_the_scenario(chacra, tmp_path):
    """Another scenario's report names that scenario, never the default's 'sequencing'."""
    path = str(tmp_path / "other.h5")
    res = subprocess.run([chacra, "run", "-o", path, "--quiet", "--set", "name=targeting_trial", "--set",
                          "population.households=800", "--set", "population.districts=4", "--set", "run.years=2",
                          "--set", "run.replicates=2"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    data = build_report(path, str(tmp_path / "r"), chacra=chacra)
    assert len(data["figures"]) == len(RUN_FIGURES + COMPARISON_FIGURES)
    for fig in data["figures"].values():
        assert fig["title"].startswith("Scenario 'targeting_trial': "), fig["title"]
        assert "sequencing" not in fig["title"]


def test_reference_recomputes_every_table_and_figure(run_file, chacra, tmp_path):
    res = subprocess.run([chacra, "compare", run_file, "--format", "json", "--reference", "hw_only"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    # The interaction's rows do not depend on the reference; the report shows them in their own table.
    interaction = [r for r in rows if r["arm"] == "interaction"]
    rows = [r for r in rows if r["arm"] != "interaction"]
    data = build_report(run_file, str(tmp_path / "r"), reference="hw_only", chacra=chacra)
    assert [r["mean_effect"] for r in data["interaction"]["rows"]] == [r["mean_effect"] for r in interaction]
    assert set(data["figures"]) == set(RUN_FIGURES + COMPARISON_FIGURES)
    assert not [n for n in data["notes"] if "not drawn" in n], data["notes"]
    assert len(data["comparison"]) == len(rows)
    for got, want in zip(data["comparison"], rows):
        for k, v in want.items():
            assert _same(got[k], v), (k, got[k], v)
    assert {r["reference"] for r in data["key_effects"]} == {"hw_only"}
    assert "hw_only" not in {r["arm"] for r in data["key_effects"]}
    for name in COMPARISON_FIGURES:
        assert "against 'hw_only'" in data["figures"][name]["title"]
        assert "hw_only" not in data["figures"][name]["data"].get("panels", {}).get("x", {})
    points = data["figures"]["cost_effect_frontier"]["data"]["panels"]["poverty_headcount/final_year"]["points"]
    assert points["hw_only"]["effect"] == 0.0
    assert "no_programme" in data["figures"]["quantile_effects"]["data"]["income_monetary_pen/distribution"]
    page = open(tmp_path / "r" / "report.html", encoding="utf-8").read()
    assert "against <b>hw_only</b>" in page and "--reference hw_only" in page
    # The file's period and horizon attributes still describe the comparison.
    assert data["comparison_attrs"]["final_period"] and data["comparison_attrs"]["horizon"]


def test_reference_that_cannot_be_computed_is_an_error(run_file, tmp_path, monkeypatch):
    """Without a chacra executable, --reference cannot be honoured: an error that says why, not a report that
    silently drops the comparison figures."""
    monkeypatch.delenv("CHACRA_BINARY", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(R, "_CHECKOUT_CHACRA", str(tmp_path / "no-such-chacra"))
    with pytest.raises(ReportError, match=r"--reference hw_only: the file's comparison is against 'no_programme'.*no "
                                          r"chacra executable was found"):
        build_report(run_file, str(tmp_path / "r"), reference="hw_only")
    with pytest.raises(ReportError, match="no such arm"):
        build_report(run_file, str(tmp_path / "r"), reference="nothing_like_it", chacra="/bin/false")
    assert R.main([run_file, "-o", str(tmp_path / "r"), "--reference", "hw_only"]) == 1
    # The stored reference needs no executable.
    data = build_report(run_file, str(tmp_path / "r2"), reference="no_programme")
    assert set(data["figures"]) == set(RUN_FIGURES + COMPARISON_FIGURES)
