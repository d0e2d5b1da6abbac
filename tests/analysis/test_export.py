"""`chacra export OUT.h5 --csv DIR`: read back as a researcher would (pandas.read_csv with default options,
like R's read.csv), the CSV tables hold the HDF5 values, and the codebook explains every column."""

import csv
import math
import os
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from chacra_analysis import ChacraOutput


@pytest.fixture(scope="module")
def export_dir(chacra, has_export, run_file, tmp_path_factory):
    if not has_export:
        pytest.skip("this chacra has no export command")
    out = str(tmp_path_factory.mktemp("export") / "csv")
    res = subprocess.run([chacra, "export", run_file, "--csv", out, "--quiet"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def _source_map(codebook, file, prefix):
    """CSV column -> (variable, sub-column index) from the codebook's source column."""
    out = {}
    for r in codebook[codebook["file"] == file].itertuples():
        src = str(r.source)
        if not src.startswith(prefix):
            continue
        m = re.match(r"([^\[]+)(?:\[(\d+)\])?", src[len(prefix):])
        out[r.variable] = (m.group(1), int(m.group(2)) if m.group(2) else None)
    return out


def test_panel_csv_equals_the_loader(export_dir, run_file):
    csv = pd.read_csv(os.path.join(export_dir, "panel.csv"))
    codebook = pd.read_csv(os.path.join(export_dir, "codebook.csv"), keep_default_na=False)
    assert list(codebook.columns[:3]) == ["variable", "unit", "description"]
    with ChacraOutput(run_file) as out:
        panel = out.panel()
        labels = {v.variable: v.labels for v in out.variables("panel").itertuples()}
    assert list(csv.columns[:4]) == ["arm", "replicate", "household", "period"]
    assert len(csv) == len(panel)
    assert (csv["arm"].to_numpy() == panel["arm"].to_numpy()).all()
    assert (csv["household"].to_numpy() == panel["household"].to_numpy()).all()
    assert (csv["period"].astype(str).to_numpy() == panel["period"].to_numpy()).all()
    columns = _source_map(codebook, "panel.csv", "arms/<arm>/replicate_R/panel/")
    # arm, replicate, household, period, then the household's centre, district and region.
    assert list(csv.columns[4:7]) == ["centre", "district", "region"]
    assert len(columns) == len(csv.columns) - 7
    for col, (var, k) in columns.items():
        name = var if k is None else f"{var}.{labels[var][k]}"
        want = panel[name].to_numpy()
        got = csv[col].to_numpy()
        if want.dtype.kind == "f":
            # float32 values are written as the shortest decimal that reads back as the same float32.
            assert np.array_equal(got.astype(want.dtype), want, equal_nan=True), col
        else:
            assert np.array_equal(got, want), col
    assert "tech_state_vegetable_garden" in csv.columns


def test_other_tables_round_trip(export_dir, run_file):
    codebook = pd.read_csv(os.path.join(export_dir, "codebook.csv"), keep_default_na=False)
    with ChacraOutput(run_file) as out:
        agg = out.aggregates()
        hh = out.households()
        cmp = out.comparison()
        agg_labels = {v.variable: v.labels for v in out.variables("panel").itertuples()}
    # float64 columns: pandas' default parser may be off by one unit in the last place; R's read.csv and
    # Stata's import delimited (asdouble) read them exactly, as does pandas with float_precision="round_trip".
    a = pd.read_csv(os.path.join(export_dir, "aggregates.csv"), float_precision="round_trip")
    for col, (var, k) in _source_map(codebook, "aggregates.csv", "arms/<arm>/replicate_R/aggregates/").items():
        name = var if k is None else f"{var}.{agg_labels[var][k]}"
        assert np.array_equal(a[col].to_numpy(), agg[name].to_numpy(), equal_nan=True), col  # float64: exact
    h = pd.read_csv(os.path.join(export_dir, "households.csv"))
    assert list(h.columns[:2]) == ["replicate", "household"] and len(h) == len(hh)
    for col in ("land_ha", "centre", "wealth_index"):
        assert np.array_equal(h[col].to_numpy().astype(hh[col].dtype), hh[col].to_numpy()), col
    if cmp is None:
        assert not os.path.exists(os.path.join(export_dir, "comparison.csv"))
        return
    c = pd.read_csv(os.path.join(export_dir, "comparison.csv"), float_precision="round_trip")
    assert len(c) == len(cmp)
    for col in ("mean_effect", "ci_low", "ci_high", "arm_value", "reference_value"):
        assert np.array_equal(c[col].to_numpy(), cmp[col].to_numpy(), equal_nan=True), col
    for col in ("arm", "outcome", "subgroup", "statistic", "unit"):
        assert list(c[col]) == list(cmp[col]), col


def test_codebook_and_provenance(export_dir, run_file):
    codebook = pd.read_csv(os.path.join(export_dir, "codebook.csv"), keep_default_na=False)
    for f in os.listdir(export_dir):
        if not f.endswith(".csv") or f == "codebook.csv":
            continue
        header = pd.read_csv(os.path.join(export_dir, f), nrows=0).columns
        documented = set(codebook[codebook["file"] == f]["variable"])
        assert set(header) == documented, (f, set(header) ^ documented)
        for name in header:
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", name), (f, name)  # valid Stata and R names
    inc = codebook[(codebook["variable"] == "income_monetary_pen") & (codebook["file"] == "panel.csv")].iloc[0]
    assert inc["unit"] == "PEN" and inc["description"]
    prov = pd.read_csv(os.path.join(export_dir, "provenance.csv"), keep_default_na=False).set_index("key")["value"]
    assert prov["scenario_name"] == "sequencing" and prov["run_seed"] == "7"
    assert os.path.exists(os.path.join(export_dir, "scenario.yaml"))


def test_missing_values_are_na(export_dir):
    """Undefined comparison effects (NaN in the file) are NA, which R and pandas read as missing."""
    path = os.path.join(export_dir, "comparison.csv")
    if not os.path.exists(path):
        pytest.skip("the run wrote no /comparison")
    with open(path, encoding="utf-8", newline="") as fh:
        cells = {cell.lower() for row in csv.reader(fh) for cell in row}
    assert not cells & {"nan", "-nan", "inf", "-inf", "infinity"}, cells & {"nan", "-nan", "inf", "-inf"}
    c = pd.read_csv(path)
    undefined = c[c["interval"] == "none"]
    if len(undefined):
        assert undefined["mean_effect"].isna().all()
        assert all(math.isnan(v) for v in undefined["ci_low"])
