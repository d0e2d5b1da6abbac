"""The calibration problem file: what it accepts, what it refuses and how it says so (file, line, key, what
was expected), and the priors' closed-form densities against scipy's."""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from calibration_helpers import linear_problem, toy_problem, write

from chacra_analysis.calibration import Prior, ProblemError, load_problem

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "analysis", "calibrate.py")


def errors_of(tmp_path, doc_or_text):
    path = (tmp_path / "p.yaml")
    if isinstance(doc_or_text, str):
        path.write_text(doc_or_text)
        path = str(path)
    else:
        path = write(tmp_path, doc_or_text, "p.yaml")
    with pytest.raises(ProblemError) as e:
        load_problem(path)
    return e.value.errors


def test_toy_problem_loads_with_roles_kept_apart(tmp_path):
    p = load_problem(write(tmp_path, toy_problem()))
    assert p.parameter_names == ["a", "b", "c"]
    assert [t.name for t in p.calibration] == ["y1", "y2", "y3", "y4", "y5"]
    assert [t.role for t in p.validation] == ["validation"] * 3
    assert p.validation[2].qualitative and p.validation[2].condition == {"less_than": 0.0}
    assert p.calibration[3].discrepancy_sd == 0.05
    assert p.parameters[2].prior.log_scale and not p.parameters[0].prior.log_scale
    assert len(p.sha256) == 64


def test_shipped_example_is_valid():
    p = load_problem(os.path.join(ROOT, "analysis", "chacra_analysis", "calibration", "examples", "toy.yaml"))
    assert len(p.parameters) < len(p.calibration)


def test_as_many_parameters_as_targets_is_refused_with_the_reason(tmp_path):
    doc = linear_problem()
    for i in (3, 4):  # 2 parameters, 2 calibration targets
        del doc["calibration_targets"][f"y{i}"]
    errors = errors_of(tmp_path, doc)
    assert len(errors) == 1
    assert "2 fitted parameters for 2 calibration targets" in errors[0]
    assert "fewer parameters than there are calibration targets" in errors[0]
    assert "validation targets never count" in errors[0]


def test_validation_targets_do_not_count_towards_the_rule(tmp_path):
    doc = toy_problem()
    for name in ("y3", "y4", "y5"):  # 3 parameters, 2 calibration targets, 3 validation targets
        del doc["calibration_targets"][name]
    assert any("3 fitted parameters for 2 calibration targets" in e for e in errors_of(tmp_path, doc))


def test_parameter_without_source_or_prior_is_refused_at_its_line(tmp_path):
    doc = toy_problem()
    del doc["parameters"]["b"]["source"]
    del doc["parameters"]["c"]["prior"]
    text = write(tmp_path, doc, "q.yaml")
    lines = open(text).read().splitlines()
    b_line = next(i + 1 for i, l in enumerate(lines) if l.strip() == "b:")
    c_line = next(i + 1 for i, l in enumerate(lines) if l.strip() == "c:")
    with pytest.raises(ProblemError) as e:
        load_problem(text)
    errs = e.value.errors
    assert any(f"q.yaml:{b_line}: parameters.b: no source" in x for x in errs), errs
    assert any(f"q.yaml:{c_line}: parameters.c: no prior" in x for x in errs), errs


def test_empty_source_is_refused(tmp_path):
    doc = toy_problem()
    doc["parameters"]["a"]["source"] = "  "
    assert any("parameters.a: no source" in e for e in errors_of(tmp_path, doc))


def test_misspelt_keys_and_names_get_suggestions(tmp_path):
    doc = toy_problem()
    doc["parameters"]["a"]["prior"]["distrbution"] = doc["parameters"]["a"]["prior"].pop("distribution")
    doc["parameters"]["b"]["prior"]["distribution"] = "normall"
    doc["calibration_targets"]["y1"]["obsreved"] = 1.0
    doc["mcmc"]["stpes"] = 10
    errs = "\n".join(errors_of(tmp_path, doc))
    assert "parameters.a.prior.distrbution: unknown key (did you mean 'distribution'?)" in errs
    assert ("expected one of uniform, loguniform, normal, lognormal, beta, got 'normall' (did you mean "
            "'normal'?)") in errs
    assert "calibration_targets.y1.obsreved: unknown key (did you mean 'observed'?)" in errs
    assert "mcmc.stpes: unknown key (did you mean 'steps'?)" in errs


def test_bad_values_are_all_reported_together(tmp_path):
    doc = toy_problem()
    doc["parameters"]["a"]["prior"].update({"min": 2.0, "max": 1.0})
    doc["parameters"]["c"]["prior"]["min"] = 0.0          # log-uniform needs min > 0
    doc["calibration_targets"]["y2"]["sd"] = 0             # sd must be > 0
    doc["calibration_targets"]["y3"]["observed"] = "high"  # not a number
    doc["parameters"]["b"]["prior"]["alpha"] = 2.0         # a normal prior takes no alpha
    doc["mcmc"]["burn"] = 5000                             # longer than the chain
    errs = "\n".join(errors_of(tmp_path, doc))
    assert "expected min < max, got min 2 and max 1" in errs
    assert "a loguniform prior needs min > 0" in errs
    assert "calibration_targets.y2.sd: expected a number > 0, got 0" in errs
    assert "calibration_targets.y3.observed: expected a number, got text 'high'" in errs
    assert "parameters.b.prior.alpha: not used by a normal prior" in errs
    assert "burn-in (5000) must be shorter than the chain" in errs


def test_a_target_cannot_be_both_fitted_and_validated(tmp_path):
    doc = toy_problem()
    doc["validation_targets"]["y1"] = dict(doc["calibration_targets"]["y1"])
    assert any("validation_targets.y1: also a calibration target" in e for e in errors_of(tmp_path, doc))


def test_qualitative_facts_are_never_calibration_targets(tmp_path):
    doc = toy_problem()
    doc["calibration_targets"]["fact"] = {"fact": "x", "condition": {"greater_than": 0},
                                          "statistic": {"kind": "output", "name": "v2"}, "source": "s"}
    assert any("qualitative facts (fact, condition) are validation targets" in e for e in errors_of(tmp_path, doc))


def test_qualitative_condition_must_be_one_of_three(tmp_path):
    doc = toy_problem()
    doc["validation_targets"]["v2_negative"]["condition"] = {"greater_than": 0, "less_than": 1}
    doc["validation_targets"]["v1"]["min_probability"] = 0.95
    errs = "\n".join(errors_of(tmp_path, doc))
    assert "expected exactly one of greater_than: X, less_than: X, between: [LOW, HIGH]" in errs
    assert "only qualitative targets (fact and condition) take min_probability" in errs


def test_duplicate_keys_and_bad_yaml_name_the_line(tmp_path):
    text = write(tmp_path, toy_problem(), "d.yaml")
    body = open(text).read().replace("  b:\n", "  a:\n", 1)
    errs = errors_of(tmp_path, body)
    assert len(errs) == 1 and "duplicate key 'a' (first at line" in errs[0]
    errs = errors_of(tmp_path, "name: x\nparameters: [unclosed\n")
    assert "not valid YAML" in errs[0] and "p.yaml:" in errs[0]


def test_simulator_section_is_checked(tmp_path):
    doc = toy_problem()
    doc["simulator"] = {"kind": "pyhton", "function": "x:y"}
    assert any("simulator.kind: expected one of python, chacra, got 'pyhton' (did you mean 'python'?)" in e
               for e in errors_of(tmp_path, doc))
    doc["simulator"] = {"kind": "python", "function": "no_such_module_xyz:f"}
    assert any("simulator.function: cannot load" in e for e in errors_of(tmp_path, doc))
    doc = toy_problem()
    doc["calibration_targets"]["y1"]["statistic"] = {"kind": "evaluate", "outcome": "income"}
    assert any("a Python simulator gives outputs by name" in e for e in errors_of(tmp_path, doc))
    doc = toy_problem()
    doc["simulator"] = {"kind": "chacra"}
    doc["calibration_targets"]["y1"]["statistic"] = {"kind": "panel", "variable": "x", "arm": "a", "reduce": "median"}
    doc["calibration_targets"]["y2"]["statistic"] = {"kind": "evaluat", "outcome": "income"}
    errs = "\n".join(errors_of(tmp_path, doc))
    assert "statistic.reduce: expected one of mean, quantile, share_above, share_below, got 'median'" in errs
    assert "got 'evaluat' (did you mean 'evaluate'?)" in errs


def test_priors_closed_form_matches_scipy_and_maps_round_trip():
    priors = [Prior("uniform", -1, 2), Prior("loguniform", 0.01, 3), Prior("normal", 0, 2, {"mean": 0.8, "sd": 0.5}),
              Prior("lognormal", 0.1, 5, {"median": 1.0, "log_sd": 0.7}),
              Prior("beta", 0.2, 0.9, {"alpha": 2.0, "beta": 5.0})]
    u = np.linspace(0.001, 0.999, 101)
    rng = np.random.default_rng(1)
    for p in priors:
        np.testing.assert_allclose(p.log_density_unit(u), p.log_density_unit_reference(u), atol=1e-9)
        # a density on [0, 1]: integrates to 1
        grid = np.linspace(0, 1, 20001)
        assert abs(np.trapz(np.exp(p.log_density_unit(grid)), grid) - 1) < 2e-3, p.describe()
        np.testing.assert_allclose(p.to_unit(p.to_value(u)), u, atol=1e-12)
        assert np.all(p.log_density_unit(np.array([-0.01, 1.01])) == -np.inf)
        draws = p.sample_unit(rng, 4000)
        assert draws.min() >= 0 and draws.max() <= 1
    # draws follow the prior: the normal prior's mean, truncated to [0, 2]
    x = priors[2].to_value(priors[2].sample_unit(rng, 40000))
    assert abs(x.mean() - stats.truncnorm(-1.6, 2.4, loc=0.8, scale=0.5).mean()) < 0.01


def test_cli_bad_problem_exits_2_and_writes_nothing(tmp_path):
    doc = toy_problem()
    del doc["parameters"]["a"]["source"]
    path = write(tmp_path, doc)
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, CLI, path, "-o", str(out)], capture_output=True, text=True)
    assert res.returncode == 2, res.stderr
    assert "parameters.a: no source" in res.stderr
    assert not out.exists()


def test_cli_check_and_existing_outputs(tmp_path):
    path = write(tmp_path, toy_problem())
    res = subprocess.run([sys.executable, CLI, path, "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "3 fitted parameters, 5 calibration targets, 3 validation targets" in res.stdout
    out = tmp_path / "out"
    out.mkdir()
    (out / "posterior.h5").write_text("not ours")
    res = subprocess.run([sys.executable, CLI, path, "-o", str(out)], capture_output=True, text=True)
    assert res.returncode == 2 and "already holds posterior.h5: pass --force" in res.stderr
    assert (out / "posterior.h5").read_text() == "not ours"
