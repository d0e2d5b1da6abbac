"""Calibration of chacra's structural parameters: history matching with Gaussian-process emulators, then
Bayesian calibration (MCMC) on the region left, a posterior predictive check for calibration and validation
targets, and the posterior ensemble file that `chacra run --posterior` reads. See docs/calibration_method.md.

    from chacra_analysis.calibration import load_problem, make_simulator, Executor, calibrate
    problem = load_problem("problem.yaml")
    result = calibrate(problem, make_simulator(problem), Executor("local"))
"""

from .driver import Calibration, calibrate
from .ensemble import PosteriorFile, PosteriorFileError, read_posterior, write_calibration
from .history import HistoryMatch, NoNonImplausibleRegion, implausibility
from .mcmc import Posterior, sample_posterior
from .predictive import parameter_table, target_table
from .priors import Prior
from .problem import Parameter, Problem, ProblemError, Target, load_problem
from .simulators import (ChacraSimulator, Executor, PythonSimulator, Simulator, SimulatorError, make_simulator,
                         run_batch)

__all__ = ["Calibration", "ChacraSimulator", "Executor", "HistoryMatch", "NoNonImplausibleRegion", "Parameter",
           "Posterior", "PosteriorFile", "PosteriorFileError", "Prior", "Problem", "ProblemError",
           "PythonSimulator", "Simulator", "SimulatorError", "Target", "calibrate", "implausibility",
           "load_problem", "make_simulator", "parameter_table", "read_posterior", "run_batch",
           "sample_posterior", "target_table", "write_calibration"]
