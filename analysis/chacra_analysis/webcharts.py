"""The dashboard's interactive charts as Vega-Lite specifications (drawn in the browser by the vendored Vega
bundles in static/vendor, so nothing comes from the network). Each chart's rows are one named data set, so the
page (and the browser test) can read back exactly what is drawn through the Vega view: ``view.data(NAME)``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["forest", "paths", "sweep", "funnel", "frontier", "frontier_rows", "lower_is_better"]

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: never fetched
WIDTH = 640


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as JSON-ready dicts: NaN and infinities as null (JSON has no NaN)."""
    out = []
    for row in df[columns].itertuples(index=False):
        rec = {}
        for c, v in zip(columns, row):
            if isinstance(v, (float, np.floating)):
                v = float(v) if math.isfinite(v) else None
            elif isinstance(v, np.integer):
                v = int(v)
            elif not isinstance(v, (int, str, bool)) and v is not None:
                v = str(v)
            rec[c] = v
        out.append(rec)
    return out


def _base(name: str, rows: list[dict], **extra) -> dict:
    spec = {"$schema": SCHEMA, "data": {"name": name, "values": rows}, "config": {"view": {"stroke": None}}}
    spec.update(extra)
    return spec


def _interval_tooltip(x: str) -> list[dict]:
    return [{"field": "arm"}, {"field": x, "title": "effect", "format": ",.4~f"},
            {"field": "ci_low", "title": "95% low", "format": ",.4~f"},
            {"field": "ci_high", "title": "95% high", "format": ",.4~f"}]


def forest(rows: pd.DataFrame, outcome: str, unit: str, reference: str) -> dict:
    """Each arm's effect (point) and 95% interval (rule), one row per arm in the file's order; zero dashed."""
    arms = list(rows["arm"])
    y = {"field": "arm", "type": "nominal", "sort": arms, "title": None}
    title = f"effect on {outcome} ({unit}), against {reference}"
    return _base("effects", _records(rows, ["arm", "mean_effect", "ci_low", "ci_high"]),
                 width=WIDTH, height=34 * len(arms) + 10, layer=[
                     {"mark": {"type": "rule", "strokeWidth": 2, "color": "#1f5f8b"},
                      "encoding": {"y": y, "x": {"field": "ci_low", "type": "quantitative", "title": title},
                                   "x2": {"field": "ci_high"}}},
                     {"mark": {"type": "point", "filled": True, "size": 70, "color": "#1f5f8b"},
                      "encoding": {"y": y, "x": {"field": "mean_effect", "type": "quantitative"},
                                   "tooltip": _interval_tooltip("mean_effect")}},
                     {"data": {"values": [{"zero": 0}]}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#888"},
                      "encoding": {"x": {"field": "zero", "type": "quantitative"}}}])


def paths(df: pd.DataFrame, variable: str, reference: str, unit: str = "") -> dict:
    """Per arm, the effect in each period (line and points) with its 95% band (shaded)."""
    periods = list(dict.fromkeys(df["period"]))
    x = {"field": "period", "type": "ordinal", "sort": periods, "title": "period"}
    color = {"field": "arm", "type": "nominal", "sort": list(dict.fromkeys(df["arm"])),
             "legend": {"title": f"arm − {reference}", "orient": "bottom", "columns": 3}}
    ytitle = f"effect on {variable}" + (f" ({unit})" if unit else "")
    return _base("paths", _records(df, ["arm", "period", "mean_effect", "ci_low", "ci_high"]),
                 width=WIDTH, height=260, layer=[
                     {"mark": {"type": "area", "opacity": 0.18},
                      "encoding": {"x": x, "y": {"field": "ci_low", "type": "quantitative", "title": ytitle},
                                   "y2": {"field": "ci_high"}, "color": color}},
                     {"mark": {"type": "line", "point": True},
                      "encoding": {"x": x, "y": {"field": "mean_effect", "type": "quantitative"}, "color": color,
                                   "tooltip": [{"field": "period"}] + _interval_tooltip("mean_effect")}},
                     {"data": {"values": [{"zero": 0}]}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#888"},
                      "encoding": {"y": {"field": "zero", "type": "quantitative"}}}])


def sweep(effects: pd.DataFrame, parameters: list[str], outcome: str, unit: str, reference: str) -> dict:
    """One panel per varied parameter: each arm's effect at every point against the parameter's value with its
    95% interval; a line and band where the design moves that parameter alone, points and bars otherwise."""
    arms = list(dict.fromkeys(effects["arm"]))
    color = {"field": "arm", "type": "nominal", "sort": arms,
             "legend": {"title": f"arm, against {reference}", "orient": "bottom", "columns": 3}}
    panels = []
    for p in parameters:
        others = [q for q in parameters if q != p]
        alone = all(effects.groupby("arm")[q].nunique().max() == 1 for q in others) if others else True
        field = p.replace(".", "\\.")  # a dot in a field name would read as a nested member
        x = {"field": field, "type": "quantitative", "title": p, "scale": {"zero": False}}
        y = {"field": "mean_effect", "type": "quantitative", "title": f"effect on {outcome} ({unit})"}
        tooltip = [{"field": "point"}, {"field": field, "title": p, "format": ",.4~f"}] + \
            _interval_tooltip("mean_effect")
        if alone:
            layer = [{"mark": {"type": "area", "opacity": 0.18},
                      "encoding": {"x": x, "y": {"field": "ci_low", "type": "quantitative"}, "y2": {"field": "ci_high"},
                                   "color": color}},
                     {"mark": {"type": "line", "point": True}, "encoding": {"x": x, "y": y, "color": color,
                                                                            "tooltip": tooltip}}]
        else:
            layer = [{"mark": {"type": "rule", "opacity": 0.7},
                      "encoding": {"x": x, "y": {"field": "ci_low", "type": "quantitative"}, "y2": {"field": "ci_high"},
                                   "color": color}},
                     {"mark": {"type": "point", "filled": True}, "encoding": {"x": x, "y": y, "color": color,
                                                                              "tooltip": tooltip}}]
        panels.append({"width": max(220, WIDTH // max(1, len(parameters))), "height": 260, "layer": layer})
    cols = ["point", "arm", "mean_effect", "ci_low", "ci_high"] + list(parameters)
    return _base("sweep", _records(effects, cols), hconcat=panels, resolve={"scale": {"y": "shared"}})


def funnel(reach: pd.DataFrame) -> dict:
    """The reach funnel: per module a grid of arms (rows) by stages (columns, in the order the module reports
    them), each cell the stage's count (mean over replicates), shaded by its share of the largest count of that
    stage over the arms, so eleven arms and thirty stages stay readable on one screen."""
    reach = reach.assign(order=reach.groupby(["arm", "replicate", "module"], sort=False).cumcount())
    mean = (reach.groupby(["module", "item", "arm"], sort=False)
            .agg(value=("value", "mean"), order=("order", "min"), unit=("unit", "first")).reset_index())
    top = mean.groupby(["module", "item"])["value"].transform("max")
    mean["share"] = (mean["value"] / top.where(top > 0)).fillna(0.0)
    arms = list(dict.fromkeys(reach["arm"]))
    return _base("reach", _records(mean, ["module", "item", "arm", "value", "share", "order", "unit"]),
                 facet={"row": {"field": "module", "type": "nominal", "title": None,
                                "header": {"labelAngle": 0, "labelAlign": "left", "labelFontWeight": "bold"}}},
                 resolve={"scale": {"x": "independent"}},
                 spec={"width": {"step": 44}, "height": {"step": 20}, "encoding": {
                     "x": {"field": "item", "type": "nominal", "sort": {"field": "order"}, "title": None,
                           "axis": {"labelAngle": -40, "orient": "top", "labelLimit": 160}},
                     "y": {"field": "arm", "type": "nominal", "sort": arms, "title": None},
                     "tooltip": [{"field": "module"}, {"field": "item"}, {"field": "arm"},
                                 {"field": "value", "format": ",.1f"}, {"field": "unit"}]},
                       "layer": [
                           {"mark": {"type": "rect", "stroke": "white"},
                            "encoding": {"color": {"field": "share", "type": "quantitative", "legend": None,
                                                   "scale": {"scheme": "blues", "domain": [0, 1]}}}},
                           {"mark": {"type": "text", "fontSize": 9},
                            "encoding": {"text": {"field": "value", "type": "quantitative", "format": ",.0f"},
                                         "color": {"condition": {"test": "datum.share > 0.6", "value": "white"},
                                                   "value": "black"}}}]})


def lower_is_better(outcome: str) -> bool:
    """Whether a smaller value of the outcome is the better one (poverty, gaps, inequality, costs)."""
    return any(w in outcome for w in ("poverty", "poor", "gap", "gini", "cost", "debt", "hungry"))


def frontier_rows(effects: pd.DataFrame, costs: pd.DataFrame, lower_better: bool) -> pd.DataFrame:
    """Per arm (the reference at 0, 0): extra cost per household against the reference (`costs`' effects of
    cost_per_household_pen) and the effect on the outcome; `on_frontier` marks the arms that no cheaper arm (or
    the reference) matches or beats, walking the arms from the cheapest."""
    c = costs.set_index("arm")["mean_effect"]
    rows = [{"arm": effects["reference"].iloc[0], "cost": 0.0, "mean_effect": 0.0, "ci_low": 0.0, "ci_high": 0.0}]
    for _, r in effects.iterrows():
        if r["arm"] in c.index:
            rows.append({"arm": r["arm"], "cost": float(c[r["arm"]]), "mean_effect": float(r["mean_effect"]),
                         "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"])})
    df = pd.DataFrame(rows)
    gain = -df["mean_effect"] if lower_better else df["mean_effect"]
    best, on = -math.inf, set()
    for i in df.assign(gain=gain).sort_values(["cost", "gain"], ascending=[True, False]).index:
        if math.isfinite(gain[i]) and math.isfinite(df.at[i, "cost"]) and gain[i] > best:
            on.add(i)
            best = gain[i]
    df["on_frontier"] = df.index.isin(on)
    return df


def frontier(df: pd.DataFrame, outcome: str, unit: str, reference: str, lower_better: bool) -> dict:
    """Cost-effect plane: each arm's extra cost per household and its effect with the 95% interval; the line
    joins the arms on the frontier (better effect for the money than every cheaper arm)."""
    x = {"field": "cost", "type": "quantitative",
         "title": f"extra programme cost per household against {reference} (PEN, whole horizon)"}
    y = {"field": "mean_effect", "type": "quantitative",
         "title": f"effect on {outcome} ({unit}; {'lower' if lower_better else 'higher'} is better)"}
    tooltip = [{"field": "cost", "title": "extra cost per household", "format": ",.1f"}] + \
        _interval_tooltip("mean_effect") + [{"field": "on_frontier"}]
    return _base("frontier", _records(df, ["arm", "cost", "mean_effect", "ci_low", "ci_high", "on_frontier"]),
                 width=WIDTH, height=320, layer=[
                     {"transform": [{"filter": "datum.on_frontier"}],
                      "mark": {"type": "line", "color": "#c0504d", "strokeDash": [6, 3]},
                      "encoding": {"x": x, "y": y, "order": {"field": "cost"}}},
                     {"mark": {"type": "rule", "color": "#1f5f8b"},
                      "encoding": {"x": x, "y": {"field": "ci_low", "type": "quantitative"}, "y2": {"field": "ci_high"}}},
                     {"mark": {"type": "point", "filled": True, "size": 80},
                      "encoding": {"x": x, "y": y, "tooltip": tooltip,
                                   "color": {"field": "on_frontier", "type": "nominal",
                                             "scale": {"domain": [True, False], "range": ["#c0504d", "#1f5f8b"]},
                                             "legend": {"title": "on the frontier", "orient": "bottom"}}}},
                     {"mark": {"type": "text", "dx": 6, "align": "left", "baseline": "bottom", "fontSize": 11},
                      "encoding": {"x": x, "y": y, "text": {"field": "arm"}}}])
