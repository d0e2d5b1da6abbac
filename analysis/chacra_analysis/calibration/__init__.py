"""Calibration of chacra's structural parameters: history matching with Gaussian-process emulators, then
Bayesian calibration (MCMC) on the region left, a posterior predictive check for calibration and validation
targets, and the posterior ensemble file for the planned `chacra run --posterior`. See
docs/calibration_method.md.

    from chacra_analysis.calibration import load_problem, make_simulator, Executor, calibrate
    problem = load_problem("problem.yaml")
    result = calibrate(problem, make_simulator(problem), Executor("local"))

Names are imported on first use, so that validating a problem does not load scikit-learn, emcee or matplotlib.
"""

import importlib

_WHERE = {
    "Calibration": "driver", "calibrate": "driver",
    "PosteriorFile": "ensemble", "PosteriorFileError": "ensemble", "read_posterior": "ensemble",
    "write_calibration": "ensemble",
    "HistoryMatch": "history", "NoNonImplausibleRegion": "history", "implausibility": "history",
    "Posterior": "mcmc", "sample_posterior": "mcmc",
    "parameter_table": "predictive", "target_table": "predictive",
    "Prior": "priors",
    "Parameter": "problem", "Problem": "problem", "ProblemError": "problem", "Target": "problem",
    "load_problem": "problem",
    "ChacraSimulator": "simulators", "Executor": "simulators", "PythonSimulator": "simulators",
    "Simulator": "simulators", "SimulatorError": "simulators", "make_simulator": "simulators",
    "run_batch": "simulators",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
