"""`chacra export OUT.h5 --stata DIR` (and `--csv DIR --gzip`): read back as a Stata user would see it (pandas.read_stata), the .dta tables
hold the same values as the CSV export, coded variables carry value labels (region, Juntos status, exit reason,
business type, Haku Winay stage), every variable carries its description as label, and the panel has each
household's centre, district and region."""

import os
import subprocess

import numpy as np
import pandas as pd
import pytest

TABLES = ["panel", "aggregates", "comparison", "households", "centres", "districts"]


@pytest.fixture(scope="module")
def exports(chacra, has_export, run_file, tmp_path_factory):
    if not has_export:
        pytest.skip("this chacra has no export command")
    base = tmp_path_factory.mktemp("export_stata")
    out = {}
    for kind, args in (("csv", ["--csv"]), ("stata", ["--stata"]), ("gzip", ["--gzip", "--csv"])):
        d = str(base / kind)
        res = subprocess.run([chacra, "export", run_file, *args, d, "--quiet"], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        out[kind] = d
    return out


def test_gzip_tables_hold_the_same_text(exports):
    import gzip
    for t in TABLES:
        with gzip.open(os.path.join(exports["gzip"], f"{t}.csv.gz"), "rb") as f:
            packed = f.read()
        with open(os.path.join(exports["csv"], f"{t}.csv"), "rb") as f:
            assert packed == f.read(), t
    codebook = pd.read_csv(os.path.join(exports["gzip"], "codebook.csv"))
    assert "panel.csv.gz" in set(codebook["file"])
    panel = pd.read_csv(os.path.join(exports["gzip"], "panel.csv.gz"))
    assert len(panel) > 0


def test_dta_values_equal_the_csv_tables(exports):
    for t in TABLES:
        dta = pd.read_stata(os.path.join(exports["stata"], f"{t}.dta"), convert_categoricals=False)
        csv = pd.read_csv(os.path.join(exports["csv"], f"{t}.csv"), float_precision="round_trip")
        assert list(dta.columns) == list(csv.columns), t
        assert len(dta) == len(csv) > 0, t
        for col in csv.columns:
            got, want = dta[col], csv[col]
            if want.dtype == object:
                assert (got.fillna("").astype(str) == want.fillna("").astype(str)).all(), (t, col)
            else:
                # float32 variables hold the float32 value the CSV writes as its shortest decimal.
                w = want.to_numpy().astype(got.dtype) if got.dtype.kind == "f" else want.to_numpy()
                assert np.array_equal(got.to_numpy().astype(float), w.astype(float), equal_nan=True), (t, col)
        assert all(len(c) <= 32 for c in dta.columns), t


def test_value_and_variable_labels(exports):
    path = os.path.join(exports["stata"], "panel.dta")
    with pd.io.stata.StataReader(path) as reader:
        labels = reader.value_labels()
        variable_labels = reader.variable_labels()
    assert labels["region"] == {0: "southern_highlands", 1: "northern_highlands", 2: "amazon"}
    assert labels["juntos_status"] == {0: "not_eligible", 1: "eligible", 2: "enrolled", 3: "suspended", 4: "exited"}
    assert labels["juntos_exit_reason"] == {0: "none", 1: "aged_out", 2: "lost_classification"}
    assert labels["hw_stage"][4] == "finished"
    assert labels["business_type"][1] == "guinea_pigs" and len(labels["business_type"]) == 8
    assert labels["no_yes"] == {0: "no", 1: "yes"}
    assert variable_labels["juntos_status"].startswith("Juntos status")
    assert variable_labels["income_crops_pen"] == "Crop sales, PEN"
    assert all(len(v) <= 80 for v in variable_labels.values())
    assert all(v for k, v in variable_labels.items()), "every variable has a label"
    panel = pd.read_stata(path)
    assert set(panel["juntos_status"].cat.categories) <= set(labels["juntos_status"].values())
    assert panel["region"].cat.categories.tolist() == ["southern_highlands", "northern_highlands", "amazon"]


def test_panel_identifiers_need_no_merge(exports):
    panel = pd.read_csv(os.path.join(exports["csv"], "panel.csv"))
    hh = pd.read_csv(os.path.join(exports["csv"], "households.csv"))
    centres = pd.read_csv(os.path.join(exports["csv"], "centres.csv"))
    districts = pd.read_csv(os.path.join(exports["csv"], "districts.csv"))
    merged = (panel[["replicate", "household", "centre", "district", "region"]]
              .merge(hh[["replicate", "household", "centre"]], on=["replicate", "household"], suffixes=("", "_hh"))
              .merge(centres[["replicate", "centre", "district"]].rename(columns={"centre": "centre_hh"}),
                     on=["replicate", "centre_hh"], suffixes=("", "_c"))
              .merge(districts[["replicate", "district", "region"]].rename(columns={"district": "district_c"}),
                     on=["replicate", "district_c"], suffixes=("", "_d")))
    assert len(merged) == len(panel)
    assert (merged["centre"] == merged["centre_hh"]).all()
    assert (merged["district"] == merged["district_c"]).all()
    assert (merged["region"] == merged["region_d"]).all()
    assert merged["region"].nunique() > 1


def test_one_short_name_per_technology(exports):
    """A technology has the same short name in every variable and table (organic_fertiliser_prep is not cut
    three different ways)."""
    names = set()
    for t in ("panel", "households"):
        names |= set(pd.read_csv(os.path.join(exports["csv"], f"{t}.csv"), nrows=1).columns)
    for prefix in ("tech_state_", "tech_profit_pen_", "asset_delivered_", "adoption_push_"):
        forms = {n[len(prefix):] for n in names if n.startswith(prefix) and "fert" in n and n.endswith("prep")}
        assert len(forms) == 1, (prefix, forms)
    forms = {n.split("_")[-3] + "_" + n.split("_")[-2] for n in names if n.endswith("_prep") and "fert" in n}
    assert len(forms) == 1, forms
