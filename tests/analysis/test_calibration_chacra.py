"""The chacra simulator adapter against the real executable ($CHACRA_BINARY): the parameter set reaches the
model through --set, statistics come from `chacra evaluate` and from the HDF5 of `chacra run`, the same
seed gives the same values, fitted parameters are checked against the registry, and a failing run is
reported with its command, exit status and chacra's own message."""

import copy
import os

import numpy as np
import pytest
from calibration_helpers import write

from chacra_analysis.calibration import (ChacraSimulator, Executor, ProblemError, SimulatorError, load_problem,
                                         make_simulator, run_batch)

SMALL_RUN = {"population.households": 1500, "population.districts": 6, "run.years": 2}


def problem_doc(chacra, statistics, fixed=None, parameters=None):
    return {
        "name": "chacra_adapter_test",
        "seed": 1,
        "simulator": {"kind": "chacra", "executable": os.path.abspath(chacra), "replicates": 1,
                      "threads_per_run": 1, **({"set": fixed} if fixed else {})},
        "parameters": parameters or {
            "haku_winay.takeup_juntos_logit": {"prior": {"distribution": "uniform", "min": -1.0, "max": 1.5},
                                               "source": "test"}},
        "calibration_targets": {name: {"observed": 0.5, "sd": 0.1, "statistic": stat, "source": "test"}
                                for name, stat in statistics.items()},
    }


EVALUATE = {"reach_itt": {"kind": "evaluate", "outcome": "hw_reach_itt"},
            "reach_control": {"kind": "evaluate", "outcome": "hw_reach_control"},
            "control_income": {"kind": "evaluate", "outcome": "control_mean_income"}}


def test_evaluate_statistics_follow_the_parameter_and_the_seed(chacra, tmp_path):
    problem = load_problem(write(tmp_path, problem_doc(chacra, EVALUATE)))
    sim = make_simulator(problem)
    assert isinstance(sim, ChacraSimulator)
    name = "haku_winay.takeup_juntos_logit"
    low, high, again = run_batch(sim, [{name: -1.0}, {name: 1.5}, {name: -1.0}], [3, 3, 3], Executor("local", 2))[0]
    assert np.all(np.isfinite(low)) and 0 < low[0] < 1 and low[2] > 1000
    np.testing.assert_array_equal(low, again)           # same parameters and seed: same values
    assert high[0] > low[0] + 0.05                      # a higher take-up logit raises reach in the ITT group
    other_seed = sim({name: -1.0}, 4)
    assert other_seed["reach_itt"] != low[0]
    prov = sim.provenance()
    assert prov["chacra_version"] and prov["chacra_commit"] and prov["replicates"] == 1


def test_run_statistics_read_the_hdf5_output(chacra, tmp_path):
    stats = {"poor_share": {"kind": "aggregate", "variable": "poor", "arm": "no_programme", "period": -1},
             "garden_profit": {"kind": "aggregate", "variable": "tech_profit_pen", "label": "vegetable_garden",
                              "arm": "no_programme", "period": -1},
             "income_median": {"kind": "panel", "variable": "income_monetary_pen", "arm": "no_programme",
                               "reduce": "quantile", "q": 0.5},
             "share_income_above_5000": {"kind": "panel", "variable": "income_monetary_pen", "arm": "no_programme",
                                         "reduce": "share_above", "threshold": 5000.0}}
    problem = load_problem(write(tmp_path, problem_doc(chacra, stats, fixed=SMALL_RUN)))
    values = make_simulator(problem)({"haku_winay.takeup_juntos_logit": 0.3}, 5)
    assert 0 < values["poor_share"] < 1 and np.isfinite(values["garden_profit"])
    assert values["income_median"] > 0 and 0 < values["share_income_above_5000"] < 1


def test_fitted_parameters_are_checked_against_the_registry(chacra, tmp_path):
    params = {
        "haku_winay.takeup_juntos_logti": {"prior": {"distribution": "uniform", "min": 0, "max": 1}, "source": "t"},
        "run.years": {"prior": {"distribution": "uniform", "min": 2, "max": 5}, "source": "t"},
        "juntos.transfer_pen": {"prior": {"distribution": "uniform", "min": -10, "max": 300}, "source": "t"},
    }
    stats = {f"t{i}": {"kind": "evaluate", "outcome": "hw_reach_itt"} for i in range(4)}
    path = write(tmp_path, problem_doc(chacra, stats, parameters=params))
    problem = load_problem(path)
    with pytest.raises(ProblemError) as e:
        make_simulator(problem)
    errs = "\n".join(e.value.errors)
    assert ("parameters.haku_winay.takeup_juntos_logti: not a parameter of chacra's registry (did you mean "
            "'haku_winay.takeup_juntos_logit'?)") in errs
    assert "parameters.run.years: a integer parameter; only real parameters can be fitted" in errs
    assert "parameters.juntos.transfer_pen: prior range [-10, 300] leaves the registry's range [0, 100000]" in errs
    assert errs.startswith(path + ":")


def test_a_failing_chacra_run_is_reported_with_command_and_message(chacra, tmp_path):
    doc = problem_doc(chacra, EVALUATE, fixed={"juntos.transfer_pen": -5})
    problem = load_problem(write(tmp_path, doc))
    sim = make_simulator(problem)
    with pytest.raises(SimulatorError) as e:
        sim({"haku_winay.takeup_juntos_logit": 0.25}, 11)
    msg = str(e.value)
    assert "chacra evaluate refused its input (exit 2" in msg
    assert "{haku_winay.takeup_juntos_logit=0.25} (seed 11)" in msg
    assert "--set juntos.transfer_pen=-5" in msg and "--seed 11" in msg
    assert "juntos.transfer_pen" in msg.split("stderr:")[1]  # chacra's own explanation is passed on


def test_missing_outcome_is_named(chacra, tmp_path):
    stats = copy.deepcopy(EVALUATE)
    stats["reach_itt"]["outcome"] = "hw_reach_it"
    problem = load_problem(write(tmp_path, problem_doc(chacra, stats)))
    with pytest.raises(SimulatorError, match="target reach_itt: chacra evaluate has no outcome 'hw_reach_it'"):
        make_simulator(problem)({"haku_winay.takeup_juntos_logit": 0.3}, 1)
