"""The dashboard's scenario page (`chacra serve`, /scenario): pick a shipped or uploaded scenario, edit its arms
and its parameters with the registry's ranges, units and descriptions beside each, check the result exactly as
`chacra validate` does (its message, word for word, on the page), and run it (or a sweep of one parameter) in
the background through the chacra Python module, with progress; the finished file joins the dashboard's files.

Edits of parameters become ``--set NAME=VALUE`` overrides of the chosen file; edits of arms (which arms run,
their overrides, an added arm) are written into a copy of the scenario in the runs directory, so the user's
own files are never changed.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import subprocess
import sys
import threading
import time

import yaml

__all__ = ["register", "parameter_text"]

_UPLOADS = "uploads"


def parameter_text(value) -> str:
    """A value as the editor shows it and --set reads it (booleans true/false, lists comma-separated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(parameter_text(v) for v in value)
    return str(value)


def _number(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


class _Module:
    """The chacra Python module of this build (build/python beside the executable), imported on first use."""

    def __init__(self, chacra: str | None):
        self.chacra = chacra
        self._module = None
        self.error = ""

    def get(self):
        if self._module is None and not self.error:
            if self.chacra:
                d = os.path.join(os.path.dirname(os.path.abspath(self.chacra)), "python")
                if os.path.isdir(os.path.join(d, "chacra")) and d not in sys.path:
                    sys.path.insert(0, d)
            try:
                import chacra  # noqa: PLC0415

                self._module = chacra
            except ImportError as e:
                self.error = (f"runs from the page need the chacra Python module ({e}): build chacra with "
                              "-DCHACRA_WITH_PYTHON=ON (the default of tools/setup.sh; docs/python.md)")
        return self._module


class Job:
    """A run or sweep started from the page: its progress as the engine reports it, then its result page."""

    def __init__(self, number: int, kind: str, output: str):
        self.number, self.kind, self.output = number, kind, output
        self.state, self.done, self.total = "running", 0, 0
        self.error, self.result = "", ""
        self.started = time.monotonic()

    def as_json(self) -> dict:
        elapsed = time.monotonic() - self.started
        if self.state == "done":
            text = f"finished in {elapsed:.1f} s"
        elif self.state == "failed":
            text = "failed"
        elif self.total:
            share = self.done / self.total
            eta = f", about {elapsed * (1 - share) / share:.0f} s left" if share > 0.02 else ""
            text = f"{100 * share:.0f}% of {self.total:,} household-months, {elapsed:.0f} s{eta}"
        else:
            text = f"building the population, {elapsed:.0f} s"
        return {"state": self.state, "done": self.done, "total": self.total, "text": text, "error": self.error,
                "result": self.result, "output": self.output}


def register(app, sources, page, chacra: str | None, scenarios_dir: str | None, runs_dir: str | None):
    """Adds /scenario (the editor), /scenario/upload, /scenario/run and /job/N to the dashboard's Flask app."""
    from flask import abort, jsonify, redirect, request

    from .dashboard import Source
    from .loader import find_chacra

    exe = find_chacra(chacra)
    module = _Module(exe)
    state = {"runs_dir": runs_dir, "jobs": [], "lock": threading.Lock(), "counter": itertools.count(1)}

    def runs() -> str:
        if state["runs_dir"] is None:
            import tempfile

            state["runs_dir"] = tempfile.mkdtemp(prefix="chacra_serve_")
        os.makedirs(state["runs_dir"], exist_ok=True)
        return state["runs_dir"]

    def shipped() -> list[str]:
        if not scenarios_dir or not os.path.isdir(scenarios_dir):
            return []
        return sorted(f for f in os.listdir(scenarios_dir) if f.endswith((".yaml", ".yml")))

    def uploaded() -> list[str]:
        d = os.path.join(runs(), _UPLOADS)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def scenario_path(key: str) -> str | None:
        kind, _, name = key.partition(":")
        if kind == "shipped" and name in shipped():
            return os.path.join(scenarios_dir, name)
        if kind == "upload" and name in uploaded():
            return os.path.join(runs(), _UPLOADS, name)
        return None

    def validate(path: str, sets: list[str]) -> str:
        """`chacra validate PATH --set ...`: "" when valid, else its message (stderr, as the command prints it)."""
        cmd = [exe, "validate", path] + [a for s in sets for a in ("--set", s)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode == 0:
            return ""
        return (res.stderr or res.stdout).strip() or f"chacra validate failed (exit {res.returncode})"

    def registry() -> list[dict]:
        m = module.get()
        return [] if m is None else m.parameters().to_dict(orient="records")

    # -- the editor ----------------------------------------------------------------------------------------

    def values_of(path: str) -> tuple[dict, list[str], str]:
        m = module.get()
        s = m.Scenario.load(path)
        names = [p["name"] for p in registry()]
        return {n: parameter_text(s.get(n)) for n in names}, list(s.arms), s.name

    def arms_of(path: str) -> list[dict]:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        arms = doc.get("arms") or []
        return [{"name": str(a.get("name", "")), "description": str(a.get("description", "") or ""),
                 "set": "\n".join(f"{k}={parameter_text(v)}" for k, v in (a.get("set") or {}).items())}
                for a in arms if isinstance(a, dict)]

    def scenario_choices(key: str) -> str:
        opts = [("shipped:" + f, f"{f} (shipped)") for f in shipped()] + \
               [("upload:" + f, f"{f} (uploaded)") for f in uploaded()]
        options = "".join(f"<option value='{html.escape(v)}'{' selected' if v == key else ''}>{html.escape(t)}"
                          "</option>" for v, t in opts)
        return ("<form method='get' id='scenario-choice'><label>scenario<select name='name' id='scenario-name' "
                f"onchange='this.form.submit()'>{options}</select></label></form>"
                "<form method='post' action='/scenario/upload' enctype='multipart/form-data' id='upload'>"
                "<label>or upload your own scenario (YAML)<input type='file' name='scenario_file' id='scenario-file' "
                "accept='.yaml,.yml'></label><button type='submit' id='upload-button'>Upload and check</button>"
                "</form>")

    def parameter_rows(values: dict, submitted: dict) -> str:
        sections: dict[str, list[str]] = {}
        for p in registry():
            name = p["name"]
            shown = submitted.get(name, values.get(name, ""))
            field = f"p:{name}"
            attrs = f"name='{html.escape(field)}' id='{html.escape(field)}'"
            if p["type"] == "boolean":
                widget = (f"<select {attrs}>" + "".join(
                    f"<option{' selected' if shown == v else ''}>{v}</option>" for v in ("true", "false")) + "</select>")
                rng = "true or false"
            elif p["type"] == "choice":
                widget = (f"<select {attrs}>" + "".join(
                    f"<option{' selected' if shown == c else ''}>{html.escape(c)}</option>" for c in p["choices"])
                    + "</select>")
                rng = "one of " + ", ".join(p["choices"])
            elif p["type"] in ("real", "integer"):
                lo, hi = p.get("min"), p.get("max")
                bounds = "".join(f" data-{k}='{_number(v)}'" for k, v in (("min", lo), ("max", hi)) if v is not None)
                widget = f"<input type='text' inputmode='decimal' {attrs} value='{html.escape(shown)}'{bounds}>"
                rng = (f"[{_number(lo) if lo is not None else '−∞'}, {_number(hi) if hi is not None else '∞'}]"
                       + (" whole" if p["type"] == "integer" else ""))
            else:
                widget = f"<input type='text' {attrs} value='{html.escape(shown)}'>"
                rng = "comma-separated list"
            search = f"{name} {p.get('unit', '')} {p.get('description', '')}".lower()
            default = parameter_text(p["default"]) if p.get("default") is not None else ""
            sections.setdefault(name.split(".")[0], []).append(
                f"<tr data-name='{html.escape(name)}' data-search='{html.escape(search)}'>"
                f"<td><code title='source: {html.escape(str(p.get('source', '')))}'>{html.escape(name)}</code></td>"
                f"<td>{widget}</td><td class='text unit'>{html.escape(str(p.get('unit', '')))}</td>"
                f"<td class='text range'>{html.escape(rng)}</td><td class='description'>"
                f"{html.escape(str(p.get('description', '')))} <span class='note'>(default {html.escape(default)}; "
                f"{html.escape(str(p.get('source', '')))})</span></td></tr>")
        head = "<tr><th>parameter</th><th>value</th><th class='text'>unit</th><th class='text'>range</th>" \
               "<th class='text'>description</th></tr>"
        return "".join(
            f"<details class='section' id='section-{html.escape(sec)}'><summary>{html.escape(sec)} "
            f"({len(rows)})</summary><table class='params'>{head}{''.join(rows)}</table></details>"
            for sec, rows in sections.items())

    def editor(key: str, error: str = "", form=None) -> str:
        m = module.get()
        if m is None:
            return f"<pre class='error' id='error'>{html.escape(module.error)}</pre>"
        path = scenario_path(key)
        if path is None:
            return "<p class='note'>Pick a scenario above, or upload one.</p>"
        form = form or {}
        try:
            values, arm_names, name = values_of(path)
        except m.InputError as e:  # an uploaded file that became invalid, or a shipped one out of date
            return f"<pre class='error' id='error'>{html.escape(str(e))}</pre>"
        arms = arms_of(path)
        submitted = {k[2:]: v for k, v in form.items() if k.startswith("p:")}
        run_arms = set(form.getlist("arm")) if form else {a["name"] for a in arms}
        reference = form.get("reference") or values.get("run.reference_arm") or (arm_names[0] if arm_names else "")
        arm_rows = "".join(
            f"<tr data-arm='{html.escape(a['name'])}'><td><label><input type='checkbox' name='arm' "
            f"value='{html.escape(a['name'])}' id='arm:{html.escape(a['name'])}'"
            f"{' checked' if a['name'] in run_arms else ''}> {html.escape(a['name'])}</label></td>"
            f"<td class='description'>{html.escape(a['description'])}</td><td><textarea rows='2' cols='46' "
            f"name='armset:{html.escape(a['name'])}' id='armset:{html.escape(a['name'])}'>"
            f"{html.escape(form.get('armset:' + a['name'], a['set']) if form else a['set'])}</textarea></td></tr>"
            for a in arms)
        ref_options = "".join(f"<option{' selected' if a == reference else ''}>{html.escape(a)}</option>"
                              for a in arm_names)
        numeric = [p["name"] for p in registry() if p["type"] in ("real", "integer")]
        sweep_param = form.get("sweep_parameter", "juntos.transfer_pen") if form else "juntos.transfer_pen"
        sweep_options = "".join(f"<option{' selected' if n == sweep_param else ''}>{html.escape(n)}</option>"
                                for n in numeric)
        kind = form.get("kind", "run") if form else "run"

        def field(n, default):
            return html.escape(form.get(n, default) if form else default)

        err = f"<pre class='error' id='error'>{html.escape(error)}</pre>" if error else ""
        return (
            f"{err}<form method='post' action='/scenario/run' class='editor' id='editor' novalidate>"
            f"<input type='hidden' name='name' value='{html.escape(key)}'>"
            f"<p class='note'>Scenario <b id='scenario-title'>{html.escape(name)}</b> from "
            f"<code>{html.escape(os.path.basename(path))}</code>. Changed values run as <code>--set</code> overrides; "
            "your files are not changed.</p>"
            "<h2>Arms</h2><p class='note'>Tick the arms to run; each arm's overrides are one <code>NAME=VALUE</code> "
            "a line (any parameter below).</p>"
            f"<table id='arms'><tr><th>run</th><th class='text'>description</th><th class='text'>overrides</th></tr>"
            f"{arm_rows}<tr><td><input type='text' name='new_arm' id='new-arm' placeholder='new arm name' "
            f"value='{field('new_arm', '')}'></td><td class='description'>an arm of your own: the base scenario with "
            f"the overrides beside it</td><td><textarea rows='2' cols='46' name='new_arm_set' id='new-arm-set'>"
            f"{field('new_arm_set', '')}</textarea></td></tr></table>"
            f"<fieldset><legend>Run</legend><label>reference arm <select name='reference' id='reference'>"
            f"{ref_options}</select></label> <label>threads <input type='text' name='threads' id='threads' size='3' "
            f"value='{field('threads', '0')}'></label> <span class='note'>(0: all cores; results do not depend on "
            "it)</span><br>"
            f"<label><input type='radio' name='kind' value='run' id='kind-run'{' checked' if kind == 'run' else ''}>"
            " run the arms</label> <label><input type='radio' name='kind' value='sweep' id='kind-sweep'"
            f"{' checked' if kind == 'sweep' else ''}> sweep one parameter:</label> "
            f"<select name='sweep_parameter' id='sweep-parameter'>{sweep_options}</select> from "
            f"<input type='text' name='sweep_from' id='sweep-from' size='7' value='{field('sweep_from', '100')}'> to "
            f"<input type='text' name='sweep_to' id='sweep-to' size='7' value='{field('sweep_to', '400')}'> in "
            f"<input type='text' name='sweep_points' id='sweep-points' size='3' value='{field('sweep_points', '4')}'>"
            " points</fieldset>"
            "<p><button type='submit' id='run-button'>Check and run</button></p>"
            "<h2>Parameters</h2><p><label>filter <input type='search' id='param-filter' size='40' "
            "placeholder='name, unit or words of the description'></label></p>"
            f"{parameter_rows(values, submitted)}</form>")

    @app.get("/scenario")
    def scenario_page():
        choices = shipped()
        default = "shipped:" + ("default.yaml" if "default.yaml" in choices else (choices[0] if choices else ""))
        key = request.args.get("name", default)
        body = scenario_choices(key) + editor(key)
        return page("Edit and run a scenario", body, sources)

    @app.post("/scenario/upload")
    def upload():
        f = request.files.get("scenario_file")
        if f is None or not f.filename:
            body = scenario_choices("") + "<pre class='error' id='error'>choose a YAML file to upload</pre>"
            return page("Edit and run a scenario", body, sources), 400
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(f.filename)) or "scenario.yaml"
        if not base.endswith((".yaml", ".yml")):
            base += ".yaml"
        d = os.path.join(runs(), _UPLOADS)
        os.makedirs(d, exist_ok=True)
        stem, ext = os.path.splitext(base)
        name = base
        for k in itertools.count(2):  # never overwrite an earlier upload
            if not os.path.exists(os.path.join(d, name)):
                break
            name = f"{stem}_{k}{ext}"
        path = os.path.join(d, name)
        f.save(path)
        error = validate(path, [])
        if error:
            body = scenario_choices("upload:" + name) + f"<pre class='error' id='error'>{html.escape(error)}</pre>"
            return page("Edit and run a scenario", body, sources), 400
        return redirect(f"/scenario?name=upload:{name}", code=303)

    def parse_sets(text: str, where: str) -> tuple[dict, str]:
        out = {}
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, eq, value = line.partition("=")
            if not eq or not name.strip():
                return {}, f"{where}, line {n}: expected NAME=VALUE (e.g. juntos.transfer_pen=250), got '{line}'"
            out[name.strip()] = value.strip()
        return out, ""

    def edited_scenario(path: str, arms: list[str], overrides: dict, new_arm: tuple[str, dict] | None,
                        number: int) -> str:
        """A copy of the scenario with the arms as edited (in the runs directory), or the file itself unchanged."""
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        before = [{"name": a["name"], "set": a["set"]} for a in arms_of(path)]
        after = [{"name": a["name"], "set": "\n".join(f"{k}={v}" for k, v in overrides[a["name"]].items())}
                 for a in arms_of(path) if a["name"] in arms]
        same_sets = all(
            parse_sets(a["set"], "")[0] == overrides.get(a["name"]) for a in before if a["name"] in arms)
        if len(after) == len(before) and same_sets and new_arm is None:
            return path
        by_name = {str(a.get("name")): a for a in doc.get("arms") or [] if isinstance(a, dict)}
        new_arms = []
        for name in [a["name"] for a in after]:
            a = dict(by_name[name])
            # Values as YAML reads them (numbers, booleans), so the copy types them as the original would.
            a["set"] = {k: yaml.safe_load(v) if v else v for k, v in overrides[name].items()}
            if not a["set"]:
                a.pop("set")
            new_arms.append(a)
        if new_arm is not None:
            a = {"name": new_arm[0], "description": "added in the dashboard"}
            if new_arm[1]:
                a["set"] = {k: yaml.safe_load(v) if v else v for k, v in new_arm[1].items()}
            new_arms.append(a)
        doc["arms"] = new_arms
        out = os.path.join(runs(), f"{number:03d}_{os.path.splitext(os.path.basename(path))[0]}_edited.yaml")
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(f"# {os.path.basename(path)} with the arms edited in chacra serve\n")
            yaml.safe_dump(doc, fh, sort_keys=False, allow_unicode=True)
        return out

    @app.post("/scenario/run")
    def start():
        form = request.form
        key = form.get("name", "")
        path = scenario_path(key)
        if path is None:
            abort(404)
        m = module.get()

        def fail(message: str):
            body = scenario_choices(key) + editor(key, message, form)
            return page("Edit and run a scenario", body, sources), 400

        if m is None:
            return fail(module.error)
        values, _, name = values_of(path)
        sets = {k[2:]: v.strip() for k, v in form.items()
                if k.startswith("p:") and k[2:] in values and v.strip() != values[k[2:]]}
        arms = form.getlist("arm")
        overrides = {}
        for a in arms_of(path):
            overrides[a["name"]], error = parse_sets(form.get("armset:" + a["name"], ""), f"arm {a['name']}")
            if error:
                return fail(error)
        new_arm = None
        if form.get("new_arm", "").strip():
            new_sets, error = parse_sets(form.get("new_arm_set", ""), "the new arm")
            if error:
                return fail(error)
            new_arm = (form["new_arm"].strip(), new_sets)
        if not arms and new_arm is None:
            return fail("tick at least one arm to run")
        reference = form.get("reference", "")
        chosen = arms + ([new_arm[0]] if new_arm else [])
        if reference and reference in chosen and reference != values.get("run.reference_arm"):
            sets["run.reference_arm"] = reference
        with state["lock"]:
            number = next(state["counter"])
        scenario = edited_scenario(path, arms, overrides, new_arm, number)
        texts = [f"{k}={v}" for k, v in sets.items()]
        error = validate(scenario, texts)
        if error:
            return fail(error)
        kind = form.get("kind", "run")
        vary = None
        if kind == "sweep":
            try:
                vary = {form.get("sweep_parameter", ""): (float(form.get("sweep_from", "")),
                                                          float(form.get("sweep_to", "")),
                                                          int(form.get("sweep_points", "")))}
            except ValueError:
                return fail("a sweep needs numbers: from and to, and a whole number of points (e.g. 100, 400, 4)")
        try:
            threads = int(form.get("threads", "0") or 0)
        except ValueError:
            return fail(f"threads: expected a whole number (0: all cores), got '{form.get('threads')}'")
        with state["lock"]:
            if any(j.state == "running" for j in state["jobs"]):
                return fail("another run is in progress: wait for it to finish (its page shows its progress)")
            output = os.path.join(runs(), f"{number:03d}_{name}{'_sweep' if kind == 'sweep' else ''}.h5")
            job = Job(len(state["jobs"]), kind, output)
            state["jobs"].append(job)

        def progress(done, total):
            job.done, job.total = int(done), int(total)

        def work():
            try:
                if kind == "sweep":
                    m.sweep(scenario, vary=vary, set=sets, output=output, threads=threads, progress=progress)
                else:
                    m.run(scenario, set=sets, output=output, threads=threads, progress=progress)
                src = Source(output)
                with state["lock"]:
                    sources.append(src)
                    job.result = f"/{src.kind}/{len(sources) - 1}"
                job.state = "done"
            except Exception as e:  # noqa: BLE001 - the page shows whatever stopped the run
                job.error = str(e)
                job.state = "failed"

        threading.Thread(target=work, name=f"chacra-job-{job.number}", daemon=True).start()
        return redirect(f"/job/{job.number}", code=303)

    @app.get("/job/<int:n>")
    def job_page(n: int):
        if n < 0 or n >= len(state["jobs"]):
            abort(404)
        job = state["jobs"][n]
        body = (f"<div data-job='/job/{n}.json'><p>Writing <code>{html.escape(job.output)}</code>.</p>"
                "<p><progress id='progress' value='0' max='1'></progress></p>"
                "<p id='progress-text' class='note'>starting</p>"
                "<pre class='error' id='job-error' hidden></pre></div>")
        return page(f"{'Sweep' if job.kind == 'sweep' else 'Run'} {n + 1}", body, sources)

    @app.get("/job/<int:n>.json")
    def job_json(n: int):
        if n < 0 or n >= len(state["jobs"]):
            abort(404)
        return jsonify(state["jobs"][n].as_json())
