"""The dashboard of `chacra serve`: a local Flask app over run and sweep files, and a page to edit and run a
scenario (studio.py). Charts are Vega-Lite specifications drawn in the browser by the Vega bundles the app
serves itself (static/vendor): the page loads nothing from the network.

Pages: ``/`` lists the files; ``/run/N`` shows the arms of a run side by side (the effect of every arm on one
outcome with its 95% interval, against a reference arm the user picks; the effect paths over periods; the
cost-effect frontier; the reach funnel when the file stores it; downloads of the file, the comparison as CSV
and the report); ``/sweep/N`` shows a sweep's effect against each varied parameter with its band, and the
sensitivity table; ``/scenario`` edits and runs a shipped or uploaded scenario (studio.py). Every number in a
table carries its full value in ``data-value`` (what the browser test compares with the file), and every chart
keeps its rows in a named Vega data set.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import threading

import h5py
import numpy as np
import pandas as pd

from . import webcharts
from .loader import ChacraFileError, ChacraOutput, compare_json
from .sweep import ChacraSweep

__all__ = ["Source", "open_sources", "create_app", "effect_paths"]

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

# What the pages show first: the headline outcome of the comparison and its final-year effect.
DEFAULT_OUTCOME = "poverty_headcount"
DEFAULT_STATISTIC = "final_year"
COMPARISON_BY_PERIOD = "comparison_by_period"
INTERACTION = "interaction"  # the pseudo-arm of `chacra compare`'s interaction rows
# The cost the frontier puts on its horizontal axis (an effect of the comparison: extra cost per household).
COST_OUTCOME, COST_STATISTIC = "cost_per_household_pen", "horizon_total"


class Source:
    """One file given to `chacra serve`: a run (with a comparison) or a sweep, checked when the server starts."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(path)
        if not os.path.isfile(self.path):
            raise ChacraFileError(f"{path}: no such file")
        try:
            with h5py.File(self.path, "r") as f:
                self.kind = "sweep" if "sweep" in f else "run"
        except OSError as e:
            raise ChacraFileError(f"{path}: not an HDF5 file ({e})") from e
        if self.kind == "sweep":
            with ChacraSweep(self.path) as s:
                self.arms = list(s.arms)
                self.parameters = list(s.parameters)
                self.design = s.design
                self.comparison = s.comparison()
                self.sensitivity = s.sensitivity()
            self.reference = str(self.comparison["reference"].iloc[0]) if len(self.comparison) else self.arms[0]
        else:
            try:
                out = ChacraOutput(self.path)
            except Exception as e:  # the loader's own message says what is wrong with the file
                raise ChacraFileError(f"{path}: {e}") from e
            with out:
                self.arms = list(out.arms)
                self.periods = list(out.periods)
                stored = out.comparison()
                self.has_by_period = COMPARISON_BY_PERIOD in out.h5
                variables = out.variables("aggregates") if self.arms else None
                self.aggregate_variables = list(variables["variable"]) if variables is not None else []
                self.units = (dict(zip(variables["variable"], variables["unit"]))
                              if variables is not None and "unit" in variables else {})
                self.reach = out.reach()
            if stored is None or stored.empty:
                raise ChacraFileError(f"{path}: the file has no /comparison (a run of one arm, or written without a "
                                      "panel?): nothing to compare")
            self.reference = str(stored.attrs.get("reference_arm") or stored["reference"].iloc[0])
            self._comparisons = {self.reference: stored}
        self._lock = threading.Lock()
        self._paths: dict = {}

    def outcomes(self, df: pd.DataFrame) -> list[str]:
        return list(dict.fromkeys(df["outcome"]))

    def run_comparison(self, reference: str, chacra: str | None) -> pd.DataFrame:
        """The comparison against `reference`: the stored one, or `chacra compare --reference` (cached)."""
        with self._lock:
            if reference not in self._comparisons:
                comp = compare_json(self.path, reference, chacra)
                # The interaction of the programmes is a pseudo-arm of compare's rows; the stored table keeps it
                # apart (/comparison/interaction), and so do the pages.
                self._comparisons[reference] = comp[comp["arm"] != INTERACTION].reset_index(drop=True)
            return self._comparisons[reference]


def open_sources(paths) -> list[Source]:
    """Every file checked up front; the first bad one raises ChacraFileError with its name and what is wrong."""
    return [Source(p) for p in paths]


# -- numbers ---------------------------------------------------------------------------------------------

def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "–"
    x = float(x)
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.4f}"


def _cell(x, cls: str = "") -> str:
    """A number cell: shown rounded, its full value in data-value (empty when undefined)."""
    v = "" if x is None or not np.isfinite(float(x)) else repr(float(x))
    c = f' class="{cls}"' if cls else ""
    return f'<td{c} data-value="{v}">{_fmt(x)}</td>'


def _text_cell(s) -> str:
    return f"<td>{html.escape(str(s))}</td>"


def effect_paths(path: str, variable: str, reference: str, arms: list[str]) -> pd.DataFrame:
    """Per period and arm: the mean over replicates of the household mean of `variable` in the arm minus the
    reference arm (same replicate: common random numbers), with a 95% t interval over replicates."""
    from scipy import stats

    with ChacraOutput(path) as out:
        agg = out.aggregates([variable])
    col = variable if variable in agg.columns else [c for c in agg.columns if c.startswith(variable + ".")][0]
    wide = agg.pivot_table(index=["replicate", "period"], columns="arm", values=col, sort=False)
    rows = []
    for arm in arms:
        if arm == reference:
            continue
        diff = (wide[arm] - wide[reference]).unstack("period")  # replicates x periods
        n = diff.shape[0]
        for period in diff.columns:
            d = diff[period].to_numpy(dtype=float)
            m = float(d.mean())
            half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            rows.append({"arm": arm, "period": str(period), "mean_effect": m, "ci_low": m - half, "ci_high": m + half,
                         "n_replicates": n})
    return pd.DataFrame(rows)


# -- pages -----------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.4em; }
nav a { margin-right: 1em; }
form { display: flex; flex-wrap: wrap; gap: 0.8em 1.4em; align-items: end; margin: 0.8em 0; }
label { display: flex; flex-direction: column; font-size: 0.85em; color: #444; }
select { font-size: 1em; padding: 0.15em; max-width: 22em; }
figure { margin: 0.8em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
.scroll { overflow-x: auto; max-width: 100%; }
.note { color: #555; font-size: 0.88em; }
.error { color: #a00; font-weight: bold; }
pre.error { white-space: pre-wrap; background: #fdf0f0; padding: 0.6em; border-left: 3px solid #a00; }
.downloads a { margin-right: 1.2em; }
form.editor { display: block; }
table.params td { vertical-align: top; } table.params td.description { text-align: left; max-width: 34em; }
table.params input { width: 9em; } input:invalid, input.out-of-range { border: 2px solid #a00; }
details.section { margin: 0.3em 0; } details.section summary { cursor: pointer; font-weight: 600; }
fieldset { border: 1px solid #ccc; margin: 0.8em 0; } fieldset label { flex-direction: row; gap: 0.4em; }
progress { width: 30em; height: 1.2em; }
"""

_SCRIPTS = "".join(f"<script src='/static/{f}'></script>" for f in (
    "vendor/vega.min.js", "vendor/vega-lite.min.js", "vendor/vega-embed.min.js", "dashboard.js"))


def _page(title: str, body: str, sources: list[Source]) -> str:
    links = " ".join(f'<a href="/{s.kind}/{i}">{html.escape(s.name)}</a>' for i, s in enumerate(sources))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} · chacra"
            f"</title><style>{_STYLE}</style>{_SCRIPTS}</head><body><nav><a href='/'>chacra</a> "
            f"<a href='/scenario' id='new-run'>new run</a> {links}</nav>"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")


def _chart(figure_id: str, spec: dict, caption: str) -> str:
    """A figure whose chart dashboard.js draws from the Vega-Lite `spec` kept beside it as JSON."""
    text = json.dumps(spec, allow_nan=False).replace("</", "<\\/")  # no early end of the script element
    return (f"<figure id='{figure_id}'><div class='chart' data-spec='{figure_id}-spec'></div>"
            f"<script type='application/json' id='{figure_id}-spec'>{text}</script>"
            f"<figcaption>{caption}</figcaption></figure>")


def _select(name: str, options, chosen: str, label: str) -> str:
    opts = "".join(f'<option value="{html.escape(str(o))}"{" selected" if str(o) == chosen else ""}>'
                   f"{html.escape(str(o))}</option>" for o in options)
    # Changing a choice reloads the page with it (a plain GET form; the page works without the script too).
    return (f'<label>{html.escape(label)}<select name="{name}" id="{name}" onchange="this.form.submit()">{opts}'
            "</select></label>")


def _choice(value: str | None, options: list[str], fallback: str) -> str:
    if value in options:
        return value
    return fallback if fallback in options else (options[0] if options else "")


def _selected(comp: pd.DataFrame, outcome: str, statistic: str, subgroup: str, arms: list[str]) -> pd.DataFrame:
    """The rows of one effect, one per arm in the file's order."""
    rows = comp[(comp["outcome"] == outcome) & (comp["statistic"] == statistic) & (comp["subgroup"] == subgroup)]
    return rows.set_index("arm").reindex([a for a in arms if a in set(rows["arm"])]).reset_index()


def create_app(paths, chacra: str | None = None, scenarios_dir: str | None = None, runs_dir: str | None = None):
    """The Flask app over `paths` (checked first: ChacraFileError names a bad file). `chacra` is the executable
    that computes a comparison against another reference arm (see compare_json) and validates edited scenarios;
    `scenarios_dir` holds the shipped scenarios the run page offers and `runs_dir` receives uploads and runs
    (default: a new temporary directory)."""
    from flask import Flask, abort, request, send_file

    from . import studio

    sources = open_sources(paths)
    app = Flask("chacra_dashboard", static_folder=STATIC_DIR, static_url_path="/static")
    app.config["sources"] = sources

    def source(i: int, kind: str) -> Source:
        if i < 0 or i >= len(sources) or sources[i].kind != kind:
            abort(404)
        return sources[i]

    @app.get("/")
    def index():
        rows = "".join(
            f"<tr><td><a href='/{s.kind}/{i}'>{html.escape(s.name)}</a></td><td class='text'>{s.kind}</td>"
            f"<td class='text'>{html.escape(', '.join(s.arms))}</td><td class='text'>"
            f"{html.escape(', '.join(getattr(s, 'parameters', [])))}</td></tr>"
            for i, s in enumerate(sources))
        body = ("<table id='files'><tr><th>file</th><th class='text'>kind</th><th class='text'>arms</th>"
                f"<th class='text'>varied parameters</th></tr>{rows}</table>"
                "<p><a href='/scenario'>Edit and run a scenario</a> (a shipped one or your own YAML).</p>")
        return _page("Files", body, sources)

    def _reference(s: Source) -> str:
        return _choice(request.args.get("reference"), s.arms, s.reference)

    @app.get("/run/<int:i>")
    def run_page(i: int):
        s = source(i, "run")
        reference = _reference(s)
        try:
            comp = s.run_comparison(reference, chacra)
        except (ChacraFileError, FileNotFoundError) as e:
            return _page(s.name, f"<p class='error'>{html.escape(str(e))}</p>", sources), 500
        outcomes = s.outcomes(comp)
        outcome = _choice(request.args.get("outcome"), outcomes, DEFAULT_OUTCOME)
        of_outcome = comp[comp["outcome"] == outcome]
        statistics = list(dict.fromkeys(of_outcome["statistic"]))
        statistic = _choice(request.args.get("statistic"), statistics, DEFAULT_STATISTIC)
        subgroups = list(dict.fromkeys(of_outcome.loc[of_outcome["statistic"] == statistic, "subgroup"]))
        subgroup = _choice(request.args.get("subgroup"), subgroups, "all")
        rows = _selected(comp, outcome, statistic, subgroup, s.arms)
        unit = str(rows["unit"].iloc[0]) if len(rows) else ""
        form = ("<form method='get' id='choices'>"
                + _select("outcome", outcomes, outcome, "outcome")
                + _select("statistic", statistics, statistic, "statistic")
                + _select("subgroup", subgroups, subgroup, "subgroup")
                + _select("reference", s.arms, reference, "reference arm") + "</form>")
        q = f"?reference={html.escape(reference)}"
        body = form + (f"<p class='downloads' id='downloads'>Download: <a id='download-h5' href='/run/{i}/file.h5'>"
                       f"the HDF5 file</a><a id='download-csv' href='/run/{i}/comparison.csv{q}'>the comparison "
                       f"against {html.escape(reference)} (CSV)</a><a id='download-report' "
                       f"href='/run/{i}/report.html{q}'>the report (HTML)</a></p>")
        if rows.empty:
            body += "<p class='note'>No effect of this outcome for this statistic and subgroup.</p>"
        else:
            body += _chart("effects-chart", webcharts.forest(rows, outcome, unit, reference),
                           f"Effect of each arm on {html.escape(outcome)} ({html.escape(statistic)}, "
                           f"{html.escape(subgroup)}) against {html.escape(reference)}: mean over replicates with "
                           "its 95% interval.")
            head = ("<tr><th>arm</th><th>effect</th><th>95% low</th><th>95% high</th><th>arm value</th>"
                    "<th>reference value</th><th>replicates</th></tr>")
            trs = "".join(
                f"<tr data-arm='{html.escape(str(r['arm']))}'><td>{html.escape(str(r['arm']))}</td>"
                + _cell(r["mean_effect"], "effect") + _cell(r["ci_low"], "low") + _cell(r["ci_high"], "high")
                + _cell(r.get("arm_value", np.nan), "arm-value") + _cell(r.get("reference_value", np.nan), "ref-value")
                + f"<td>{int(r['n_replicates'])}</td></tr>" for _, r in rows.iterrows())
            body += (f"<div class='scroll'><table id='effects' data-outcome='{html.escape(outcome)}' "
                     f"data-reference='{html.escape(reference)}'>{head}{trs}</table></div>"
                     f"<p class='note'>Unit: {html.escape(unit)}.</p>")
            body += _frontier_section(s, comp, rows, outcome, statistic, subgroup, unit, reference)
        body += _paths_section(s, request.args.get("path_variable"), outcome, reference)
        body += _funnel_section(s)
        return _page(f"{s.name}: arms side by side", body, sources)

    def _frontier_section(s, comp, rows, outcome, statistic, subgroup, unit, reference) -> str:
        costs = _selected(comp, COST_OUTCOME, COST_STATISTIC, "all", s.arms)
        if costs.empty or outcome == COST_OUTCOME:
            return ""
        lower = webcharts.lower_is_better(outcome)
        df = webcharts.frontier_rows(rows, costs, lower)
        on = [str(a) for a in df.loc[df["on_frontier"], "arm"]]
        return ("<h2>Cost and effect</h2>"
                + _chart("frontier-chart", webcharts.frontier(df, outcome, unit, reference, lower),
                         f"Each arm's extra programme cost per household against {html.escape(reference)} "
                         f"({COST_OUTCOME}, whole horizon) and its effect on {html.escape(outcome)} "
                         f"({html.escape(statistic)}, {html.escape(subgroup)}) with the 95% interval. The dashed line "
                         f"joins the frontier: arms whose effect no cheaper arm matches "
                         f"({'lower' if lower else 'higher'} is better): <span id='frontier-arms'>"
                         f"{html.escape(', '.join(on))}</span>."))

    def _paths_section(s: Source, wanted: str | None, outcome: str, reference: str) -> str:
        if not s.aggregate_variables:
            return ""
        variable = _choice(wanted, s.aggregate_variables,
                           outcome if outcome in s.aggregate_variables else "income_monetary_pen")
        key = (variable, reference)
        with s._lock:
            if key not in s._paths:
                s._paths[key] = effect_paths(s.path, variable, reference, s.arms)
            paths = s._paths[key]
        form = ("<form method='get' id='path-choices'>"
                + "".join(f"<input type='hidden' name='{k}' value='{html.escape(v)}'>"
                          for k, v in request.args.items() if k != "path_variable")
                + _select("path_variable", s.aggregate_variables, variable, "variable") + "</form>")
        return ("<h2>Effect paths over periods</h2>" + form
                + _chart("paths-chart", webcharts.paths(paths, variable, reference, s.units.get(variable, "")),
                         f"Household mean of {html.escape(variable)} in each period, arm minus "
                         f"{html.escape(reference)} in the same replicate, mean over replicates with a 95% t "
                         "interval (shaded)."))

    def _funnel_section(s: Source) -> str:
        if s.reach is None or s.reach.empty:
            return ("<h2>Reach</h2><p class='note' id='no-reach'>This file stores no reach funnel (files of "
                    "chacra versions that record each programme's reach have /arms/ARM/replicate_R/reach).</p>")
        return ("<h2>Reach</h2>"
                + _chart("funnel-chart", webcharts.funnel(s.reach),
                         "Each programme's reach, stage by stage, per arm: the mean over replicates of what the "
                         "module reports at the end of the run."))

    def attachment(body, mimetype: str, s: Source, suffix: str):
        """A download named after the file it comes from: STEM + suffix."""
        name = os.path.splitext(s.name)[0] + suffix
        return app.response_class(body, mimetype=mimetype,
                                  headers={"Content-Disposition": f"attachment; filename={name}"})

    @app.get("/<any(run, sweep):kind>/<int:i>/file.h5")
    def download_file(kind: str, i: int):
        s = source(i, kind)
        return send_file(s.path, as_attachment=True, download_name=s.name, mimetype="application/x-hdf5")

    @app.get("/run/<int:i>/comparison.csv")
    def download_csv(i: int):
        s = source(i, "run")
        reference = _reference(s)
        comp = s.run_comparison(reference, chacra)
        return attachment(comp.to_csv(index=False), "text/csv", s, f"_comparison_{reference}.csv")

    @app.get("/run/<int:i>/report.html")
    def download_report(i: int):
        from .report import ReportError, build_report

        s = source(i, "run")
        reference = _reference(s)
        with tempfile.TemporaryDirectory(prefix="chacra_report_") as d:
            try:
                build_report(s.path, d, reference=None if reference == s.reference else reference, chacra=chacra)
            except (ReportError, ChacraFileError) as e:
                return _page(s.name, f"<p class='error'>{html.escape(str(e))}</p>", sources), 500
            with open(os.path.join(d, "report.html"), "rb") as fh:
                page = fh.read()
        return attachment(page, "text/html", s, "_report.html")

    @app.get("/sweep/<int:i>")
    def sweep_page(i: int):
        s = source(i, "sweep")
        comp = s.comparison
        outcomes = s.outcomes(comp)
        outcome = _choice(request.args.get("outcome"), outcomes, DEFAULT_OUTCOME)
        of_outcome = comp[(comp["outcome"] == outcome) & (comp["subgroup"] == "all")]
        statistics = list(dict.fromkeys(of_outcome["statistic"]))
        statistic = _choice(request.args.get("statistic"), statistics, DEFAULT_STATISTIC)
        arms = [a for a in s.arms if a != s.reference]
        arm = request.args.get("arm", "")
        arm = arm if arm in arms else ""
        eff = of_outcome[of_outcome["statistic"] == statistic]
        if arm:
            eff = eff[eff["arm"] == arm]
        unit = str(eff["unit"].iloc[0]) if len(eff) else ""
        form = ("<form method='get' id='choices'>" + _select("outcome", outcomes, outcome, "outcome")
                + _select("statistic", statistics, statistic, "statistic")
                + _select("arm", [""] + arms, arm, "arm (empty: all)") + "</form>"
                + f"<p class='note'>Reference arm: <b id='reference'>{html.escape(s.reference)}</b> (fixed when the "
                  f"sweep ran); {len(s.design)} points of a {html.escape(str(s.design.attrs.get('design', '')))} "
                  f"design over {html.escape(', '.join(s.parameters))}.</p>"
                + f"<p class='downloads'>Download: <a id='download-h5' href='/sweep/{i}/file.h5'>the HDF5 file</a>"
                  f"<a id='download-csv' href='/sweep/{i}/effects.csv'>the effects at every point (CSV)</a></p>")
        body = form
        order = {a: k for k, a in enumerate(s.arms)}
        eff = eff.sort_values(["arm", "point"], key=lambda c: c.map(order) if c.name == "arm" else c)
        if not eff.empty:
            body += _chart("sweep-chart", webcharts.sweep(eff, s.parameters, outcome, unit, s.reference),
                           f"Effect on {html.escape(outcome)} ({html.escape(statistic)}) against each varied "
                           "parameter: mean over replicates with its 95% interval (band or bars).")
            head = ("<tr><th>point</th>" + "".join(f"<th>{html.escape(p)}</th>" for p in s.parameters)
                    + "<th class='text'>arm</th><th>effect</th><th>95% low</th><th>95% high</th></tr>")
            trs = "".join(
                f"<tr data-point='{int(r['point'])}' data-arm='{html.escape(str(r['arm']))}'><td>{int(r['point'])}</td>"
                + "".join(_cell(r[p]) for p in s.parameters) + f"<td class='text'>{html.escape(str(r['arm']))}</td>"
                + _cell(r["mean_effect"], "effect") + _cell(r["ci_low"], "low") + _cell(r["ci_high"], "high") + "</tr>"
                for _, r in eff.iterrows())
            body += (f"<details><summary>Effects at every point ({len(eff)} rows)</summary><div class='scroll'>"
                     f"<table id='sweep-effects'>{head}{trs}</table></div></details>")
        body += "<h2>Sensitivity</h2>" + _sensitivity_table(s, outcome, statistic, arm)
        return _page(f"{s.name}: sweep", body, sources)

    @app.get("/sweep/<int:i>/effects.csv")
    def download_sweep_csv(i: int):
        s = source(i, "sweep")
        return attachment(s.comparison.to_csv(index=False), "text/csv", s, "_effects.csv")

    studio.register(app, sources, page=_page, chacra=chacra, scenarios_dir=scenarios_dir, runs_dir=runs_dir)
    return app


def _sensitivity_table(s: Source, outcome: str, statistic: str, arm: str) -> str:
    t = s.sensitivity
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in t.attrs.get("notes", []))
    notes = f"<ul class='note'>{notes}</ul>" if notes else ""
    if t.empty:
        return "<p class='note' id='no-sensitivity'>This sweep stores no sensitivity indices.</p>" + notes
    sel = t[(t["outcome"] == outcome) & (t["statistic"] == statistic) & (t["subgroup"] == "all")]
    if arm:
        sel = sel[sel["arm"] == arm]
    if sel.empty:
        return ("<p class='note' id='no-sensitivity'>No index for this effect (undefined at some point or without "
                "variance over the design: see the notes).</p>" + notes)
    method = str(sel["method"].iloc[0])
    if method == "sobol":
        cols = [("first", "first order"), ("first_low", "low"), ("first_high", "high"), ("total", "total"),
                ("total_low", "low"), ("total_high", "high")]
        what = "Sobol indices with 95% bootstrap intervals"
    else:
        cols = [("mu", "mu"), ("mu_star", "mu*"), ("mu_star_low", "mu* low"), ("mu_star_high", "mu* high"),
                ("sigma", "sigma")]
        what = "Morris elementary effects per unit of each parameter's range: mu, mu* with its 95% bootstrap " \
               "interval, sigma"
    head = ("<tr><th>arm</th><th class='text'>parameter</th>" + "".join(f"<th>{h}</th>" for _, h in cols) + "</tr>")
    trs = "".join(
        f"<tr data-arm='{html.escape(str(r['arm']))}' data-parameter='{html.escape(str(r['parameter']))}'>"
        f"<td>{html.escape(str(r['arm']))}</td><td class='text'>{html.escape(str(r['parameter']))}</td>"
        + "".join(_cell(r[c], c.replace("_", "-")) for c, _ in cols) + "</tr>" for _, r in sel.iterrows())
    return (f"<p class='note'>{what}, of the effect on {html.escape(outcome)} ({html.escape(statistic)}).</p>"
            f"<div class='scroll'><table id='sensitivity' data-method='{method}'>{head}{trs}</table></div>{notes}")
