"""Load a chacra sweep file (``chacra sweep``, docs/output.md "Sweep") into tidy pandas frames.

    >>> from chacra_analysis import ChacraSweep
    >>> with ChacraSweep("transfer_takeup.h5") as s:
    ...     s.design                       # one row per point: point, role, the parameters' values
    ...     s.effects("poverty_headcount")  # one row per point x arm: the parameters, the effect and its interval
    ...     s.aggregates(["poor"])          # one row per point x arm x replicate x period
    ...     s.sensitivity()                # Sobol indices or Morris effects, one row per effect x parameter

Every frame carries the parameters' values as columns (named as the parameters), so that
``frame.pivot_table(index="juntos.transfer_pen", columns="arm", values="mean_effect")`` works at once.
"""

from __future__ import annotations

import os
from typing import Sequence

import h5py
import numpy as np
import pandas as pd

from .loader import ChacraFileError, _Layout, _plain, _strings, _as_list

__all__ = ["ChacraSweep", "load_sweep_effects", "SENSITIVITY_COLUMNS"]

# Columns of the sensitivity table, in the order of `chacra sweep --format csv`.
SENSITIVITY_COLUMNS = ["arm", "reference", "outcome", "subgroup", "statistic", "unit", "parameter", "method", "first",
                       "first_low", "first_high", "total", "total_low", "total_high", "mu", "mu_star", "mu_star_low",
                       "mu_star_high", "sigma"]


class _SweepLayout:
    """The sweep's paths (docs/output.md, "Sweep"), as sim/output/layout.hpp spells them."""

    SWEEP = "sweep"
    PARAMETERS = "sweep/parameters"
    VALUES = "sweep/values"
    UNIT = "sweep/unit_coordinates"
    POINTS = "sweep/points"
    RANGES = "sweep/ranges"
    AGGREGATES = "sweep/aggregates"
    COMPARISON = "sweep/comparison"
    SENSITIVITY = "sweep/sensitivity"
    LISTS = ("arms", "notes")  # per-file lists of a records group, not columns


def _records(group: h5py.Group) -> pd.DataFrame:
    """A records group (parallel one-dimensional datasets) as a frame, with its attributes and lists."""
    columns = {}
    n = None
    for name, ds in group.items():
        if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or name in _SweepLayout.LISTS:
            continue
        if h5py.check_string_dtype(ds.dtype) is not None or ds.dtype.kind in "SOU":
            columns[name] = np.array(_strings(ds), dtype=object)
        else:
            columns[name] = ds[()]
        n = len(columns[name]) if n is None else n
    df = pd.DataFrame(columns)
    df.attrs.update({k: _plain(v) for k, v in group.attrs.items()})
    for name in _SweepLayout.LISTS:
        if name in group:
            df.attrs[name] = _strings(group[name])
    return df


class ChacraSweep:
    """A chacra sweep file opened read-only. Close it with ``close()`` or use it in a ``with`` block."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise ChacraFileError(f"{self.path}: no such file")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            raise ChacraFileError(f"{self.path}: not an HDF5 file ({e})") from e
        if _SweepLayout.VALUES not in self._f:
            self._f.close()
            raise ChacraFileError(f"{self.path}: not a sweep file (no /sweep): written by chacra sweep?")
        self.parameters = _strings(self._f[_SweepLayout.PARAMETERS])
        self.arms = _strings(self._f[_Layout.ARM_NAMES])
        self.periods = _strings(self._f[_Layout.PERIODS])
        self.values = self._f[_SweepLayout.VALUES][()]
        self.attrs = {k: _plain(v) for k, v in self._f[_SweepLayout.SWEEP].attrs.items()}

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "ChacraSweep":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<ChacraSweep {self.path}: {self.attrs.get('design')} design, {len(self.values)} points over "
                f"{', '.join(self.parameters)}; arms {', '.join(self.arms)}>")

    @property
    def points(self) -> int:
        return len(self.values)

    @property
    def design(self) -> pd.DataFrame:
        """One row per point: point, role, row, step, moved (the parameter a Saltelli or Morris point moves, or
        ""), and one column per parameter with its value."""
        roles = _records(self._f[_SweepLayout.POINTS])
        df = pd.DataFrame({"point": np.arange(self.points)})
        df["role"] = roles["role"].to_numpy()
        df["row"] = roles["row"].to_numpy()
        df["step"] = roles["step"].to_numpy()
        df["moved"] = [self.parameters[int(i)] if i >= 0 else "" for i in roles["parameter"].to_numpy()]
        for k, name in enumerate(self.parameters):
            df[name] = self.values[:, k]
        df.attrs.update(self.attrs)
        return df

    def ranges(self) -> pd.DataFrame:
        """One row per parameter: parameter, kind, minimum, maximum."""
        return _records(self._f[_SweepLayout.RANGES])

    def _with_values(self, df: pd.DataFrame) -> pd.DataFrame:
        points = df["point"].to_numpy().astype(np.int64)
        for k, name in enumerate(self.parameters):
            df.insert(1 + k, name, self.values[points, k])
        return df

    def comparison(self) -> pd.DataFrame:
        """The comparison of every point: point, the parameters' values, then the columns of
        ``chacra compare --format json``."""
        if _SweepLayout.COMPARISON not in self._f:
            raise ChacraFileError(f"{self.path}: the sweep has no comparison (its scenario wrote no panel)")
        df = _records(self._f[_SweepLayout.COMPARISON])
        rest = [c for c in df.columns if c != "point"]
        df = df[["point"] + rest].copy()
        df["point"] = df["point"].astype(np.int64)
        return self._with_values(df)

    def effects(self, outcome: str, statistic: str = "final_year", subgroup: str = "all") -> pd.DataFrame:
        """One row per point and arm (but the reference): the parameters' values, mean_effect, ci_low, ci_high,
        unit, for one outcome and statistic of the comparison."""
        df = self.comparison()
        sel = df[(df["outcome"] == outcome) & (df["statistic"] == statistic) & (df["subgroup"] == subgroup)]
        if sel.empty:
            known = sorted(set(df["outcome"]))
            raise ChacraFileError(f"{self.path}: no effect {outcome} ({statistic}, {subgroup}); outcomes: "
                                  f"{', '.join(known)}")
        return sel[["point"] + self.parameters + ["arm", "reference", "mean_effect", "ci_low", "ci_high", "unit",
                                                  "n_replicates"]].reset_index(drop=True)

    def sensitivity(self) -> pd.DataFrame:
        """Sobol indices (method sobol: first, total and their intervals) or Morris effects (method morris: mu,
        mu_star and its interval, sigma), one row per (arm, outcome, subgroup, statistic, parameter); the notes
        (effects without an index and why) are in ``frame.attrs["notes"]``."""
        df = _records(self._f[_SweepLayout.SENSITIVITY])
        first = [c for c in SENSITIVITY_COLUMNS if c in df.columns]
        return df[first + [c for c in df.columns if c not in first]]

    def aggregates(self, variables: str | Sequence[str] | None = None,
                   arms: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The household means per period of every point, arm and replicate as a long frame: point, the
        parameters' values, arm, replicate, period, one column per variable (one per label for a variable with
        a width)."""
        g = self._f[_SweepLayout.AGGREGATES]
        names = _as_list(variables) or sorted(g.keys())
        missing = [v for v in names if v not in g]
        if missing:
            raise ChacraFileError(f"{self.path}: no aggregate {', '.join(missing)}; the sweep has: "
                                  f"{', '.join(sorted(g.keys()))}")
        arm_list = _as_list(arms) or list(self.arms)
        unknown = [a for a in arm_list if a not in self.arms]
        if unknown:
            raise ChacraFileError(f"{self.path}: no arm {', '.join(unknown)}; arms: {', '.join(self.arms)}")
        arm_idx = [self.arms.index(a) for a in arm_list]
        P, _, R, T = g[names[0]].shape[:4]
        grid = np.meshgrid(np.arange(P), np.array(arm_idx), np.arange(R), np.arange(T), indexing="ij")
        df = pd.DataFrame({
            "point": grid[0].ravel(),
            "arm": np.array(self.arms, dtype=object)[grid[1].ravel()],
            "replicate": grid[2].ravel(),
            "period": np.array(self.periods, dtype=object)[grid[3].ravel()],
        })
        for name in names:
            block = g[name][()][:, arm_idx]
            if block.ndim == 4:
                df[name] = block.ravel()
            else:
                labels = _text_labels(g[name], block.shape[-1])
                for k, label in enumerate(labels):
                    df[f"{name}.{label}"] = block[..., k].ravel()
        df.attrs["arms"] = list(self.arms)
        df.attrs["periods"] = list(self.periods)
        return self._with_values(df)


def _text_labels(ds: h5py.Dataset, width: int) -> list[str]:
    raw = _plain(ds.attrs.get(_Layout.LABELS, ""))
    labels = [s for s in str(raw).split(",") if s] if raw else []
    return labels if len(labels) == width else [str(k) for k in range(width)]


def load_sweep_effects(path, outcome: str, statistic: str = "final_year", subgroup: str = "all") -> pd.DataFrame:
    """``ChacraSweep(path).effects(...)``: one effect at every point and arm."""
    with ChacraSweep(path) as s:
        return s.effects(outcome, statistic, subgroup)
