"""Both sources of uncertainty in the report: a run made with `chacra run --posterior` shows, under each key effect,
the parameters' share of its variance (nonzero when the drawn parameter moves the effect) and says so; a run
without a posterior says plainly that its intervals hold sampling uncertainty only. The virtual evaluation's
section shows every published effect beside the model's interval, landed or not, with its split."""

import json
import re
import subprocess

import h5py
import numpy as np
import pytest

from chacra_analysis import ChacraOutput, load_evaluation
from chacra_analysis.calibration.moments import juntos_person_coverage
from chacra_analysis.report import _evaluation_html, _html, _key_effects, comparison_posterior, evaluation_posterior

TWO_ARMS = """name: split_report
population: {households: 1200, districts: 6}
run: {start_year: 2017, years: 2, replicates: 8, seed: 5, reference_arm: no_programme}
output: {frequency: yearly}
arms:
  - {name: no_programme, set: {juntos.enabled: false, haku_winay.enabled: false}}
  - {name: juntos_only, set: {haku_winay.enabled: false}}
"""


def _posterior(path):
    """An ensemble of one parameter, the Juntos transfer, spread wide: Juntos's income effect follows the draw."""
    draws = np.array([[0.0], [200.0], [400.0], [600.0], [800.0], [1000.0], [1200.0], [1400.0]])
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "chacra-posterior"
        f.attrs["format_version"] = 1
        f.attrs["problem_name"] = "report_split_test"
        g = f.create_group("posterior")
        g.create_dataset("parameter", data=np.array([b"juntos.transfer_pen"], dtype=h5py.string_dtype()))
        g.create_dataset("draws", data=draws)
        g.create_dataset("weight", data=np.full(len(draws), 1.0 / len(draws)))
        g.create_dataset("central", data=np.array([700.0]))
    return str(path)


@pytest.fixture(scope="module")
def runs(chacra, tmp_path_factory):
    d = tmp_path_factory.mktemp("uncertainty")
    scenario = d / "two_arms.yaml"
    scenario.write_text(TWO_ARMS)
    posterior = _posterior(d / "posterior.h5")
    out = {}
    for name, extra in (("with", ["--posterior", posterior]), ("without", [])):
        path = str(d / f"{name}.h5")
        res = subprocess.run([chacra, "run", str(scenario), "-o", path, "-q", *extra], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
        out[name] = path
    out["posterior"] = posterior
    return out


def _income_cell(html):
    m = re.search(r'<td class=num data-arm="juntos_only" data-outcome="income_monetary_pen"[^>]*>', html)
    assert m, "the key table has Juntos's income effect"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', m.group(0)))
    return m, attrs


def _page(path, ev=None):
    """The report's page of a run (and an evaluation) without its figures (build_report draws them, tested in
    test_report.py; here they would only cost time): the HTML the report writes, from the stored comparison."""
    with ChacraOutput(path) as out:
        prov, arms, periods = out.provenance(), list(out.arms), list(out.periods)
        cmp = out.comparison()
    return _html(prov, arms, periods, 1200, "caption", cmp, "stored", _key_effects(cmp), ev, {}, []), cmp, prov


def test_a_run_with_a_posterior_shows_a_nonzero_parameter_share(runs, tmp_path):
    html, cmp, prov = _page(runs["with"])
    assert comparison_posterior(cmp, prov) == runs["posterior"]
    assert "Parameters were drawn from the posterior ensemble" in html
    m, attrs = _income_cell(html)
    sd_p, sd_s = float(attrs["sd-parameter"]), float(attrs["sd-sampling"])
    assert sd_p > 0 and sd_s > 0
    share = sd_p ** 2 / (sd_p ** 2 + sd_s ** 2)
    assert share > 0.2, "the transfer drawn per pair moves Juntos's income effect well beyond sampling noise"
    cell = html[m.end():html.index("</td>", m.end())]
    assert f"parameters {share * 100:.0f}% of var." in cell
    assert "had no posterior" not in html


def test_a_run_without_a_posterior_says_so_and_shows_no_parameter_share(runs, tmp_path):
    html, cmp, prov = _page(runs["without"])
    assert comparison_posterior(cmp, prov) is None
    assert "This run had no posterior" in html and "sampling uncertainty only" in html
    _, attrs = _income_cell(html)
    assert attrs["sd-parameter"] == "nan"
    assert "% of var." not in html
    assert len(cmp) and not np.isfinite(cmp["sd_parameter"].to_numpy(dtype=float)).any()


def _evaluation(tmp_path, posterior):
    """Rows as `chacra evaluate --format json` writes them (made-up numbers): two land, one does not."""
    split = posterior is not None
    rows = [
        {"outcome": "income", "unit": "PEN/year", "published": 1400, "model_mean": 168.0, "p2_5": -414.0,
         "p97_5": 1297.0, "coverage": 0.2, "rd_mean": 150.0, "n_replicates": 20, "calibration_target": False,
         "sd_parameter": 215.0 if split else None, "sd_sampling": 503.0 if split else None,
         "parameter_share": 0.154 if split else None, "posterior": posterior, "role": "validation", "lands": False},
        {"outcome": "cultivated_pasture", "unit": "share", "published": 0.11, "model_mean": 0.17, "p2_5": 0.107,
         "p97_5": 0.227, "coverage": 0.6, "rd_mean": 0.16, "n_replicates": 20, "calibration_target": False,
         "sd_parameter": 0.022 if split else None, "sd_sampling": 0.024 if split else None,
         "parameter_share": 0.46 if split else None, "posterior": posterior, "role": "validation", "lands": True},
        {"outcome": "hw_reach_itt", "unit": "share", "published": 0.72, "model_mean": 0.72, "p2_5": 0.677,
         "p97_5": 0.754, "coverage": 0.9, "rd_mean": 0.7, "n_replicates": 20, "calibration_target": True,
         "sd_parameter": 0.009 if split else None, "sd_sampling": 0.019 if split else None,
         "parameter_share": 0.18 if split else None, "posterior": posterior, "role": "fitted", "lands": True},
    ]
    path = tmp_path / ("eval_post.json" if split else "eval_plain.json")
    path.write_text(json.dumps(rows))
    return str(path)


def test_the_evaluation_shows_every_published_effect_beside_its_posterior_predictive_interval(runs, tmp_path):
    ev = _evaluation(tmp_path, "configs/calibration/posterior_2017.h5")
    frame = load_evaluation(ev)
    assert evaluation_posterior(frame) == "configs/calibration/posterior_2017.h5"
    html, _, _ = _page(runs["with"], frame)
    assert "% of var." in html
    section = html[html.index("<h2>Virtual evaluation"):]
    assert "posterior predictive interval" in section.split("</h2>")[0]
    rows = re.findall(r"<tr><td>([a-z_]+)</td>.*?</tr>", section)
    assert rows == ["income", "cultivated_pasture", "hw_reach_itt"], "every published effect, landed or not"
    income = re.search(r"<tr><td>income</td>.*?</tr>", section).group(0)
    assert "<td class=misses>no</td>" in income and "-414 to 1,297" in income and "15%" in income
    assert "<td class=lands>yes</td>" in re.search(r"<tr><td>cultivated_pasture</td>.*?</tr>", section).group(0)
    plain = load_evaluation(_evaluation(tmp_path, None))
    assert evaluation_posterior(plain) is None
    html = _evaluation_html(plain)
    assert "This evaluation had no posterior" in html and "posterior predictive" not in html


def test_juntos_person_coverage_counts_persons(tmp_path):
    """Two replicates: persons in affiliated households over all persons, in the last period."""
    path = tmp_path / "cov.h5"
    with h5py.File(path, "w") as f:
        for r, (enrolled, size) in enumerate((([1, 0, 0], [2, 3, 5]), ([1, 1, 0], [4, 1, 5]))):
            p = f.create_group(f"arms/juntos_only/replicate_{r}/panel")
            p.create_dataset("juntos_enrolled", data=np.array([[0, 0, 0], enrolled], dtype=np.uint8))
            p.create_dataset("household_size", data=np.array([[1, 1, 1], size], dtype=np.uint8))
    assert juntos_person_coverage(str(path)) == pytest.approx((2 + 4 + 1) / (10 + 10))
