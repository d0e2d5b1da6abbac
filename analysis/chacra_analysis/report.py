"""The report of a chacra run: PNG figures and one self-contained HTML page (figures embedded as base64),
plus report_data.json with every number the page and the figures show.

    python3 analysis/report.py OUT.h5 -o DIR [--evaluation EVAL.json] [--reference ARM] [--chacra PATH]

The comparison numbers (effects and intervals) are those of ``chacra compare``: the file's stored
``/comparison`` table, or, when the file has none (or another --reference is asked for), the output of
``chacra compare --format json`` (the executable from --chacra, $CHACRA_BINARY, PATH or this checkout's
build/chacra). Every figure's labels are placed so that none overlaps another (tests/analysis checks it).
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import html
import io
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import figures as F  # noqa: E402
from .loader import (ChacraFileError, ChacraOutput, compare_json, evaluation_posterior,  # noqa: E402
                     find_chacra, load_evaluation, parameter_share)

__all__ = ["build_report", "build_figures", "caption_for", "KEY_OUTCOMES", "ReportError", "main"]

# The comparison rows shown in the report's table of key effects (subgroup "all").
KEY_OUTCOMES = [
    ("income_monetary_pen", "final_year", "Monetary income"),
    ("consumption_pen", "final_year", "Consumption"),
    ("poverty_headcount", "final_year", "Poverty headcount"),
    ("extreme_poverty_headcount", "final_year", "Extreme-poverty headcount"),
    ("technologies_adopted", "final_year", "Technologies in use"),
    ("cost_per_household_pen", "horizon_total", "Cost per household"),
    ("income_gain_per_pen", "horizon_discounted", "Income gained per PEN spent"),
    ("cost_per_household_lifted_out_of_poverty", "final_year", "Cost per household out of poverty"),
]

_DPI = 110
_PERIOD_WORD = {"yearly": "year", "quarterly": "quarter", "monthly": "month"}


def _clean(x):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_clean(v) for v in x.tolist()]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _households(out: ChacraOutput) -> int | None:
    return out.population_rows("households")


def caption_for(prov: dict, households: int | None = None) -> str:
    """The caption every figure of a run carries: scenario, seeds, replicates, size, version."""
    reps = prov.get("replicates", len(prov.get("replicate_numbers", [])))
    size = f" of {households:,} households" if households else ""
    return (
        f"Scenario '{prov.get('scenario_name', '?')}' ({prov.get('scenario_path', '?')}), run seed "
        f"{prov.get('run_seed', '?')}, population seed {prov.get('population_seed', '?')}, {reps} replicate(s){size}, "
        f"{prov.get('output_frequency', '?')} output; chacra {prov.get('chacra_version', '?')} "
        f"(commit {prov.get('git_commit', '?')}); file {os.path.basename(prov.get('path', ''))}."
    )


def _effect_text(mean: float, low: float, high: float, unit: str) -> str:
    """'+286.1 [+228.9, +343.2]', shares in percentage points ('-1.07 [-1.83, -0.32] pp'); one precision per
    cell, set by the largest of the three numbers."""
    if mean is None or not math.isfinite(mean):
        return "n/a"
    share = unit.startswith("share")
    vals = [v * 100 if share else v for v in (mean, low, high)]
    big = max(abs(v) for v in vals if math.isfinite(v))
    decimals = 2 if share else (0 if big >= 1000 else 1 if big >= 10 else 3 if big >= 0.1 else 4)

    def one(v):
        return "n/a" if not math.isfinite(v) else f"{v:+,.{decimals}f}"

    return f"{one(vals[0])} [{one(vals[1])}, {one(vals[2])}]" + (" pp" if share else "")


def _fmt_level(v: float, unit: str = "") -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    if unit.startswith("share"):
        return f"{v * 100:.2f}%"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def _key_effects(cmp: pd.DataFrame) -> list[dict]:
    rows = []
    for outcome, stat, label in KEY_OUTCOMES:
        sub = cmp[(cmp["outcome"] == outcome) & (cmp["statistic"] == stat) & (cmp["subgroup"] == "all")]
        for r in sub.itertuples():
            rows.append({
                "label": label, "arm": r.arm, "reference": r.reference, "outcome": outcome, "subgroup": "all",
                "statistic": stat, "unit": r.unit, "mean_effect": float(r.mean_effect), "ci_low": float(r.ci_low),
                "ci_high": float(r.ci_high), "n_replicates": int(r.n_replicates),
                "arm_value": float(r.arm_value) if "arm_value" in cmp else float("nan"),
                "reference_value": float(r.reference_value) if "reference_value" in cmp else float("nan"),
                "sd_parameter": float(r.sd_parameter) if "sd_parameter" in cmp else float("nan"),
                "sd_sampling": float(r.sd_sampling) if "sd_sampling" in cmp else float("nan"),
            })
    return rows


def comparison_posterior(cmp: pd.DataFrame | None, prov: dict) -> str | None:
    """The posterior ensemble the run drew its parameters from (chacra run --posterior), or None: the stored
    comparison's attribute, the JSON rows' column, or the run's provenance."""
    if cmp is not None:
        p = cmp.attrs.get("posterior")
        if p not in (None, "", "none"):
            return str(p)
    p = prov.get("posterior_file")
    return str(p) if p else None


def uncertainty_sentence(posterior: str | None) -> str:
    """Says plainly which uncertainty the intervals hold."""
    if posterior:
        return (f"Parameters were drawn from the posterior ensemble {posterior} (one draw per pair of replicates), so "
                f"the intervals hold both parameter and sampling uncertainty; under each interval, the parameters' "
                f"share of the variance (between pairs of replicates; the rest is sampling: population and chance).")
    return ("This run had no posterior: its parameters are fixed at the scenario's values, so the intervals hold "
            "sampling uncertainty only (population and chance), not what is unknown about the parameters "
            "(chacra run --posterior FILE adds it and splits the two).")


def _num_attr(v: float) -> str:
    return "nan" if v is None or not math.isfinite(v) else repr(float(v))


def _split_effect(mean: float, low: float, high: float, unit: str) -> tuple[str, str]:
    """The effect and its interval as two short texts (a table cell shows them on two lines)."""
    text = _effect_text(mean, low, high, unit)
    if " [" not in text:
        return text, ""
    head, tail = text.split(" [", 1)
    return head + (" pp" if tail.endswith(" pp") else ""), "[" + tail.removesuffix(" pp")


def _key_table(rows: list[dict], arms: list[str]) -> str:
    """One row per arm (the reference first, with its levels), one column per key outcome: the table's width
    does not grow with the number of arms."""
    if not rows:
        return "<p>No key outcome is in the comparison table.</p>"
    e = html.escape
    reference = rows[0]["reference"]
    columns = [(o, s, l) for o, s, l in KEY_OUTCOMES if any(r["outcome"] == o and r["statistic"] == s for r in rows)]
    out = ['<div class="wide"><table class="effects"><thead><tr><th>arm</th>']
    for outcome, stat, label in columns:
        unit = next(r["unit"] for r in rows if r["outcome"] == outcome and r["statistic"] == stat)
        shown_unit = "percentage points of persons" if unit == "share of persons" else (
            "percentage points" if unit.startswith("share") else unit)
        out.append(f'<th title="{e(outcome)}, {e(stat)}">{e(label)}<span class="unit">{e(shown_unit)}</span></th>')
    out.append("</tr></thead><tbody>")
    out.append(f'<tr class="reference"><th>{e(reference)}<span class="unit">reference: level</span></th>')
    for outcome, stat, _ in columns:
        r = next(x for x in rows if x["outcome"] == outcome and x["statistic"] == stat)
        out.append(f"<td class=num>{e(_fmt_level(r['reference_value'], r['unit']))}</td>")
    out.append("</tr>")
    for arm in [a for a in arms if a != reference and any(r["arm"] == a for r in rows)]:
        out.append(f"<tr><th>{e(arm)}</th>")
        for outcome, stat, _ in columns:
            r = next((x for x in rows if x["arm"] == arm and x["outcome"] == outcome and x["statistic"] == stat), None)
            if r is None:
                out.append("<td></td>")
                continue
            effect, interval = _split_effect(r["mean_effect"], r["ci_low"], r["ci_high"], r["unit"])
            attrs = (f'data-arm="{e(arm)}" data-outcome="{e(outcome)}" data-subgroup="all" '
                     f'data-statistic="{e(stat)}" data-mean-effect="{_num_attr(r["mean_effect"])}" '
                     f'data-ci-low="{_num_attr(r["ci_low"])}" data-ci-high="{_num_attr(r["ci_high"])}" '
                     f'data-sd-parameter="{_num_attr(r.get("sd_parameter"))}" '
                     f'data-sd-sampling="{_num_attr(r.get("sd_sampling"))}"')
            share = parameter_share(r.get("sd_parameter", float("nan")), r.get("sd_sampling", float("nan")))
            split = (f'<span class="split">parameters {share * 100:.0f}% of var.</span>' if math.isfinite(share)
                     else "")
            out.append(f'<td class=num {attrs}>{e(effect)}<span class="ci">{e(interval)}</span>{split}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;max-width:100%}td,th{border:1px solid #ddd;
padding:.3em .55em;vertical-align:top}th{background:#f4f4f4;text-align:left}td.long{overflow-wrap:anywhere}
td.arm{white-space:nowrap}
td.num{text-align:right}.wide{max-width:100%;overflow-x:auto}
table.reach{width:100%;table-layout:fixed;font-size:.8em}table.reach th,table.reach td{overflow-wrap:anywhere}table.effects{width:100%;font-size:.88em}
table.effects tbody th{white-space:nowrap}
table.effects td.num{white-space:nowrap}.unit{display:block;font-weight:normal;color:#666;font-size:.85em}
.ci{display:block;color:#555;font-size:.85em;white-space:normal}.split{display:block;color:#7a4b00;font-size:.8em}
.uncertainty{background:#fff8e6;border-left:3px solid #d9a400;padding:.4em .7em}
td.lands{color:#1a7f37;font-weight:bold}td.misses{color:#c0392b;font-weight:bold}tr.reference td{color:#444;background:#fafafa}
figure{margin:1.4em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.9em;
color:#444;margin-top:.4em}code{font-size:.85em;color:#555;overflow-wrap:anywhere}.note{color:#8a5300}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em}
"""


class ReportError(Exception):
    """A report that cannot be made as asked (an unknown arm, a comparison that cannot be computed)."""


# The chacra of the checkout the report script belongs to, when neither --chacra, $CHACRA_BINARY nor PATH names one.
_CHECKOUT_CHACRA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "build", "chacra")


def _chacra_executable(explicit: str | None) -> str | None:
    exe = find_chacra(explicit)
    if exe is None and os.access(_CHECKOUT_CHACRA, os.X_OK):
        exe = _CHECKOUT_CHACRA
    return exe


def _comparison(path: str, out: ChacraOutput, reference: str | None, chacra: str | None, periods: list[str]):
    """The comparison the report shows: the stored one, or `chacra compare` against another reference (or for a
    file without one). Returns (frame or None, note when there is none). Raises ReportError when --reference
    cannot be honoured: a report against another arm than asked would be wrong, not partial."""
    stored = out.comparison()
    if reference is not None and reference not in out.arms:
        raise ReportError(f"--reference {reference}: the file has no such arm (arms: {', '.join(out.arms)})")
    if stored is not None and (reference is None or stored.attrs.get("reference_arm") == reference):
        return stored, None
    exe = _chacra_executable(chacra)
    if exe is None:
        if reference is not None:
            against = (f"the file's comparison is against '{stored.attrs.get('reference_arm')}'" if stored is not None
                       else "the file has no /comparison table")
            raise ReportError(f"--reference {reference}: {against}, and comparing against another arm needs "
                              f"`chacra compare`, but no chacra executable was found (pass --chacra PATH or set "
                              f"CHACRA_BINARY)")
        return None, ("quantile_effects.png and cost_effect_frontier.png not drawn: the file has no /comparison table "
                      "(written at the end of a run with the household panel) and no chacra executable was found to "
                      "compute one (pass --chacra PATH or set CHACRA_BINARY)")
    try:
        cmp = compare_json(path, reference, exe)
    except ChacraFileError as e:
        if reference is not None:
            raise ReportError(str(e)) from None
        return None, f"quantile_effects.png and cost_effect_frontier.png not drawn: {e}"
    # The interaction's rows (pseudo-arm "interaction") are not an arm's effects: kept apart for its own section.
    if "arm" in cmp:
        attrs = dict(cmp.attrs)
        inter = cmp[cmp["arm"] == _INTERACTION_ARM]
        cmp = cmp[cmp["arm"] != _INTERACTION_ARM].reset_index(drop=True)
        cmp.attrs.update(attrs)
        cmp.attrs["interaction_rows"] = inter.to_dict(orient="records")
    # What does not depend on the reference arm comes from the stored table (or the file).
    for key in ("final_period", "final_year", "horizon", "discount_rate", "replicates", "notes"):
        if stored is not None and key in stored.attrs:
            cmp.attrs.setdefault(key, stored.attrs[key])
    cmp.attrs.setdefault("final_period", periods[-1])
    cmp.attrs.setdefault("horizon", f"{periods[0]}-{periods[-1]}")
    return cmp, None


def _comparison_by_period(path: str, out: ChacraOutput, cmp: pd.DataFrame | None, chacra: str | None):
    """The effects per period against the comparison's reference: stored, or from `chacra compare --by period`;
    None when neither is available (a file of an older run and no executable)."""
    if cmp is None or not len(cmp):
        return None
    reference = str(cmp["reference"].iloc[0])
    stored = out.comparison_by_period()
    if stored is not None and len(stored) and str(stored["reference"].iloc[0]) == reference:
        return stored
    exe = _chacra_executable(chacra)
    if exe is None:
        return None
    try:
        return compare_json(path, reference, exe, by_period=True)
    except ChacraFileError:
        return None


_INTERACTION_ARM = "interaction"
_INTERACTION_ARMS = ("both", "juntos_only", "hw_only", "no_programme")


def _interaction(out: ChacraOutput, cmp: pd.DataFrame | None) -> dict | None:
    """The interaction of the programmes (both - juntos_only - hw_only + no_programme) as the report shows it: the
    stored /comparison/interaction, else the interaction rows of `chacra compare --format json`; None when the
    file lacks one of the four arms. {"channels": text, "rows": [...]} with each row's four arms' levels."""
    stored = out.interaction()
    if stored is not None and len(stored):
        channels = str(stored.attrs.get("channels", "none"))
        sets = str(stored.attrs.get("arm_channel_sets", "none"))
        text = "none (every economy.* channel off)" if channels == "none" else channels.replace(",", ", ")
        if sets != "none":
            text += "; " + sets.replace(";", "; ")
        rows = [{"outcome": r["outcome"], "statistic": r["statistic"], "unit": r["unit"],
                 "mean_effect": float(r["mean_effect"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                 "n_replicates": int(r["n_replicates"]),
                 "levels": {a: float(r[f"{a}_value"]) for a in _INTERACTION_ARMS}} for _, r in stored.iterrows()]
        return {"channels": text, "rows": rows}
    json_rows = (cmp.attrs.get("interaction_rows") or []) if cmp is not None else []
    if not json_rows:
        return None
    nan = float("nan")
    rows = [{"outcome": r["outcome"], "statistic": r["statistic"], "unit": r["unit"],
             "mean_effect": float(r["mean_effect"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
             "n_replicates": int(r["n_replicates"]),
             "levels": {"both": float(r["arm_value"]), "juntos_only": nan, "hw_only": nan,
                        "no_programme": float(r["reference_value"])}} for r in json_rows]
    return {"channels": str(json_rows[0].get("channels", "")), "rows": rows}


def _interaction_html(inter: dict) -> str:
    e = html.escape
    out = ["<h2>Interaction of the programmes</h2>",
           "<p>Extra effect of running both programmes over the sum of each alone, <b>both − juntos_only − hw_only + "
           "no_programme</b> (0 when they add up), per replicate on the same households and random numbers; mean "
           "over replicates and its 95% t interval; the four arms' levels beside it (final year unless marked, "
           "assets at the end of the run). Household-economy channels on in this run: "
           f"<b>{e(inter['channels'])}</b>. <code>chacra compare FILE --by-channel</code> attributes it to each "
           "channel by rerunning the four arms without it.</p>",
           '<div class="wide"><table class="effects"><thead><tr><th>outcome</th><th>interaction</th>']
    out += [f"<th>{e(a)}</th>" for a in _INTERACTION_ARMS]
    out.append("<th>replicates</th></tr></thead><tbody>")
    for r in inter["rows"]:
        label = r["outcome"] + ("" if r["statistic"] == "final_year" else f" ({r['statistic']})")
        effect, interval = _split_effect(r["mean_effect"], r["ci_low"], r["ci_high"], r["unit"])
        attrs = (f'data-outcome="{e(r["outcome"])}" data-statistic="{e(r["statistic"])}" '
                 f'data-mean-effect="{_num_attr(r["mean_effect"])}" data-ci-low="{_num_attr(r["ci_low"])}" '
                 f'data-ci-high="{_num_attr(r["ci_high"])}"')
        out.append(f'<tr><th title="{e(r["unit"])}">{e(label)}<span class="unit">{e(r["unit"])}</span></th>'
                   f'<td class="num interaction" {attrs}>{e(effect)}<span class="ci">{e(interval)}</span></td>')
        out += [f"<td class=num>{e(_fmt_level(r['levels'][a], r['unit']))}</td>" for a in _INTERACTION_ARMS]
        out.append(f"<td class=num>{r['n_replicates']}</td></tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def build_figures(out: ChacraOutput, cmp: pd.DataFrame | None, ev: pd.DataFrame | None, caption: str,
                  ev_caption: str = "", by_period: pd.DataFrame | None = None) -> tuple[dict, list[str]]:
    """Every figure of the report as {name: (matplotlib Figure, data)}, in report order, and notes on those not
    drawn. The caller saves and closes them."""
    prov = out.provenance()
    arms, periods = list(out.arms), list(out.periods)
    scenario = str(prov.get("scenario_name", ""))
    per = _PERIOD_WORD.get(str(prov.get("output_frequency", "yearly")), "period")
    figures: dict = {}
    notes: list[str] = []
    agg_vars = set(out.variables("aggregates")["variable"])
    have = [v for v in ("income_monetary_pen", "consumption_pen", "poor", "extreme_poor") if v in agg_vars]
    agg = out.aggregates(have) if have else pd.DataFrame(columns=["arm", "replicate", "period"])
    if {"income_monetary_pen", "consumption_pen"} & set(have):
        figures["income_consumption"] = F.income_consumption(agg, arms, periods, per, caption, scenario)
    else:
        notes.append("income_consumption.png not drawn: neither income_monetary_pen nor consumption_pen is recorded")
    shares, unit = F.poverty_shares(out)
    if not len(shares) and {"poor", "extreme_poor"} & set(have):
        # No household panel: the aggregates are household means, and the figure says so.
        shares, unit = agg[["arm", "replicate", "period"] + [v for v in ("poor", "extreme_poor") if v in agg]], \
            "households"
    if len(shares):
        figures["poverty"] = F.poverty(shares, arms, periods, caption, unit, scenario)
    else:
        notes.append("poverty.png not drawn: neither poor nor extreme_poor is recorded")
    adoption = F.adoption_shares(out)
    if len(adoption):
        figures["adoption"] = F.adoption(adoption, arms, periods, caption, scenario)
    else:
        notes.append("adoption.png not drawn: the file has no panel variable tech_state")
    if cmp is not None and len(cmp):
        figures["quantile_effects"] = F.quantile_effects(cmp, arms, caption, scenario)
        if by_period is not None and len(by_period):
            figures["effect_paths"] = F.effect_paths(by_period, arms, periods, caption, scenario)
        else:
            notes.append("effect_paths.png not drawn: the file has no effects per period (a run of an older chacra) "
                         "and no chacra executable was found to compute them")
        figures["cost_effect_frontier"] = F.cost_effect_frontier(cmp, arms, caption, scenario)
    elif cmp is not None:
        notes.append("the comparison table is empty (one arm only?): no effect figures")
    reach = out.reach()
    if len(reach):
        figures["reach_funnel"] = F.reach_funnel(reach, arms, caption, scenario)
    else:
        notes.append("reach_funnel.png not drawn: the file has no reach tables (a run of an older chacra)")
    if ev is not None:
        figures["evaluation_forest"] = F.evaluation_forest(ev, ev_caption)
    return figures, notes


def _pngs(fig) -> tuple[bytes, bytes]:
    """The figure as a PNG file with its caption, and as the image of the HTML page, whose caption is text
    under the image (the strip of the PNG with the drawn caption is cut off there, not repeated)."""
    from PIL import Image

    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=_DPI)
    plt.close(fig)
    above = F.figure_meta(fig).get("caption_top")
    if above is None:
        return full.getvalue(), full.getvalue()
    image = Image.open(io.BytesIO(full.getvalue()))
    page = io.BytesIO()
    image.crop((0, 0, image.width, int(math.ceil(image.height * (1.0 - above))))).save(page, format="png")
    return full.getvalue(), page.getvalue()


def build_report(
    path: str,
    outdir: str,
    evaluation: str | None = None,
    reference: str | None = None,
    chacra: str | None = None,
    evaluation_scenario: str | None = None,
    evaluation_seed: str | None = None,
) -> dict:
    """Writes DIR/*.png, DIR/report.html and DIR/report_data.json; returns the report data (numbers, figure
    files, notes). Raises ReportError when the report cannot be made as asked (see _comparison)."""
    ev, ev_caption = None, ""
    if evaluation:
        ev = load_evaluation(evaluation)
        scen = evaluation_scenario or ev.attrs.get("scenario")
        seed = evaluation_seed if evaluation_seed is not None else ev.attrs.get("seed")
        ev_caption = (f"Source: {os.path.basename(evaluation)} (chacra evaluate --format json); scenario "
                      f"{scen if scen else 'not recorded in the JSON (chacra evaluate defaults to the built-in configs/evaluation_2017.yaml)'}"
                      f", seed {seed if seed is not None else 'not recorded in the JSON (the scenario run.seed unless --seed was given)'}.")
    with ChacraOutput(path) as out:
        prov = out.provenance()
        arms, periods = list(out.arms), list(out.periods)
        households = _households(out)
        caption = caption_for(prov, households)
        cmp, cmp_note = _comparison(path, out, reference, chacra, periods)
        per = _comparison_by_period(path, out, cmp, chacra)
        reach = out.reach()
        inter = _interaction(out, cmp)
        made, notes = build_figures(out, cmp, ev, caption, ev_caption, per)
    if cmp_note:
        notes.insert(0, cmp_note)
    os.makedirs(outdir, exist_ok=True)
    figures: dict[str, dict] = {}
    for name, (fig, fig_data) in made.items():
        meta = F.figure_meta(fig)
        png, page_png = _pngs(fig)
        file = f"{name}.png"
        with open(os.path.join(outdir, file), "wb") as fh:
            fh.write(png)
        figures[name] = {"file": file, "title": meta["title"], "note": meta["note"], "caption": meta["caption"],
                         "data": fig_data, "page_png": page_png}
    if cmp is not None:
        for n in cmp.attrs.get("notes", []) or []:
            notes.append(f"comparison: {n}")
    cmp_source = cmp.attrs.get("source", "") if cmp is not None else None
    key = _key_effects(cmp) if cmp is not None and len(cmp) else []
    data = {
        "file": os.path.abspath(path),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provenance": {k: v for k, v in prov.items() if k != "scenario_yaml"},
        "caption": caption,
        "comparison_source": cmp_source,
        "comparison": cmp.to_dict(orient="records") if cmp is not None else None,
        "comparison_attrs": dict(cmp.attrs) if cmp is not None else None,
        "key_effects": key,
        "reach": reach.to_dict(orient="records"),
        "interaction": inter,
        "evaluation": ev.to_dict(orient="records") if ev is not None else None,
        "comparison_posterior": comparison_posterior(cmp, prov),
        "evaluation_posterior": evaluation_posterior(ev) if ev is not None else None,
        "figures": {k: {kk: vv for kk, vv in v.items() if kk != "page_png"} for k, v in figures.items()},
        "notes": notes,
    }
    with open(os.path.join(outdir, "report_data.json"), "w", encoding="utf-8") as fh:
        json.dump(_clean(data), fh, indent=1, allow_nan=False)
    with open(os.path.join(outdir, "report.html"), "w", encoding="utf-8") as fh:
        fh.write(_html(prov, arms, periods, households, caption, cmp, cmp_source, key, ev, figures, notes, reach,
                       inter))
    return data


def _reach_table(reach: pd.DataFrame, arms: list[str]) -> str:
    """Each arm's reach, mean over replicates: one row per module and item, one column per arm."""
    e = html.escape
    means = reach.groupby(["module", "item", "arm"], sort=False)["value"].mean()
    items = list(dict.fromkeys(zip(reach["module"], reach["item"])))
    units = dict(zip(zip(reach["module"], reach["item"]), reach["unit"]))
    # Fixed layout, names broken anywhere: a run with many arms still fits the page.
    out = ['<table class="reach"><thead><tr><th>stage</th><th>unit</th>' + "".join(f"<th>{e(a)}</th>" for a in arms) +
           "</tr></thead><tbody>"]
    for m, i in items:
        cells = "".join(f"<td>{means[(m, i, a)]:,.4g}</td>" if (m, i, a) in means.index else "<td></td>" for a in arms)
        out.append(f"<tr><td>{e(m)}.{e(i)}</td><td>{e(units[(m, i)])}</td>{cells}</tr>")
    return "".join(out) + "</tbody></table>"


def _html(prov, arms, periods, households, caption, cmp, cmp_source, key, ev, figures, notes, reach=None,
          inter=None) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>chacra report: {e(str(prov.get('scenario_name', '')))}</title><style>{_CSS}</style></head><body>",
             f"<h1>chacra report: scenario '{e(str(prov.get('scenario_name', '')))}'</h1>",
             f"<p>{e(caption)}</p>"]
    # Run.
    parts.append("<h2>Run</h2><table>")
    fields = [("scenario", f"{prov.get('scenario_name', '')} ({prov.get('scenario_path', '')})"),
              ("seeds", f"run {prov.get('run_seed', '?')}, population {prov.get('population_seed', '?')}"),
              ("replicates", prov.get("replicates", "")),
              ("households per replicate", f"{households:,}" if households else "?"),
              ("periods", f"{len(periods)} ({periods[0]} to {periods[-1]}, {prov.get('output_frequency', '')})"),
              ("chacra", f"{prov.get('chacra_version', '')} (commit {prov.get('git_commit', '')})"),
              ("command", prov.get("command_line", "")),
              ("ran", f"{prov.get('start_time', '')} to {prov.get('end_time', '')} on {prov.get('host', '')}, "
                      f"{prov.get('threads', '')} threads"),
              ("file", prov.get("path", ""))]
    parts += [f"<tr><th>{e(k)}</th><td class=long>{e(str(v))}</td></tr>" for k, v in fields]
    parts.append("</table><table><thead><tr><th>arm</th><th>description</th></tr></thead><tbody>")
    for a in arms:
        parts.append(f"<tr><td class=arm>{e(a)}</td><td>{e(prov.get('arm_descriptions', {}).get(a, ''))}</td></tr>")
    parts.append("</tbody></table>")
    # Key effects.
    parts.append("<h2>Key effects</h2>")
    if cmp is not None and len(cmp):
        a = cmp.attrs
        parts.append(
            f"<p>Effect of each arm against <b>{e(str(cmp['reference'].iloc[0]))}</b> (arm minus reference, same "
            f"households and random numbers): mean over replicates, and under it the 95% interval; the reference row "
            f"gives its levels. Final year {e(str(a.get('final_period', '')))}, horizon {e(str(a.get('horizon', '')))}. "
            f"Units: poverty rates are shares of persons (household members), in percentage points; incomes, "
            f"consumption, technologies and costs are per household, as in every figure. Source: "
            f"<code>{e(str(cmp_source))}</code>, the numbers of <code>chacra compare --format json</code>; every row "
            f"(subgroups, quantiles, technologies) is in report_data.json.</p>")
        parts.append(f'<p class=uncertainty>{e(uncertainty_sentence(comparison_posterior(cmp, prov)))}</p>')
        parts.append(_key_table(key, arms))
    else:
        parts.append("<p class=note>No comparison table: see the notes below.</p>")
    if inter:
        parts.append(_interaction_html(inter))
    # Reach.
    if reach is not None and len(reach):
        parts.append("<h2>Reach</h2><p>What each programme reached by the end of the run, per arm (mean over "
                     "replicates; definitions in docs/policy_arms.md, \"Reach\"; every unit's rows are in "
                     "report_data.json).</p>")
        parts.append(_reach_table(reach, arms))
    # Figures: the image without its drawn caption, the caption as text (the run's provenance is above, once).
    parts.append("<h2>Figures</h2>")
    for name, fig in figures.items():
        b64 = base64.b64encode(fig["page_png"]).decode("ascii")
        parts.append(f'<figure id="{e(name)}"><img alt="{e(fig["title"])}" src="data:image/png;base64,{b64}">'
                     f"<figcaption><b>{e(fig['title'])}.</b> {e(fig['note'])} "
                     f"<code>{e(fig['file'])}</code></figcaption></figure>")
    if ev is not None:
        parts.append(_evaluation_html(ev))
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li class=note>{e(n)}</li>" for n in notes) + "</ul>")
    parts.append("<h2>Scenario</h2><details><summary>The resolved scenario (/provenance/scenario_yaml)</summary>"
                 f"<pre>{e(str(prov.get('scenario_yaml', '')))}</pre></details>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _evaluation_html(ev: pd.DataFrame) -> str:
    """Every outcome of the virtual evaluation: each published effect beside the model's interval of the study's
    estimate (posterior predictive with a posterior), whether it lands or not, with the split of that interval."""
    e = html.escape
    posterior = evaluation_posterior(ev)
    kind = "posterior predictive interval" if posterior else "interval (sampling only)"
    out = [f"<h2>Virtual evaluation: published effects beside the model's {e(kind)}</h2>"]
    if posterior:
        out.append(f"<p class=uncertainty>Parameters drawn from the posterior {e(posterior)} (one draw per pair of "
                   "replicate virtual studies): the 2.5-97.5% interval is the model's posterior predictive interval of "
                   "the study's estimate, holding parameter and sampling uncertainty; sd parameters (between pairs) "
                   "and sd sampling (within pairs: population, sample, chance) split it.</p>")
    else:
        out.append("<p class=uncertainty>This evaluation had no posterior: the parameters are fixed at the scenario's "
                   "values, so the 2.5-97.5% interval holds sampling uncertainty only (population, sample, chance). "
                   "<code>chacra evaluate --posterior FILE</code> adds what is unknown about the parameters.</p>")
    out.append("<p>Every published effect is shown, whether it lands or not: <b>lands</b> when the published value "
               "lies inside the model's 2.5-97.5% interval. Role: <i>fitted</i>, a calibration target the fit saw; "
               "<i>validation</i>, never used in fitting (every published ITT effect).</p>")
    out.append('<div class="wide"><table class="evaluation"><thead><tr><th>outcome</th><th>unit</th><th>role</th>'
               "<th>published</th><th>model mean</th><th>2.5-97.5%</th><th>lands</th><th>sd parameters</th>"
               "<th>sd sampling</th><th>parameters' share of var.</th></tr></thead><tbody>")

    def num(v):
        if v is None or isinstance(v, str):
            return "-"
        v = float(v)
        return "-" if not math.isfinite(v) else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"

    for r in ev.to_dict(orient="records"):
        verdict = r.get("lands", r.get("pass"))
        has_verdict = verdict is not None and not (isinstance(verdict, float) and math.isnan(verdict))
        lands = ('<td class=lands>yes</td>' if has_verdict and bool(verdict) else
                 '<td class=misses>no</td>' if has_verdict else "<td>-</td>")
        share = parameter_share(r.get("sd_parameter", float("nan")) if r.get("sd_parameter") is not None
                                else float("nan"),
                                r.get("sd_sampling", float("nan")) if r.get("sd_sampling") is not None
                                else float("nan"))
        out.append(f"<tr><td>{e(str(r.get('outcome', '')))}</td><td>{e(str(r.get('unit', '')))}</td>"
                   f"<td>{e(str(r.get('role', '') or ''))}</td>"
                   f"<td class=num>{num(r.get('published'))}</td><td class=num>{num(r.get('model_mean'))}</td>"
                   f"<td class=num>{num(r.get('p2_5'))} to {num(r.get('p97_5'))}</td>{lands}"
                   f"<td class=num>{num(r.get('sd_parameter'))}</td><td class=num>{num(r.get('sd_sampling'))}</td>"
                   f"<td class=num>{'-' if not math.isfinite(share) else f'{share * 100:.0f}%'}</td></tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="analysis/report.py",
        description="Figures (PNG) and a self-contained HTML report of a chacra output file.")
    p.add_argument("output", help="chacra output file (OUT.h5)")
    p.add_argument("-o", "--outdir", required=True, help="directory for the PNGs, report.html and report_data.json")
    p.add_argument("--evaluation", help="JSON written by `chacra evaluate --format json > EVAL.json`: adds the "
                                        "forest plot of model against published estimates")
    p.add_argument("--evaluation-scenario", help="scenario the evaluation ran (for its caption)")
    p.add_argument("--evaluation-seed", help="seed the evaluation ran with (for its caption)")
    p.add_argument("--reference", help="reference arm of the comparison (default: the file's stored comparison); "
                                       "another arm than the stored one is compared with `chacra compare` and every "
                                       "effect, table and figure is recomputed against it")
    p.add_argument("--chacra", help="chacra executable, for --reference and files without a stored comparison "
                                    "(default: $CHACRA_BINARY, chacra on PATH, then this checkout's build/chacra)")
    a = p.parse_args(argv)
    try:
        data = build_report(a.output, a.outdir, a.evaluation, a.reference, a.chacra, a.evaluation_scenario,
                            a.evaluation_seed)
    except FileNotFoundError as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    except (ChacraFileError, ReportError, KeyError, ValueError, OSError) as e:
        print(f"report: {a.output}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {os.path.join(a.outdir, 'report.html')} and {len(data['figures'])} figure(s): "
          + ", ".join(v["file"] for v in data["figures"].values()))
    for n in data["notes"]:
        print(f"  note: {n}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
