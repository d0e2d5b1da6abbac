"""Slow tier (ctest label slow): analysis/calibrate.py end to end on the shipped toy problem, the same problem
over MPI ranks giving the same bits, and a small calibration of chacra itself that recovers a take-up
parameter from moments chacra produced at a known value."""

import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from chacra_analysis.calibration import read_posterior
from chacra_analysis.calibration import toy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLI = os.path.join(ROOT, "analysis", "calibrate.py")
TOY = os.path.join(ROOT, "analysis", "chacra_analysis", "calibration", "examples", "toy.yaml")


def cli(*args, env=None, prefix=()):
    return subprocess.run([*prefix, sys.executable, *(["-m", "mpi4py.futures"] if prefix else []), CLI, *args],
                          capture_output=True, text=True, env=env, timeout=900)


def test_toy_example_end_to_end(tmp_path):
    out = tmp_path / "out"
    res = cli(TOY, "-o", str(out), "--workers", "2")
    assert res.returncode == 0, res.stderr
    for name in ("posterior.h5", "defaults.json", "summary.md", "parameters.csv", "targets.csv"):
        assert (out / name).stat().st_size > 0
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["implausibility_by_wave.png", "posterior_marginals.png", "predictive_vs_observed.png",
                       "region_by_wave.png"]
    f = read_posterior(str(out / "posterior.h5"))
    q = np.quantile(f.draws, [0.05, 0.95], axis=0)
    for j, name in enumerate(f.parameters):
        assert q[0, j] <= toy.TRUTH[name] <= q[1, j]
    defaults = json.loads((out / "defaults.json").read_text())
    assert defaults["values"] == pytest.approx(f.central_values())
    summary = (out / "summary.md").read_text()
    for target in ("y1", "y5", "v1", "v2", "v2_positive"):
        assert f"| {target} |" in summary
    assert "## Parameters" in res.stdout and "## Targets" in res.stdout
    # existing outputs are kept without --force, replaced with it
    assert cli(TOY, "-o", str(out)).returncode == 2
    assert cli(TOY, "-o", str(out), "--force", "-q", "--seed", "12").returncode == 0
    assert read_posterior(str(out / "posterior.h5")).attrs["seed"] == 12


def _small_toy(tmp_path):
    text = open(TOY).read()
    text = text.replace("waves: 3, design_points: 30", "waves: 2, design_points: 16")
    text = text.replace("steps: 2000, burn: 500, draws: 1000", "steps: 300, burn: 100, draws: 200")
    text = text.replace("draws: 60", "draws: 8")
    path = tmp_path / "small.yaml"
    path.write_text(text)
    return str(path)


def test_mpi_ranks_give_the_same_bits(tmp_path):
    mpiexec = shutil.which("mpiexec") or shutil.which("mpirun")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("no mpi4py (Debian: python3-mpi4py)")
    if mpiexec is None:
        pytest.skip("no mpiexec")
    problem = _small_toy(tmp_path)
    local = cli(problem, "-o", str(tmp_path / "local"), "--workers", "1", "-q")
    assert local.returncode == 0, local.stderr
    prefix = (mpiexec, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--mca", "btl", "self,vader",
              "-np", "3")
    ranks = cli(problem, "-o", str(tmp_path / "mpi"), "--mpi", "-q", prefix=prefix)
    assert ranks.returncode == 0, ranks.stderr
    a = read_posterior(str(tmp_path / "local" / "posterior.h5"))
    b = read_posterior(str(tmp_path / "mpi" / "posterior.h5"))
    np.testing.assert_array_equal(a.draws, b.draws)
    np.testing.assert_array_equal(a.predictive["values"], b.predictive["values"])
    np.testing.assert_array_equal(a.runs["outputs"], b.runs["outputs"])
    assert b.provenance["executor"] == {"mode": "mpi", "workers": 2}


def test_chacra_calibration_recovers_a_known_take_up(chacra, tmp_path):
    """Moments made by chacra at haku_winay.takeup_juntos_logit = 0.6 (seed 1, 4 replicates; the evaluation still
    aborts at some seeds, issue 23, hence on_failure: skip); the calibration, blind to that value, must put it
    inside the posterior's 90% interval. Two of the three targets do not depend on the parameter: they must
    not pull it anywhere."""
    truth = 0.6
    res = subprocess.run([chacra, "evaluate", "--format", "json", "--quiet", "--replicates", "4", "--seed", "1",
                          "--set", f"haku_winay.takeup_juntos_logit={truth}"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = {r["outcome"]: r for r in json.loads(res.stdout)}
    doc = f"""
name: chacra_known_take_up
seed: 4
simulator: {{kind: chacra, executable: {os.path.abspath(chacra)}, replicates: 2, threads_per_run: 1,
            on_failure: skip}}
parameters:
  haku_winay.takeup_juntos_logit:
    prior: {{distribution: uniform, min: -1.0, max: 1.5}}
    source: "test: the value is recovered from moments chacra made at 0.6"
calibration_targets:
  reach_itt: {{observed: {rows['hw_reach_itt']['model_mean']}, sd: 0.015, source: "chacra at 0.6",
              statistic: {{kind: evaluate, outcome: hw_reach_itt}}}}
  reach_control: {{observed: {rows['hw_reach_control']['model_mean']}, sd: 0.03, source: "chacra at 0.6",
                  statistic: {{kind: evaluate, outcome: hw_reach_control}}}}
  control_income: {{observed: {rows['control_mean_income']['model_mean']}, sd: 200, source: "chacra at 0.6",
                   statistic: {{kind: evaluate, outcome: control_mean_income}}}}
validation_targets:
  income_itt: {{observed: {rows['income']['model_mean']}, sd: 300, source: "chacra at 0.6",
               statistic: {{kind: evaluate, outcome: income}}}}
history_matching: {{waves: 2, design_points: 12, restarts: 1}}
mcmc: {{steps: 1500, burn: 500, draws: 500}}
predictive: {{draws: 12}}
"""
    path = tmp_path / "chacra.yaml"
    path.write_text(doc)
    out = tmp_path / "out"
    res = cli(str(path), "-o", str(out), "--workers", "2", "-q")
    assert res.returncode == 0, res.stderr
    f = read_posterior(str(out / "posterior.h5"))
    lo, hi = np.quantile(f.draws[:, 0], [0.05, 0.95])
    assert lo <= truth <= hi, (lo, hi)
    assert hi - lo < 1.5, "reach in the ITT group should pin the take-up logit down"
    assert f.provenance["simulator"]["chacra_commit"]
    with h5py.File(out / "posterior.h5") as h:
        assert h.attrs["chacra_version"]
