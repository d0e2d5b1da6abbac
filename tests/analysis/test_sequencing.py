"""The sequencing summary (analysis/chacra_analysis/sequencing.py): its exits per PEN recomputed from the panel,
subgroups that partition the households, probabilities of being best that add up, and bad input refused."""

import os
import subprocess
import sys

import numpy as np
import pytest

from chacra_analysis.loader import ChacraOutput
from chacra_analysis.sequencing import SummaryInputError, sequencing_summary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def summary(run_file):
    with ChacraOutput(run_file) as out:
        return sequencing_summary(out, reference="no_programme", sustain_years=2, discount_rate=0.05), out.arms


def test_exits_per_pen_recomputed_from_the_panel(run_file, summary):
    table, _ = summary
    with ChacraOutput(run_file) as out:
        p = out.panel(variables=["poor", "cost_juntos_pen", "cost_hw_pen"], arms=["no_programme", "both"])
        periods = out.periods
        values = []
        for r in out.replicates:
            f = p[p["replicate"] == r]
            ref = f[f["arm"] == "no_programme"].pivot(index="household", columns="period", values="poor")[periods]
            arm = f[f["arm"] == "both"].pivot(index="household", columns="period", values="poor")[periods]
            base = ref.iloc[:, 0].to_numpy() == 1
            exit_ref = base & (ref.iloc[:, -2:].to_numpy() == 0).all(axis=1)
            exit_arm = base & (arm.iloc[:, -2:].to_numpy() == 0).all(axis=1)
            disc = {q: 1.05 ** -(k + 0.5) for k, q in enumerate(periods)}  # yearly output
            cost = f.assign(c=(f["cost_juntos_pen"] + f["cost_hw_pen"]) * f["period"].map(disc))
            extra = cost[cost["arm"] == "both"]["c"].sum() - cost[cost["arm"] == "no_programme"]["c"].sum()
            values.append(1e6 * (exit_arm.sum() - exit_ref.sum()) / extra)
    row = table[(table["subgroup"] == "all") & (table["arm"] == "both")].iloc[0]
    assert row["exits_per_million_pen"] == pytest.approx(np.mean(values), rel=1e-9)
    assert row["n_replicates"] == len(values)
    assert row["ci_low"] <= row["exits_per_million_pen"] <= row["ci_high"]


def test_subgroups_partition_the_households_and_p_best_adds_up(summary):
    table, arms = summary
    households = table.groupby("subgroup")["households"].first()
    for parts in (["region_southern_highlands", "region_northern_highlands", "region_amazon"],
                  ["water_access", "no_water_access"],
                  ["children_under_6", "school_age_children_only", "no_children_under_19"]):
        present = [g for g in parts if g in households]
        assert households[present].sum() == pytest.approx(households["all"])
    assert set(table["arm"]) == set(arms) - {"no_programme"}
    for g, rows in table.groupby("subgroup"):
        if rows["p_best"].notna().all():
            assert rows["p_best"].sum() == pytest.approx(1.0), g
        assert rows["rank"].min() == 1
    assert table.attrs["horizon"].startswith(table.attrs["horizon"][:4])
    assert table.attrs["discount_rate"] == 0.05 and table.attrs["sustain_years"] == 2


def test_bad_input_is_refused(run_file):
    with ChacraOutput(run_file) as out:
        with pytest.raises(SummaryInputError, match="unknown reference arm"):
            sequencing_summary(out, reference="nope")
        with pytest.raises(SummaryInputError, match="sustain_years"):
            sequencing_summary(out, sustain_years=99)
    script = os.path.join(ROOT, "analysis", "sequencing_summary.py")
    res = subprocess.run([sys.executable, script, run_file, "--reference", "nope"], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown reference arm" in res.stderr
    res = subprocess.run([sys.executable, script, run_file, "--format", "csv"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("subgroup,arm,reference")


def test_event_time_effect_recomputed_from_the_panel(run_file):
    from chacra_analysis.sequencing import event_time_effects
    with ChacraOutput(run_file) as out:
        table = event_time_effects(out, reference="no_programme")
        p = out.panel(variables=["poor", "hw_cohort"], arms=["no_programme", "both"])
        periods = out.periods
    assert set(table["event"]) == {"years_since_juntos_exit", "years_since_hw_start"}
    values = []
    for r in sorted(p["replicate"].unique()):
        f = p[p["replicate"] == r]
        ref = f[f["arm"] == "no_programme"].pivot(index="household", columns="period", values="poor")[periods]
        arm = f[f["arm"] == "both"].pivot(index="household", columns="period", values="poor")[periods]
        cohort = f[f["arm"] == "both"].pivot(index="household", columns="period", values="hw_cohort")[periods[-1]]
        d = [(int(arm.loc[h, q]) - int(ref.loc[h, q])) for h in cohort.index[cohort >= 0] for q in periods
             if int(q[:4]) - cohort[h] == 1]
        values.append(np.mean(d))
    row = table[(table["event"] == "years_since_hw_start") & (table["arm"] == "both") & (table["k"] == 1) &
                (table["outcome"] == "poor")].iloc[0]
    assert row["mean_effect"] == pytest.approx(np.mean(values), rel=1e-9, abs=1e-12)
    assert row["ci_low"] <= row["mean_effect"] <= row["ci_high"]
