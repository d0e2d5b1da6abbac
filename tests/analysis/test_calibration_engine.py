"""The calibration engine on toy simulators with known answers: the emulator against sklearn's own predict,
history matching keeps the truth in every wave, the posterior covers the truth (nonlinear toy) and matches
the closed-form posterior (linear-Gaussian toy), results repeat from the seed whatever the number of
workers, failures are reported with their point, unreachable targets are named, and the posterior file
round-trips."""

import json

import h5py
import numpy as np
import pytest
from calibration_helpers import linear_problem, toy_problem, write

from chacra_analysis.calibration import (Executor, HistoryMatch, NoNonImplausibleRegion, PosteriorFileError,
                                         SimulatorError, calibrate, implausibility, load_problem, make_simulator,
                                         read_posterior, write_calibration)
from chacra_analysis.calibration import toy
from chacra_analysis.calibration.emulator import Emulator, EmulatorSet
from chacra_analysis.calibration.simulators import _child_environment, run_batch

QUIET = dict(log=lambda msg: None)


def run(tmp_path, doc, workers=1, name="problem.yaml"):
    problem = load_problem(write(tmp_path, doc, name))
    return calibrate(problem, make_simulator(problem), Executor("local", workers), **QUIET)


@pytest.fixture(scope="module")
def toy_result(tmp_path_factory):
    return run(tmp_path_factory.mktemp("toy"), toy_problem())


def truth_unit(problem):
    return np.array([[p.prior.to_unit(toy.TRUTH[p.name]) for p in problem.parameters]])


def test_emulator_fast_path_matches_sklearn_predict():
    rng = np.random.default_rng(3)
    U = rng.uniform(size=(40, 3))
    Y = np.column_stack([np.sin(3 * U[:, 0]) + U[:, 1] ** 2 + 0.05 * rng.normal(size=40), U[:, 0] * U[:, 2],
                         np.exp(U[:, 1]) + 0.1 * rng.normal(size=40)])
    ems = EmulatorSet.fit(U, Y, "linear", 1, [1, 2, 3])
    T = rng.uniform(size=(25, 3))
    M, V = ems.predict(T)
    for j, e in enumerate(ems.emulators):
        m_ref, v_ref = e.predict_reference(T)
        m_one, v_one = e.predict(T)
        np.testing.assert_allclose(M[:, j], m_ref, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(m_one, m_ref, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(V[:, j], v_ref, rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(v_one, v_ref, rtol=1e-6, atol=1e-10)
    # the noise term estimates the replicate noise: sd 0.05 and 0.1 were added, the second output has none
    noise_sd = np.sqrt(ems.noise_var)
    assert 0.02 < noise_sd[0] < 0.1 and 0.05 < noise_sd[2] < 0.2 and noise_sd[1] < 0.01


def test_emulator_is_exact_at_noise_free_runs_and_uncertain_away_from_them():
    rng = np.random.default_rng(4)
    U = rng.uniform(size=(30, 2))
    y = np.sin(4 * U[:, 0]) * np.cos(3 * U[:, 1])
    e = Emulator("linear", 1, 0).fit(U, y)
    m, v = e.predict(U)
    np.testing.assert_allclose(m, y, atol=1e-3)
    assert np.all(v < 1e-4)
    far = np.array([[0.99, 0.99]]) if np.min(np.linalg.norm(U - 0.99, axis=1)) > 0.1 else np.array([[0.5, 0.5]])
    assert e.predict(far)[1][0] > v.max()


def test_implausibility_formula():
    z = np.array([1.0, 2.0])
    var_fixed = np.array([0.01, 0.04])
    M = np.array([[1.3, 2.0], [1.0, 2.5]])
    V = np.array([[0.08, 0.0], [0.0, 0.0]])
    each, combined = implausibility(z, var_fixed, M, V)
    np.testing.assert_allclose(each, [[0.3 / 0.3, 0.0], [0.0, 0.5 / 0.2]])
    np.testing.assert_allclose(combined, [1.0, 2.5])
    each3, second = implausibility(np.zeros(3), np.ones(3), np.array([[1.0, 5.0, 2.0]]), np.zeros((1, 3)), "second_max")
    assert second[0] == 2.0


def test_history_matching_keeps_the_truth_after_every_wave(toy_result):
    hm = toy_result.history
    u = truth_unit(toy_result.problem)
    assert len(hm.waves) == 3
    for w in hm.waves:
        imp = hm.implausibility_by_wave(u, upto=w.index)[0]
        assert np.all(imp <= hm.s.cutoff), f"truth ruled out after wave {w.index}: {imp}"
        assert hm.nonimplausible(u, upto=w.index)[0]
        assert len(w.nroy_sample) > 0
    # The emulated implausibility at the truth is the exact one (the toy's mean is known) up to emulator error.
    z = np.array([t.observed for t in toy_result.problem.calibration])
    exact_mean = np.array([toy.nonlinear_means(**toy.TRUTH)[t.name] for t in toy_result.problem.calibration])
    M, V = hm.waves[-1].emulators.predict(u)
    emulated = np.abs(z - M[0]) / np.sqrt(hm.var_fixed + V[0])
    exact = np.abs(z - exact_mean) / np.sqrt(hm.var_fixed)
    np.testing.assert_allclose(emulated, exact, atol=0.35)
    assert exact.max() > 1.0  # the observation errors make the check sensitive to the variances
    fractions = [w.nroy_fraction for w in hm.waves]
    assert fractions[0] < 0.05, "the five targets should rule out most of the prior box"
    assert all(b <= a * 1.0001 for a, b in zip(fractions, fractions[1:]))
    # the later waves' designs lie in the region the earlier waves kept
    for w in hm.waves[1:]:
        assert np.all(hm.nonimplausible(w.design, upto=w.index - 1))


def test_history_matching_rules_out_what_is_far_from_the_truth(toy_result):
    hm = toy_result.history
    far = np.array([[0.1, 0.9, 0.5], [0.9, 0.1, 0.1], [0.05, 0.05, 0.95]])
    assert not hm.nonimplausible(far).any()


def test_posterior_covers_the_truth_and_is_informative(toy_result):
    post = toy_result.posterior
    q = post.quantiles([0.05, 0.5, 0.95])
    for j, name in enumerate(post.names):
        assert q[0, j] <= toy.TRUTH[name] <= q[2, j], f"{name}: truth {toy.TRUTH[name]} outside {q[:, j]}"
    params, _ = toy_result.tables()
    assert np.all(params["width_ratio"] < 0.4), params[["parameter", "width_ratio"]]
    assert post.stats["acceptance_mean"] > 0.15
    np.testing.assert_allclose(post.weight.sum(), 1.0)
    assert np.all((post.draws >= [0, 0, 0.5]) & (post.draws <= [2, 2, 3]))


def test_predictive_check_reports_every_target_honestly(toy_result):
    _, targets = toy_result.tables()
    assert list(targets["target"]) == ["y1", "y2", "y3", "y4", "y5", "v1", "v2", "v2_negative"]
    assert list(targets["role"]) == ["calibration"] * 5 + ["validation"] * 3
    quant = targets[targets["kind"] == "quantitative"]
    assert quant["lands"].all(), quant
    assert np.all(quant["predictive_low"] <= quant["model_low"])
    assert np.all(quant["predictive_high"] >= quant["model_high"])
    fact = targets.set_index("target").loc["v2_negative"]
    assert not fact["lands"] and fact["probability"] < 0.05  # a false fact is reported as false
    assert targets["runs"].min() == toy_result.problem.predictive.draws


def test_linear_gaussian_posterior_matches_the_closed_form(tmp_path):
    doc = linear_problem()
    result = run(tmp_path, doc)
    sd = np.array([t["sd"] for t in doc["calibration_targets"].values()])
    mean, cov = toy.linear_posterior(sd)
    post = result.posterior
    est_mean = np.average(post.draws, axis=0, weights=post.weight)
    est_sd = np.sqrt(np.diag(np.cov(post.draws.T, aweights=post.weight)))
    true_sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(est_mean, mean, atol=0.25 * true_sd.max())
    np.testing.assert_allclose(est_sd, true_sd, rtol=0.15)
    est_corr = np.corrcoef(post.draws.T)[0, 1]
    true_corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    assert abs(est_corr - true_corr) < 0.1


def test_same_seed_same_results_whatever_the_workers(tmp_path):
    doc = toy_problem(waves=2, design_points=16, steps=200, burn=50, draws=100, predictive=6, seed=9)
    a = run(tmp_path, doc, workers=1, name="a.yaml")
    b = run(tmp_path, doc, workers=2, name="b.yaml")
    np.testing.assert_array_equal(a.posterior.draws, b.posterior.draws)
    np.testing.assert_array_equal(a.predictive.values, b.predictive.values)
    for wa, wb in zip(a.history.waves, b.history.waves):
        np.testing.assert_array_equal(wa.run_design, wb.run_design)
        np.testing.assert_array_equal(wa.outputs, wb.outputs)
        np.testing.assert_array_equal(wa.seeds, wb.seeds)
    doc["seed"] = 10
    c = run(tmp_path, doc, name="c.yaml")
    assert not np.array_equal(a.history.waves[0].seeds, c.history.waves[0].seeds)
    assert not np.array_equal(a.posterior.draws, c.posterior.draws)


def test_unreachable_targets_are_named(tmp_path):
    doc = toy_problem(waves=2, design_points=16)
    doc["calibration_targets"]["y1"]["observed"] = 9.0  # a + b is at most 4
    problem = load_problem(write(tmp_path, doc))
    with pytest.raises(NoNonImplausibleRegion) as e:
        calibrate(problem, make_simulator(problem), Executor("local", 1), **QUIET)
    msg = str(e.value)
    assert "no parameter set in the prior ranges is non-implausible" in msg
    line = next(l for l in msg.splitlines() if l.strip().startswith("y1:"))
    assert float(line.split(":")[1].split("(")[0]) > 3
    # the runs are kept for the caller, and the file without a posterior is refused as an ensemble
    path = str(tmp_path / "hm.h5")
    write_calibration(path, e.value.calibration)
    with pytest.raises(PosteriorFileError, match="no /posterior group"):
        read_posterior(path)
    with h5py.File(path) as f:
        assert f["runs/outputs"].shape == (16, 5)


def test_simulator_failures_name_the_point_or_are_skipped(tmp_path):
    doc = toy_problem()
    doc["simulator"]["function"] = "chacra_analysis.calibration.toy:failing"
    problem = load_problem(write(tmp_path, doc))
    sim = make_simulator(problem).with_targets(problem.calibration)
    points = [{"a": 1.0, "b": 0.5, "c": 1.0}, {"a": 1.9, "b": 0.5, "c": 1.0}]
    with pytest.raises(SimulatorError, match=r"simulator failed at \{a=1.9, b=0.5, c=1\} \(seed 8\).*a > 1.5"):
        run_batch(sim, points, [7, 8], Executor("local", 1))
    values, failures = run_batch(sim, points, [7, 8], Executor("local", 1), on_failure="skip")
    assert np.isfinite(values[0]).all() and np.isnan(values[1]).all() and len(failures) == 1


def test_a_missing_output_is_a_clear_error(tmp_path):
    doc = toy_problem()
    doc["calibration_targets"]["y1"]["statistic"]["name"] = "y9"
    problem = load_problem(write(tmp_path, doc))
    with pytest.raises(SimulatorError, match="target y1: .* gave no output 'y9'"):
        run_batch(make_simulator(problem), [dict(toy.TRUTH)], [1], Executor("local", 1))


def test_posterior_file_round_trips(toy_result, tmp_path):
    path = str(tmp_path / "posterior.h5")
    write_calibration(path, toy_result)
    f = read_posterior(path)
    post = toy_result.posterior
    assert f.parameters == ["a", "b", "c"]
    np.testing.assert_array_equal(f.draws, post.draws)
    np.testing.assert_array_equal(f.weight, post.weight)
    np.testing.assert_array_equal(f.central, post.median)
    np.testing.assert_array_equal(f.log_density, post.log_density)
    assert f.central_values() == toy_result.central()
    problem = toy_result.problem
    assert f.attrs["format"] == "chacra-posterior" and f.attrs["format_version"] == 1
    assert f.attrs["problem_sha256"] == problem.sha256 and f.attrs["seed"] == problem.seed
    assert f.problem_yaml == problem.text
    assert f.provenance["problem"]["sha256"] == problem.sha256
    assert f.provenance["mcmc"]["walkers"] == problem.walkers()
    waves = f.provenance["history_matching"]["waves"]
    assert [w["runs"] for w in waves] == [24, 24, 24]
    assert f.provenance["timing_seconds"]["total"] > 0
    assert f.targets["name"][:5] == ["y1", "y2", "y3", "y4", "y5"] and f.targets["role"][-1] == "validation"
    assert json.loads(f.targets["statistic"][0]) == {"kind": "output", "name": "y1"}
    assert f.runs["outputs"].shape == (72, 5) and f.runs["parameters"].shape == (72, 3)
    np.testing.assert_allclose(f.runs["parameters"][:, 0], 2 * f.runs["design"][:, 0])
    assert f.predictive["values"].shape == (40, 8)
    # a damaged file is refused with the reason
    with h5py.File(path, "r+") as h:
        h["posterior/weight"][0] += 0.5
    with pytest.raises(PosteriorFileError, match="weight must be >= 0 and sum to 1"):
        read_posterior(path)
    with h5py.File(path, "r+") as h:
        h.attrs["format"] = "something else"
    with pytest.raises(PosteriorFileError, match="not a chacra posterior file"):
        read_posterior(path)


def test_chacra_children_run_serially_under_mpi(monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("PMIX_RANK", "1")
    monkeypatch.setenv("CHACRA_MPI", "1")
    env = _child_environment()
    assert "OMPI_COMM_WORLD_SIZE" not in env and "PMIX_RANK" not in env and env["CHACRA_MPI"] == "0"
    assert env.get("PATH") is not None


def test_history_match_can_be_driven_wave_by_wave(tmp_path):
    problem = load_problem(write(tmp_path, toy_problem(design_points=16)))
    hm = HistoryMatch(problem, make_simulator(problem), Executor("local", 1), log=lambda m: None)
    w1 = hm.run_wave(1)
    assert w1.design.shape == (16, 3) and w1.outputs.shape == (16, 5)
    # the Latin hypercube puts one point in each of the 16 slices of every parameter
    for j in range(3):
        assert sorted(np.floor(w1.design[:, j] * 16).astype(int)) == list(range(16))
