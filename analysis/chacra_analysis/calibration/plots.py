"""Diagnostic figures of a calibration (matplotlib, Agg): implausibility of the runs by wave, the
non-implausible region by wave in pairs of parameters, posterior marginals against the priors, and the
posterior predictive intervals beside the observed values."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def implausibility_by_wave(result, path: str) -> None:
    hm = result.history
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    data = [w.run_implausibility[np.isfinite(w.run_implausibility)] for w in hm.waves]
    for i, d in enumerate(data):
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(d))
        ax.scatter(np.full(len(d), i + 1) + jitter, np.maximum(d, 1e-2), s=8, alpha=0.6)
    ax.axhline(hm.s.cutoff, color="k", ls="--", lw=1, label=f"cut-off {hm.s.cutoff:g}")
    ax.set_yscale("log")
    ax.set_xticks(range(1, len(hm.waves) + 1))
    ax.set_xlabel("wave")
    ax.set_ylabel(f"implausibility of each run ({hm.s.measure} over targets)")
    ax.set_title("Simulator runs by wave")
    ax.legend()
    ax2.plot([0] + [w.index for w in hm.waves], [1.0] + [max(w.nroy_fraction, 1e-12) for w in hm.waves], "o-")
    ax2.set_yscale("log")
    ax2.set_xlabel("wave")
    ax2.set_ylabel("share of the prior box not ruled out")
    ax2.set_title("Non-implausible region")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def region_pairs(result, path: str, truth: dict | None = None, max_parameters: int = 6) -> None:
    hm, problem = result.history, result.problem
    k = min(len(problem.parameters), max_parameters)
    if k < 2:
        return
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    cols = min(3, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.6 * rows), squeeze=False)
    for ax, (i, j) in zip(axes.ravel(), pairs):
        for w in hm.waves:
            s = w.nroy_sample[:1500]
            if len(s):
                pi, pj = problem.parameters[i].prior, problem.parameters[j].prior
                ax.scatter(pi.to_value(s[:, i]), pj.to_value(s[:, j]), s=3, alpha=0.4, label=f"after wave {w.index}")
        if truth:
            ax.plot(truth.get(problem.parameters[i].name), truth.get(problem.parameters[j].name), "k*", ms=12)
        ax.set_xlabel(problem.parameters[i].name)
        ax.set_ylabel(problem.parameters[j].name)
        ax.set_xlim(problem.parameters[i].prior.lower, problem.parameters[i].prior.upper)
        ax.set_ylim(problem.parameters[j].prior.lower, problem.parameters[j].prior.upper)
    for ax in axes.ravel()[len(pairs):]:
        ax.axis("off")
    axes.ravel()[0].legend(markerscale=4, fontsize=8)
    fig.suptitle("Non-implausible parameter sets by wave")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def posterior_marginals(result, path: str, truth: dict | None = None) -> None:
    problem, post = result.problem, result.posterior
    k = len(problem.parameters)
    cols = min(3, k)
    rows = int(np.ceil(k / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    level = problem.predictive.level
    q = post.quantiles([(1 - level) / 2, 0.5, 1 - (1 - level) / 2])
    for j, (ax, p) in enumerate(zip(axes.ravel(), problem.parameters)):
        lo, hi = p.prior.lower, p.prior.upper
        bins = np.geomspace(lo, hi, 40) if p.prior.log_scale else np.linspace(lo, hi, 40)
        ax.hist(post.draws[:, j], bins=bins, weights=post.weight, density=True, alpha=0.6, label="posterior")
        u = np.linspace(0.0005, 0.9995, 400)
        x = p.prior.to_value(u)
        dens_u = np.exp(p.prior.log_density_unit(u))
        ax.plot(x, dens_u / np.gradient(x, u), "k-", lw=1, label="prior")
        for v, ls in zip(q[:, j], (":", "-", ":")):
            ax.axvline(v, color="C1", ls=ls, lw=1)
        if truth and p.name in truth:
            ax.axvline(truth[p.name], color="k", ls="--", lw=1.5, label="truth")
        if p.prior.log_scale:
            ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_title(p.name, fontsize=9)
    for ax in axes.ravel()[k:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(f"Posterior marginals (median and {level * 100:g}% interval in orange)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def predictive_vs_observed(targets_table, path: str, level: float) -> None:
    t = targets_table[targets_table["kind"] == "quantitative"].reset_index(drop=True)
    if t.empty:
        return
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(t) + 1.5))
    scale = np.sqrt(t["sd"] ** 2 + t["discrepancy_sd"] ** 2)
    for i, r in t.iterrows():
        color = "C0" if r.role == "calibration" else "C2"
        lo = (r.predictive_low - r.observed) / scale[i]
        hi = (r.predictive_high - r.observed) / scale[i]
        ax.plot([lo, hi], [i, i], color=color, lw=4, alpha=0.7)
        m = (r.model_median - r.observed) / scale[i]
        ax.plot(m, i, "o", color="k" if r.lands else "r", ms=5)
    ax.axvline(0, color="k", lw=1)
    ax.set_yticks(range(len(t)))
    ax.set_yticklabels([f"{r.target} ({r.role[:3]}.){'' if r.lands else ' MISSES'}" for _, r in t.iterrows()],
                       fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("(prediction - observed) / sqrt(sd² + discrepancy sd²)")
    ax.set_title(f"Posterior predictive {level * 100:g}% intervals (blue: calibration, green: validation); "
                 "dot: model median", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_figures(result, targets_table, directory: str, truth: dict | None = None) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    paths = {name: os.path.join(directory, name + ".png") for name in
             ("implausibility_by_wave", "region_by_wave", "posterior_marginals", "predictive_vs_observed")}
    implausibility_by_wave(result, paths["implausibility_by_wave"])
    region_pairs(result, paths["region_by_wave"], truth)
    if result.posterior is not None:
        posterior_marginals(result, paths["posterior_marginals"], truth)
        predictive_vs_observed(targets_table, paths["predictive_vs_observed"], result.problem.predictive.level)
    return [p for p in paths.values() if os.path.exists(p)]
