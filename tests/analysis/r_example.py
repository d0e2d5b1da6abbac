#!/usr/bin/python3
"""The R path (analysis/chacra.R, analysis/example.R) read back against h5py, on a small run of the built chacra.

    CHACRA_BINARY=build/chacra /usr/bin/python3 tests/analysis/r_example.py

Runs `Rscript analysis/example.R OUT.h5 DIR` unchanged (from another directory) and checks the key effects it
prints and writes against /comparison, and its poverty table against the panel read with h5py (and its final
year against the comparison's poverty_headcount levels); then checks chacra.R's panel (value labels from
flag_values/flag_meanings, identifiers), aggregates and households against the file. Exit status 0 when all
hold, 1 when one fails, 77 (ctest's SKIP_RETURN_CODE) when Rscript or the hdf5r package is missing.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANALYSIS = os.path.join(ROOT, "analysis")
SKIP = 77
failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def strings(ds) -> list[str]:
    return [s.decode() if isinstance(s, bytes) else str(s) for s in ds[()]]


def read_csv(path: str) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def rscript(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["Rscript", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def main() -> int:
    if shutil.which("Rscript") is None:
        print("SKIP: Rscript is not installed (Debian: r-base-core; tools/setup.sh installs it)")
        return SKIP
    probe = subprocess.run(["Rscript", "-e", "library(hdf5r)"], capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        print("SKIP: the R package hdf5r is not installed (Debian: r-cran-hdf5r; tools/setup.sh installs it)\n"
              + probe.stderr.strip())
        return SKIP
    chacra = os.environ.get("CHACRA_BINARY") or os.path.join(ROOT, "build", "chacra")
    work = tempfile.mkdtemp(prefix="chacra_r_")
    try:
        return run_checks(chacra, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_checks(chacra: str, work: str) -> int:
    h5 = os.path.join(work, "small.h5")
    subprocess.run([chacra, "run", "-o", h5, "-r", "2", "--quiet", "--set", "population.households=300",
                    "--set", "run.years=3"], check=True, timeout=300)
    f = h5py.File(h5, "r")
    arms = strings(f["arm_names"])
    periods = strings(f["periods"])
    replicates = sorted(int(k.split("_")[1]) for k in f["arms"][arms[0]] if k.startswith("replicate_"))

    # --- example.R, started from another directory, exactly as shipped -------------------------------------
    out = os.path.join(work, "tables")
    res = rscript([os.path.join(ANALYSIS, "example.R"), h5, out], cwd=work)
    print(res.stdout)
    check(res.returncode == 0, f"example.R exits 0 (got {res.returncode}: {res.stderr.strip()[-500:]})")
    if res.returncode != 0:
        return 1

    cmp = f["comparison"]
    rows = {(a, o, g, s): i for i, (a, o, g, s) in enumerate(zip(strings(cmp["arm"]), strings(cmp["outcome"]),
                                                                  strings(cmp["subgroup"]), strings(cmp["statistic"])))}
    effects = read_csv(os.path.join(out, "effects.csv"))
    key = ["income_monetary_pen", "consumption_pen", "poverty_headcount"]
    reference = cmp.attrs["reference_arm"]
    reference = reference.decode() if isinstance(reference, bytes) else str(reference)
    expected = [(a, o) for a in arms if a != reference for o in key]
    check([(r["arm"], r["outcome"]) for r in effects] == expected,
          f"effects.csv has one row per arm and key outcome ({len(expected)} rows)")
    for r in effects:
        i = rows[(r["arm"], r["outcome"], "all", "final_year")]
        for col in ("mean_effect", "ci_low", "ci_high"):
            check(close(float(r[col]), float(cmp[col][i])), f"effect {r['arm']} {r['outcome']} {col} = /comparison")
        # The printed table shows the same effect (poverty in percentage points).
        scale = 100.0 if r["outcome"] == "poverty_headcount" else 1.0
        shown = f"{scale * float(cmp['mean_effect'][i]):.1f} [{scale * float(cmp['ci_low'][i]):.1f}, "
        line = next((l for l in res.stdout.splitlines() if l.split()[:1] == [r["arm"]]), "")
        check(shown in line, f"printed effects of {r['arm']} show {r['outcome']} as '{shown}...'")

    # Poverty of persons by arm and period, mean over replicates, from the panel with h5py.
    poverty = {(r["arm"], r["period"]): float(r["poor"]) for r in read_csv(os.path.join(out, "poverty.csv"))}
    check(len(poverty) == len(arms) * len(periods), f"poverty.csv has {len(arms)} x {len(periods)} rows")
    for a in arms:
        shares = []
        for rep in replicates:
            panel = f[f"arms/{a}/replicate_{rep}/panel"]
            poor = panel["poor"][()].astype(np.float64)
            size = panel["household_size"][()].astype(np.float64)
            shares.append((poor * size).sum(axis=1) / size.sum(axis=1))
        mean = np.mean(shares, axis=0)
        for p, label in enumerate(periods):
            check(close(poverty.get((a, label), math.nan), float(mean[p]), 1e-10), f"poverty {a} {label} = h5py")
        # The final year (yearly output: the last period) is the comparison's level of poverty_headcount.
        if a != reference:
            i = rows[(a, "poverty_headcount", "all", "final_year")]
            check(close(poverty[(a, periods[-1])], float(cmp["arm_value"][i]), 1e-10),
                  f"poverty {a} {periods[-1]} = /comparison arm_value")
            check(close(poverty[(reference, periods[-1])], float(cmp["reference_value"][i]), 1e-10),
                  f"poverty {reference} {periods[-1]} = /comparison reference_value")
        check(any(l.split()[:1] == [a] and f"{100 * mean[-1]:.1f}" in l.split() for l in res.stdout.splitlines()
                  if "[" not in l), f"printed poverty table shows {a} {periods[-1]} as {100 * mean[-1]:.1f}")

    # --- chacra.R's readers ----------------------------------------------------------------------------------
    arm, rep = arms[-1], replicates[-1]
    script = f"""
source({os.path.join(ANALYSIS, 'chacra.R')!r})
f <- chacra_open({h5!r})
p <- chacra_panel(f, {arm!r}, {rep}, c("juntos_status", "tech_state", "poor"), periods = "{periods[-1]}")
write.csv(p, "panel.csv", row.names = FALSE)
cat(class(p$juntos_status), class(p$region), levels(p$arm), "\\n", sep = "|")
a <- chacra_aggregates(f, c("poor", "tech_profit_pen"))
write.csv(a, "aggregates.csv", row.names = FALSE)
h <- chacra_households(f, {rep}, c("land_ha", "district"))
write.csv(h, "households.csv", row.names = FALSE)
r <- tryCatch(chacra_panel(f, "no_such_arm"), error = function(e) conditionMessage(e))
cat(r, "\\n")
f$close_all()
"""
    res = rscript(["-e", script], cwd=work)
    check(res.returncode == 0, f"chacra.R readers run (got {res.returncode}: {res.stderr.strip()[-500:]})")
    if res.returncode != 0:
        return 1
    first = res.stdout.splitlines()[0].split("|")
    check(first[:2] == ["factor", "factor"], f"coded variables are factors (juntos_status, region): {first[:2]}")
    check(first[2:2 + len(arms)] == arms, "arm levels are in scenario order")
    check("unknown arm no_such_arm" in res.stdout, "an unknown arm is refused, naming the valid ones")

    panel = read_csv(os.path.join(work, "panel.csv"))
    g = f[f"arms/{arm}/replicate_{rep}/panel"]
    pop = f[f"population/replicate_{rep}"]
    n = g["poor"].shape[1]
    check(len(panel) == n, f"panel of one period has one row per household ({n})")

    def meanings(ds) -> dict[int, str]:
        words = ds.attrs["flag_meanings"]
        words = (words.decode() if isinstance(words, bytes) else str(words)).split()
        return dict(zip((int(v) for v in ds.attrs["flag_values"]), words))

    status, tech = g["juntos_status"], g["tech_state"]
    tech_labels = tech.attrs["labels"]
    tech_labels = (tech_labels.decode() if isinstance(tech_labels, bytes) else str(tech_labels)).split(",")
    region = pop["districts/region"][()]
    district = pop["households/district"][()]
    centre = pop["households/centre"][()]
    ok = {"status": True, "tech": True, "ids": True, "poor": True, "keys": True}
    for i, row in enumerate(panel):
        ok["keys"] &= row["household"] == str(i) and row["period"] == periods[-1] and row["arm"] == arm
        ok["status"] &= row["juntos_status"] == meanings(status)[int(status[-1, i])]
        ok["poor"] &= row["poor"] == str(int(g["poor"][-1, i]))
        ok["tech"] &= all(row[f"tech_state.{t}"] == meanings(tech)[int(tech[-1, i, k])]
                          for k, t in enumerate(tech_labels))
        ok["ids"] &= (row["centre"] == str(centre[i]) and row["district"] == str(district[i])
                      and row["region"] == meanings(pop["districts/region"])[int(region[district[i]])])
    for what, good in ok.items():
        check(good, f"panel {what} of every household = h5py (labels from flag_values/flag_meanings)")

    agg = read_csv(os.path.join(work, "aggregates.csv"))
    check(len(agg) == len(arms) * len(replicates) * len(periods), "aggregates: one row per arm x replicate x period")
    good = True
    for row in agg:
        ds = f[f"arms/{row['arm']}/replicate_{row['replicate']}/aggregates"]
        p = periods.index(row["period"])
        good &= close(float(row["poor"]), float(ds["poor"][p]))
        good &= all(close(float(row[f"tech_profit_pen.{t}"]), float(ds["tech_profit_pen"][p, k]))
                    for k, t in enumerate(tech_labels))
    check(good, "aggregates poor and tech_profit_pen.* = h5py")

    hh = read_csv(os.path.join(work, "households.csv"))
    land = pop["households/land_ha"][()]
    check(len(hh) == len(land) and all(close(float(r["land_ha"]), float(land[i]), 1e-7) and
                                       r["district"] == str(district[i]) for i, r in enumerate(hh)),
          "households land_ha and district = h5py")

    # --- errors ------------------------------------------------------------------------------------------------
    res = rscript([os.path.join(ANALYSIS, "example.R")], cwd=work)
    check(res.returncode == 2 and "usage" in res.stderr, "example.R without a file: usage, exit status 2")
    text = os.path.join(work, "not.h5")
    with open(text, "w") as fh:
        fh.write("not HDF5\n")
    res = rscript([os.path.join(ANALYSIS, "example.R"), text], cwd=work)
    check(res.returncode != 0 and "not an HDF5 file" in res.stderr, "example.R on a text file: a clear error")

    print(f"{len(failures)} failure(s)" if failures else "all R checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
