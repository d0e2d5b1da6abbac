"""The posterior predictive check: the simulator rerun at posterior draws for every calibration and
validation target, and the summary tables (parameters: prior and posterior; targets: observed value beside
the predictive interval, whether it lands), computed the same way for both kinds of target."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .history import PURPOSE_PREDICTIVE, rng_for
from .mcmc import Posterior, weighted_quantile
from .simulators import run_batch


@dataclass
class Predictive:
    targets: list                 # Target, calibration then validation
    draw_index: np.ndarray        # r: row of the posterior ensemble simulated
    seeds: np.ndarray             # r
    values: np.ndarray            # r × targets (NaN: a failed run, skipped)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_predictive(problem, simulator, posterior: Posterior, executor, on_failure="error", log=print) -> Predictive:
    rng = rng_for(problem.seed, PURPOSE_PREDICTIVE)
    r = problem.predictive.draws
    idx = rng.choice(len(posterior.weight), r, replace=True, p=posterior.weight)
    seeds = rng.integers(1, 2**31 - 1, size=r)
    sim = simulator.with_targets(problem.targets)
    points = [dict(zip(posterior.names, map(float, posterior.draws[i]))) for i in idx]
    t0 = time.perf_counter()
    values, failures = run_batch(sim, points, seeds.tolist(), executor, on_failure)
    seconds = time.perf_counter() - t0
    log(f"predictive check: {r} simulator runs at posterior draws ({len(failures)} failed) in {seconds:.1f} s")
    return Predictive(problem.targets, idx, seeds, values, failures, seconds)


def parameter_table(problem, posterior: Posterior, level: float) -> pd.DataFrame:
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    q = posterior.quantiles([lo_q, 0.5, hi_q])
    rows = []
    for j, p in enumerate(problem.parameters):
        plo, phi = p.prior.quantile([lo_q, hi_q])
        rows.append({"parameter": p.name, "prior": p.prior.describe(), "prior_low": p.prior.lower,
                     "prior_high": p.prior.upper, "prior_interval_low": plo, "prior_interval_high": phi,
                     "posterior_median": q[1, j], "posterior_low": q[0, j], "posterior_high": q[2, j],
                     "posterior_map": posterior.map[j],
                     # How much the targets narrowed the parameter: about 1 means they say nothing about it.
                     "width_ratio": (q[2, j] - q[0, j]) / (phi - plo) if phi > plo else np.nan,
                     "unit": p.unit, "source": p.source})
    return pd.DataFrame(rows)


def target_table(problem, pred: Predictive, level: float) -> pd.DataFrame:
    """One row per target. A quantitative target lands when its observed value is inside the central `level`
    interval of the posterior predictive distribution of the observation (simulated value plus observation
    and discrepancy noise); a qualitative one when the condition holds in at least min_probability of the
    simulated values."""
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rng = rng_for(problem.seed, PURPOSE_PREDICTIVE, 1)
    rows = []
    for j, t in enumerate(pred.targets):
        v = pred.values[:, j]
        v = v[np.isfinite(v)]
        row = {"target": t.name, "role": t.role, "kind": "qualitative" if t.qualitative else "quantitative",
               "observed": t.observed if not t.qualitative else np.nan,
               "sd": t.sd if not t.qualitative else np.nan, "discrepancy_sd": t.discrepancy_sd,
               "condition": t.describe_condition(), "unit": t.unit, "runs": len(v)}
        if len(v) == 0:
            rows.append({**row, "lands": False, "note": "every predictive run failed"})
            continue
        mlo, mmed, mhi = np.quantile(v, [lo_q, 0.5, hi_q])
        row.update(model_low=mlo, model_median=mmed, model_high=mhi)
        if t.qualitative:
            prob = float(np.mean(t.holds(v)))
            row.update(probability=prob, lands=prob >= t.min_probability,
                       note=f"{t.fact}: P = {prob:.2f} (lands if >= {t.min_probability:g})")
        else:
            noise_sd = np.sqrt(t.sd ** 2 + t.discrepancy_sd ** 2)
            reps = (v[:, None] + noise_sd * rng.standard_normal((len(v), 200))).ravel()
            plo, phi = np.quantile(reps, [lo_q, hi_q])
            row.update(predictive_low=plo, predictive_high=phi, lands=bool(plo <= t.observed <= phi),
                       note="")
        row["source"] = t.source
        rows.append(row)
    cols = ["target", "role", "kind", "observed", "sd", "discrepancy_sd", "condition", "model_low", "model_median",
            "model_high", "predictive_low", "predictive_high", "probability", "lands", "runs", "unit", "note",
            "source"]
    return pd.DataFrame(rows).reindex(columns=cols)


def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "NO"
    if isinstance(x, (float, np.floating)):
        return "" if not np.isfinite(x) else f"{x:.4g}"
    return str(x)


def text_tables(params: pd.DataFrame, targets: pd.DataFrame, level: float) -> str:
    """The two tables as Markdown (printed, and saved as summary.md)."""
    pct = f"{level * 100:g}%"
    out = [f"## Parameters (posterior median and {pct} interval)", "",
           f"| parameter | prior | prior {pct} | posterior median | posterior {pct} | width ratio | source |",
           "|---|---|---|---|---|---|---|"]
    for _, r in params.iterrows():
        out.append(f"| {r.parameter} | {r.prior} | {_fmt(r.prior_interval_low)} – {_fmt(r.prior_interval_high)} | "
                   f"{_fmt(r.posterior_median)} | {_fmt(r.posterior_low)} – {_fmt(r.posterior_high)} | "
                   f"{_fmt(r.width_ratio)} | {r.source} |")
    out += ["", f"## Targets (observed beside the posterior predictive {pct} interval)", "",
            "| target | role | observed ± sd | discrepancy sd | model " + pct + " | predictive " + pct +
            " | lands |", "|---|---|---|---|---|---|---|"]
    for _, r in targets.iterrows():
        if r.kind == "qualitative":
            obs = f"fact: {r.condition}"
            pred = _fmt(r.note)
        else:
            obs = f"{_fmt(r.observed)} ± {_fmt(r.sd)}"
            pred = f"{_fmt(r.predictive_low)} – {_fmt(r.predictive_high)}"
        out.append(f"| {r.target} | {r.role} | {obs} | {_fmt(r.discrepancy_sd)} | "
                   f"{_fmt(r.model_low)} – {_fmt(r.model_high)} | {pred} | {_fmt(bool(r.lands))} |")
    return "\n".join(out) + "\n"


__all__ = ["Predictive", "run_predictive", "parameter_table", "target_table", "text_tables", "weighted_quantile"]
