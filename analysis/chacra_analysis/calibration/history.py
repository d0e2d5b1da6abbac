"""History matching in waves (Craig et al. 1997; Vernon, Goldstein and Bower 2010; Andrianakis et al. 2015):
each wave runs the simulator on a space-filling design over the region not yet ruled out, emulates every
calibration target, and rules out the parameter sets whose implausibility
I = |z - E[f(x)]| / sqrt(Var_obs + Var_discrepancy + Var_emulator) exceeds the cut-off."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import qmc

from .emulator import EmulatorSet
from .simulators import run_batch


class NoNonImplausibleRegion(RuntimeError):
    """Every parameter set searched is implausible: the model cannot reach the targets within their stated
    uncertainties and discrepancies from the prior ranges. The message says which targets."""


def rng_for(seed: int, purpose: int, *more: int) -> np.random.Generator:
    """A generator for one use (design, simulator seeds, emulator fits, MCMC, predictive), keyed by the
    problem's seed, so that every step is reproducible on its own."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), purpose, *map(int, more)]))


PURPOSE_DESIGN, PURPOSE_SEEDS, PURPOSE_EMULATOR, PURPOSE_SEARCH, PURPOSE_MCMC, PURPOSE_PREDICTIVE = range(1, 7)


def implausibility(z, var_fixed, M, V, measure: str = "max"):
    """Per-target implausibility (runs × targets) and the combined measure (max or second largest)."""
    each = np.abs(z - M) / np.sqrt(var_fixed + V)
    if measure == "second_max" and each.shape[1] >= 2:
        combined = np.sort(each, axis=1)[:, -2]
    else:
        combined = each.max(axis=1)
    return each, combined


@dataclass
class Wave:
    index: int
    design: np.ndarray                 # points × k design coordinates
    run_design: np.ndarray             # runs × k (points repeated for seeds per point)
    seeds: np.ndarray                  # runs
    outputs: np.ndarray                # runs × calibration targets (NaN rows: failed, skipped)
    failures: list[str]
    emulators: EmulatorSet
    n_train: int
    holdout: dict                      # emulator check on held-out runs
    run_implausibility: np.ndarray     # runs: the simulator's own implausibility (emulator variance 0)
    nroy_sample: np.ndarray = None     # non-implausible points after this wave
    nroy_uniform: int = 0              # how many of them, first, are uniform on the region
    nroy_fraction: float = 1.0         # estimated share of the prior box still non-implausible
    search: dict = field(default_factory=dict)
    variance_ratio: np.ndarray = None  # per target: 95th percentile over the region of the emulator variance,
                                       # relative to the observation + discrepancy variance
    seconds: dict = field(default_factory=dict)


class HistoryMatch:
    """Waves of history matching for the calibration targets of a problem."""

    def __init__(self, problem, simulator, executor, on_failure: str = "error", log=print):
        self.problem = problem
        self.sim = simulator.with_targets(problem.calibration)
        self.executor = executor
        self.on_failure = on_failure
        self.log = log
        self.s = problem.history_matching
        self.k = len(problem.parameters)
        self.z = np.array([t.observed for t in problem.calibration])
        self.var_fixed = np.array([t.sd ** 2 + t.discrepancy_sd ** 2 for t in problem.calibration])
        self.waves: list[Wave] = []
        self.stop_reason = ""

    # -- the region not yet ruled out ------------------------------------------------------------------
    def implausibility_by_wave(self, U, upto: int | None = None) -> np.ndarray:
        """Combined implausibility of each point under each wave's emulators: points × waves."""
        U = np.atleast_2d(U)
        waves = self.waves[:upto] if upto is not None else self.waves
        out = np.empty((U.shape[0], len(waves)))
        for w, wave in enumerate(waves):
            M, V = wave.emulators.predict(U)
            out[:, w] = implausibility(self.z, self.var_fixed, M, V, self.s.measure)[1]
        return out

    def nonimplausible(self, U, upto: int | None = None, start: int = 0) -> np.ndarray:
        """True where a point survives the cut-off of waves start+1 .. upto (default: every wave). Waves are
        applied in order to the points still standing, so the cheap early emulators do most of the work."""
        U = np.atleast_2d(U)
        keep = np.ones(U.shape[0], dtype=bool)
        for wave in self.waves[start:upto]:
            idx = np.flatnonzero(keep)
            if len(idx) == 0:
                break
            M, V = wave.emulators.predict(U[idx])
            keep[idx] = implausibility(self.z, self.var_fixed, M, V, self.s.measure)[1] <= self.s.cutoff
        return keep

    def to_params(self, U) -> list[dict]:
        names = self.problem.parameter_names
        priors = [p.prior for p in self.problem.parameters]
        return [{n: float(pr.to_value(u[j])) for j, (n, pr) in enumerate(zip(names, priors))} for u in U]

    # -- one wave ---------------------------------------------------------------------------------------
    def _design(self, wave: int) -> np.ndarray:
        n = self.problem.design_points()
        rng = rng_for(self.problem.seed, PURPOSE_DESIGN, wave)
        if wave == 1:
            return qmc.LatinHypercube(d=self.k, seed=rng).random(n)
        pool = self.waves[-1].nroy_sample
        if len(pool) > 5000:
            pool = pool[rng.choice(len(pool), 5000, replace=False)]
        return _maximin(pool, n, rng)

    def _search(self, wave: int, need: int) -> tuple[np.ndarray, int, dict]:
        """A sample of the non-implausible region after `wave` waves, and how many of its first points are
        uniform on the region. Wave 1: uniform candidates in the cube. Later waves: the previous uniform sample's
        survivors (uniform on the new region, and their share times the previous volume estimates the new
        volume), plus uniform candidates in a box around them. When that is still too few for a design, points
        drawn near the survivors are added (kept apart: they are not uniform)."""
        rng = rng_for(self.problem.seed, PURPOSE_SEARCH, wave)
        parts, drawn, info = [], 0, {}
        if wave == 1:
            lo, hi = np.zeros(self.k), np.ones(self.k)
            base_fraction = 1.0
        else:
            prev = self.waves[-2]
            uniform_prev = prev.nroy_sample[:prev.nroy_uniform]
            survivors = uniform_prev[self.nonimplausible(uniform_prev, start=wave - 1)]
            info["previous_sample_surviving"] = f"{len(survivors)} of {len(uniform_prev)}"
            parts.append(survivors)
            base = survivors if len(survivors) else prev.nroy_sample
            lo, hi = base.min(axis=0), base.max(axis=0)
            pad = 0.1 * (hi - lo) + 1e-3
            lo, hi = np.maximum(lo - pad, 0.0), np.minimum(hi + pad, 1.0)
            base_fraction = prev.nroy_fraction * len(survivors) / max(1, len(uniform_prev))
        fresh = 0
        for _ in range(10):
            if sum(len(p) for p in parts) >= need:
                break
            C = lo + (hi - lo) * rng.uniform(size=(self.s.candidates, self.k))
            drawn += len(C)
            ok = C[self.nonimplausible(C)]
            fresh += len(ok)
            parts.append(ok)
        sample = np.vstack(parts) if parts else np.empty((0, self.k))
        if wave == 1:
            fraction = fresh / drawn
        else:
            # The survivors' share estimates the volume; with few survivors the box's acceptance is steadier.
            fraction = base_fraction
            if drawn and len(parts[0]) < 50:
                fraction = float(np.prod(hi - lo)) * fresh / drawn
            fraction = min(fraction, self.waves[-2].nroy_fraction)
        n_uniform = len(sample)
        info.update({"box_lower": lo.tolist(), "box_upper": hi.tolist(), "drawn": drawn, "accepted_in_box": fresh,
                     "uniform_points": n_uniform})
        if 0 < len(sample) < need:
            extra = []
            width = (hi - lo) * 0.05
            for _ in range(20):
                base = sample[rng.integers(len(sample), size=self.s.candidates)]
                C = np.clip(base + rng.normal(size=base.shape) * width, 0.0, 1.0)
                extra.append(C[self.nonimplausible(C)])
                if len(sample) + sum(len(e) for e in extra) >= need:
                    break
            sample = np.vstack([sample, *extra])
            info["added_near_survivors"] = int(sum(len(e) for e in extra))
        return sample, n_uniform, {**info, "nroy_fraction": fraction}

    def _holdout(self, wave: int, U, Y, point_of_run, U_earlier, Y_earlier, seeds_gp) -> dict:
        """Fits on most of this wave's points (and the earlier runs the wave trains on) and predicts the rest
        (Bastos and O'Hagan 2009): standardised errors, and held-out runs the emulators would rule out although
        the simulator's own output is not implausible."""
        points = np.unique(point_of_run)
        n_out = int(round(self.s.holdout * len(points)))
        if n_out < 2 or len(points) - n_out < self.k + 3:
            return {}
        rng = rng_for(self.problem.seed, PURPOSE_EMULATOR, wave, 1)
        out_points = rng.choice(points, n_out, replace=False)
        test = np.isin(point_of_run, out_points)
        em = EmulatorSet.fit(np.vstack([U[~test], U_earlier]), np.vstack([Y[~test], Y_earlier]),
                             self.s.emulator_mean, self.s.restarts, seeds_gp)
        M, V = em.predict(U[test])
        err = (Y[test] - M) / np.sqrt(V + em.noise_var)
        em_imp = implausibility(self.z, self.var_fixed, M, V, self.s.measure)[1]
        sim_imp = implausibility(self.z, self.var_fixed + em.noise_var, Y[test], 0.0, self.s.measure)[1]
        wrong = int(np.sum((em_imp > self.s.cutoff) & (sim_imp <= self.s.cutoff)))
        return {"runs": int(test.sum()), "share_beyond_3sd": np.mean(np.abs(err) > 3, axis=0).tolist(),
                "max_abs_standardised_error": np.max(np.abs(err), axis=0).tolist(), "wrongly_ruled_out": wrong}

    def run_wave(self, wave: int) -> Wave:
        t0 = time.perf_counter()
        design = self._design(wave)
        spp = self.s.seeds_per_point
        run_design = np.repeat(design, spp, axis=0)
        point_of_run = np.repeat(np.arange(len(design)), spp)
        seeds = rng_for(self.problem.seed, PURPOSE_SEEDS, wave).integers(1, 2**31 - 1, size=len(run_design))
        t1 = time.perf_counter()
        Y, failures = run_batch(self.sim, self.to_params(run_design), seeds.tolist(), self.executor, self.on_failure)
        t2 = time.perf_counter()
        ok = ~np.isnan(Y).any(axis=1)
        if ok.sum() < self.k + 3:
            raise RuntimeError(f"wave {wave}: only {int(ok.sum())} of {len(Y)} simulator runs succeeded; too few "
                               "to emulate. First failure:\n" + (failures[0] if failures else ""))
        # Train on this wave's runs and the earlier runs inside the region this wave searched.
        U_train, Y_train = [run_design[ok]], [Y[ok]]
        for w in self.waves:
            good = ~np.isnan(w.outputs).any(axis=1)
            inside = good & self.nonimplausible(w.run_design, upto=wave - 1)
            U_train.append(w.run_design[inside])
            Y_train.append(w.outputs[inside])
        U_train, Y_train = np.vstack(U_train), np.vstack(Y_train)
        seeds_gp = rng_for(self.problem.seed, PURPOSE_EMULATOR, wave).integers(0, 2**31 - 1,
                                                                               size=len(self.z)).tolist()
        holdout = (self._holdout(wave, run_design[ok], Y[ok], point_of_run[ok], U_train[ok.sum():],
                                 Y_train[ok.sum():], seeds_gp) if self.s.holdout else {})
        emulators = EmulatorSet.fit(U_train, Y_train, self.s.emulator_mean, self.s.restarts, seeds_gp)
        run_imp = np.full(len(Y), np.nan)
        run_imp[ok] = implausibility(self.z, self.var_fixed + emulators.noise_var, Y[ok], 0.0, self.s.measure)[1]
        t3 = time.perf_counter()
        w = Wave(wave, design, run_design, seeds, Y, failures, emulators, len(U_train), holdout, run_imp)
        self.waves.append(w)
        need = max(10 * self.problem.design_points(), 4 * self.problem.walkers(), 500)
        w.nroy_sample, w.nroy_uniform, w.search = self._search(wave, need)
        w.nroy_fraction = w.search["nroy_fraction"]
        if len(w.nroy_sample):
            _, V = emulators.predict(w.nroy_sample[:2000])
            w.variance_ratio = np.quantile(V, 0.95, axis=0) / self.var_fixed
        t4 = time.perf_counter()
        w.seconds = {"design": t1 - t0, "simulator": t2 - t1, "emulators": t3 - t2, "search": t4 - t3}
        return w

    def run(self) -> list[Wave]:
        for wave in range(1, self.s.waves + 1):
            w = self.run_wave(wave)
            self.log(f"wave {wave}: {len(w.run_design)} runs ({len(w.failures)} failed), "
                     f"non-implausible share of the prior box {w.nroy_fraction:.3g}, "
                     f"simulator {w.seconds['simulator']:.1f} s, emulators {w.seconds['emulators']:.1f} s")
            if len(w.nroy_sample) == 0:
                raise NoNonImplausibleRegion(self._empty_message(w))
            # A second wave always runs: it refits the emulators inside the region the first one kept.
            if wave >= 2 and np.all(w.variance_ratio < self.s.stop_variance_ratio):
                self.stop_reason = (f"after wave {wave}: the emulators' variance is below "
                                    f"{self.s.stop_variance_ratio:g} × the observation and discrepancy variance "
                                    "for every target (more waves would not shrink the region much)")
                break
        else:
            self.stop_reason = f"the {self.s.waves} waves of the problem were run"
        return self.waves

    def _empty_message(self, w: Wave) -> str:
        rng = rng_for(self.problem.seed, PURPOSE_SEARCH, w.index, 9)
        C = rng.uniform(size=(self.s.candidates, self.k))
        C = C[self.nonimplausible(C, upto=w.index - 1)] if w.index > 1 else C
        lines = [f"wave {w.index}: no parameter set in the prior ranges is non-implausible (cut-off "
                 f"{self.s.cutoff:g}): the model cannot reach the calibration targets within their sd and "
                 "discrepancy. Smallest implausibility of each target on its own:"]
        if len(C):
            M, V = w.emulators.predict(C)
            each, _ = implausibility(self.z, self.var_fixed, M, V)
            for j, t in enumerate(self.problem.calibration):
                best = int(np.argmin(each[:, j]))
                lines.append(f"  {t.name}: {each[best, j]:.2f} (observed {t.observed:g}, emulated "
                             f"{M[best, j]:.4g} at best)")
        sim_best = np.nanmin(w.run_implausibility) if np.isfinite(w.run_implausibility).any() else float("nan")
        lines.append(f"  best simulator run of the wave: implausibility {sim_best:.2f}")
        return "\n".join(lines)


def _maximin(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points of `pool` chosen greedily to be far from each other (space-filling within the region)."""
    if len(pool) <= n:
        return pool.copy()
    chosen = [int(rng.integers(len(pool)))]
    dist = np.linalg.norm(pool - pool[chosen[0]], axis=1)
    for _ in range(n - 1):
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(pool - pool[i], axis=1))
    return pool[chosen]
