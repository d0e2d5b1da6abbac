"""The posterior ensemble file (HDF5, format "chacra-posterior" version 1; layout in
docs/calibration_method.md): parameter sets with weights for the planned `chacra run --posterior`, their
central values, the priors and targets, every simulator run, the predictive check, and the provenance."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import h5py
import numpy as np

FORMAT = "chacra-posterior"
FORMAT_VERSION = 1
_STR = h5py.string_dtype("utf-8")


class PosteriorFileError(Exception):
    """A file that is not a readable chacra posterior ensemble; the message says what is wrong."""


def _strings(group, name, values) -> None:
    group.create_dataset(name, data=np.array([str(v) for v in values], dtype=object), dtype=_STR)


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    raise TypeError(f"not serialisable: {type(o).__name__}")


def to_json(obj) -> str:
    return json.dumps(obj, default=_json_default, indent=1, sort_keys=True)


def write_calibration(path: str, result) -> None:
    """Writes `result` (driver.Calibration) to `path`, through path.partial renamed at the end so that a file
    with the final name is always complete. Without a posterior (history matching ruled everything out) the
    file has no /posterior group and `chacra run --posterior` must refuse it."""
    problem = result.problem
    tmp = path + ".partial"
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        prov = result.provenance
        sim = prov.get("simulator", {})
        for key, value in (("problem_name", problem.name), ("problem_sha256", problem.sha256),
                           ("seed", int(problem.seed)), ("chacra_version", sim.get("chacra_version", "")),
                           ("chacra_commit", sim.get("chacra_commit", "")), ("created", prov.get("end_time", ""))):
            f.attrs[key] = value

        pri = f.create_group("prior")
        _strings(pri, "parameter", problem.parameter_names)
        _strings(pri, "distribution", [p.prior.distribution for p in problem.parameters])
        pri["lower"] = np.array([p.prior.lower for p in problem.parameters], dtype=float)
        pri["upper"] = np.array([p.prior.upper for p in problem.parameters], dtype=float)
        _strings(pri, "shape", [json.dumps(p.prior.shape, sort_keys=True) for p in problem.parameters])
        _strings(pri, "source", [p.source for p in problem.parameters])
        _strings(pri, "unit", [p.unit for p in problem.parameters])

        tg = f.create_group("targets")
        ts = problem.targets
        _strings(tg, "name", [t.name for t in ts])
        _strings(tg, "role", [t.role for t in ts])
        _strings(tg, "kind", ["qualitative" if t.qualitative else "quantitative" for t in ts])
        tg["observed"] = np.array([np.nan if t.observed is None else t.observed for t in ts], dtype=float)
        tg["sd"] = np.array([np.nan if t.sd is None else t.sd for t in ts], dtype=float)
        tg["discrepancy_sd"] = np.array([t.discrepancy_sd for t in ts], dtype=float)
        _strings(tg, "condition", [t.describe_condition() for t in ts])
        _strings(tg, "statistic", [json.dumps(t.statistic, sort_keys=True) for t in ts])
        _strings(tg, "source", [t.source for t in ts])

        runs = f.create_group("runs")
        waves = result.history.waves
        if waves:
            runs["wave"] = np.concatenate([np.full(len(w.run_design), w.index, dtype=np.int32) for w in waves])
            U = np.vstack([w.run_design for w in waves])
            runs["design"] = U
            runs["parameters"] = np.column_stack([p.prior.to_value(U[:, j]) for j, p in enumerate(problem.parameters)])
            runs["seed"] = np.concatenate([w.seeds for w in waves]).astype(np.int64)
            runs["outputs"] = np.vstack([w.outputs for w in waves])
            runs["implausibility"] = np.concatenate([w.run_implausibility for w in waves])
        _strings(runs, "output_target", [t.name for t in problem.calibration])

        post = result.posterior
        if post is not None:
            g = f.create_group("posterior")
            _strings(g, "parameter", post.names)
            g.create_dataset("draws", data=post.draws.astype(np.float64))
            g.create_dataset("weight", data=post.weight.astype(np.float64))
            g.create_dataset("log_density", data=post.log_density.astype(np.float64))
            c = g.create_dataset("central", data=post.median.astype(np.float64))
            c.attrs["statistic"] = "weighted posterior median"
            g.create_dataset("map", data=post.map.astype(np.float64))
        pred = result.predictive
        if pred is not None:
            g = f.create_group("predictive")
            g["draw_index"] = pred.draw_index.astype(np.int64)
            g["seed"] = pred.seeds.astype(np.int64)
            g["values"] = pred.values
            _strings(g, "target", [t.name for t in pred.targets])

        pv = f.create_group("provenance")
        pv.create_dataset("json", data=to_json(prov), dtype=_STR)
        pv.create_dataset("problem_yaml", data=problem.text, dtype=_STR)
    os.replace(tmp, path)


@dataclass
class PosteriorFile:
    """What `chacra run --posterior` needs, plus the rest for analysis."""
    parameters: list[str]
    draws: np.ndarray
    weight: np.ndarray
    central: np.ndarray
    log_density: np.ndarray
    map: np.ndarray
    attrs: dict
    provenance: dict
    problem_yaml: str
    targets: dict
    prior: dict
    runs: dict
    predictive: dict

    def central_values(self) -> dict:
        return dict(zip(self.parameters, map(float, self.central)))


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _group(g) -> dict:
    out = {}
    for k, ds in g.items():
        v = ds[()]
        out[k] = [_text(x) for x in v] if ds.dtype.kind == "O" else v
    return out


def read_posterior(path: str) -> PosteriorFile:
    """Reads and checks a posterior file the way the planned `chacra run --posterior` must: the format and version, the
    shapes, unique parameter names, finite draws, weights >= 0 summing to 1."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise PosteriorFileError(f"{path}: cannot open as HDF5: {e}") from None
    with f:
        if _text(f.attrs.get("format", "")) != FORMAT:
            raise PosteriorFileError(f"{path}: not a chacra posterior file (attribute format is "
                                     f"{_text(f.attrs.get('format', '(missing)'))!r}, expected {FORMAT!r})")
        version = int(f.attrs.get("format_version", 0))
        if version != FORMAT_VERSION:
            raise PosteriorFileError(f"{path}: format_version {version}; this reader knows {FORMAT_VERSION}")
        if "posterior" not in f:
            raise PosteriorFileError(f"{path}: no /posterior group: history matching ruled out every parameter "
                                     "set, so the calibration has no ensemble (see /provenance/json)")
        g = f["posterior"]
        names = [_text(x) for x in g["parameter"][()]]
        draws, weight = g["draws"][()], g["weight"][()]
        central, log_density, mp = g["central"][()], g["log_density"][()], g["map"][()]
        errors = []
        if len(set(names)) != len(names):
            errors.append("duplicate parameter names in /posterior/parameter")
        if draws.ndim != 2 or draws.shape[1] != len(names):
            errors.append(f"/posterior/draws has shape {draws.shape}, expected (draws, {len(names)})")
        if weight.shape != (draws.shape[0],):
            errors.append(f"/posterior/weight has shape {weight.shape}, expected ({draws.shape[0]},)")
        elif np.any(weight < 0) or not np.isclose(weight.sum(), 1.0, rtol=0, atol=1e-9):
            errors.append(f"/posterior/weight must be >= 0 and sum to 1 (sum {weight.sum():.12g})")
        if not np.all(np.isfinite(draws)):
            errors.append("/posterior/draws has non-finite values")
        if central.shape != (len(names),):
            errors.append(f"/posterior/central has shape {central.shape}, expected ({len(names)},)")
        if errors:
            raise PosteriorFileError(f"{path}: " + "; ".join(errors))
        attrs = {k: (_text(v) if isinstance(v, (bytes, str)) else v.item() if hasattr(v, "item") else v)
                 for k, v in f.attrs.items()}
        provenance = json.loads(_text(f["provenance/json"][()]))
        problem_yaml = _text(f["provenance/problem_yaml"][()])
        return PosteriorFile(names, draws, weight, central, log_density, mp, attrs, provenance, problem_yaml,
                             _group(f["targets"]), _group(f["prior"]), _group(f["runs"]),
                             _group(f["predictive"]) if "predictive" in f else {})
