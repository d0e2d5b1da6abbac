"""chacra from Python: load a scenario, run it (or a sweep over its parameters) on the C++ engine, and read the
results as pandas frames (docs/python.md).

    import chacra
    s = chacra.Scenario.load("configs/sequencing.yaml")
    r = chacra.run(s, set={"juntos.transfer_pen": 250, "population.households": 2000}, threads=2)
    r.comparison()                    # effects of every arm against the reference arm, with intervals
    r.aggregates(["poor"])            # household means per arm x replicate x period
    sw = chacra.sweep(s, vary={"juntos.transfer_pen": (100, 400, 4)}, set={"population.households": 1000})
    sw.effects("poverty_headcount")   # the effect of each arm at each point

Scenarios are validated as by the command line, and bad input raises chacra.InputError (a ValueError) with the
same message. The engine runs with the GIL released, on `threads` threads (0: all cores), and gives the same bits
as `chacra run` with the same scenario and settings.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Callable, Mapping, Sequence

from . import _chacra
from ._chacra import InputError, Scenario, parameters as _parameters, version

try:  # the analysis toolkit reads the files; found on PYTHONPATH, else in this build's source tree
    import chacra_analysis  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the module was put on the path
    from ._paths import ANALYSIS_DIR

    sys.path.insert(0, ANALYSIS_DIR)
from chacra_analysis import ChacraOutput, ChacraSweep  # noqa: E402

import pandas as pd  # noqa: E402

__all__ = ["InputError", "Scenario", "Result", "SweepResult", "run", "sweep", "parameters", "version"]


def _settings(values: Mapping[str, object] | None) -> list[str]:
    """NAME=VALUE texts, as --set takes them (booleans as true/false, lists comma-separated)."""
    out = []
    for name, value in (values or {}).items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = repr(float(value))  # shortest text that reads back as the same double
        elif isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        out.append(f"{name}={text}")
    return out


def _number(v) -> str:
    """A bound as --vary reads it: whole numbers as such, reals as the shortest text of the same double."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _output(output: str | os.PathLike | None, name: str, suffix: str) -> tuple[str, str | None]:
    if output is not None:
        return os.fspath(output), None
    tmp = tempfile.mkdtemp(prefix="chacra_")
    return os.path.join(tmp, f"{name}{suffix}.h5"), tmp


def _scenario(scenario: Scenario | str | os.PathLike | None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    return Scenario.load(None if scenario is None else os.fspath(scenario))


def parameters() -> pd.DataFrame:
    """Every parameter of the registry: name, type, default, min, max, choices, unit, description, source."""
    return pd.DataFrame(_parameters())


class Result:
    """A finished run: its HDF5 file and frames read from it (chacra_analysis.ChacraOutput)."""

    def __init__(self, path: str, summary: dict):
        self.path = path
        self.summary = summary

    def __repr__(self) -> str:
        return (f"<chacra.Result {self.path}: {self.summary['households']} households, "
                f"{self.summary['seconds']:.1f} s on {self.summary['threads']} threads>")

    def open(self) -> ChacraOutput:
        """The file for any of ChacraOutput's frames (panel, population...); close it when done."""
        return ChacraOutput(self.path)

    def comparison(self) -> pd.DataFrame | None:
        """Effects of every arm against the reference arm (the columns of chacra compare --format json)."""
        with ChacraOutput(self.path) as out:
            return out.comparison()

    def aggregates(self, variables=None, arms=None, replicates=None, periods=None) -> pd.DataFrame:
        """Household means per arm x replicate x period."""
        with ChacraOutput(self.path) as out:
            return out.aggregates(variables, arms, replicates, periods)

    def panel(self, variables=None, arms=None, replicates=None, periods=None, households=None) -> pd.DataFrame:
        """The household panel as a long frame (select what you need: it can be large)."""
        with ChacraOutput(self.path) as out:
            return out.panel(variables, arms, replicates, periods, households)

    def effects(self, outcome: str, statistic: str = "final_year", subgroup: str = "all") -> pd.DataFrame:
        """One outcome's effect per arm: arm, mean_effect, ci_low, ci_high, unit."""
        c = self.comparison()
        if c is None:
            raise InputError(f"{self.path} has no comparison (its scenario wrote no panel)")
        sel = c[(c["outcome"] == outcome) & (c["statistic"] == statistic) & (c["subgroup"] == subgroup)]
        return sel[["arm", "reference", "mean_effect", "ci_low", "ci_high", "unit"]].reset_index(drop=True)

    def effects_by_period(self) -> pd.DataFrame | None:
        """Every outcome's effect in each output period with its interval (chacra compare --by period): the
        comparison's columns plus period; None for a run that stored no comparison."""
        with ChacraOutput(self.path) as out:
            return out.comparison_by_period()

    def reach(self, arms=None, replicates=None) -> pd.DataFrame:
        """The reach funnel of each arm and replicate: module, item (eligible, selected, offered, participants,
        ...), description, unit, value (docs/policy_arms.md, "Reach")."""
        with ChacraOutput(self.path) as out:
            return out.reach(arms, replicates)

    def economies(self, arms=None, replicates=None) -> pd.DataFrame:
        """The local economies of each arm and replicate (the local markets channel): one row per economy and
        clearing period with its prices, wage index, demand, supply, leakage and outside trade (docs/output.md,
        "Local economies"); empty when the run had no local markets."""
        with ChacraOutput(self.path) as out:
            return out.economies(arms, replicates)

    def provenance(self) -> dict:
        with ChacraOutput(self.path) as out:
            return out.provenance()


class SweepResult:
    """A finished sweep: its HDF5 file and frames read from it (chacra_analysis.ChacraSweep)."""

    def __init__(self, path: str, summary: dict):
        self.path = path
        self.summary = summary

    def __repr__(self) -> str:
        return f"<chacra.SweepResult {self.path}: {self.summary['points']} points, {self.summary['seconds']:.1f} s>"

    def open(self) -> ChacraSweep:
        return ChacraSweep(self.path)

    @property
    def design(self) -> pd.DataFrame:
        with ChacraSweep(self.path) as s:
            return s.design

    def effects(self, outcome: str, statistic: str = "final_year", subgroup: str = "all") -> pd.DataFrame:
        with ChacraSweep(self.path) as s:
            return s.effects(outcome, statistic, subgroup)

    def comparison(self) -> pd.DataFrame:
        with ChacraSweep(self.path) as s:
            return s.comparison()

    def aggregates(self, variables=None, arms=None) -> pd.DataFrame:
        with ChacraSweep(self.path) as s:
            return s.aggregates(variables, arms)

    def sensitivity(self) -> pd.DataFrame:
        with ChacraSweep(self.path) as s:
            return s.sensitivity()


def run(scenario: Scenario | str | None = None, set: Mapping[str, object] | None = None,  # noqa: A002
        output: str | os.PathLike | None = None, threads: int = 0, force: bool = False,
        progress: Callable[[int, int], None] | None = None) -> Result:
    """Runs every arm and replicate of the scenario (a Scenario, a path, or None for the built-in default) with
    `set` overrides ({"juntos.transfer_pen": 250, "arms.both.coaching.enabled": True}), into `output` (default: a
    new temporary directory). `progress(done, total)` is called with household-months about twice a second."""
    s = _scenario(scenario)
    path, _ = _output(output, s.name, "")
    summary = _chacra.run(s, _settings(set), path, threads=threads, force=force, progress=progress)
    return Result(path, summary)


def sweep(scenario: Scenario | str | None = None, vary: Mapping[str, Sequence[float]] | None = None,
          design: str | os.PathLike | None = None, set: Mapping[str, object] | None = None,  # noqa: A002
          output: str | os.PathLike | None = None, threads: int = 0, force: bool = False, resume: bool = False,
          reference: str = "", bootstrap: int = 1000,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Runs the scenario at every point of a design: `vary` {NAME: (FROM, TO, POINTS)} for a full grid (as
    --vary NAME=FROM:TO:POINTS), or a design file (docs/sensitivity.md). Every point runs every arm and replicate
    on the same populations and random numbers; the result holds the design, every point's comparison and
    aggregates, and the sensitivity indices of a Saltelli or Morris design."""
    s = _scenario(scenario)
    texts = []
    for name, spec in (vary or {}).items():
        if len(spec) != 3:
            raise InputError(f"vary['{name}'] must be (FROM, TO, POINTS), got {spec!r}")
        lo, hi, n = spec
        texts.append(f"{name}={_number(lo)}:{_number(hi)}:{int(n)}")
    path, _ = _output(output, s.name, "_sweep")
    summary = _chacra.sweep(s, _settings(set), texts, "" if design is None else os.fspath(design), path,
                            threads=threads, force=force, resume=resume, reference=reference, bootstrap=bootstrap,
                            progress=progress)
    return SweepResult(path, summary)
