"""Bayesian calibration on the final non-implausible region: the affine-invariant ensemble sampler (emcee;
Goodman and Weare 2010) on the prior times the emulators' Gaussian likelihood, in which each target's
variance is observation + model discrepancy + emulator variance (Kennedy and O'Hagan 2001)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import emcee
import numpy as np

from .history import PURPOSE_MCMC, HistoryMatch, implausibility, rng_for


@dataclass
class Posterior:
    names: list[str]
    unit_draws: np.ndarray     # draws × k, design coordinates
    draws: np.ndarray          # draws × k, parameter values
    weight: np.ndarray         # draws, sums to 1
    log_density: np.ndarray    # draws: unnormalised log posterior (emulator likelihood × prior)
    stats: dict = field(default_factory=dict)

    def quantiles(self, qs) -> np.ndarray:
        """Weighted quantiles: len(qs) × k."""
        return np.column_stack([weighted_quantile(self.draws[:, j], self.weight, qs)
                                for j in range(self.draws.shape[1])])

    @property
    def median(self) -> np.ndarray:
        return self.quantiles([0.5])[0]

    @property
    def map(self) -> np.ndarray:
        return self.draws[int(np.argmax(self.log_density))]


def weighted_quantile(x, w, qs) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of the weighted empirical CDF, midpoint convention)."""
    order = np.argsort(x)
    x, w = np.asarray(x)[order], np.asarray(w)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return np.interp(qs, cdf, x)


class LogPosterior:
    """log prior + log likelihood of the last wave's emulators, -inf outside [0, 1]^k or outside the region
    that survived every wave (the emulators are trusted only where they were trained)."""

    def __init__(self, hm: HistoryMatch):
        self.hm = hm
        self.priors = [p.prior for p in hm.problem.parameters]
        self.emulators = hm.waves[-1].emulators

    def __call__(self, U) -> np.ndarray:
        U = np.atleast_2d(np.asarray(U, dtype=float))
        out = np.zeros(U.shape[0])
        for j, prior in enumerate(self.priors):
            out += prior.log_density_unit(U[:, j])
        ok = np.isfinite(out)
        last = len(self.hm.waves)
        if ok.any() and last > 1:
            ok[ok] = self.hm.nonimplausible(U[ok], upto=last - 1)
        if ok.any():
            # The last wave's emulators serve twice: its cut-off and the likelihood.
            M, V = self.emulators.predict(U[ok])
            _, imp = implausibility(self.hm.z, self.hm.var_fixed, M, V, self.hm.s.measure)
            var = self.hm.var_fixed + V
            ll = -0.5 * np.sum((self.hm.z - M) ** 2 / var + np.log(2 * math.pi * var), axis=1)
            out[ok] += np.where(imp <= self.hm.s.cutoff, ll, -np.inf)
        out[~ok] = -np.inf
        return out


def sample_posterior(hm: HistoryMatch, log=print) -> Posterior:
    problem = hm.problem
    s = problem.mcmc
    k = len(problem.parameters)
    nwalkers = problem.walkers()
    rng = rng_for(problem.seed, PURPOSE_MCMC)
    logp = LogPosterior(hm)
    t0 = time.perf_counter()

    # Start the walkers at posterior-weighted draws from the uniform sample of the final region.
    pool = hm.waves[-1].nroy_sample
    if len(pool) > 5000:
        pool = pool[rng.choice(len(pool), 5000, replace=False)]
    lp = logp(pool)
    finite = np.isfinite(lp)
    if finite.sum() == 0:
        raise RuntimeError("no point of the final non-implausible sample has a finite posterior density")
    w = np.where(finite, np.exp(lp - lp[finite].max()), 0.0)
    idx = rng.choice(len(pool), nwalkers, replace=int(np.count_nonzero(w)) < nwalkers, p=w / w.sum())
    p0 = pool[idx]
    # Walkers must differ: nudge duplicates by a little, keeping them where the density is finite.
    for i in range(1, nwalkers):
        if np.any(np.all(p0[:i] == p0[i], axis=1)):
            for _ in range(100):
                trial = np.clip(p0[i] + rng.normal(scale=1e-3, size=k), 0.0, 1.0)
                if np.isfinite(logp(trial)[0]):
                    p0[i] = trial
                    break

    # Differential-evolution moves mix better than the stretch move alone on correlated posteriors (emcee's
    # documentation; ter Braak and Vrugt 2008).
    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(nwalkers, k, logp, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(int(rng.integers(0, 2**31 - 1))).get_state()
    sampler.run_mcmc(p0, s.steps, progress=False)
    t1 = time.perf_counter()

    tau = sampler.get_autocorr_time(discard=s.burn, quiet=True, tol=0)
    tau_max = float(np.max(tau))
    kept = s.steps - s.burn
    thin = max(1, int(0.5 * np.min(tau)))
    chain = sampler.get_chain(discard=s.burn, thin=thin, flat=True)
    lps = sampler.get_log_prob(discard=s.burn, thin=thin, flat=True)
    if len(chain) > s.draws:
        pick = np.linspace(0, len(chain) - 1, s.draws).round().astype(int)
        chain, lps = chain[pick], lps[pick]
    warnings = []
    if kept < 50 * tau_max:
        warnings.append(f"the chain after burn-in ({kept} steps) is shorter than 50 autocorrelation times "
                        f"({50 * tau_max:.0f}): raise mcmc.steps")
    acc = sampler.acceptance_fraction
    if acc.mean() < 0.15:
        warnings.append(f"low mean acceptance fraction {acc.mean():.2f}")
    for wmsg in warnings:
        log("mcmc: warning: " + wmsg)
    draws = np.column_stack([p.prior.to_value(chain[:, j]) for j, p in enumerate(problem.parameters)])
    stats = {"walkers": nwalkers, "steps": s.steps, "burn": s.burn, "thin": thin, "draws": len(chain),
             "acceptance_mean": float(acc.mean()), "acceptance_min": float(acc.min()),
             "acceptance_max": float(acc.max()), "autocorr_time": [float(t) for t in tau],
             "effective_sample_size": float(nwalkers * kept / tau_max), "warnings": warnings,
             "seconds": t1 - t0, "log_prob_evaluations": nwalkers * s.steps}
    log(f"mcmc: {nwalkers} walkers × {s.steps} steps in {t1 - t0:.1f} s, acceptance {acc.mean():.2f}, "
        f"autocorrelation time {tau_max:.1f} steps, effective sample size {stats['effective_sample_size']:.0f}")
    return Posterior(problem.parameter_names, chain, draws, np.full(len(chain), 1.0 / len(chain)), lps, stats)
