"""One calibration from a problem: history matching in waves, MCMC on the final region, the posterior
predictive check, with the timings and provenance that go into the posterior file."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .history import HistoryMatch, NoNonImplausibleRegion
from .mcmc import Posterior, sample_posterior
from .predictive import Predictive, parameter_table, run_predictive, target_table
from .simulators import Executor, Simulator


@dataclass
class Calibration:
    problem: object
    simulator: Simulator
    executor: Executor
    history: HistoryMatch
    posterior: Posterior | None = None
    predictive: Predictive | None = None
    provenance: dict = field(default_factory=dict)

    def tables(self):
        level = self.problem.predictive.level
        return (parameter_table(self.problem, self.posterior, level),
                target_table(self.problem, self.predictive, level))

    def central(self) -> dict:
        """The posterior medians: the values proposed as defaults."""
        return dict(zip(self.posterior.names, map(float, self.posterior.median)))


def _utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository_commit(path: str) -> str:
    try:
        res = subprocess.run(["git", "-C", path, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        return res.stdout.strip() if res.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def software_versions() -> dict:
    import emcee
    import h5py
    import scipy
    import sklearn
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "emcee": emcee.__version__, "h5py": h5py.__version__}


def calibrate(problem, simulator: Simulator, executor: Executor, log=print, on_failure: str | None = None,
              history_only: bool = False) -> Calibration:
    """Runs the whole calibration. Raises NoNonImplausibleRegion when history matching rules out every
    parameter set (the caller can still write `exc.calibration`'s runs)."""
    import os
    on_failure = on_failure or problem.simulator.get("on_failure", "error")
    start, t0 = _utc(), time.perf_counter()
    hm = HistoryMatch(problem, simulator, executor, on_failure, log)
    result = Calibration(problem, simulator, executor, hm)
    result.provenance = {
        "problem": {"path": os.path.abspath(problem.path), "sha256": problem.sha256, "name": problem.name},
        "simulator": simulator.provenance(), "seed": problem.seed,
        "seed_derivation": "numpy SeedSequence([seed, purpose, wave]); purposes 1 design, 2 simulator seeds, "
                           "3 emulator fits, 4 region search, 5 MCMC, 6 predictive check",
        "executor": executor.describe(simulator), "host": platform.node(), "start_time": start,
        "command_line": " ".join(sys.argv), "software": software_versions(),
        "analysis_commit": _repository_commit(os.path.dirname(os.path.abspath(__file__))),
        "settings": {"history_matching": vars(problem.history_matching), "mcmc": vars(problem.mcmc),
                     "predictive": vars(problem.predictive), "design_points": problem.design_points(),
                     "walkers": problem.walkers()},
    }
    timing = {}
    try:
        hm.run()
    except NoNonImplausibleRegion as e:
        e.calibration = result  # the runs are worth keeping: the caller writes them
        result.provenance["outcome"] = str(e)
        raise
    finally:
        timing["history_matching"] = time.perf_counter() - t0
        result.provenance["timing_seconds"] = timing
        result.provenance["history_matching"] = _waves_summary(hm)
        result.provenance["end_time"] = _utc()
    if history_only:
        return _finish(result, t0)
    t1 = time.perf_counter()
    result.posterior = sample_posterior(hm, log)
    timing["mcmc"] = time.perf_counter() - t1
    result.provenance["mcmc"] = result.posterior.stats
    result.predictive = run_predictive(problem, simulator, result.posterior, executor, on_failure, log)
    timing["predictive"] = result.predictive.seconds
    result.provenance["predictive"] = {"draws": len(result.predictive.seeds),
                                       "failures": result.predictive.failures}
    return _finish(result, t0)


def _finish(result: Calibration, t0: float) -> Calibration:
    result.provenance["timing_seconds"]["total"] = time.perf_counter() - t0
    result.provenance["end_time"] = _utc()
    return result


def _waves_summary(hm: HistoryMatch) -> dict:
    waves = []
    for w in hm.waves:
        waves.append({
            "wave": w.index, "design_points": len(w.design), "runs": len(w.run_design),
            "failed_runs": len(w.failures), "failures": w.failures[:20], "training_runs": w.n_train,
            "nroy_fraction": w.nroy_fraction, "search": w.search, "holdout": w.holdout,
            "variance_ratio": None if w.variance_ratio is None else w.variance_ratio.tolist(),
            "emulators": {t.name: e.describe() for t, e in zip(hm.problem.calibration, w.emulators.emulators)},
            "seconds": w.seconds})
    return {"waves": waves, "stop_reason": hm.stop_reason, "cutoff": hm.s.cutoff, "measure": hm.s.measure,
            "simulator_runs": int(sum(len(w.run_design) for w in hm.waves))}
