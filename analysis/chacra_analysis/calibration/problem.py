"""The calibration problem file (YAML): fitted parameters with priors and sources, calibration targets,
validation targets kept apart, and the settings of history matching, MCMC and the predictive check; loaded
and validated in full, every error with file, line, key, what was expected and a suggestion."""

from __future__ import annotations

import difflib
import hashlib
import math
import os
from dataclasses import dataclass, field

import numpy as np
import yaml

from .priors import DISTRIBUTIONS, Prior


class ProblemError(Exception):
    """A problem file that cannot be used; `errors` lists every finding (one line each)."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# ---------------------------------------------------------------------------------------------------------
# YAML with line numbers and duplicate keys refused (PyYAML keeps the last of two equal keys silently).

class _Map(dict):
    line: int = 0
    key_lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first at line {out.key_lines[key]})", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Parameter:
    name: str
    prior: Prior
    source: str
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class Target:
    name: str
    role: str                      # "calibration" or "validation"
    statistic: dict
    source: str
    observed: float | None = None  # quantitative targets
    sd: float | None = None
    discrepancy_sd: float = 0.0
    fact: str | None = None        # qualitative validation targets
    condition: dict | None = None
    min_probability: float = 0.9
    unit: str = ""
    description: str = ""

    @property
    def qualitative(self) -> bool:
        return self.fact is not None

    def holds(self, values):
        """Whether the qualitative condition holds for each simulated value."""
        v = np.asarray(values, dtype=float)
        c = self.condition
        if "greater_than" in c:
            return v > c["greater_than"]
        if "less_than" in c:
            return v < c["less_than"]
        lo, hi = c["between"]
        return (v >= lo) & (v <= hi)

    def describe_condition(self) -> str:
        c = self.condition or {}
        if "greater_than" in c:
            return f"> {c['greater_than']:g}"
        if "less_than" in c:
            return f"< {c['less_than']:g}"
        if "between" in c:
            return f"in [{c['between'][0]:g}, {c['between'][1]:g}]"
        return ""


@dataclass(frozen=True)
class HistoryMatchingSettings:
    waves: int = 4
    design_points: int = 0          # per wave; 0: 10 per fitted parameter, at least 20
    seeds_per_point: int = 1
    cutoff: float = 3.0
    measure: str = "max"            # max or second_max of the targets' implausibilities
    candidates: int = 20000         # candidate points drawn per search round for the next wave's design
    emulator_mean: str = "linear"   # constant or linear regression mean under the Gaussian process
    restarts: int = 2               # optimiser restarts of each Gaussian process fit
    holdout: float = 0.2            # share of a wave's runs held out to check the emulators first
    stop_variance_ratio: float = 0.1


@dataclass(frozen=True)
class McmcSettings:
    walkers: int = 0                # 0: max(32, 4 per parameter), rounded up to an even number
    steps: int = 3000
    burn: int = 1000
    draws: int = 1000


@dataclass(frozen=True)
class PredictiveSettings:
    draws: int = 50
    level: float = 0.9


@dataclass
class Problem:
    path: str
    text: str
    sha256: str
    name: str
    description: str
    seed: int
    simulator: dict
    parameters: list[Parameter]
    calibration: list[Target]
    validation: list[Target]
    history_matching: HistoryMatchingSettings = field(default_factory=HistoryMatchingSettings)
    mcmc: McmcSettings = field(default_factory=McmcSettings)
    predictive: PredictiveSettings = field(default_factory=PredictiveSettings)
    lines: dict = field(default_factory=dict)   # "parameters.NAME", "simulator" ... -> line in the file

    def where(self, key: str) -> str:
        """FILE:LINE: KEY, for errors found after loading (e.g. against chacra's parameter registry)."""
        return f"{self.path}:{self.lines.get(key, self.lines.get(key.split('.')[0], 0))}: {key}"

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def targets(self) -> list[Target]:
        return self.calibration + self.validation

    @property
    def base_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def design_points(self) -> int:
        n = self.history_matching.design_points
        return n if n > 0 else max(20, 10 * len(self.parameters))

    def walkers(self) -> int:
        w = self.mcmc.walkers or max(32, 4 * len(self.parameters))
        return w + (w % 2)


# ---------------------------------------------------------------------------------------------------------

TOP_KEYS = ("name", "description", "seed", "simulator", "parameters", "calibration_targets", "validation_targets",
            "history_matching", "mcmc", "predictive")
PARAMETER_KEYS = ("prior", "source", "unit", "description")
PRIOR_KEYS = ("distribution", "min", "max", "mean", "sd", "median", "log_sd", "alpha", "beta")
CAL_TARGET_KEYS = ("observed", "sd", "discrepancy_sd", "statistic", "source", "unit", "description")
VAL_TARGET_KEYS = ("observed", "sd", "statistic", "source", "unit", "description", "fact", "condition",
                   "min_probability")
CONDITIONS = ("greater_than", "less_than", "between")


class _Checker:
    """Collects every error with its place: FILE:LINE: key.path: message."""

    def __init__(self, path: str):
        self.path = path
        self.errors: list[str] = []

    def error(self, where: str, line: int, message: str) -> None:
        self.errors.append(f"{self.path}:{line}: {where}: {message}" if where else f"{self.path}:{line}: {message}")

    @staticmethod
    def line_of(mapping, key=None) -> int:
        if isinstance(mapping, _Map):
            if key is not None and key in mapping.key_lines:
                return mapping.key_lines[key]
            return mapping.line
        return 0

    def unknown_keys(self, mapping, allowed, where: str) -> None:
        for key in mapping:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else f" (expected one of: {', '.join(allowed)})"
                self.error(f"{where}.{key}" if where else key, self.line_of(mapping, key), f"unknown key{hint}")

    def _absent(self, parent, key, where: str, required: bool, what: str = "") -> bool:
        """True when the key is missing or null; reported when it is required."""
        if key in parent and parent[key] is not None:
            return False
        if required:
            self.error(where, self.line_of(parent), f"missing key '{key}'{what}")
        return True

    def mapping(self, parent, key, where: str, required=True):
        if self._absent(parent, key, where, required):
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.error(where, self.line_of(parent, key), f"expected a mapping, got {_kind(value)}")
            return None
        return value

    def number(self, parent, key, where: str, required=True, default=None, positive=False, nonnegative=False,
               integer=False, low=None, high=None):
        if self._absent(parent, key, where, required, " (a number)"):
            return default
        value = parent[key]
        line = self.line_of(parent, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(where, line, f"expected a number, got {_kind(value)} {value!r}")
            return default
        if integer and (not isinstance(value, int) and not float(value).is_integer()):
            self.error(where, line, f"expected a whole number, got {value!r}")
            return default
        value = int(value) if integer else float(value)
        if not math.isfinite(value):
            self.error(where, line, f"expected a finite number, got {value!r}")
            return default
        if positive and value <= 0:
            self.error(where, line, f"expected a number > 0, got {value:g}")
            return default
        if nonnegative and value < 0:
            self.error(where, line, f"expected a number >= 0, got {value:g}")
            return default
        if low is not None and value < low or high is not None and value > high:
            self.error(where, line, f"expected a number in [{low}, {high}], got {value:g}")
            return default
        return value

    def text(self, parent, key, where: str, required=True, default=""):
        if self._absent(parent, key, where, required, " (text)"):
            return default
        value = parent[key]
        if not isinstance(value, str):
            self.error(where, self.line_of(parent, key), f"expected text, got {_kind(value)} {value!r}")
            return default
        if required and not value.strip():
            self.error(where, self.line_of(parent, key), f"'{key}' is empty")
        return value


def _kind(value) -> str:
    return {dict: "a mapping", _Map: "a mapping", list: "a list", str: "text", bool: "a boolean",
            type(None): "nothing"}.get(type(value), type(value).__name__)


def _prior(chk: _Checker, spec, where: str):
    if not isinstance(spec, dict):
        return None
    chk.unknown_keys(spec, PRIOR_KEYS, where)
    dist = chk.text(spec, "distribution", where + ".distribution")
    if dist and dist not in DISTRIBUTIONS:
        near = difflib.get_close_matches(dist, list(DISTRIBUTIONS), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        chk.error(where + ".distribution", chk.line_of(spec, "distribution"),
                  f"expected one of {', '.join(DISTRIBUTIONS)}, got '{dist}'{hint}")
        return None
    lower = chk.number(spec, "min", where + ".min")
    upper = chk.number(spec, "max", where + ".max")
    if not dist or lower is None or upper is None:
        return None
    ok = True
    if not lower < upper:
        chk.error(where, chk.line_of(spec), f"expected min < max, got min {lower:g} and max {upper:g}")
        ok = False
    log = DISTRIBUTIONS[dist][1] == "log"
    if log and lower <= 0:
        chk.error(where + ".min", chk.line_of(spec, "min"), f"a {dist} prior needs min > 0, got {lower:g}")
        ok = False
    required = DISTRIBUTIONS[dist][0]
    shape = {}
    for key in required:
        v = chk.number(spec, key, f"{where}.{key}", positive=key in ("sd", "log_sd", "alpha", "beta", "median"))
        if v is None:
            ok = False
        shape[key] = v
    for key in PRIOR_KEYS[3:]:
        if key in spec and key not in required:
            chk.error(f"{where}.{key}", chk.line_of(spec, key),
                      f"not used by a {dist} prior (it takes min, max{''.join(', ' + k for k in required)})")
    return Prior(dist, lower, upper, shape) if ok else None


def _targets(chk: _Checker, section, role: str, check_statistic):
    out = []
    where0 = f"{role}_targets"
    if section is None:
        return out
    for name, spec in section.items():
        where = f"{where0}.{name}"
        if not isinstance(spec, dict):
            chk.error(where, chk.line_of(section, name), f"expected a mapping, got {_kind(spec)}")
            continue
        chk.unknown_keys(spec, CAL_TARGET_KEYS if role == "calibration" else VAL_TARGET_KEYS, where)
        source = chk.text(spec, "source", where + ".source")
        statistic = chk.mapping(spec, "statistic", where + ".statistic")
        if statistic is not None:
            for e in check_statistic(statistic):
                chk.error(where + ".statistic", chk.line_of(spec, "statistic"), e)
        unit = chk.text(spec, "unit", where + ".unit", required=False)
        description = chk.text(spec, "description", where + ".description", required=False)
        if role == "validation" and ("fact" in spec or "condition" in spec):
            fact = chk.text(spec, "fact", where + ".fact")
            for key in ("observed", "sd"):
                if key in spec:
                    chk.error(f"{where}.{key}", chk.line_of(spec, key),
                              "a qualitative target (fact and condition) has no observed value or sd")
            cond = chk.mapping(spec, "condition", where + ".condition")
            condition = None
            if cond is not None:
                chk.unknown_keys(cond, CONDITIONS, where + ".condition")
                keys = [k for k in CONDITIONS if k in cond]
                if len(keys) != 1:
                    chk.error(where + ".condition", chk.line_of(spec, "condition"),
                              "expected exactly one of greater_than: X, less_than: X, between: [LOW, HIGH]")
                elif keys[0] == "between":
                    b = cond["between"]
                    if (not isinstance(b, list) or len(b) != 2 or
                            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b) or b[0] > b[1]):
                        chk.error(where + ".condition.between", chk.line_of(cond, "between"),
                                  f"expected [LOW, HIGH] with LOW <= HIGH, got {b!r}")
                    else:
                        condition = {"between": [float(b[0]), float(b[1])]}
                else:
                    v = chk.number(cond, keys[0], f"{where}.condition.{keys[0]}")
                    condition = None if v is None else {keys[0]: v}
            p = chk.number(spec, "min_probability", where + ".min_probability", required=False, default=0.9,
                           low=0.5, high=1.0)
            if fact and condition and statistic is not None and source:
                out.append(Target(name, role, dict(statistic), source, fact=fact, condition=condition,
                                  min_probability=p, unit=unit, description=description))
            continue
        if role == "validation" and "min_probability" in spec:
            chk.error(where + ".min_probability", chk.line_of(spec, "min_probability"),
                      "only qualitative targets (fact and condition) take min_probability")
        observed = chk.number(spec, "observed", where + ".observed")
        sd = chk.number(spec, "sd", where + ".sd", positive=True)
        disc = chk.number(spec, "discrepancy_sd", where + ".discrepancy_sd", required=False, default=0.0,
                          nonnegative=True)
        if None not in (observed, sd, statistic) and source:
            out.append(Target(name, role, dict(statistic), source, observed=observed, sd=sd,
                              discrepancy_sd=disc or 0.0, unit=unit, description=description))
    return out


def _settings(chk: _Checker, doc, key, cls, rules):
    section = chk.mapping(doc, key, key, required=False)
    if section is None:
        return cls()
    chk.unknown_keys(section, tuple(rules), key)
    values = {}
    for name, rule in rules.items():
        if name not in section:
            continue
        if rule[0] == "choice":
            v = section[name]
            if v not in rule[1]:
                chk.error(f"{key}.{name}", chk.line_of(section, name),
                          f"expected one of {', '.join(rule[1])}, got {v!r}")
            else:
                values[name] = v
            continue
        kind, low, high = rule
        v = chk.number(section, name, f"{key}.{name}", integer=kind == "int", low=low, high=high)
        if v is not None:
            values[name] = v
    return cls(**values)


def load_problem(path: str, check_statistic=None) -> Problem:
    """Reads and validates a problem file. Raises ProblemError listing every error found. `check_statistic`
    (statistic mapping -> list of error strings) checks the statistics against the simulator; by default the
    one of the simulator kind named in the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise ProblemError([f"{path}: cannot read the problem file: {e.strerror}"]) from None
    text = raw.decode("utf-8", errors="replace")
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise ProblemError([f"{path}:{line}: not valid YAML: {getattr(e, 'problem', None) or e}"]) from None
    chk = _Checker(path)
    if not isinstance(doc, dict):
        raise ProblemError([f"{path}:1: expected a mapping with keys {', '.join(TOP_KEYS)}"])
    chk.unknown_keys(doc, TOP_KEYS, "")

    name = chk.text(doc, "name", "name")
    description = chk.text(doc, "description", "description", required=False)
    seed = chk.number(doc, "seed", "seed", required=False, default=1, integer=True, low=0, high=2**63 - 1)

    simulator = chk.mapping(doc, "simulator", "simulator") or {}
    if check_statistic is None:
        from .simulators import statistic_checker
        check_statistic, sim_errors = statistic_checker(simulator)
        for e in sim_errors:
            chk.error("simulator", chk.line_of(doc, "simulator"), e)

    parameters = []
    section = chk.mapping(doc, "parameters", "parameters")
    if section is not None:
        if not section:
            chk.error("parameters", chk.line_of(doc, "parameters"), "no parameter to fit")
        for pname, spec in section.items():
            where = f"parameters.{pname}"
            if not isinstance(spec, dict):
                chk.error(where, chk.line_of(section, pname),
                          f"expected a mapping with prior and source, got {_kind(spec)}")
                continue
            chk.unknown_keys(spec, PARAMETER_KEYS, where)
            if "prior" not in spec:
                chk.error(where, chk.line_of(section, pname),
                          "no prior: every fitted parameter needs prior: {distribution, min, max, ...}")
                prior = None
            else:
                prior_spec = chk.mapping(spec, "prior", where + ".prior")
                prior = _prior(chk, prior_spec, where + ".prior") if prior_spec is not None else None
            if "source" not in spec or not str(spec.get("source") or "").strip():
                chk.error(where, chk.line_of(section, pname),
                          "no source: every fitted parameter names where its prior comes from "
                          "(a paper, survey or programme document; 'assumption: ...' with the reasoning)")
                source = ""
            else:
                source = chk.text(spec, "source", where + ".source")
            unit = chk.text(spec, "unit", where + ".unit", required=False)
            desc = chk.text(spec, "description", where + ".description", required=False)
            if prior is not None and source:
                parameters.append(Parameter(str(pname), prior, source, unit, desc))

    cal_section = chk.mapping(doc, "calibration_targets", "calibration_targets")
    calibration = _targets(chk, cal_section, "calibration", check_statistic or (lambda s: []))
    for t in (cal_section or {}).values():
        if isinstance(t, dict) and ("fact" in t or "condition" in t):
            chk.error("calibration_targets", chk.line_of(cal_section),
                      "qualitative facts (fact, condition) are validation targets, never fitted")
            break
    val_section = chk.mapping(doc, "validation_targets", "validation_targets", required=False)
    validation = _targets(chk, val_section, "validation", check_statistic or (lambda s: []))
    for tname in set(cal_section or {}) & set(val_section or {}):
        chk.error(f"validation_targets.{tname}", chk.line_of(val_section, tname),
                  "also a calibration target: a target is used for fitting or for validation, not both")

    hm = _settings(chk, doc, "history_matching", HistoryMatchingSettings, {
        "waves": ("int", 1, 20), "design_points": ("int", 0, 100000), "seeds_per_point": ("int", 1, 1000),
        "cutoff": ("float", 1.0, 10.0), "measure": ("choice", ("max", "second_max")),
        "candidates": ("int", 100, 10_000_000), "emulator_mean": ("choice", ("constant", "linear")),
        "restarts": ("int", 0, 50), "holdout": ("float", 0.0, 0.5), "stop_variance_ratio": ("float", 0.0, 1.0)})
    mcmc = _settings(chk, doc, "mcmc", McmcSettings, {
        "walkers": ("int", 0, 10000), "steps": ("int", 10, 10_000_000), "burn": ("int", 0, 10_000_000),
        "draws": ("int", 10, 10_000_000)})
    predictive = _settings(chk, doc, "predictive", PredictiveSettings, {
        "draws": ("int", 2, 1_000_000), "level": ("float", 0.5, 0.999)})
    if mcmc.burn >= mcmc.steps:
        chk.error("mcmc.burn", chk.line_of(doc.get("mcmc") or doc, "burn"),
                  f"burn-in ({mcmc.burn}) must be shorter than the chain ({mcmc.steps} steps)")
    if hm.measure == "second_max" and len(calibration) < 3:
        chk.error("history_matching.measure", chk.line_of(doc.get("history_matching") or doc, "measure"),
                  "second_max needs at least 3 calibration targets")

    # The honesty rules: fewer fitted parameters than calibration targets.
    n_par = len(section or {}) if isinstance(section, dict) else 0
    n_cal = len(cal_section or {}) if isinstance(cal_section, dict) else 0
    if section and cal_section is not None and n_par >= n_cal:
        chk.error("parameters", chk.line_of(doc, "parameters"),
                  f"{n_par} fitted parameters for {n_cal} calibration targets: fit fewer parameters than "
                  "there are calibration targets (with as many parameters as targets any targets can be "
                  "matched exactly and the fit says nothing); fix some parameters at sourced values or add "
                  "calibration targets (validation targets never count)")
    if chk.errors:
        raise ProblemError(chk.errors)
    lines = {key: chk.line_of(doc, key) for key in doc}
    for key, sec in (("parameters", section), ("calibration_targets", cal_section),
                     ("validation_targets", val_section), ("simulator", simulator)):
        for sub in (sec or {}):
            lines[f"{key}.{sub}"] = chk.line_of(sec, sub)
    return Problem(path=path, text=text, sha256=hashlib.sha256(raw).hexdigest(), name=name,
                   description=description, seed=seed, simulator=dict(simulator), parameters=parameters,
                   calibration=calibration, validation=validation, history_matching=hm, mcmc=mcmc,
                   predictive=predictive, lines=lines)
