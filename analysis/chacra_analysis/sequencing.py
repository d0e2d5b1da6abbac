"""Which sequence is best, for whom: ranks a run's arms on sustained exits from poverty per PEN, with intervals
and the probability that each arm is best over replicates, for the whole population and by subgroup."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
from scipy import stats

from .loader import ChacraOutput

# Region codes of the district table (sim/world.hpp, Region).
REGIONS = {0: "region_southern_highlands", 1: "region_northern_highlands", 2: "region_amazon"}
NEEDED = ("poor", "extreme_poor", "cost_juntos_pen", "cost_hw_pen")
PER_PEN = 1e6  # exits per million PEN


class SummaryInputError(ValueError):
    """The file cannot give the summary (a missing variable, an unknown arm, too short a run)."""


def _years(periods: list[str]) -> list[str]:
    """The calendar year of each output period label ("2019", "2019-03", "2019Q2" -> "2019")."""
    return [p[:4] for p in periods]


def _interval(values: np.ndarray) -> tuple[float, float, str]:
    """The 95% interval of the replicate values as `chacra compare` gives it: percentiles from 20 replicates,
    the t interval of the mean from 2 to 19, none for one."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, "none"
    if n == 1:
        return float(values[0]), float(values[0]), "single"
    if n >= 20:
        return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)), "percentile"
    half = stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / math.sqrt(n)
    m = float(np.mean(values))
    return m - half, m + half, "t"


def _checked_reference(output: ChacraOutput, reference: str | None, needed) -> str:
    """The reference arm (default: that of the run's stored comparison, else the first arm), after checking it
    exists and the panel has the variables needed."""
    arms = output.arms
    if reference is None:
        cmp = output.comparison()
        reference = str(cmp["reference"].iloc[0]) if cmp is not None and len(cmp) else arms[0]
    if reference not in arms:
        raise SummaryInputError(f"unknown reference arm '{reference}'; the file has {', '.join(arms)}")
    names = set(output.variables()["variable"])
    missing = [v for v in needed if v not in names]
    if missing:
        raise SummaryInputError(f"the panel lacks {', '.join(missing)}: run again with them in output.variables")
    return reference


def subgroups(output: ChacraOutput, replicate: int, baseline: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks over the replicate's households: baseline poverty (the reference arm's first output
    period: extremely poor, or poor but not extremely; the non-poor cannot exit), region, year-round water, and age structure at the start
    (a member under 6; school-age children 6-18 only; no member under 19)."""
    hh = output.households(replicates=[replicate]).sort_values("household")
    districts = output.districts(columns=["region"], replicates=[replicate]).set_index("district")["region"]
    ages = hh[[c for c in hh.columns if c.startswith("member_age_months.")]].to_numpy()
    present = ages >= 0
    under6 = (present & (ages < 72)).any(axis=1)
    under19 = (present & (ages < 228)).any(axis=1)
    poor = baseline["poor"].to_numpy().astype(bool)
    extreme = baseline["extreme_poor"].to_numpy().astype(bool)
    region = districts.reindex(hh["district"].to_numpy()).to_numpy()
    water = hh["water_access"].to_numpy().astype(bool)
    groups = {
        "all": np.ones(len(hh), dtype=bool),
        "baseline_extreme_poor": extreme,
        "baseline_poor_not_extreme": poor & ~extreme,
    }
    for code, name in REGIONS.items():
        groups[name] = region == code
    groups["water_access"] = water
    groups["no_water_access"] = ~water
    groups["children_under_6"] = under6
    groups["school_age_children_only"] = under19 & ~under6
    groups["no_children_under_19"] = ~under19
    return groups


def sequencing_summary(output: ChacraOutput, reference: str | None = None, sustain_years: int = 3,
                       discount_rate: float = 0.05) -> pd.DataFrame:
    """One row per subgroup and arm (other than the reference): the households poor in the reference arm's first
    output period that are out of poverty at the end of each of the last `sustain_years` output years
    (a sustained exit), gained over the reference on the same households, per million PEN of extra
    programme spending (Juntos + HW) discounted at `discount_rate` a year to the start of the run, over the
    whole horizon. Per replicate, then the mean, its 95% interval, and `p_best`: the share of replicates in
    which the arm has the most exits per PEN of all the arms ranked (ties shared). Arms ranked by the mean
    within each subgroup (rank 1 best). The frame's attrs state the horizon, the discount rate and the
    definition."""
    arms = output.arms
    reference = _checked_reference(output, reference, NEEDED)
    periods = output.periods
    years = _years(periods)
    distinct = list(dict.fromkeys(years))
    if sustain_years < 1 or sustain_years > len(distinct):
        raise SummaryInputError(
            f"sustain_years must be 1 to {len(distinct)} (the run's output years), not {sustain_years}")
    last = [i for i, y in enumerate(years) if y in distinct[-sustain_years:]]
    # The last period of each of the sustained years: poverty is a state at the end of the period.
    ends = [max(i for i in last if years[i] == y) for y in distinct[-sustain_years:]]
    per_year = len(periods) / len(distinct)
    months = 12.0 / per_year
    discount = (1.0 + discount_rate) ** -((np.arange(len(periods)) + 0.5) * months / 12.0)

    others = [a for a in arms if a != reference]
    rows = []
    per_rep: dict[tuple[str, str], list[float]] = {}
    level: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    for r in output.replicates:
        def read(arm):
            p = output.panel(variables=list(NEEDED), arms=[arm], replicates=[r])
            n = p["household"].max() + 1
            shape = (len(periods), n)
            poor = p["poor"].to_numpy().reshape(shape).astype(bool)
            cost = (p["cost_juntos_pen"].to_numpy() + p["cost_hw_pen"].to_numpy()).reshape(shape)
            return p, poor, (discount[:, None] * cost).sum(axis=0)
        ref_panel, ref_poor, ref_cost = read(reference)
        first = ref_panel[ref_panel["period"] == periods[0]].sort_values("household")
        masks = subgroups(output, r, first)
        baseline_poor = ref_poor[0]
        ref_exit = baseline_poor & ~ref_poor[ends].any(axis=0)
        for arm in others:
            _, poor, cost = read(arm)
            exits = baseline_poor & ~poor[ends].any(axis=0)
            for g, m in masks.items():
                gained = float(exits[m].sum()) - float(ref_exit[m].sum())
                extra = float(cost[m].sum() - ref_cost[m].sum())
                level.setdefault((g, arm), []).append((gained, extra, int(m.sum())))
                if extra > 0:
                    per_rep.setdefault((g, arm), []).append(PER_PEN * gained / extra)
    groups = list(dict.fromkeys(g for g, _ in level))
    for g in groups:
        # Probability of being best: over the replicates in which every ranked arm is defined.
        defined = [a for a in others if len(per_rep.get((g, a), [])) == len(output.replicates)]
        wins = dict.fromkeys(others, math.nan)
        if defined:
            table = np.array([per_rep[(g, a)] for a in defined])
            best = table == table.max(axis=0)
            share = (best / best.sum(axis=0)).mean(axis=1)
            wins.update(dict(zip(defined, share)))
        for arm in others:
            vals = np.array(per_rep.get((g, arm), []), dtype=float)
            lv = np.array(level[(g, arm)], dtype=float)
            lo, hi, kind = _interval(vals)
            rows.append({
                "subgroup": g, "arm": arm, "reference": reference, "households": float(lv[:, 2].mean()),
                "exits_gained": float(lv[:, 0].mean()), "extra_cost_pv_pen": float(lv[:, 1].mean()),
                "exits_per_million_pen": float(vals.mean()) if len(vals) else math.nan,
                "ci_low": lo, "ci_high": hi, "interval": kind, "n_replicates": len(vals),
                "p_best": wins[arm]})
    out = pd.DataFrame(rows)
    out["rank"] = (out.groupby("subgroup")["exits_per_million_pen"]
                   .rank(ascending=False, method="min", na_option="bottom").astype(int))
    out = out.sort_values(["subgroup", "rank"], key=lambda s: s.map(groups.index) if s.name == "subgroup" else s,
                          kind="stable").reset_index(drop=True)
    out.attrs.update({
        "horizon": f"{periods[0]} to {periods[-1]} ({len(distinct)} years)",
        "discount_rate": discount_rate, "sustain_years": sustain_years, "reference": reference,
        "definition": (f"sustained exit: poor in the reference arm's first output period ({periods[0]}), not poor "
                       f"at the end of each of the last {sustain_years} output years; exits gained over "
                       f"'{reference}' per million PEN of extra Juntos + HW spending, discounted at "
                       f"{discount_rate:g} a year to the start of the run over the whole horizon")})
    return out


EVENTS = {"years_since_juntos_exit": "juntos_exit_month", "years_since_hw_start": "hw_cohort"}


def event_time_effects(output: ChacraOutput, reference: str | None = None,
                       outcomes: tuple[str, ...] = ("poor", "income_monetary_pen"), min_k: int = -2) -> pd.DataFrame:
    """Effects by years since an event in the arm: since leaving Juntos (the household's most recent exit at the
    end of the run, juntos_exit_month) and since HW started (its cohort year, hw_cohort). For each arm, event and
    k = output year minus event year (from min_k), the mean over the households with the event of the outcome in
    the arm minus the reference on the same households and periods (`poor`: a share; a flow such as income:
    PEN a year), per replicate; then the mean over replicates with its 95% interval. Rows: event, arm, k,
    outcome, mean_effect, ci_low, ci_high, households (mean per replicate at that k), n_replicates."""
    arms = output.arms
    reference = _checked_reference(output, reference, (*outcomes, *EVENTS.values()))
    periods = output.periods
    years = np.array([int(y) for y in _years(periods)])
    per_year = len(periods) / len(set(years))
    start_year = int(years[0])
    flows = set(output.variables().set_index("variable")["aggregation"].loc[list(outcomes)]
                .loc[lambda a: a.str.startswith("sum")].index)
    draws: dict[tuple, list[tuple[float, int]]] = {}
    for r in output.replicates:
        def read(arm):
            p = output.panel(variables=[*outcomes, *EVENTS.values()], arms=[arm], replicates=[r])
            n = p["household"].max() + 1
            return {v: p[v].to_numpy().reshape(len(periods), n).astype(float) for v in p.columns
                    if v in outcomes or v in EVENTS.values()}
        ref = read(reference)
        for arm in arms:
            if arm == reference:
                continue
            a = read(arm)
            for event, col in EVENTS.items():
                last = a[col][-1]
                has = last >= 0
                if not has.any():
                    continue
                event_year = np.where(has, start_year + last // 12 if col == "juntos_exit_month" else last, 0)
                k = years[:, None] - event_year[None, :]
                for out in outcomes:
                    scale = per_year if out in flows else 1.0
                    diff = scale * (a[out] - ref[out])
                    for kk in range(min_k, int(k[:, has].max()) + 1):
                        sel = (k == kk) & has[None, :]
                        if sel.any():
                            draws.setdefault((event, arm, kk, out), []).append(
                                (float(diff[sel].mean()), int(sel.sum())))
    rows = []
    for (event, arm, kk, out), v in draws.items():
        vals = np.array([x for x, _ in v])
        lo, hi, kind = _interval(vals)
        rows.append({"event": event, "arm": arm, "reference": reference, "k": kk, "outcome": out,
                     "mean_effect": float(vals.mean()), "ci_low": lo, "ci_high": hi, "interval": kind,
                     "households": float(np.mean([n for _, n in v])), "n_replicates": len(vals)})
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["event", "outcome", "arm", "k"], kind="stable").reset_index(drop=True)
    out.attrs.update({"reference": reference, "horizon": f"{periods[0]} to {periods[-1]}",
                      "definition": "k = output year minus the year of the household's most recent Juntos exit "
                                    "(juntos_exit_month) or of its HW cohort (hw_cohort), in the arm; effect = "
                                    "arm minus reference on the same households"})
    return out


def format_table(summary: pd.DataFrame) -> str:
    """The summary as text: the stated horizon, discount rate and definition, then each subgroup's arms by rank."""
    a = summary.attrs
    lines = [f"Sustained exits from poverty per million PEN, against '{a['reference']}'",
             f"horizon {a['horizon']}; discount rate {a['discount_rate']:g} a year; {a['definition']}", ""]
    for g, rows in summary.groupby("subgroup", sort=False):
        lines.append(f"{g} ({rows['households'].iloc[0]:,.0f} households)")
        lines.append(f"  {'rank':>4}  {'arm':<30}{'exits/M PEN':>12}  {'95% interval':<22}{'P(best)':>8}"
                     f"{'exits gained':>14}{'extra cost (PV)':>17}")
        for _, r in rows.iterrows():
            ci = "n/a" if math.isnan(r["ci_low"]) else f"[{r['ci_low']:.3g}, {r['ci_high']:.3g}]"
            pb = "n/a" if math.isnan(r["p_best"]) else f"{r['p_best']:.2f}"
            val = "n/a" if math.isnan(r["exits_per_million_pen"]) else f"{r['exits_per_million_pen']:.3g}"
            lines.append(f"  {r['rank']:>4}  {r['arm']:<30}{val:>12}  {ci:<22}{pb:>8}{r['exits_gained']:>14.1f}"
                         f"{r['extra_cost_pv_pen']:>17,.0f}")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", help="a chacra output file (chacra run -o FILE)")
    ap.add_argument("--reference", help="reference arm (default: the run's comparison reference)")
    ap.add_argument("--sustain-years", type=int, default=3, help="years out of poverty at the end (default 3)")
    ap.add_argument("--discount-rate", type=float, default=0.05, help="yearly discount rate of costs (default 0.05)")
    ap.add_argument("--format", choices=["table", "csv", "json"], default="table")
    ap.add_argument("--events", action="store_true",
                    help="instead of the ranking: effects on poverty and income by years since leaving Juntos and "
                         "since HW started")
    args = ap.parse_args(argv)
    if not 0.0 <= args.discount_rate < 1.0:
        print(f"sequencing_summary: --discount-rate must be in [0, 1), not {args.discount_rate}", file=sys.stderr)
        return 2
    try:
        with ChacraOutput(args.file) as out:
            summary = (event_time_effects(out, args.reference) if args.events else
                       sequencing_summary(out, args.reference, args.sustain_years, args.discount_rate))
    except (FileNotFoundError, SummaryInputError) as e:
        print(f"sequencing_summary: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a damaged file
        from .loader import ChacraFileError
        if isinstance(e, ChacraFileError):
            print(f"sequencing_summary: {e}", file=sys.stderr)
            return 2
        raise
    if args.format == "table" and args.events:
        print(f"Effects by years since the event, against '{summary.attrs['reference']}' "
              f"({summary.attrs['horizon']}; {summary.attrs['definition']})")
        print(summary.drop(columns=["reference"]).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    elif args.format == "table":
        print(format_table(summary))
    elif args.format == "csv":
        summary.to_csv(sys.stdout, index=False)
    else:
        rows = json.loads(summary.to_json(orient="records"))
        print(json.dumps({**summary.attrs, "rows": rows}, indent=1))
    return 0
