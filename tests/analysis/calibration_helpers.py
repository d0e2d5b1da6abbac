"""Problems for the calibration tests, as dicts written to YAML in a temporary directory: the nonlinear toy (3
parameters, 5 calibration targets, 2 validation targets and a fact) and the linear-Gaussian toy, with settings
small enough for the fast test tier."""

import copy

import numpy as np
import yaml

from chacra_analysis.calibration import toy

TOY_SD = {"y1": 0.05, "y2": 0.08, "y3": 0.05, "y4": 0.1, "y5": 0.05}
# Observed = the toy's mean at the truth + an observation error of the stated sd (one fixed draw: errors of
# +1.03, +1.64, +1.15, -0.97 and -1.39 sd), as real data would be, so that the truth's implausibility is of
# order 1 rather than 0 and an error in the variances shows.
_ERR = np.random.default_rng(2024).standard_normal(5)
TOY_OBSERVED = {k: float(toy.nonlinear_means(**toy.TRUTH)[k] + e * TOY_SD[k]) for k, e in zip(TOY_SD, _ERR)}


def toy_problem(waves=3, design_points=24, steps=900, burn=300, draws=600, predictive=40, seed=5,
                restarts=1) -> dict:
    cal = {name: {"observed": TOY_OBSERVED[name], "sd": TOY_SD[name],
                  "statistic": {"kind": "output", "name": name}, "source": "toy truth"} for name in TOY_OBSERVED}
    cal["y4"]["discrepancy_sd"] = 0.05
    return {
        "name": "toy_test",
        "seed": seed,
        "simulator": {"kind": "python", "function": "chacra_analysis.calibration.toy:nonlinear"},
        "parameters": {
            "a": {"prior": {"distribution": "uniform", "min": 0.0, "max": 2.0}, "source": "toy"},
            "b": {"prior": {"distribution": "normal", "mean": 0.8, "sd": 0.5, "min": 0.0, "max": 2.0},
                  "source": "toy"},
            "c": {"prior": {"distribution": "loguniform", "min": 0.5, "max": 3.0}, "source": "toy"},
        },
        "calibration_targets": cal,
        "validation_targets": {
            "v1": {"observed": 1.512, "sd": 0.1, "statistic": {"kind": "output", "name": "v1"}, "source": "toy"},
            "v2": {"observed": 0.34, "sd": 0.05, "statistic": {"kind": "output", "name": "v2"}, "source": "toy"},
            # False at the truth (v2 = 0.34): it must be reported as not landing.
            "v2_negative": {"fact": "v2 is negative", "condition": {"less_than": 0.0},
                            "statistic": {"kind": "output", "name": "v2"}, "source": "toy"},
        },
        "history_matching": {"waves": waves, "design_points": design_points, "restarts": restarts},
        "mcmc": {"steps": steps, "burn": burn, "draws": draws},
        "predictive": {"draws": predictive},
    }


def linear_problem(sd=(0.02, 0.03, 0.04, 0.03), seed=2, steps=1600, burn=300) -> dict:
    from chacra_analysis.calibration.toy import LINEAR_A, LINEAR_TRUTH
    y = LINEAR_A @ [LINEAR_TRUTH["p"], LINEAR_TRUTH["q"]]
    return {
        "name": "linear_test",
        "seed": seed,
        "simulator": {"kind": "python", "function": "chacra_analysis.calibration.toy:linear"},
        "parameters": {n: {"prior": {"distribution": "uniform", "min": -1.0, "max": 1.0}, "source": "t"}
                       for n in ("p", "q")},
        "calibration_targets": {f"y{i + 1}": {"observed": float(y[i]), "sd": sd[i], "source": "t",
                                              "statistic": {"kind": "output", "name": f"y{i + 1}"}}
                                for i in range(len(y))},
        "history_matching": {"waves": 2, "design_points": 20, "restarts": 1},
        "mcmc": {"steps": steps, "burn": burn, "draws": 2000},
        "predictive": {"draws": 10},
    }


def write(tmp_path, doc, name="problem.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(copy.deepcopy(doc), sort_keys=False))
    return str(path)
