"""Figures of a chacra run. Every function returns ``(figure, data)``: a matplotlib Figure with a title that
says what it shows, units on its axes and the caption (scenario, seeds) printed under it, and the numbers it
draws as plain Python data (the report stores them in report_data.json, so tests can check them).

Bands over replicates: with 20 or more replicates the 2.5-97.5th percentiles of the replicate values, with
2-19 their range (minimum to maximum), with one replicate none.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = [
    "arm_colours",
    "band_description",
    "income_consumption",
    "poverty",
    "adoption",
    "adoption_shares",
    "quantile_effects",
    "cost_effect_frontier",
    "evaluation_forest",
    "QUANTILES",
]

QUANTILES = [("q10", 10), ("q25", 25), ("q50", 50), ("q75", 75), ("q90", 90)]
_PALETTE = ["#4d4d4d", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
            "#bcbd22"]
_WIDTH = 11.0  # inches; figures are saved at 110 dpi, about 1200 pixels wide


def arm_colours(arms: list[str]) -> dict[str, str]:
    """One colour per arm, stable across figures (the first arm, usually the reference, in dark grey)."""
    return {a: _PALETTE[i % len(_PALETTE)] for i, a in enumerate(arms)}


_STYLES = ["-", "--", "-.", ":"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def arm_style(arms: list[str], arm: str) -> dict:
    """Line style of an arm: its colour, and a dash pattern, marker and width that let arms with the same
    values (e.g. an arm without the programme that drives an outcome) show through one another."""
    i = arms.index(arm) if arm in arms else 0
    return {"color": arm_colours(arms)[arm], "ls": _STYLES[i % len(_STYLES)], "marker": _MARKERS[i % len(_MARKERS)],
            "lw": 2.8 if i == 0 else 2.2}


def band_description(n_replicates: int) -> str:
    if n_replicates >= 20:
        return f"lines: mean over {n_replicates} replicates; bands: 2.5-97.5th percentile of the replicates"
    if n_replicates >= 2:
        return f"lines: mean over {n_replicates} replicates; bands: range (min to max) of the replicates"
    return "one replicate: no band"


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """values [replicates, periods] -> mean, low, high."""
    mean = np.nanmean(values, axis=0)
    n = values.shape[0]
    if n >= 20:
        low, high = np.nanpercentile(values, 2.5, axis=0), np.nanpercentile(values, 97.5, axis=0)
    elif n >= 2:
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    else:
        low = high = mean
    return mean, low, high


def _finish(fig, title: str, caption: str, legend_handles=None, legend_labels=None, legend_cols=None) -> None:
    """Title and legend on top, the caption (wrapped to the figure's width) under the axes; the axes fill the
    space between."""
    width, height = fig.get_size_inches()
    wrapped = textwrap.fill(caption, width=int(width * 72 / (0.56 * 8.5)))
    lines = wrapped.count("\n") + 1
    bottom = (0.18 + 0.15 * lines) / height
    title_h = 0.42 / height
    legend_h = 0.36 / height if legend_handles else 0.0
    # Lay out the axes first: tight_layout would otherwise make room for the title and legend twice.
    fig.tight_layout(rect=(0, bottom, 1, 1 - title_h - legend_h))
    fig.suptitle(title, fontsize=13, fontweight="bold", y=1 - 0.12 / height, va="top")
    if legend_handles:
        fig.legend(legend_handles, legend_labels, loc="upper center", ncol=legend_cols or len(legend_labels),
                   bbox_to_anchor=(0.5, 1 - title_h), frameon=False, fontsize=10)
    fig.text(0.01, 0.10 / height, wrapped, fontsize=8.5, color="#333333", va="bottom", ha="left")


def _legend_entries(axes) -> tuple[list, list]:
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    return handles, labels


def _period_axis(ax, periods: list[str], max_ticks: int = 12) -> None:
    step = max(1, math.ceil(len(periods) / max_ticks))
    ticks = list(range(0, len(periods), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([periods[i] for i in ticks], rotation=0 if len(periods[0]) <= 4 else 45,
                       ha="center" if len(periods[0]) <= 4 else "right")
    ax.set_xlim(-0.3, len(periods) - 0.7)
    ax.grid(True, alpha=0.3)


def _paths(ax, frame: pd.DataFrame, column: str, arms: list[str], periods: list[str], scale: float = 1.0,
           max_ticks: int = 12):
    """Mean path per arm with its replicate band; returns the numbers drawn."""
    drawn = {}
    for arm in arms:
        sub = frame[frame["arm"] == arm]
        if sub.empty:
            continue
        table = sub.pivot(index="replicate", columns="period", values=column).reindex(columns=periods)
        values = table.to_numpy(dtype=float) * scale
        mean, low, high = _band(values)
        x = np.arange(len(periods))
        st = arm_style(arms, arm)
        ax.plot(x, mean, color=st["color"], ls=st["ls"], lw=st["lw"], marker=st["marker"] if len(periods) <= 24 else None,
                ms=5, label=arm)
        if values.shape[0] >= 2:
            ax.fill_between(x, low, high, color=st["color"], alpha=0.13, lw=0)
        drawn[arm] = {"mean": mean.tolist(), "low": low.tolist(), "high": high.tolist()}
    _period_axis(ax, periods, max_ticks)
    return drawn


def income_consumption(agg: pd.DataFrame, arms: list[str], periods: list[str], per: str, caption: str):
    """Mean monetary income and consumption per household, by arm, over time."""
    n_rep = agg["replicate"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(_WIDTH, 5.2))
    data = {}
    for ax, (col, label) in zip(axes, [("income_monetary_pen", "Monetary income"),
                                       ("consumption_pen", "Consumption (incl. own production)")]):
        if col not in agg:
            ax.text(0.5, 0.5, f"{col} not recorded in this file", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        data[col] = _paths(ax, agg, col, arms, periods)
        ax.set_title(f"{label}, mean per household", fontsize=11)
        ax.set_ylabel(f"PEN per household per {per}")
        ax.set_xlabel("period")
    _finish(fig, f"Household income and consumption by policy arm (PEN per household per {per})",
            f"{band_description(n_rep)}; each replicate has its own synthetic population, so the bands show how "
            f"levels vary between populations: the effects (same households in every arm) are much more precise, see "
            f"the key effects table. Monetary income: crops + animals + wage + business + transfers; consumption: "
            f"monetary spending + own production + other consumption; PEN summed over each {per}. {caption}",
            *_legend_entries(axes))
    return fig, data


def poverty(agg: pd.DataFrame, arms: list[str], periods: list[str], caption: str):
    """Poverty and extreme-poverty headcounts (share of households) by arm over time."""
    n_rep = agg["replicate"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(_WIDTH, 5.2))
    data = {}
    for ax, (col, label) in zip(axes, [("poor", "Poverty headcount"), ("extreme_poor", "Extreme-poverty headcount")]):
        if col not in agg:
            ax.text(0.5, 0.5, f"{col} not recorded in this file", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        data[col] = _paths(ax, agg, col, arms, periods, scale=100.0)
        ax.set_title(label, fontsize=11)
        ax.set_ylabel("% of households below the line")
        ax.set_xlabel("period (status at the end of the period)")
    _finish(fig, "Poverty and extreme poverty by policy arm (% of households)",
            f"{band_description(n_rep)} (variation between replicate populations; effects on the same households are far "
            f"more precise, see the comparison). A household is poor "
            f"when its per-capita consumption over the last 12 months is below the poverty line of the year (extreme: "
            f"below the extreme line); shares of households, not of persons (the comparison table's "
            f"poverty_headcount weights by persons). {caption}", *_legend_entries(axes))
    return fig, data


def adoption_shares(output, arms=None, replicates=None) -> pd.DataFrame:
    """Share of households using each technology (tech_state == 1) and having ever adopted it
    (tech_state >= 1), per arm, replicate and period, read from the panel one period at a time.
    Columns: arm, replicate, period, technology, using, ever."""
    rows = []
    arms = output._select_arms(arms)
    reps = output._select_replicates(replicates)
    for arm in arms:
        for r in reps:
            g = output._unit(arm, r)
            if "panel" not in g or "tech_state" not in g["panel"]:
                continue
            ds = g["panel"]["tech_state"]
            labels = output._labels(ds, ds.shape[2])
            for p, period in enumerate(output.periods):
                state = ds[p]  # [households, technologies]
                using = (state == 1).mean(axis=0)
                ever = (state >= 1).mean(axis=0)
                for k, tech in enumerate(labels):
                    rows.append((arm, r, period, tech, float(using[k]), float(ever[k])))
    return pd.DataFrame(rows, columns=["arm", "replicate", "period", "technology", "using", "ever"])


def adoption(shares: pd.DataFrame, arms: list[str], periods: list[str], caption: str):
    """Adoption curves: % of households using each technology, one panel per technology."""
    techs = list(dict.fromkeys(shares["technology"]))
    n_rep = shares["replicate"].nunique()
    ncol = 5 if len(techs) > 4 else max(1, len(techs))
    nrow = math.ceil(len(techs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(_WIDTH, 2.7 * nrow + 1.9), sharex=True, sharey=True, squeeze=False)
    data = {}
    top = max(5.0, float(shares["using"].max()) * 100 * 1.08) if len(shares) else 100
    for idx, tech in enumerate(techs):
        ax = axes[idx // ncol][idx % ncol]
        sub = shares[shares["technology"] == tech]
        data[tech] = _paths(ax, sub, "using", arms, periods, scale=100.0, max_ticks=4)
        ax.set_title(tech.replace("_", " "), fontsize=10)
        ax.set_ylim(0, top)
        if idx % ncol == 0:
            ax.set_ylabel("% of households using")
    for idx in range(len(techs), nrow * ncol):
        axes[idx // ncol][idx % ncol].set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("end of period", fontsize=9)
    _finish(fig, "Technology adoption by policy arm (% of households using the technology)",
            f"{band_description(n_rep)}. Using: tech_state = 1 at the end of the period (adopted and not dropped). "
            f"Arms with the same values draw on top of one another (dashed lines let the one below show). {caption}",
            *_legend_entries(axes))
    return fig, data


def _rows(cmp: pd.DataFrame, outcome: str, statistic: str, subgroup: str = "all") -> pd.DataFrame:
    return cmp[(cmp["outcome"] == outcome) & (cmp["statistic"] == statistic) & (cmp["subgroup"] == subgroup)]


def quantile_effects(cmp: pd.DataFrame, arms: list[str], caption: str):
    """Effects across the distribution (final year): difference of quantiles and quantiles of the paired
    household differences, for income and consumption, with 95% intervals over replicates."""
    reference = str(cmp["reference"].iloc[0]) if len(cmp) else ""
    final = cmp.attrs.get("final_period", "")
    fig, axes = plt.subplots(2, 2, figsize=(_WIDTH, 8.2), squeeze=False)
    data = {}
    stats = [("distribution", "Quantile effect: q-th quantile in the arm\nminus q-th quantile in the reference"),
             ("paired_difference", "q-th quantile of household-level differences\n(same household, arm minus reference)")]
    for i, outcome in enumerate(["income_monetary_pen", "consumption_pen"]):
        for j, (stat, title) in enumerate(stats):
            ax = axes[i][j]
            drawn = {}
            unit = ""
            for arm in arms:
                if arm == reference:
                    continue
                xs, ms, lo, hi = [], [], [], []
                for qname, q in QUANTILES:
                    row = _rows(cmp[cmp["arm"] == arm], outcome, f"{stat}_{qname}")
                    if row.empty:
                        continue
                    unit = row["unit"].iloc[0]
                    xs.append(q)
                    ms.append(float(row["mean_effect"].iloc[0]))
                    lo.append(float(row["ci_low"].iloc[0]))
                    hi.append(float(row["ci_high"].iloc[0]))
                if not xs:
                    continue
                st = arm_style(arms, arm)
                ax.plot(xs, ms, color=st["color"], ls=st["ls"], lw=st["lw"], marker=st["marker"], ms=5, label=arm)
                ax.fill_between(xs, lo, hi, color=st["color"], alpha=0.15, lw=0)
                drawn[arm] = {"quantile": xs, "mean_effect": ms, "ci_low": lo, "ci_high": hi}
            if not drawn:
                ax.text(0.5, 0.5, f"no {stat} rows for {outcome}\nin the comparison table", ha="center", va="center",
                        transform=ax.transAxes)
                ax.set_axis_off()
                continue
            data[f"{outcome}/{stat}"] = drawn
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xticks([q for _, q in QUANTILES])
            ax.set_xticklabels([f"{q}th" for _, q in QUANTILES])
            ax.set_xlabel("quantile of the household distribution")
            ax.set_ylabel(f"effect ({unit or 'PEN per household per year'})", fontsize=9)
            label = "Monetary income" if outcome == "income_monetary_pen" else "Consumption"
            ax.set_title(f"{label}. {title}", fontsize=10)
            ax.grid(True, alpha=0.3)
    _finish(fig, f"Effects on the income and consumption distributions against '{reference}', final year {final}",
            "Lines: mean over replicates of the effect; bands: 95% interval over replicates (as in chacra compare). "
            "Left: how the distribution shifts; right: how the gains are spread over households (common random "
            "numbers make a household's outcomes in two arms comparable; a programme that reaches few households "
            f"has zero paired difference at the lower quantiles). {caption}", *_legend_entries(axes))
    return fig, data


def _frontier(points: list[tuple[str, float, float]]) -> list[str]:
    """Arms not dominated: no other arm costs at most as much and does at least as well (one strictly)."""
    keep = []
    for name, c, e in points:
        if not (math.isfinite(c) and math.isfinite(e)):
            continue
        dominated = any(
            (c2 <= c and e2 >= e) and (c2 < c or e2 > e)
            for n2, c2, e2 in points
            if n2 != name and math.isfinite(c2) and math.isfinite(e2)
        )
        if not dominated:
            keep.append(name)
    return sorted(keep, key=lambda n: next(c for m, c, _ in points if m == n))


def cost_effect_frontier(cmp: pd.DataFrame, arms: list[str], caption: str):
    """Cost per household against effect, per arm, with the frontier of arms no other arm beats on both."""
    colours = arm_colours(arms)
    reference = str(cmp["reference"].iloc[0]) if len(cmp) else ""
    horizon = cmp.attrs.get("horizon", "")
    final = cmp.attrs.get("final_period", "")
    cost_rows = _rows(cmp, "cost_per_household_pen", "horizon_total")
    panels = [
        ("poverty_headcount", "final_year", -100.0, f"Poverty reduction in {final}",
         "reduction in the poverty headcount\n(percentage points of persons)"),
        ("income_monetary_pen", "horizon_mean", 1.0, f"Income effect, mean over {horizon}",
         "effect on monetary income\n(PEN per household per year)"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(_WIDTH, 5.6))
    data = {"cost": {}, "panels": {}}
    if cost_rows.empty:
        for ax in axes:
            ax.text(0.5, 0.5, "no cost_per_household_pen rows in the comparison table\n(cost variables not recorded?)",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        _finish(fig, "Cost against effect per policy arm", caption)
        return fig, data
    cost = {str(r.arm): float(r.arm_value) for r in cost_rows.itertuples()}
    cost[reference] = float(cost_rows["reference_value"].iloc[0])
    data["cost"] = cost
    for ax, (outcome, stat, scale, title, ylabel) in zip(axes, panels):
        rows = _rows(cmp, outcome, stat)
        if rows.empty:
            ax.text(0.5, 0.5, f"no {outcome} rows in the comparison table", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        points = [(reference, cost[reference], 0.0)]
        drawn = {reference: {"cost": cost[reference], "effect": 0.0, "ci_low": 0.0, "ci_high": 0.0}}
        for r in rows.itertuples():
            arm = str(r.arm)
            if arm not in cost:
                continue
            e, lo, hi = float(r.mean_effect) * scale, float(r.ci_low) * scale, float(r.ci_high) * scale
            lo, hi = min(lo, hi), max(lo, hi)
            points.append((arm, cost[arm], e))
            drawn[arm] = {"cost": cost[arm], "effect": e, "ci_low": lo, "ci_high": hi}
        frontier = _frontier(points)
        fx = [drawn[a]["cost"] for a in frontier]
        fy = [drawn[a]["effect"] for a in frontier]
        ax.plot(fx, fy, color="black", lw=1.2, ls="--", zorder=1, label="frontier")
        for arm in [a for a in arms if a in drawn]:
            d = drawn[arm]
            ax.errorbar([d["cost"]], [d["effect"]], yerr=[[d["effect"] - d["ci_low"]], [d["ci_high"] - d["effect"]]],
                        fmt="o", ms=8, color=colours[arm], capsize=4, zorder=3,
                        mfc=colours[arm] if arm in frontier else "white", mew=2)
            below = arm != reference
            ax.annotate(arm, (d["cost"], d["effect"]), textcoords="offset points", xytext=(9, -4 if below else 5),
                        fontsize=9.5, color=colours[arm], ha="left", va="top" if below else "bottom", fontweight="bold",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8), zorder=4)
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xlabel(f"programme cost per household, total over {horizon}\n(PEN; Juntos + Haku Winay, over all households)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.grid(True, alpha=0.3)
        xmax = max(d["cost"] for d in drawn.values())
        ax.set_xlim(-0.04 * max(xmax, 1), xmax * 1.22 + 1)
        data["panels"][f"{outcome}/{stat}"] = {"points": drawn, "frontier": frontier}
    _finish(fig, f"Cost against effect per arm, against '{reference}': the sequencing frontier",
            "Points: mean over replicates, bars: 95% interval of the effect; filled points and the dashed line: the "
            "frontier (no other arm costs as little and does as well); hollow points are dominated. Cost: Juntos and "
            f"Haku Winay spending per household of the population (undiscounted). {caption}")
    return fig, data


def evaluation_forest(ev: pd.DataFrame, caption: str):
    """Forest plot: the model's virtual-evaluation estimates (mean and 2.5-97.5% over replicates) beside the
    published values, for the outcomes that have one; one panel per unit."""
    pub = pd.to_numeric(ev.get("published"), errors="coerce") if "published" in ev else pd.Series(np.nan, ev.index)
    shown = ev[pub.notna()].copy() if pub.notna().any() else ev.copy()
    shown["unit"] = shown["unit"].fillna("") if "unit" in shown else ""
    units = list(dict.fromkeys(shown["unit"]))
    counts = [int((shown["unit"] == u).sum()) for u in units]
    fig, axes = plt.subplots(len(units), 1, figsize=(_WIDTH, 0.45 * sum(counts) + 1.0 * len(units) + 2.6),
                             gridspec_kw={"height_ratios": counts}, squeeze=False)
    data = {}
    for ax, unit in zip(axes[:, 0], units):
        sub = shown[shown["unit"] == unit].reset_index(drop=True)
        y = np.arange(len(sub))[::-1]
        for yi, r in zip(y, sub.to_dict(orient="records")):
            m, lo, hi = float(r["model_mean"]), float(r["p2_5"]), float(r["p97_5"])
            ax.plot([lo, hi], [yi, yi], color="#1f77b4", lw=3, solid_capstyle="butt")
            ax.plot([m], [yi], "o", color="#1f77b4", ms=7, label="model: mean and 2.5-97.5% over replicates")
            p = r.get("published")
            p = float(p) if p is not None and np.isfinite(float(p)) else float("nan")
            if math.isfinite(p):
                ax.plot([p], [yi], "D", color="#d62728", ms=7, label="published estimate")
            verdict = r.get("pass")
            if verdict is not None and not (isinstance(verdict, float) and math.isnan(verdict)):
                ax.annotate("agrees" if bool(verdict) else "differs", xy=(1.005, yi), xycoords=("axes fraction", "data"),
                            va="center", fontsize=8.5, color="#2ca02c" if bool(verdict) else "#d62728")
            data[str(r["outcome"])] = {"unit": unit, "model_mean": m, "p2_5": lo, "p97_5": hi, "published": p,
                                       "pass": None if verdict is None else bool(verdict)}
        ax.set_yticks(y)
        ax.set_yticklabels([str(o).replace("_", " ") for o in sub["outcome"]], fontsize=9.5)
        lo_all = min(0.0, float(np.nanmin(sub[["p2_5", "p97_5", "model_mean"]].to_numpy(dtype=float))),
                     float(np.nanmin(pd.to_numeric(sub["published"], errors="coerce"))) if sub["published"].notna().any() else 0.0)
        hi_all = max(float(np.nanmax(sub[["p2_5", "p97_5", "model_mean"]].to_numpy(dtype=float))),
                     float(np.nanmax(pd.to_numeric(sub["published"], errors="coerce"))) if sub["published"].notna().any() else 0.0)
        pad = 0.06 * (hi_all - lo_all or 1.0)
        ax.set_xlim(lo_all - pad, hi_all + pad)
        ax.axvline(0, color="#888888", lw=0.8)
        ax.set_xlabel(f"estimate ({unit or 'unit not given'})", fontsize=9.5)
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_ylim(-0.7, len(sub) - 0.3)
    n_rep = int(pd.to_numeric(ev["n_replicates"]).max()) if "n_replicates" in ev and len(ev) else 0
    left_out = len(ev) - len(shown)
    _finish(fig, "Virtual evaluation of the 2017 Haku Winay cohort: model estimates beside the published ones",
            f"Blue: the model's estimate, mean (dot) and 2.5-97.5th percentile (bar) over {n_rep} virtual evaluations; "
            f"red diamond: the published estimate; right: 'agrees' when chacra evaluate's check passes (published value "
            f"inside the band and model mean within 25% of it). Effects are intention-to-treat unless the name says "
            f"otherwise (control_mean_income is a level, hw_reach_* are shares reached)."
            + (f" {left_out} outcome(s) without a published value are in the report's table only." if left_out else "")
            + f" {caption}", *_legend_entries(axes), legend_cols=2)
    return fig, data
