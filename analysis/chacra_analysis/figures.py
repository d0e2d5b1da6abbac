"""Figures of a chacra run. Every function returns ``(figure, data)``: a matplotlib Figure with a title that
names the scenario and says what it shows, units on its axes and the caption (what is drawn, then the run's
scenario, seeds and version) printed under it, and the numbers it draws as plain Python data (the report stores
them in report_data.json, so tests can check them). ``text_overlaps(fig)`` lists labels that overlap or leave
the figure; the tests require none.

Units: poverty rates are shares of persons (household members, as INEI counts poverty and as the comparison's
``poverty_headcount``), unless the file lacks the panel to weight them, in which case the figure says it shows
households; incomes, consumption, costs and technologies are per household.

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

from .loader import evaluation_posterior  # noqa: E402

__all__ = [
    "arm_colours",
    "band_description",
    "income_consumption",
    "poverty",
    "adoption",
    "adoption_shares",
    "poverty_shares",
    "drawn_texts",
    "text_overlaps",
    "figure_meta",
    "quantile_effects",
    "effect_paths",
    "reach_funnel",
    "FUNNEL_STAGES",
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


_PAD_PX = 8.0  # margin around the title, legend and caption, in pixels at the saving resolution


def _fit_caption(text_artist, full_text: str, width_px: float, renderer) -> None:
    """Wraps the caption to the widest line that fits width_px, measured with the renderer."""
    width = max(40, int(width_px / (0.56 * text_artist.get_fontsize() * renderer.points_to_pixels(1.0))))
    while True:
        text_artist.set_text(textwrap.fill(full_text, width=width, break_on_hyphens=False))
        if text_artist.get_window_extent(renderer).width <= width_px or width <= 40:
            return
        width = int(width * 0.95)


def _finish(fig, title: str, note: str, caption: str, legend_handles=None, legend_labels=None,
            legend_cols=None) -> None:
    """Title and legend on top, the caption (the figure's note, then the run's provenance) under the axes, the
    axes in between. Each block is measured after drawing, so none of them overlaps another or leaves the
    figure: the legend takes as many rows as it needs, the caption as many lines. The title, note and caption
    are kept in ``fig._chacra`` for the report, with the height of the caption's strip (its HTML shows the
    image without that strip, and the note as text under it)."""
    renderer = fig.canvas.get_renderer()
    note = note[:1].upper() + note[1:]
    W, H = fig.bbox.width, fig.bbox.height
    usable = W - 2 * _PAD_PX
    title_artist = fig.suptitle(title, fontsize=13, fontweight="bold", x=0.5, y=1 - _PAD_PX / H, va="top",
                                ha="center")
    while title_artist.get_window_extent(renderer).width > usable and title_artist.get_fontsize() > 8:
        title_artist.set_fontsize(title_artist.get_fontsize() - 0.5)
    top = title_artist.get_window_extent(renderer).y0 - _PAD_PX / 2
    legend = None
    if legend_handles:
        ncol = legend_cols or len(legend_labels)
        while True:
            legend = fig.legend(legend_handles, legend_labels, loc="upper center", ncol=ncol,
                                bbox_to_anchor=(0.5, top / H), frameon=False, fontsize=10)
            if legend.get_window_extent(renderer).width <= usable or ncol == 1:
                break
            legend.remove()
            ncol -= 1
        top = legend.get_window_extent(renderer).y0 - _PAD_PX / 2
    full_caption = f"{note} {caption}".strip()
    caption_artist = fig.text(_PAD_PX / W, _PAD_PX / H, full_caption, fontsize=8.5, color="#333333", va="bottom",
                              ha="left")
    _fit_caption(caption_artist, full_caption, usable, renderer)
    bottom = caption_artist.get_window_extent(renderer).y1 + _PAD_PX
    # Lay out the axes (with their tick labels and axis labels) in the space left; the title, legend and caption
    # are hidden meanwhile so that tight_layout does not make room for them a second time.
    decorations = [a for a in (title_artist, legend, caption_artist) if a is not None]
    for a in decorations:
        a.set_visible(False)
    fig.tight_layout(rect=(0, bottom / H, 1, top / H), pad=0.6)
    for a in decorations:
        a.set_visible(True)
    fig._chacra = {"title": title, "note": note, "caption": full_caption,
                   "caption_top": (bottom - _PAD_PX / 2) / H}


def figure_meta(fig) -> dict:
    """Title, note and caption of a figure made here (see _finish)."""
    meta = getattr(fig, "_chacra", None)
    if meta is None:
        title = fig._suptitle.get_text() if fig._suptitle is not None else ""
        return {"title": title, "note": "", "caption": "", "caption_top": None}
    return meta


def drawn_texts(fig) -> list:
    """(Text, window extent) of every text the figure actually draws (visible, not empty, inside a drawn
    axes, tick labels inside the view), collected while drawing it: what a reader sees."""
    from matplotlib.text import Text

    drawn = []
    original = Text.draw

    def recording_draw(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            # The text itself (an Annotation's own extent would include its leader line).
            drawn.append((self, Text.get_window_extent(self, renderer)))

    Text.draw = recording_draw
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original
    return drawn


def _text_polygon(text, box, renderer) -> np.ndarray:
    """The four corners (display pixels) of a drawn text's own rectangle: its extent when it is not rotated;
    a rotated text's rectangle turned about the centre of its extent (which an axis-aligned extent only
    encloses: two rotated tick labels side by side have overlapping extents but do not touch)."""
    angle = math.radians(text.get_rotation() % 180.0)
    if abs(math.sin(angle)) < 1e-9:
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    from matplotlib.text import Text

    rotation = text.get_rotation()
    text.set_rotation(0)
    flat = Text.get_window_extent(text, renderer)
    text.set_rotation(rotation)
    w, h = flat.width / 2, flat.height / 2
    c, s = math.cos(angle), math.sin(angle)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return np.array([[cx + c * x - s * y, cy + s * x + c * y] for x, y in ((-w, -h), (w, -h), (w, h), (-w, h))])


def _penetration(a: np.ndarray, b: np.ndarray) -> float:
    """How deep two convex polygons overlap (the smallest overlap of their projections on the polygons' edge
    normals; 0 or less: apart), by the separating axis theorem."""
    depth = math.inf
    for poly in (a, b):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            norm = math.hypot(*axis)
            if norm == 0:
                continue
            axis = axis / norm
            pa, pb = a @ axis, b @ axis
            depth = min(depth, min(pa.max(), pb.max()) - max(pa.min(), pb.min()))
    return depth


def text_overlaps(fig, tolerance_px: float = 0.5) -> list[str]:
    """Texts of the figure that overlap one another or leave the figure, as readable descriptions (empty when
    every label is readable). Two texts overlap when their rectangles (turned with the text when it is rotated)
    overlap by more than tolerance_px."""
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    problems = []
    W, H = fig.bbox.width, fig.bbox.height
    for t, box in texts:
        if box.x0 < -tolerance_px or box.y0 < -tolerance_px or box.x1 > W + tolerance_px or box.y1 > H + tolerance_px:
            problems.append(f"{t.get_text()!r} leaves the figure ({box.x0:.0f}..{box.x1:.0f} x {box.y0:.0f}.."
                            f"{box.y1:.0f}, figure {W:.0f} x {H:.0f})")
    polygons = [_text_polygon(t, box, renderer) for t, box in texts]
    for i, (a, ba) in enumerate(texts):
        for j in range(i + 1, len(texts)):
            b, bb = texts[j]
            apart_x = min(ba.x1, bb.x1) - max(ba.x0, bb.x0) <= tolerance_px
            if apart_x or min(ba.y1, bb.y1) - max(ba.y0, bb.y0) <= tolerance_px:
                continue
            depth = _penetration(polygons[i], polygons[j])
            if depth > tolerance_px:
                problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r} by {depth:.1f} px")
    return problems


def _legend_entries(axes) -> tuple[list, list]:
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    return handles, labels


def _titled(text: str, scenario: str) -> str:
    """A figure title that names the scenario it shows."""
    return f"Scenario '{scenario}': {text}" if scenario else text[:1].upper() + text[1:]


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


def income_consumption(agg: pd.DataFrame, arms: list[str], periods: list[str], per: str, caption: str,
                       scenario: str = ""):
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
    _finish(fig, _titled(f"household income and consumption by arm (PEN per household per {per})", scenario),
            f"{band_description(n_rep)}; each replicate has its own synthetic population, so the bands show how "
            f"levels vary between populations: the effects (same households in every arm) are much more precise, see "
            f"the key effects table. Monetary income: crops + animals + wage + business + transfers; consumption: "
            f"monetary spending + own production + other consumption; PEN summed over each {per}.", caption,
            *_legend_entries(axes))
    return fig, data


def poverty_shares(output, arms=None, replicates=None) -> tuple[pd.DataFrame, str]:
    """Poverty and extreme-poverty rates per arm, replicate and period, as shares of persons: each household
    weighted by its ``household_size`` in the same period (its size at the start when the panel lacks
    household_size), as the comparison's poverty_headcount. Read from the panel one period at a time. Returns
    (frame with columns arm, replicate, period, poor, extreme_poor; "persons"), or (empty frame, "") when the
    panel has no ``poor``."""
    rows = []
    columns = ["arm", "replicate", "period", "poor", "extreme_poor"]
    for arm in output._select_arms(arms):
        for r in output._select_replicates(replicates):
            panel = {v: output.panel_dataset(arm, r, v) for v in ("poor", "extreme_poor", "household_size")}
            if panel["poor"] is None:
                return pd.DataFrame(columns=columns), ""
            start_size = None
            if panel["household_size"] is None:
                pop = output.households(["household_size"], replicates=r)
                start_size = pop["household_size"].to_numpy(dtype=float)
            for p, period in enumerate(output.periods):
                size = panel["household_size"][p].astype(float) if start_size is None else start_size
                persons = size.sum()
                values = [float((panel[v][p].astype(float) * size).sum() / persons) if panel[v] is not None
                          else float("nan") for v in ("poor", "extreme_poor")]
                rows.append((arm, r, period, *values))
    return pd.DataFrame(rows, columns=columns), "persons"


def poverty(shares: pd.DataFrame, arms: list[str], periods: list[str], caption: str, unit: str = "persons",
            scenario: str = ""):
    """Poverty and extreme-poverty rates by arm over time, in % of persons (or of households when unit says
    so: a file without the panel to weight households by their members)."""
    n_rep = shares["replicate"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(_WIDTH, 5.2))
    data = {}
    for ax, (col, label) in zip(axes, [("poor", "Poverty headcount"), ("extreme_poor", "Extreme-poverty headcount")]):
        if col not in shares or shares[col].isna().all():
            ax.text(0.5, 0.5, f"{col} not recorded in this file", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        data[col] = _paths(ax, shares, col, arms, periods, scale=100.0)
        ax.set_title(label, fontsize=11)
        ax.set_ylabel(f"% of {unit} below the line")
        ax.set_xlabel("period (status at the end of the period)")
    if unit == "persons":
        who = ("shares of persons: each household counts with its members in that period, as INEI measures poverty "
               "and as the key effects table's poverty_headcount")
    else:
        who = ("shares of households: the file has no household panel of poor and household_size to count persons, "
               "so these rates differ from the key effects table's poverty_headcount (persons)")
    _finish(fig, _titled(f"poverty and extreme poverty by arm (% of {unit})", scenario),
            f"{band_description(n_rep)} (variation between replicate populations; effects on the same households are "
            f"far more precise, see the comparison). A household is poor when its per-capita consumption over the "
            f"last 12 months is below the poverty line of the year (extreme: below the extreme line); {who}.",
            caption, *_legend_entries(axes))
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
            ds = output.panel_dataset(arm, r, "tech_state")
            if ds is None:
                continue
            labels = output._labels(ds, ds.shape[2])
            for p, period in enumerate(output.periods):
                state = ds[p]  # [households, technologies]
                using = (state == 1).mean(axis=0)
                ever = (state >= 1).mean(axis=0)
                for k, tech in enumerate(labels):
                    rows.append((arm, r, period, tech, float(using[k]), float(ever[k])))
    return pd.DataFrame(rows, columns=["arm", "replicate", "period", "technology", "using", "ever"])


def adoption(shares: pd.DataFrame, arms: list[str], periods: list[str], caption: str, scenario: str = ""):
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
    _finish(fig, _titled("technology adoption by arm (% of households using the technology)", scenario),
            f"{band_description(n_rep)}. Using: tech_state = 1 at the end of the period (adopted and not dropped). "
            f"Arms with the same values draw on top of one another (dashed lines let the one below show).", caption,
            *_legend_entries(axes))
    return fig, data


def _rows(cmp: pd.DataFrame, outcome: str, statistic: str, subgroup: str = "all") -> pd.DataFrame:
    return cmp[(cmp["outcome"] == outcome) & (cmp["statistic"] == statistic) & (cmp["subgroup"] == subgroup)]


def quantile_effects(cmp: pd.DataFrame, arms: list[str], caption: str, scenario: str = ""):
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
    _finish(fig, _titled(f"effects on the income and consumption distributions against '{reference}', final year "
                         f"{final}", scenario),
            "Lines: mean over replicates of the effect; bands: 95% interval over replicates (as in chacra compare). "
            "Left: how the distribution shifts; right: how the gains are spread over households (common random "
            "numbers make a household's outcomes in two arms comparable; a programme that reaches few households "
            "has zero paired difference at the lower quantiles).", caption, *_legend_entries(axes))
    return fig, data


# The outcomes of the effect paths figure: (outcome, panel title).
PATH_OUTCOMES = [("income_monetary_pen", "Monetary income"), ("consumption_pen", "Consumption"),
                 ("poverty_headcount", "Poverty headcount (persons)"), ("technologies_adopted", "Technologies in use")]


def effect_paths(per: pd.DataFrame, arms: list[str], periods: list[str], caption: str, scenario: str = ""):
    """Each arm's effect in every output period (chacra compare --by period), with its 95% interval."""
    reference = str(per["reference"].iloc[0]) if len(per) else ""
    fig, axes = plt.subplots(2, 2, figsize=(_WIDTH, 8.2), squeeze=False)
    data = {}
    for k, (outcome, title) in enumerate(PATH_OUTCOMES):
        ax = axes[k // 2][k % 2]
        rows = per[(per["outcome"] == outcome) & (per["subgroup"] == "all")]
        drawn = {}
        unit = ""
        for arm in arms:
            sub = rows[rows["arm"] == arm].set_index("period").reindex(periods)
            if arm == reference or sub["mean_effect"].isna().all():
                continue
            unit = str(rows["unit"].iloc[0])
            x = np.arange(len(periods))
            mean, low, high = (sub[c].to_numpy(dtype=float) for c in ("mean_effect", "ci_low", "ci_high"))
            st = arm_style(arms, arm)
            ax.plot(x, mean, color=st["color"], ls=st["ls"], lw=st["lw"],
                    marker=st["marker"] if len(periods) <= 24 else None, ms=5, label=arm)
            ax.fill_between(x, low, high, color=st["color"], alpha=0.13, lw=0)
            drawn[arm] = {"mean_effect": mean.tolist(), "ci_low": low.tolist(), "ci_high": high.tolist()}
        if not drawn:
            ax.text(0.5, 0.5, f"no period rows for {outcome}\nin the comparison", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        data[outcome] = drawn
        ax.axhline(0, color="black", lw=0.8)
        _period_axis(ax, periods, 8)
        ax.set_ylabel(f"effect ({unit})", fontsize=9)
        ax.set_title(title, fontsize=10)
    _finish(fig, _titled(f"effects over time against '{reference}'", scenario),
            "Lines: mean over replicates of the effect in each output period (chacra compare --by period; flows as "
            "yearly rates); bands: 95% interval over replicates.", caption, *_legend_entries(axes))
    return fig, data


# The stages of each programme's reach funnel (docs/policy_arms.md, "Reach"), in funnel order, with short labels.
FUNNEL_STAGES = {
    "haku_winay": [("eligible_centres", "eligible\ncentres"), ("selected_centres", "selected\ncentres"),
                   ("entitled_households", "entitled\nhouseholds"), ("offered_households", "offered\nhouseholds"),
                   ("participants", "partici-\npants"), ("business_groups", "business\ngroups"),
                   ("awarded_groups", "awarded\ngroups"), ("businesses_surviving_1y", "surviving\n1 year"),
                   ("businesses_surviving_3y", "surviving\n3 years"), ("businesses_surviving_5y", "surviving\n5 years")],
    "juntos": [("eligible_households", "eligible\nhouseholds"), ("enrolled_households", "enrolled\nhouseholds"),
               ("paid_per_round", "paid per\nround"), ("exits_aged_out", "exits:\naged out"),
               ("exits_lost_classification", "exits: lost\nclassific."), ("reentries", "re-entries"),
               ("taper_recipients", "taper\nrecipients")],
}
_FUNNEL_TITLES = {"haku_winay": "Haku Winay", "juntos": "Juntos"}


def reach_funnel(reach: pd.DataFrame, arms: list[str], caption: str, scenario: str = ""):
    """Each arm's reach funnel, one panel per programme: a row per arm, a column per stage in funnel order, each
    cell the stage's count (mean over replicates, written in the cell) shaded by its share of the column's largest
    count, so that with many arms both the attrition along a row and the arm that reaches most at each stage
    read at a glance. Arms where a programme reaches nobody are left blank in its panel."""
    means = reach.groupby(["module", "item", "arm"], sort=False)["value"].mean()
    modules = [m for m in FUNNEL_STAGES if any((m, i, a) in means.index for i, _ in FUNNEL_STAGES[m] for a in arms)]
    data: dict = {}
    heights = []
    for m in modules:
        heights.append(len(arms) + 1.6)
    fig, axes = plt.subplots(len(modules), 1, figsize=(_WIDTH, 1.2 + 0.36 * sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights} if heights else None)
    cmap = plt.get_cmap("Blues")
    for k, m in enumerate(modules):
        ax = axes[k][0]
        stages = [(i, label) for i, label in FUNNEL_STAGES[m] if any((m, i, a) in means.index for a in arms)]
        values = np.full((len(arms), len(stages)), np.nan)
        for r, a in enumerate(arms):
            for c, (i, _) in enumerate(stages):
                if (m, i, a) in means.index:
                    values[r, c] = float(means[(m, i, a)])
        active = [r for r, a in enumerate(arms) if np.nansum(values[r]) > 0]
        data[m] = {arms[r]: {i: values[r, c] for c, (i, _) in enumerate(stages)} for r in active}
        top = np.nanmax(np.where(np.isfinite(values), values, 0.0), axis=0)
        share = np.divide(values, top, out=np.zeros_like(values), where=top > 0)
        shade = np.where(np.isin(np.arange(len(arms)), active)[:, None], share, np.nan)
        ax.imshow(np.ma.masked_invalid(shade), cmap=cmap, vmin=-0.15, vmax=1.25, aspect="auto",
                  interpolation="nearest")
        for r in active:
            for c in range(len(stages)):
                v = values[r, c]
                if not np.isfinite(v):
                    continue
                text = f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"
                ax.text(c, r, text, ha="center", va="center", fontsize=8.5,
                        color="white" if shade[r, c] > 0.65 else "black")
        for r in set(range(len(arms))) - set(active):
            ax.text((len(stages) - 1) / 2, r, "programme not run (reaches nobody)", ha="center", va="center",
                    fontsize=8, color="#777777", style="italic")
        ax.set_xticks(range(len(stages)), [label for _, label in stages], fontsize=8.5)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(arms)), arms, fontsize=9)
        ax.set_xticks(np.arange(len(stages) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(arms) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", lw=1.5)
        ax.tick_params(which="minor", length=0)
        ax.tick_params(which="major", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(_FUNNEL_TITLES.get(m, m), fontsize=11, fontweight="bold", loc="left")
    _finish(fig, _titled("reach funnel of each arm", scenario),
            "Counts by the end of the run, mean over replicates (the file's reach table; docs/policy_arms.md, "
            "\"Reach\"): centres, households, groups and businesses for Haku Winay, households for Juntos (paid "
            "per round: mean over the payment rounds; exits and re-entries: events). Shade: the count as a share of "
            "the largest in its column.", caption)
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


def _overlap_area(a, b) -> float:
    dx = min(a.x1, b.x1) - max(a.x0, b.x0)
    dy = min(a.y1, b.y1) - max(a.y0, b.y0)
    return dx * dy if dx > 0 and dy > 0 else 0.0


def place_point_labels(ax, points: list[dict], renderer, fontsize: float = 9.5) -> list:
    """Labels each point ({"x", "y", "text", "colour", "obstacles": [display Bboxes of its marker and bars]})
    next to it, where the label overlaps no other label, no point's marker or error bar and stays inside the
    axes: candidate places are tried around the point at growing distances (right, left, above, below, then the
    diagonals), and a label placed away from its point gets a leader line. Points drawn on top of one another
    (arms with equal cost and effect) thus each keep a readable label. Returns the annotations."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    frame = ax.get_window_extent(renderer)
    obstacles = [b for p in points for b in p["obstacles"]]
    placed: list = []
    annotations = []
    px = renderer.points_to_pixels(1.0)
    directions = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"),
                  (0, -1, "center", "top"), (1, 1, "left", "bottom"), (1, -1, "left", "top"),
                  (-1, 1, "right", "bottom"), (-1, -1, "right", "top")]
    # Crowded points first: they have the fewest free places.
    at = [ax.transData.transform((p["x"], p["y"])) for p in points]
    crowding = [sum(1 for x, y in at if abs(x - x0) < 80 * px and abs(y - y0) < 40 * px) for x0, y0 in at]
    for _, p in sorted(zip(crowding, points), key=lambda cp: -cp[0]):
        ann = ax.annotate(p["text"], (p["x"], p["y"]), textcoords="offset points", xytext=(8, 0), fontsize=fontsize,
                          color=p["colour"], fontweight="bold", zorder=5,
                          bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
        best = None
        for distance in (8, 14, 22, 32, 44, 58, 75, 95, 120):
            for dx, dy, ha, va in directions:
                ann.set_position((dx * distance, dy * distance * 0.8))
                ann.set_ha(ha)
                ann.set_va(va)
                ann.update_positions(renderer)
                box = Text.get_window_extent(ann, renderer)
                grown = Bbox.from_extents(box.x0 - 2, box.y0 - 2, box.x1 + 2, box.y1 + 2)
                inside = (box.x0 >= frame.x0 + 2 and box.x1 <= frame.x1 - 2 and box.y0 >= frame.y0 + 2
                          and box.y1 <= frame.y1 - 2)
                cost = sum(_overlap_area(grown, o) for o in placed + obstacles) + (0 if inside else 1e9)
                if best is None or cost < best[0]:
                    best = (cost, (dx * distance, dy * distance * 0.8), ha, va, distance)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        ann.remove()
        _, offset, ha, va, distance = best
        arrow = dict(arrowstyle="-", color=p["colour"], lw=0.9, shrinkA=0, shrinkB=4) if distance > 8 else None
        ann = ax.annotate(p["text"], (p["x"], p["y"]), textcoords="offset points", xytext=offset, ha=ha, va=va,
                          fontsize=fontsize, color=p["colour"], fontweight="bold", zorder=5, arrowprops=arrow,
                          bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
        ann.update_positions(renderer)
        placed.append(Text.get_window_extent(ann, renderer))
        annotations.append(ann)
    return annotations


def cost_effect_frontier(cmp: pd.DataFrame, arms: list[str], caption: str, scenario: str = ""):
    """Cost per household against effect, per arm, with the frontier of arms no other arm beats on both."""
    from matplotlib.transforms import Bbox

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
    title = _titled(f"cost against effect of each arm, against '{reference}'", scenario)
    note = ("Points: mean over replicates, bars: 95% interval of the effect; filled points and the dashed line: the "
            "frontier (no other arm costs as little and does as well); hollow points are dominated. Cost: Juntos and "
            "Haku Winay spending per household of the population (undiscounted).")
    fig, axes = plt.subplots(1, 2, figsize=(_WIDTH, 5.6))
    data = {"cost": {}, "panels": {}}
    if cost_rows.empty:
        for ax in axes:
            ax.text(0.5, 0.5, "no cost_per_household_pen rows in the comparison table\n(cost variables not recorded?)",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        _finish(fig, title, note, caption)
        return fig, data
    cost = {str(r.arm): float(r.arm_value) for r in cost_rows.itertuples()}
    cost[reference] = float(cost_rows["reference_value"].iloc[0])
    data["cost"] = cost
    to_label = []
    for ax, (outcome, stat, scale, panel_title, ylabel) in zip(axes, panels):
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
            st = arm_style(arms, arm)
            ax.errorbar([d["cost"]], [d["effect"]], yerr=[[d["effect"] - d["ci_low"]], [d["ci_high"] - d["effect"]]],
                        fmt=st["marker"], ms=8, color=colours[arm], capsize=4, zorder=3,
                        mfc=colours[arm] if arm in frontier else "white", mew=2)
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xlabel(f"programme cost per household, total over {horizon}\n(PEN; Juntos + Haku Winay, over all households)")
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title, fontsize=11)
        ax.grid(True, alpha=0.3)
        xmax = max(d["cost"] for d in drawn.values())
        ax.set_xlim(-0.04 * max(xmax, 1), xmax * 1.3 + 1)
        ylo = min(d["ci_low"] for d in drawn.values())
        yhi = max(d["ci_high"] for d in drawn.values())
        span = (yhi - ylo) or 1.0
        ax.set_ylim(ylo - 0.12 * span, yhi + 0.12 * span)
        data["panels"][f"{outcome}/{stat}"] = {"points": drawn, "frontier": frontier}
        to_label.append((ax, drawn))
    _finish(fig, title, note, caption)
    # The labels are placed once the layout is final, against the drawn markers and error bars.
    renderer = fig.canvas.get_renderer()
    for ax, drawn in to_label:
        labelled = []
        for arm in [a for a in arms if a in drawn]:
            d = drawn[arm]
            x, y = ax.transData.transform((d["cost"], d["effect"]))
            _, ylo = ax.transData.transform((d["cost"], d["ci_low"]))
            _, yhi = ax.transData.transform((d["cost"], d["ci_high"]))
            half = renderer.points_to_pixels(8) / 2 + 2
            cap = renderer.points_to_pixels(4) + 1
            labelled.append({"x": d["cost"], "y": d["effect"], "text": arm, "colour": colours[arm], "obstacles": [
                Bbox.from_extents(x - half, y - half, x + half, y + half),
                Bbox.from_extents(x - cap, min(ylo, yhi) - 1, x + cap, max(ylo, yhi) + 1)]})
        place_point_labels(ax, labelled, renderer)
    return fig, data


def evaluation_forest(ev: pd.DataFrame, caption: str):
    """Forest plot: the model's virtual-evaluation estimates (mean and 2.5-97.5% over replicates) beside the
    published values, for the outcomes that have one; one panel per unit."""
    pub = pd.to_numeric(ev.get("published"), errors="coerce") if "published" in ev else pd.Series(np.nan, ev.index)
    # With a posterior (the JSON's split or posterior field) the band is a posterior predictive interval.
    posterior = evaluation_posterior(ev) is not None
    band = ("mean and 2.5-97.5% posterior predictive interval (parameters and sampling)" if posterior
            else "mean and 2.5-97.5% over replicates (sampling only: no posterior)")
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
            ax.plot([m], [yi], "o", color="#1f77b4", ms=7, label=f"model: {band}")
            p = r.get("published")
            p = float(p) if p is not None and np.isfinite(float(p)) else float("nan")
            if math.isfinite(p):
                ax.plot([p], [yi], "D", color="#d62728", ms=7, label="published estimate")
            verdict = r.get("lands", r.get("pass"))  # "pass" in files of chacra before issue 23
            if verdict is not None and not (isinstance(verdict, float) and math.isnan(verdict)):
                ax.annotate("lands" if bool(verdict) else "misses", xy=(1.005, yi), xycoords=("axes fraction", "data"),
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
            f"Blue: the model's estimate, mean (dot) and 2.5-97.5th percentile (bar) over {n_rep} virtual evaluations"
            f"{', parameters drawn from the posterior (a posterior predictive interval)' if posterior else ', parameters fixed (no posterior: sampling uncertainty only)'}; "
            f"red diamond: the published estimate, shown whether it lands or not; right: 'lands' when the published "
            f"value lies inside the band. Effects are intention-to-treat unless the name says "
            f"otherwise (control_mean_income is a level, hw_reach_* are shares reached)."
            + (f" {left_out} outcome(s) without a published value are in the report's table only." if left_out else ""),
            caption, *_legend_entries(axes), legend_cols=2)
    return fig, data
