"""The loader's frames have the documented columns and the file's numbers (checked against raw h5py), read
only what was asked for, and refuse foreign or truncated files clearly."""

import math
import shutil
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest

from chacra_analysis import (
    COMPARISON_COLUMNS,
    ChacraFileError,
    ChacraOutput,
    load_aggregates,
    load_comparison,
    load_panel,
    load_population,
    load_provenance,
    load_variables,
)


def _s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def _labels(ds):
    return _s(ds.attrs["labels"]).split(",")


def test_panel_has_documented_columns_and_dtypes(run_file):
    with ChacraOutput(run_file) as out, h5py.File(run_file, "r") as f:
        panel = out.panel()
        assert list(panel.columns[:4]) == ["arm", "replicate", "household", "period"]
        g = f["arms/no_programme/replicate_0/panel"]
        expected = []
        for name in sorted(g):
            ds = g[name]
            if ds.ndim == 2:
                expected.append(name)
                assert panel[name].dtype == ds.dtype, name
            else:
                cols = [f"{name}.{label}" for label in _labels(ds)]
                expected += cols
                for c in cols:
                    assert panel[c].dtype == ds.dtype, c
        assert list(panel.columns[4:]) == expected
        assert "tech_state.vegetable_garden" in panel.columns
        arms = [_s(a) for a in f["arm_names"][()]]
        periods = [_s(p) for p in f["periods"][()]]
        n_households = g["income_monetary_pen"].shape[1]
        assert len(panel) == len(arms) * 3 * len(periods) * n_households
        assert list(dict.fromkeys(panel["arm"])) == arms  # scenario order
        assert panel.attrs["arms"] == arms and panel.attrs["periods"] == periods
        # Codebook: the same columns, with units and descriptions.
        cb = out.variables("panel")
        assert sum(len(c) for c in cb["columns"]) == len(expected)
        row = cb.set_index("variable").loc["income_monetary_pen"]
        assert row["unit"] == "PEN" and row["aggregation"] == "sum over the period" and row["description"]


def test_panel_values_equal_the_file(run_file):
    panel = load_panel(run_file)
    with h5py.File(run_file, "r") as f:
        periods = [_s(p) for p in f["periods"][()]]
        for arm in [_s(a) for a in f["arm_names"][()]]:
            for r in range(3):
                g = f[f"arms/{arm}/replicate_{r}/panel"]
                sub = panel[(panel["arm"] == arm) & (panel["replicate"] == r)]
                n = g["income_monetary_pen"].shape[1]
                assert list(sub["period"]) == [p for p in periods for _ in range(n)]
                assert np.array_equal(sub["household"].to_numpy(), np.tile(np.arange(n), len(periods)))
                for name in g:
                    raw = g[name][()]
                    if raw.ndim == 2:
                        assert np.array_equal(sub[name].to_numpy(), raw.reshape(-1), equal_nan=True), name
                    else:
                        for k, label in enumerate(_labels(g[name])):
                            got = sub[f"{name}.{label}"].to_numpy()
                            assert np.array_equal(got, raw[:, :, k].reshape(-1), equal_nan=True), (name, label)


def test_selection_returns_the_right_slice(run_file):
    with ChacraOutput(run_file) as out, h5py.File(run_file, "r") as f:
        last = out.periods[-1]
        sel = out.panel(["income_monetary_pen", "tech_state"], arms="both", replicates=[2], periods=[-1],
                        households=[5, 3, 700, 3])
        assert list(sel.columns[:5]) == ["arm", "replicate", "household", "period", "income_monetary_pen"]
        assert len([c for c in sel.columns if c.startswith("tech_state.")]) == 10
        assert list(sel["household"]) == [3, 5, 700]
        assert set(sel["period"]) == {last} and set(sel["arm"]) == {"both"} and set(sel["replicate"]) == {2}
        raw = f["arms/both/replicate_2/panel/income_monetary_pen"][-1, [3, 5, 700]]
        assert np.array_equal(sel["income_monetary_pen"].to_numpy(), raw)
        tech = f["arms/both/replicate_2/panel/tech_state"][-1, [3, 5, 700], :]
        assert np.array_equal(sel["tech_state.safe_water"].to_numpy(), tech[:, _labels(f["arms/both/replicate_2/panel/tech_state"]).index("safe_water")])
        # A slice of households and a period label.
        sl = out.panel("poor", arms=["juntos_only", "no_programme"], periods=out.periods[0], households=slice(10, 20))
        assert list(dict.fromkeys(sl["arm"])) == ["no_programme", "juntos_only"]  # scenario order, not the asked one
        assert len(sl) == 2 * 3 * 10
        assert np.array_equal(
            sl[(sl["arm"] == "juntos_only") & (sl["replicate"] == 1)]["poor"].to_numpy(),
            f["arms/juntos_only/replicate_1/panel/poor"][0, 10:20])
        with pytest.raises(KeyError, match="unknown arm"):
            out.panel("poor", arms="nonexistent")
        with pytest.raises(KeyError, match="unknown panel variable"):
            out.panel("income_monetry_pen")
        with pytest.raises(KeyError, match="unknown period"):
            out.panel("poor", periods="1999")


def test_loader_reads_only_what_is_asked(run_file, monkeypatch):
    """Selecting a period, an arm and a variable touches only those datasets, one period at a time."""
    reads = []
    original = h5py.Dataset.__getitem__

    def spy(self, args, *rest, **kw):
        reads.append((self.name, args))
        return original(self, args, *rest, **kw)

    with ChacraOutput(run_file) as out:
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        out.panel("consumption_pen", arms="hw_only", replicates=1, periods=-1)
        monkeypatch.setattr(h5py.Dataset, "__getitem__", original)
        last = len(out.periods) - 1
    panel_reads = [(n, a) for n, a in reads if "/panel/" in n]
    assert panel_reads, "the panel was read through h5py slicing"
    for name, args in panel_reads:
        assert name == "/arms/hw_only/replicate_1/panel/consumption_pen", name
        assert isinstance(args, tuple) and args[0] == last, args  # one period, never the whole dataset


def test_aggregates_equal_the_file(run_file):
    agg = load_aggregates(run_file)
    assert list(agg.columns[:3]) == ["arm", "replicate", "period"]
    with h5py.File(run_file, "r") as f:
        for arm in [_s(a) for a in f["arm_names"][()]]:
            for r in range(3):
                g = f[f"arms/{arm}/replicate_{r}/aggregates"]
                sub = agg[(agg["arm"] == arm) & (agg["replicate"] == r)]
                for name in g:
                    raw = g[name][()]
                    if raw.ndim == 1:
                        assert np.array_equal(sub[name].to_numpy(), raw, equal_nan=True)
                    else:
                        # Labels from the aggregate, else from the panel variable of the same name.
                        ds = g[name] if "labels" in g[name].attrs else f[f"arms/{arm}/replicate_{r}/panel/{name}"]
                        for k, label in enumerate(_labels(ds)):
                            assert np.array_equal(sub[f"{name}.{label}"].to_numpy(), raw[:, k], equal_nan=True)
    # The aggregates are the household means of the panel.
    panel = load_panel(run_file, "income_monetary_pen", arms="both", replicates=0)
    means = panel.groupby("period")["income_monetary_pen"].mean()
    sub = agg[(agg["arm"] == "both") & (agg["replicate"] == 0)].set_index("period")["income_monetary_pen"]
    assert np.allclose(means.to_numpy(dtype=float), sub.loc[means.index].to_numpy(), rtol=1e-6)


def test_population_tables_equal_the_file(run_file):
    with h5py.File(run_file, "r") as f:
        for table, key in [("households", "household"), ("centres", "centre"), ("districts", "district")]:
            df = load_population(run_file, table)
            assert list(df.columns[:2]) == ["replicate", key]
            for r in range(3):
                g = f[f"population/replicate_{r}/{table}"]
                sub = df[df["replicate"] == r]
                for name in g:
                    raw = g[name][()]
                    if raw.ndim == 1:
                        assert np.array_equal(sub[name].to_numpy(), raw, equal_nan=True), (table, name)
                    else:
                        labels = _labels(g[name]) if "labels" in g[name].attrs else [str(k) for k in range(raw.shape[1])]
                        for k, label in enumerate(labels):
                            assert np.array_equal(sub[f"{name}.{label}"].to_numpy(), raw[:, k], equal_nan=True)
        hh = load_population(run_file, "households", columns=["land_ha", "member_age_months"], replicates=1)
        assert list(hh.columns[:3]) == ["replicate", "household", "land_ha"]
        assert "member_age_months.0" in hh.columns  # no labels attribute: one column per slot number
        assert set(hh["replicate"]) == {1}


def test_comparison_frame_equals_the_file(run_file):
    with ChacraOutput(run_file) as out:
        cmp = out.comparison()
    with h5py.File(run_file, "r") as f:
        if "comparison" not in f:
            assert cmp is None
            pytest.skip("this chacra run writes no /comparison yet")
        g = f["comparison"]
        for c in COMPARISON_COLUMNS:
            assert c in cmp.columns, c
            raw = g[c][()]
            if raw.dtype.kind in "SO":
                assert list(cmp[c]) == [_s(v) for v in raw]
            else:
                assert np.array_equal(cmp[c].to_numpy(), raw, equal_nan=True), c
        assert cmp.attrs["reference_arm"] == _s(g.attrs["reference_arm"])


def test_reach_frame_equals_the_file(run_file):
    """Every unit's reach table, one row per item, with the file's values and texts."""
    with ChacraOutput(run_file) as out:
        reach = out.reach()
        arms, reps = list(out.arms), out._select_replicates(None)
    with h5py.File(run_file, "r") as f:
        n = 0
        for arm in arms:
            for r in reps:
                g = f[f"arms/{arm}/replicate_{r}/reach"]
                rows = reach[(reach["arm"] == arm) & (reach["replicate"] == r)]
                assert list(rows["item"]) == [_s(v) for v in g["item"][()]]
                assert list(rows["module"]) == [_s(v) for v in g["module"][()]]
                assert np.array_equal(rows["value"].to_numpy(), g["value"][()])
                n += len(rows)
    assert n == len(reach) > 0
    assert {"haku_winay", "juntos"} <= set(reach["module"])


def test_comparison_equals_chacra_compare_json(run_file, compare_rows):
    cmp = load_comparison(run_file)
    assert cmp is not None
    assert len(cmp) == len(compare_rows)
    for got, want in zip(cmp.to_dict(orient="records"), compare_rows):
        for k, v in want.items():
            g = got[k]
            if v is None:
                assert isinstance(g, float) and math.isnan(g), (k, g)
            elif isinstance(v, float):
                assert g == v, (k, g, v)
            else:
                assert g == v, (k, g, v)


def test_provenance(run_file):
    prov = load_provenance(run_file)
    for key in ("chacra_version", "git_commit", "scenario_name", "scenario_path", "run_seed", "population_seed",
                "replicates", "output_frequency", "command_line"):
        assert key in prov, key
    assert prov["run_seed"] == 7 and prov["replicates"] == 3
    assert isinstance(prov["scenario_name"], str) and prov["scenario_name"] == "sequencing"
    assert "population:" in prov["scenario_yaml"]
    assert set(prov["arm_descriptions"]) == set(prov["arms"])
    vars_ = load_variables(run_file, "aggregates")
    assert "income_monetary_pen" in set(vars_["variable"])


def test_bad_files_raise_clear_errors(run_file, tmp_path):
    with pytest.raises(FileNotFoundError):
        ChacraOutput(tmp_path / "missing.h5")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(ChacraFileError, match="not a readable HDF5 file"):
        ChacraOutput(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ChacraFileError, match="not a chacra output file"):
        ChacraOutput(foreign)
    truncated = tmp_path / "truncated.h5"
    data = open(run_file, "rb").read()
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises((ChacraFileError, OSError, KeyError)):
        with ChacraOutput(truncated) as out:
            out.panel()
    copy = tmp_path / "copy.h5"
    shutil.copy(run_file, copy)
    with ChacraOutput(copy) as out:
        assert isinstance(out.aggregates("poor"), pd.DataFrame)


def test_economies_frame_equals_the_file(chacra, run_file, tmp_path):
    """With the local markets, every unit's economies table, one row per economy and clearing period, with the
    file's values; without them (run_file), an empty frame."""
    with ChacraOutput(run_file) as out:
        assert out.economies().empty
    path = str(tmp_path / "markets.h5")
    res = subprocess.run([chacra, "run", "-o", path, "--force", "--quiet", "--set", "population.households=600",
                          "--set", "population.districts=3", "--set", "run.years=1", "--set", "run.replicates=1",
                          "--set", "economy.welfare.enabled=true", "--set", "economy.markets.enabled=true",
                          "--seed", "3"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    with ChacraOutput(path) as out:
        eco = out.economies()
        arms = list(out.arms)
    assert list(eco.columns[:8]) == ["arm", "replicate", "economy", "district", "centres", "households", "month",
                                     "months"]
    with h5py.File(path, "r") as f:
        for arm in arms:
            g = f[f"arms/{arm}/replicate_0/economies"]
            rows = eco[eco["arm"] == arm]
            assert len(rows) == len(g["economy"]) == 3 * 12  # three district economies, twelve monthly clearings
            for name in g:
                assert np.array_equal(rows[name].to_numpy(), g[name][()]), (arm, name)
    assert (eco["imbalance_pen"].abs() <= 0.005).all()
    assert (eco["price_local_food"] >= 1 - 1e-12).all()
