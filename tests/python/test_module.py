"""The chacra Python module: scenarios validated as by the command line, runs and sweeps that give the same bits
as the chacra executable, the GIL released while the engine runs, results as pandas frames."""

import os
import re
import subprocess
import threading
import time

import h5py
import numpy as np
import pytest

import chacra


def aggregates_of(path):
    """Every aggregate of every arm and replicate of a run file, by path."""
    out = {}
    with h5py.File(path, "r") as f:
        f["arms"].visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset)
                             and "/aggregates/" in name else None)
    return out


def test_scenario_loads_and_validates(scenario_file):
    s = chacra.Scenario.load(scenario_file)
    assert s.name == "py"
    assert s.arms == ["none", "juntos", "both"]
    assert s.get("juntos.transfer_pen") == 200.0
    assert s.get("juntos.enabled", arm="none") is False
    assert "juntos:" in s.yaml
    default = chacra.Scenario.load()  # the built-in default: configs/sequencing.yaml, its arms in order
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "configs", "sequencing.yaml")) as f:
        assert default.arms == re.findall(r"^  - name: (\w+)", f.read(), flags=re.M)
    with pytest.raises(chacra.InputError, match="did you mean 'juntos.transfer_pen'"):
        chacra.Scenario.load(scenario_file, ["juntos.transfer_pn=3"])
    with pytest.raises(chacra.InputError, match=r"juntos.transfer_pen: expected a number in \[0, 1e\+05\].*got -5"):
        chacra.Scenario.load(scenario_file, ["juntos.transfer_pen=-5"])
    with pytest.raises(ValueError, match="no arm named 'nobody'"):
        s.get("juntos.transfer_pen", arm="nobody")


def test_parameters_carry_range_unit_and_description():
    p = chacra.parameters().set_index("name")
    row = p.loc["juntos.transfer_pen"]
    assert (row["type"], row["min"], row["max"], row["unit"]) == ("real", 0.0, 100000.0, "PEN per two months")
    assert row["description"] and row["source"]
    assert len(p) > 100


def test_run_gives_the_bits_of_the_command_line(scenario_file, chacra_binary, tmp_path):
    s = chacra.Scenario.load(scenario_file)
    r = chacra.run(s, set={"juntos.transfer_pen": 250.5}, output=tmp_path / "py.h5", threads=2)
    assert r.summary["households"] == 400
    cli = tmp_path / "cli.h5"
    subprocess.run([chacra_binary, "run", scenario_file, "--set", "juntos.transfer_pen=250.5", "-o", str(cli),
                    "-t", "1", "-q"], check=True)
    a, b = aggregates_of(r.path), aggregates_of(cli)
    assert a.keys() == b.keys() and len(a) > 20
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # Frames.
    eff = r.effects("cost_per_household_pen", "horizon_total")
    assert list(eff["arm"]) == ["juntos", "both"] and (eff["mean_effect"] > 0).all()
    agg = r.aggregates(["poor"], arms="both")
    assert len(agg) == 2 * 3 and set(agg.columns) >= {"arm", "replicate", "period", "poor"}
    assert r.provenance()["scenario_name"] == "py"
    by_period = r.effects_by_period()
    assert sorted(by_period["period"].unique()) == ["2017", "2018", "2019"]
    assert list(by_period["arm"].unique()) == ["juntos", "both"]
    reach = r.reach(replicates=0)
    enrolled = reach[reach["item"] == "enrolled_households"].set_index("arm")["value"]
    assert enrolled["none"] == 0 and enrolled["juntos"] > 0
    assert r.economies().empty  # no local markets in this scenario
    with pytest.raises(chacra.InputError, match="already exists"):
        chacra.run(s, output=r.path)
    # With the local markets, the economies of every unit: one row per economy and month.
    m = chacra.run(s, set={"economy.welfare.enabled": True, "economy.markets.enabled": True},
                   output=tmp_path / "markets.h5", threads=2)
    eco = m.economies(arms="both")
    assert len(eco) > 0 and set(eco["arm"]) == {"both"}
    assert set(eco.columns) >= {"replicate", "economy", "month", "price_local_food", "leakage_pen", "imports_pen"}
    assert eco.groupby(["replicate", "economy"]).size().eq(36).all()  # three years of monthly clearings


def test_the_gil_is_released_while_the_engine_runs(scenario_file, tmp_path):
    s = chacra.Scenario.load(scenario_file, ["population.households=3000", "run.years=4"])
    ticks = []
    done = threading.Event()

    def engine():
        chacra.run(s, output=tmp_path / "gil.h5", threads=1)
        done.set()

    t = threading.Thread(target=engine)
    t.start()
    while not done.is_set():  # Python goes on meanwhile; with the GIL held this loop would stall
        ticks.append(time.monotonic())
        time.sleep(0.01)
    t.join()
    assert len(ticks) >= 20, f"only {len(ticks)} ticks while the engine ran"


def test_sweep_points_are_runs_with_their_values(scenario_file, tmp_path):
    s = chacra.Scenario.load(scenario_file, ["run.replicates=1"])
    calls = []
    sw = chacra.sweep(s, vary={"juntos.transfer_pen": (100, 300, 3)}, output=tmp_path / "sw.h5", threads=2,
                      progress=lambda d, t: calls.append((d, t)))
    assert sw.summary["points"] == 3 and calls and calls[-1][0] == calls[-1][1]
    design = sw.design
    assert list(design["juntos.transfer_pen"]) == [100.0, 200.0, 300.0]
    eff = sw.effects("cost_per_household_pen", "horizon_total")
    juntos = eff[eff["arm"] == "juntos"].sort_values("juntos.transfer_pen")
    assert juntos["mean_effect"].is_monotonic_increasing and len(juntos) == 3
    one = chacra.run(s, set={"juntos.transfer_pen": 200}, output=tmp_path / "one.h5", threads=1)
    single = one.aggregates(["income_monetary_pen", "poor"])
    swept = sw.aggregates(["income_monetary_pen", "poor"])
    swept = swept[swept["point"] == 1].reset_index(drop=True)
    for v in ("income_monetary_pen", "poor"):
        np.testing.assert_array_equal(swept[v].to_numpy(), single[v].to_numpy(), err_msg=v)
    with pytest.raises(chacra.InputError, match="leaves the parameter's own"):
        chacra.sweep(s, vary={"juntos.transfer_pen": (100, 1e6, 3)}, output=tmp_path / "bad.h5")
    assert not (tmp_path / "bad.h5").exists()


def test_the_example_notebook_runs(tmp_path):
    """analysis/sweep_transfer.ipynb, executed as a reader would (jupyter nbconvert, Debian's kernel)."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, CHACRA_SOURCE_DIR=root, CHACRA_NOTEBOOK_FIGURE=str(tmp_path / "figure.png"),
               MPLBACKEND="Agg")
    env["CHACRA_PYTHON_DIR"] = os.path.abspath(env.get("CHACRA_PYTHON_DIR", os.path.join(root, "build", "python")))
    subprocess.run(["/usr/bin/python3", "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=300", "--output-dir", str(tmp_path),
                    os.path.join(root, "analysis", "sweep_transfer.ipynb")], check=True, env=env,
                   cwd=os.path.join(root, "analysis"))
    assert (tmp_path / "figure.png").stat().st_size > 10_000
    assert (tmp_path / "sweep_transfer.ipynb").exists()
