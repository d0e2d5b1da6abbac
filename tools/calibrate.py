#!/usr/bin/python3
"""Calibrate chacra's defaults to the published 2017-cohort Haku Winay evaluation (docs/calibration.md).

Simulated method of moments by iterative proportional adjustment, one lever per moment:

  moment (published ITT)                 lever (parameter default)
  share growing vegetables   +0.22       haku_winay.asset_take_share.vegetable_garden
  share using org. fertiliser +0.33      haku_winay.asset_take_share.organic_fertiliser_use
  share preparing fertiliser +0.11       haku_winay.asset_take_share.organic_fertiliser_prep
  share with sprinklers      +0.20       haku_winay.asset_take_share.sprinkler_irrigation
  share growing pasture      +0.11       haku_winay.asset_take_share.cultivated_pasture
  share with animal sheds    +0.23       haku_winay.asset_take_share.small_animal_shed
  income, PEN/year           +1,400      livelihood.programme_return_multiplier (return of a technology
                                         adopted with an HW asset and training, relative to traditional
                                         adoption; control households' incomes do not depend on it)

Each round runs `chacra evaluate --format json` with the current values as --set overrides, then moves each
lever: a take share by the ratio published / model (effects are proportional to it), the programme return
multiplier by the ratio of the technology part of the income ITT needed to the one obtained (the technology
part is the income ITT less the HW business part, row hw_business_income, which the multiplier does not move).
The control group's mean income (published about 4,500) is a check, not a moment: it is set by the
no-programme calibration (livelihood.wage_employment_rate, livelihood.animal_value_pen). Shares are
capped at 1. It stops when every moment is within --tolerance (relative) of its target, and prints the
fitted values (and writes them as JSON with --out). Copy them into the parameter structs' initial values,
which are the registry's defaults (models/*.hpp; see
docs/calibration.md, "Calibration to the 2017 evaluation").

Usage: /usr/bin/python3 tools/calibrate.py [--chacra build/chacra] [--replicates 20] [--rounds 6]
                                          [--start current|defaults] [--set k=v ...] [--out fitted.json]
"""
import argparse
import json
import subprocess
import sys

TAKE = "haku_winay.asset_take_share."
INCOME_LEVER = "livelihood.programme_return_multiplier"
SHARE_LEVERS = {
    "vegetable_garden": TAKE + "vegetable_garden",
    "organic_fertiliser_use": TAKE + "organic_fertiliser_use",
    "organic_fertiliser_prep": TAKE + "organic_fertiliser_prep",
    "sprinkler_irrigation": TAKE + "sprinkler_irrigation",
    "cultivated_pasture": TAKE + "cultivated_pasture",
    "small_animal_shed": TAKE + "small_animal_shed",
}


def defaults(chacra):
    out = subprocess.run([chacra, "params", "--format", "json"], check=True, capture_output=True, text=True).stdout
    data = json.loads(out)
    rows = data if isinstance(data, list) else data.get("parameters", data)
    return {r["name"]: r["default"] for r in rows}


def evaluate(chacra, values, replicates, extra):
    cmd = [chacra, "evaluate", "--format", "json", "--quiet", "--replicates", str(replicates)]
    for k, v in values.items():
        cmd += ["--set", f"{k}={v:.6g}"]
    for s in extra:
        cmd += ["--set", s]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {row["outcome"]: row for row in json.loads(out)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chacra", default="build/chacra", help="the chacra executable")
    ap.add_argument("--replicates", type=int, default=20, help="replicates per round")
    ap.add_argument("--rounds", type=int, default=6, help="most rounds")
    ap.add_argument("--tolerance", type=float, default=0.05, help="relative distance to every target to stop")
    ap.add_argument("--damping", type=float, default=1.0, help="exponent of the proportional step (0-1]")
    ap.add_argument("--set", action="append", default=[], help="extra fixed override (key=value), repeatable")
    ap.add_argument("--out", help="write the fitted values as JSON here")
    args = ap.parse_args()

    d = defaults(args.chacra)
    values = {p: float(d[p]) for p in SHARE_LEVERS.values()}
    values[INCOME_LEVER] = float(d[INCOME_LEVER])
    start = dict(values)
    for rnd in range(1, args.rounds + 1):
        rows = evaluate(args.chacra, values, args.replicates, args.set)
        worst = 0.0
        print(f"round {rnd}:")
        for moment, lever in SHARE_LEVERS.items():
            model, target = rows[moment]["model_mean"], rows[moment]["published"]
            worst = max(worst, abs(model - target) / abs(target))
            print(f"  {moment:26s} model {model:8.3f}  target {target:8.3f}  {lever} = {values[lever]:.4f}")
        inc, inc_target = rows["income"]["model_mean"], rows["income"]["published"]
        business = rows["hw_business_income"]["model_mean"]
        worst = max(worst, abs(inc - inc_target) / abs(inc_target))
        print(f"  {'income':26s} model {inc:8.0f}  target {inc_target:8.0f}  business part {business:6.0f}  "
              f"{INCOME_LEVER} = {values[INCOME_LEVER]:.4f}")
        print(f"  control mean income {rows['control_mean_income']['model_mean']:.0f} (published 4500), "
              f"reach ITT {rows['hw_reach_itt']['model_mean']:.3f} (0.72), "
              f"control {rows['hw_reach_control']['model_mean']:.3f} (0.24)")
        if worst <= args.tolerance:
            print(f"converged: every moment within {args.tolerance:.0%} of its target")
            break
        for moment, lever in SHARE_LEVERS.items():
            model, target = rows[moment]["model_mean"], rows[moment]["published"]
            if model > 0:
                values[lever] = min(1.0, max(0.01, values[lever] * (target / model) ** args.damping))
        tech_part = inc - business
        if tech_part > 1.0:
            factor = max(0.25, min(4.0, (inc_target - business) / tech_part)) ** args.damping
            values[INCOME_LEVER] *= factor
    print("\nfitted values (default -> fitted):")
    for k in values:
        print(f"  {k}: {start[k]:.4g} -> {values[k]:.4g}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(values, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
