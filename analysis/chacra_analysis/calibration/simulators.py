"""Simulators behind the calibration, all with one interface, simulate(params, seed) -> {target: value}: the
chacra executable (`chacra evaluate` and/or `chacra run`, one subprocess per call) and Python functions (the
toy models of the tests); and the batch runner that spreads calls over all cores or MPI ranks."""

from __future__ import annotations

import concurrent.futures as cf
import difflib
import importlib
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import numpy as np


class SimulatorError(RuntimeError):
    """A simulator call that failed: the message names the parameter set, the seed and the cause."""


def _load_callable(spec: str, base_dir: str | None = None, path: str | None = None):
    """'package.module:function' -> the function; `path` (relative to base_dir) is put on sys.path first."""
    if path:
        full = path if os.path.isabs(path) else os.path.join(base_dir or ".", path)
        if full not in sys.path:
            sys.path.insert(0, full)
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"expected 'module:function', got {spec!r}")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{spec} is not callable")
    return obj


def _check_keys(spec: dict, allowed: tuple, required: tuple, what: str) -> list[str]:
    errors = []
    for key in spec:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else f" (expected one of: {', '.join(allowed)})"
            errors.append(f"{what}: unknown key '{key}'{hint}")
    for key in required:
        if key not in spec:
            errors.append(f"{what}: missing key '{key}'")
    return errors


def _check_common(config: dict) -> list[str]:
    errors = []
    w = config.get("workers")
    if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
        errors.append(f"simulator.workers: expected a whole number >= 1, got {w!r}")
    if config.get("on_failure", "error") not in ("error", "skip"):
        errors.append(f"simulator.on_failure: expected error or skip, got {config['on_failure']!r}")
    return errors


def _finite(value, target: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SimulatorError(f"target {target}: the simulator gave {value!r}, not a number") from None
    if not math.isfinite(v):
        raise SimulatorError(f"target {target}: the simulator gave {v}, not a finite number")
    return v


class Simulator:
    """simulate(params, seed) -> {target name: value} for the targets it was built with. `parallel` says how
    calls run side by side: 'thread' (each call is a subprocess) or 'process' (each call is Python work)."""

    parallel = "thread"
    threads_per_call = 1

    def __init__(self, targets):
        self.targets = list(targets)

    def __call__(self, params: dict, seed: int) -> dict:
        raise NotImplementedError

    def check_parameters(self, problem) -> list[str]:
        """Errors in the fitted parameters against what the simulator accepts (none by default)."""
        return []

    def provenance(self) -> dict:
        return {}

    def with_targets(self, targets) -> "Simulator":
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.targets = list(targets)
        return clone


# ---------------------------------------------------------------------------------------------------------
# Python functions: f(params, seed, **options) -> {output: value}; a target's statistic is {kind: output, name}.

class PythonSimulator(Simulator):
    parallel = "process"
    CONFIG_KEYS = ("kind", "function", "path", "options", "workers", "on_failure")

    def __init__(self, config: dict, targets, base_dir: str | None = None):
        super().__init__(targets)
        self.spec = config["function"]
        self.path = config.get("path")
        self.base_dir = base_dir
        self.options = dict(config.get("options") or {})
        self._fn = None

    @staticmethod
    def check_config(config: dict) -> list[str]:
        errors = _check_keys(config, PythonSimulator.CONFIG_KEYS, ("function",), "simulator")
        if "function" in config:
            try:
                _load_callable(str(config["function"]), None, config.get("path"))
            except Exception as e:  # noqa: BLE001 - any import failure is reported the same way
                errors.append(f"simulator.function: cannot load {config['function']!r}: {e}")
        if "options" in config and not isinstance(config["options"], dict):
            errors.append("simulator.options: expected a mapping of keyword arguments")
        return errors + _check_common(config)

    @staticmethod
    def check_statistic(spec: dict) -> list[str]:
        errors = _check_keys(spec, ("kind", "name"), ("kind", "name"), "statistic")
        if spec.get("kind") not in (None, "output"):
            errors.append(f"statistic.kind: a Python simulator gives outputs by name: expected 'output', got "
                          f"{spec.get('kind')!r}")
        return errors

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_fn"] = None
        return state

    def __call__(self, params: dict, seed: int) -> dict:
        if self._fn is None:
            self._fn = _load_callable(self.spec, self.base_dir, self.path)
        out = self._fn(dict(params), int(seed), **self.options)
        values = {}
        for t in self.targets:
            key = t.statistic["name"]
            if key not in out:
                raise SimulatorError(f"target {t.name}: {self.spec} gave no output '{key}' (it gave "
                                     f"{', '.join(sorted(out))})")
            values[t.name] = _finite(out[key], t.name)
        return values

    def provenance(self) -> dict:
        return {"kind": "python", "function": self.spec, "options": self.options}


# ---------------------------------------------------------------------------------------------------------
# The chacra executable.

_MPI_ENV_PREFIXES = ("OMPI_", "PMIX_", "PMI_", "MPI_LOCALNRANKS", "MPI_LOCALRANKID", "HYDRA_", "I_MPI_")


def _child_environment() -> dict:
    """The environment of a chacra child process: MPI's variables removed and CHACRA_MPI=0, so a chacra built
    with MPI runs serially even when the calibration itself runs under mpiexec."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_MPI_ENV_PREFIXES)}
    env["CHACRA_MPI"] = "0"
    return env


def chacra_version(executable: str) -> dict:
    """{'version': '0.1.0', 'commit': 'de2571c06d5a'} from `chacra --version` (empty strings if unknown)."""
    try:
        res = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return {"version": "", "commit": ""}
    text = res.stdout.strip()
    parts = text.split()
    version = parts[1] if len(parts) > 1 else ""
    commit = text.split("commit", 1)[1].strip(" )") if "commit" in text else ""
    return {"version": version, "commit": commit, "text": text}


@dataclass
class _Run:
    command: str  # "evaluate" or "run"


class ChacraSimulator(Simulator):
    """Runs `chacra evaluate` (statistics of kind evaluate) and/or `chacra run` (kinds aggregate, panel) with
    the parameter set as --set overrides and the given seed, in a private temporary directory, and computes
    every target's statistic. One call uses `threads_per_run` threads; the batch runner starts as many calls
    at once as there are cores for them."""

    parallel = "thread"
    CONFIG_KEYS = ("kind", "executable", "evaluate_scenario", "run_scenario", "replicates", "threads_per_run",
                   "set", "timeout_s", "on_failure", "workers")
    STATISTICS = {
        "evaluate": (("kind", "outcome", "field"), ("kind", "outcome")),
        "aggregate": (("kind", "variable", "arm", "period", "label"), ("kind", "variable", "arm")),
        "panel": (("kind", "variable", "arm", "period", "label", "reduce", "q", "threshold"),
                  ("kind", "variable", "arm", "reduce")),
        "function": (("kind", "function", "needs", "options"), ("kind", "function", "needs")),
    }
    REDUCE = ("mean", "quantile", "share_above", "share_below")

    def __init__(self, config: dict, targets, base_dir: str | None = None):
        super().__init__(targets)
        from ..loader import find_chacra
        exe = config.get("executable")
        if exe and not os.path.isabs(exe) and os.sep in exe:
            exe = os.path.join(base_dir or ".", exe)
        self.executable = find_chacra(exe)
        if self.executable is None:
            raise SimulatorError("no chacra executable: set simulator.executable, $CHACRA_BINARY or put chacra "
                                 "on PATH")
        self.executable = os.path.abspath(self.executable) if os.sep in self.executable else self.executable

        def scenario(key):
            s = config.get(key)
            return None if not s else (s if os.path.isabs(s) else os.path.join(base_dir or ".", s))
        self.evaluate_scenario = scenario("evaluate_scenario")
        self.run_scenario = scenario("run_scenario")
        self.replicates = config.get("replicates")
        self.threads_per_call = int(config.get("threads_per_run", 1))
        self.fixed = {str(k): v for k, v in (config.get("set") or {}).items()}
        self.timeout_s = config.get("timeout_s")

    @staticmethod
    def check_config(config: dict) -> list[str]:
        errors = _check_keys(config, ChacraSimulator.CONFIG_KEYS, (), "simulator") + _check_common(config)
        for key in ("replicates", "threads_per_run"):
            v = config.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                errors.append(f"simulator.{key}: expected a whole number >= 1, got {v!r}")
        if "set" in config and not isinstance(config["set"], dict):
            errors.append("simulator.set: expected a mapping of fixed parameter overrides (key.path: value)")
        t = config.get("timeout_s")
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0):
            errors.append(f"simulator.timeout_s: expected a number of seconds > 0, got {t!r}")
        for key in ("executable", "evaluate_scenario", "run_scenario"):
            if key in config and not isinstance(config[key], str):
                errors.append(f"simulator.{key}: expected a path (relative paths start from the problem file)")
        return errors

    @classmethod
    def check_statistic(cls, spec: dict) -> list[str]:
        kind = spec.get("kind")
        if kind not in cls.STATISTICS:
            near = difflib.get_close_matches(str(kind), list(cls.STATISTICS), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            return [f"statistic.kind: expected one of {', '.join(cls.STATISTICS)}, got {kind!r}{hint}"]
        allowed, required = cls.STATISTICS[kind]
        errors = _check_keys(spec, allowed, required, f"statistic ({kind})")
        if kind == "panel":
            reduce = spec.get("reduce")
            if reduce not in cls.REDUCE:
                errors.append(f"statistic.reduce: expected one of {', '.join(cls.REDUCE)}, got {reduce!r}")
            if reduce == "quantile" and not (isinstance(spec.get("q"), (int, float)) and 0 <= spec["q"] <= 1):
                errors.append("statistic.q: a quantile needs q in [0, 1]")
            if reduce in ("share_above", "share_below") and not isinstance(spec.get("threshold"), (int, float)):
                errors.append(f"statistic.threshold: {reduce} needs a numeric threshold")
        if kind == "function" and spec.get("needs") not in ("evaluate", "run"):
            errors.append(f"statistic.needs: expected evaluate or run, got {spec.get('needs')!r}")
        return errors

    def _needs(self, target) -> str:
        s = target.statistic
        if s["kind"] == "function":
            return s["needs"]
        return "evaluate" if s["kind"] == "evaluate" else "run"

    def check_parameters(self, problem) -> list[str]:
        """Every fitted parameter is a real parameter of chacra's registry, with its prior range inside the
        registry's range."""
        try:
            res = subprocess.run([self.executable, "params", "--format", "json"], capture_output=True, text=True,
                                 timeout=120)
            rows = json.loads(res.stdout)
        except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as e:
            return [f"{problem.where('simulator')}: cannot read the parameter registry with "
                    f"`{self.executable} params --format json`: {e}"]
        registry = {r["name"]: r for r in rows}
        errors = []
        for p in problem.parameters:
            where = problem.where(f"parameters.{p.name}")
            row = registry.get(p.name)
            if row is None:
                near = difflib.get_close_matches(p.name, list(registry), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                errors.append(f"{where}: not a parameter of chacra's registry{hint}")
                continue
            if row["type"] != "real":
                errors.append(f"{where}: a {row['type']} parameter; only real parameters can be fitted")
                continue
            lo, hi = row.get("min"), row.get("max")
            if lo is not None and p.prior.lower < lo or hi is not None and p.prior.upper > hi:
                errors.append(f"{where}: prior range [{p.prior.lower:g}, {p.prior.upper:g}] leaves the registry's "
                              f"range [{lo:g}, {hi:g}]")
        return errors

    def _set_args(self, params: dict) -> list[str]:
        args = []
        for k, v in self.fixed.items():
            text = ("true" if v else "false") if isinstance(v, bool) else str(v)
            args += ["--set", f"{k}={text}"]
        for k, v in params.items():
            args += ["--set", f"{k}={float(v)!r}"]
        return args

    def _run(self, cmd: list[str], params: dict, seed: int) -> subprocess.CompletedProcess:
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s,
                                 env=_child_environment())
        except subprocess.TimeoutExpired:
            raise SimulatorError(f"chacra {cmd[1]} ran past simulator.timeout_s = {self.timeout_s} s at "
                                 f"{_show(params)} (seed {seed})\n  command: {shlex.join(cmd)}") from None
        except OSError as e:
            raise SimulatorError(f"cannot start {cmd[0]}: {e.strerror}") from None
        if res.returncode != 0:
            tail = "\n    ".join(res.stderr.strip().splitlines()[-15:]) or "(nothing on stderr)"
            what = ("refused its input (exit 2: check simulator.set, the scenario and the parameter names)"
                    if res.returncode == 2 else f"failed (exit {res.returncode})")
            raise SimulatorError(f"chacra {cmd[1]} {what} at {_show(params)} (seed {seed})\n"
                                 f"  command: {shlex.join(cmd)}\n  stderr:\n    {tail}")
        return res

    def __call__(self, params: dict, seed: int) -> dict:
        common = ["--quiet", "--seed", str(int(seed)), "--threads", str(self.threads_per_call)]
        if self.replicates:
            common += ["--replicates", str(self.replicates)]
        needs = {self._needs(t) for t in self.targets}
        values = {}
        with tempfile.TemporaryDirectory(prefix="chacra-calibration-") as tmp:
            evaluation = None
            if "evaluate" in needs:
                from ..loader import load_evaluation
                cmd = [self.executable, "evaluate", *([self.evaluate_scenario] if self.evaluate_scenario else []),
                       "--format", "json", *common, *self._set_args(params)]
                res = self._run(cmd, params, seed)
                path = os.path.join(tmp, "evaluate.json")
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(res.stdout)
                evaluation = load_evaluation(path)
            run_path = None
            if "run" in needs:
                run_path = os.path.join(tmp, "run.h5")
                cmd = [self.executable, "run", *([self.run_scenario] if self.run_scenario else []), "-o", run_path,
                       *common, *self._set_args(params)]
                self._run(cmd, params, seed)
            for t in self.targets:
                values[t.name] = _finite(self._statistic(t, evaluation, run_path), t.name)
        return values

    @staticmethod
    def _statistic(target, evaluation, run_path):
        s = target.statistic
        kind = s["kind"]
        if kind == "evaluate":
            rows = evaluation[evaluation["outcome"] == s["outcome"]]
            if rows.empty:
                raise SimulatorError(f"target {target.name}: chacra evaluate has no outcome '{s['outcome']}' "
                                     f"(it has {', '.join(evaluation['outcome'])})")
            field = s.get("field", "model_mean")
            if field not in rows:
                raise SimulatorError(f"target {target.name}: chacra evaluate's rows have no field '{field}'")
            return rows.iloc[0][field]
        if kind == "function":
            fn = _load_callable(s["function"])
            return fn(run_path=run_path, evaluation=evaluation, **(s.get("options") or {}))
        from ..loader import ChacraOutput
        period = s.get("period", -1)
        column = f"{s['variable']}.{s['label']}" if s.get("label") else s["variable"]
        with ChacraOutput(run_path) as out:
            if kind == "aggregate":
                frame = out.aggregates([s["variable"]], arms=[s["arm"]], periods=[period])
                return float(frame[column].mean())  # the mean over replicates of the household mean
            frame = out.panel([s["variable"]], arms=[s["arm"]], periods=[period])
        x = frame[column].to_numpy(dtype=float)
        reduce = s["reduce"]
        if reduce == "mean":
            return float(np.mean(x))
        if reduce == "quantile":
            return float(np.quantile(x, s["q"]))
        if reduce == "share_above":
            return float(np.mean(x > s["threshold"]))
        return float(np.mean(x < s["threshold"]))

    def provenance(self) -> dict:
        info = chacra_version(self.executable)
        return {"kind": "chacra", "executable": self.executable, "chacra_version": info.get("version", ""),
                "chacra_commit": info.get("commit", ""), "evaluate_scenario": self.evaluate_scenario or "",
                "run_scenario": self.run_scenario or "", "replicates": self.replicates or 0,
                "threads_per_run": self.threads_per_call, "set": {k: str(v) for k, v in self.fixed.items()}}


def _show(params: dict) -> str:
    return "{" + ", ".join(f"{k}={v:.6g}" for k, v in params.items()) + "}"


KINDS = {"python": PythonSimulator, "chacra": ChacraSimulator}


def statistic_checker(config: dict):
    """(check_statistic, errors in the simulator section) for the simulator kind named in `config`."""
    kind = config.get("kind")
    if kind not in KINDS:
        near = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return (lambda spec: []), [f"simulator.kind: expected one of {', '.join(KINDS)}, got {kind!r}{hint}"]
    cls = KINDS[kind]
    return cls.check_statistic, cls.check_config(config)


def make_simulator(problem, targets=None) -> Simulator:
    """The problem's simulator for `targets` (default: every calibration and validation target). Checks the
    fitted parameters against it (chacra: the registry); raises ProblemError on a mismatch."""
    from .problem import ProblemError
    cls = KINDS[problem.simulator["kind"]]
    sim = cls(problem.simulator, problem.targets if targets is None else targets, problem.base_dir)
    errors = sim.check_parameters(problem)
    if errors:
        raise ProblemError(errors)
    return sim


# ---------------------------------------------------------------------------------------------------------
# Batches: many (params, seed) calls over all cores, or over MPI ranks; results in input order, so they do
# not depend on the number of workers.

def default_workers(simulator: Simulator) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, simulator.threads_per_call))


def _call(simulator, params, seed):
    try:
        return True, simulator(params, seed)
    except SimulatorError as e:
        text = str(e)
    except Exception as e:  # noqa: BLE001 - a user's simulator may raise anything; report it with the point
        text = f"{type(e).__name__}: {e}"
    if not isinstance(simulator, ChacraSimulator):  # chacra's messages already name the point and the seed
        text = f"simulator failed at {_show(params)} (seed {seed}): {text}"
    return False, text


class Executor:
    """Runs a batch of simulator calls: 'local' (threads for subprocess simulators, processes for Python ones)
    or 'mpi' (mpi4py.futures.MPIPoolExecutor: start with `mpiexec -n N python3 -m mpi4py.futures ...`)."""

    def __init__(self, mode: str = "local", workers: int | None = None):
        if mode not in ("local", "mpi"):
            raise ValueError(f"executor mode: expected local or mpi, got {mode!r}")
        self.mode = mode
        self.workers = workers

    def describe(self, simulator: Simulator) -> dict:
        if self.mode == "mpi":
            from mpi4py import MPI
            return {"mode": "mpi", "workers": max(1, MPI.COMM_WORLD.Get_size() - 1)}
        return {"mode": "local", "workers": self.workers or default_workers(simulator)}

    def map(self, simulator: Simulator, points: list[dict], seeds: list[int]) -> list[tuple[bool, object]]:
        n = len(points)
        if n == 0:
            return []
        if self.mode == "mpi":
            from mpi4py.futures import MPIPoolExecutor
            with MPIPoolExecutor() as pool:
                return list(pool.map(_call, [simulator] * n, points, seeds))
        workers = min(n, self.workers or default_workers(simulator))
        if workers <= 1:
            return [_call(simulator, p, s) for p, s in zip(points, seeds)]
        pool_cls = cf.ThreadPoolExecutor if simulator.parallel == "thread" else cf.ProcessPoolExecutor
        with pool_cls(max_workers=workers) as pool:
            return list(pool.map(_call, [simulator] * n, points, seeds))


def run_batch(simulator: Simulator, points: list[dict], seeds: list[int], executor: Executor,
              on_failure: str = "error") -> tuple[np.ndarray, list[str]]:
    """Values (n × targets, NaN rows where a call failed and on_failure = 'skip') and the failure messages.
    With on_failure = 'error' the first failure raises SimulatorError."""
    results = executor.map(simulator, points, seeds)
    out = np.full((len(points), len(simulator.targets)), np.nan)
    failures = []
    for i, (ok, value) in enumerate(results):
        if ok:
            out[i] = [value[t.name] for t in simulator.targets]
        elif on_failure == "error":
            raise SimulatorError(value)
        else:
            failures.append(value)
    return out, failures
