"""Load a chacra output file (HDF5, docs/output.md) into tidy pandas frames.

Only what is asked for is read: arms, replicates, periods, households and variables are selected before
reading, and the household panel is read one period at a time with h5py slicing (the panel is chunked one
period by up to 32,768 households, so a period's cross-section touches few chunks).

    >>> from chacra_analysis import ChacraOutput
    >>> with ChacraOutput("default.h5") as out:
    ...     panel = out.panel(["income_monetary_pen", "poor", "tech_state"], arms=["no_programme", "both"],
    ...                       periods=["2020"])
    ...     comparison = out.comparison()

Frames:

- ``panel``: one row per arm x replicate x period x household (in that order), columns ``arm``, ``replicate``,
  ``household``, ``period``, then one column per variable. A variable with a width (one value per technology
  or member slot) becomes one column per label: ``tech_state.vegetable_garden``, ... Values keep the file's
  dtypes (float32 incomes, uint8 indicators).
- ``aggregates``: one row per arm x replicate x period: ``arm``, ``replicate``, ``period``, the household means.
- ``comparison``: the ``/comparison`` table, one row per (arm, outcome, subgroup, statistic); the same
  columns as ``chacra compare --format json``.
- ``households`` / ``centres`` / ``districts``: the population tables, one row per entity and replicate.
- ``provenance``: a dict of the ``/provenance`` attributes plus ``scenario_yaml``.

``arm`` and ``period`` are plain strings; their order (scenario order, time order) is in ``out.arms`` and
``out.periods`` and in ``frame.attrs["arms"]`` / ``frame.attrs["periods"]``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Sequence

import h5py
import numpy as np
import pandas as pd

__all__ = [
    "ChacraFileError",
    "ChacraOutput",
    "COMPARISON_COLUMNS",
    "load_panel",
    "load_aggregates",
    "load_comparison",
    "load_provenance",
    "load_population",
    "load_variables",
    "load_evaluation",
    "compare_json",
    "find_chacra",
    "parameter_share",
    "evaluation_posterior",
]

# Columns of the comparison table, in the order of `chacra compare --format json`.
COMPARISON_COLUMNS = [
    "arm",
    "reference",
    "outcome",
    "subgroup",
    "statistic",
    "mean_effect",
    "ci_low",
    "ci_high",
    "n_replicates",
    "unit",
    "interval",
    "arm_value",
    "reference_value",
    "sd_parameter",
    "sd_sampling",
]


class ChacraFileError(Exception):
    """The file is not a readable chacra output (foreign, truncated, or lacking what was asked for)."""


class _Layout:
    """The file's layout (docs/output.md): the one place in this toolkit that spells its paths and attribute
    names, as sim/output/layout.hpp is in chacra itself. Everything else reads the file through it, and takes
    names, units, descriptions and aggregations from the datasets' own attributes."""

    ARM_NAMES = "arm_names"
    PERIODS = "periods"
    ARMS = "arms"
    POPULATION = "population"
    PROVENANCE = "provenance"
    SCENARIO_YAML = "scenario_yaml"
    COMPARISON = "comparison"
    COMPARISON_BY_PERIOD = "comparison_by_period"  # the effects per period (statistic "period", column period)
    COMPARISON_LISTS = ("arms", "notes")  # per-file lists of /comparison, not columns of its table
    REACH = "reach"  # a unit's reach: records module, item, description, unit, value
    REACH_COLUMNS = ("module", "item", "description", "unit", "value")
    ECONOMIES = "economies"  # a unit's local economies (local markets channel): records, one per economy and period
    ECONOMY_KEYS = ("economy", "district", "centres", "households", "month", "months")
    TABLES = ("households", "centres", "districts")
    # Attributes.
    UNIT = "unit"
    DESCRIPTION = "description"
    LABELS = "labels"
    AGGREGATION = "aggregation"
    ROWS = "rows"
    _REPLICATE = "replicate_"

    @staticmethod
    def arm(arm: str) -> str:
        return f"arms/{arm}"

    @staticmethod
    def unit(arm: str, replicate: int) -> str:
        return f"arms/{arm}/{_Layout._REPLICATE}{replicate}"

    @staticmethod
    def part(arm: str, replicate: int, kind: str) -> str:
        """The panel ("panel") or the aggregates ("aggregates") of one arm x replicate unit."""
        return f"{_Layout.unit(arm, replicate)}/{kind}"

    @staticmethod
    def population(replicate: int, table: str) -> str:
        return f"population/{_Layout._REPLICATE}{replicate}/{table}"

    @staticmethod
    def replicates(group) -> list[int]:
        """Replicate numbers of the replicate_R members of a group, sorted."""
        prefix = _Layout._REPLICATE
        return sorted(int(k[len(prefix):]) for k in group.keys() if k.startswith(prefix) and k[len(prefix):].isdigit())


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _plain(value):
    """An attribute as a plain Python value (str, int, float)."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.ndim else _plain(value[()])
    return value


def _strings(dataset) -> list[str]:
    return [_text(v) for v in dataset[()]]


def _as_list(x) -> list | None:
    if x is None:
        return None
    if isinstance(x, (str, bytes, int, np.integer)):
        return [x]
    return list(x)


class ChacraOutput:
    """A chacra output file opened read-only. Close it with ``close()`` or use it in a ``with`` block."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"{self.path}: no such file")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            raise ChacraFileError(
                f"{self.path} is not a readable HDF5 file (truncated, damaged or another format): {e}"
            ) from None
        f = self._f
        if _Layout.ARM_NAMES not in f or _Layout.PERIODS not in f or _Layout.ARMS not in f:
            self._f.close()
            raise ChacraFileError(
                f"{self.path} is not a chacra output file (no /arm_names, /periods or /arms); it may be "
                "truncated or written by another program"
            )
        try:
            self.arms: list[str] = _strings(f[_Layout.ARM_NAMES])
            self.periods: list[str] = _strings(f[_Layout.PERIODS])
            reps = set()
            for arm in self.arms:
                if _Layout.arm(arm) not in f:
                    raise ChacraFileError(f"{self.path}: arm '{arm}' is missing (an incomplete or truncated file)")
                reps_arm = set(_Layout.replicates(f[_Layout.arm(arm)]))
                reps = reps_arm if not reps else reps & reps_arm
            self.replicates: list[int] = sorted(reps)
        except (OSError, KeyError, RuntimeError) as e:
            self._f.close()
            raise ChacraFileError(f"{self.path}: cannot read the file's layout (truncated or damaged?): {e}") from None

    # -- housekeeping --------------------------------------------------------------------------------
    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "ChacraOutput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def h5(self) -> h5py.File:
        """The underlying h5py.File, for raw access."""
        return self._f

    def __repr__(self) -> str:
        return (
            f"ChacraOutput({self.path!r}: arms {self.arms}, {len(self.replicates)} replicate(s), "
            f"periods {self.periods[0]}..{self.periods[-1]})"
        )

    # -- selections ----------------------------------------------------------------------------------
    def _select_arms(self, arms) -> list[str]:
        arms = _as_list(arms)
        if arms is None:
            return list(self.arms)
        unknown = [a for a in arms if a not in self.arms]
        if unknown:
            raise KeyError(f"unknown arm(s) {unknown}; the file has {self.arms}")
        return [a for a in self.arms if a in arms]  # scenario order

    def _select_replicates(self, replicates) -> list[int]:
        reps = _as_list(replicates)
        if reps is None:
            return list(self.replicates)
        unknown = [r for r in reps if int(r) not in self.replicates]
        if unknown:
            raise KeyError(f"unknown replicate(s) {unknown}; the file has {self.replicates}")
        return sorted({int(r) for r in reps})

    def _select_periods(self, periods) -> list[int]:
        """Period labels ("2019") or positions (0, -1) -> sorted positions."""
        periods = _as_list(periods)
        if periods is None:
            return list(range(len(self.periods)))
        out = set()
        for p in periods:
            if isinstance(p, (int, np.integer)):
                i = int(p)
                if not -len(self.periods) <= i < len(self.periods):
                    raise KeyError(f"period position {p} out of range; the file has {len(self.periods)} periods")
                out.add(i % len(self.periods))
            else:
                label = _text(p)
                if label not in self.periods:
                    raise KeyError(f"unknown period '{label}'; the file has {self.periods}")
                out.add(self.periods.index(label))
        return sorted(out)

    def _unit(self, arm: str, replicate: int) -> h5py.Group:
        name = _Layout.unit(arm, replicate)
        if name not in self._f:
            raise ChacraFileError(f"{self.path}: {name} is missing (an incomplete or truncated file)")
        return self._f[name]

    def _part(self, arm: str, replicate: int, kind: str) -> h5py.Group | None:
        """The panel or the aggregates group of a unit, or None when the unit has none."""
        self._unit(arm, replicate)  # raises when the unit is missing
        name = _Layout.part(arm, replicate, kind)
        return self._f[name] if name in self._f else None

    def panel_dataset(self, arm: str, replicate: int, variable: str) -> h5py.Dataset | None:
        """The panel dataset [periods, households(, width)] of a variable, or None when it is not recorded."""
        g = self._part(arm, replicate, "panel")
        return g[variable] if g is not None and variable in g else None

    # -- codebook ------------------------------------------------------------------------------------
    def variables(self, kind: str = "panel") -> pd.DataFrame:
        """Variables of the panel ("panel"), the aggregates ("aggregates") or a population table
        ("households", "centres", "districts"): name, width, labels, dtype, unit, description, aggregation,
        and the frame columns they become."""
        if kind in ("panel", "aggregates"):
            group = None
            for arm in self.arms:
                for r in self.replicates:
                    group = self._part(arm, r, kind)
                    if group is not None:
                        break
                if group is not None:
                    break
            lead = 2 if kind == "panel" else 1
        elif kind in _Layout.TABLES:
            group = self._population_group(kind, self._population_replicates()[0]) if self._population_replicates() else None
            lead = 1
        else:
            raise ValueError(f"kind must be panel, aggregates, households, centres or districts, not {kind!r}")
        rows = []
        if group is not None:
            for name in sorted(group.keys()):
                ds = group[name]
                if not isinstance(ds, h5py.Dataset):
                    continue
                width = int(ds.shape[lead]) if ds.ndim > lead else 1
                labels = self._labels(ds, width) if ds.ndim > lead else []
                rows.append(
                    {
                        "variable": name,
                        "width": width,
                        "labels": labels,
                        "columns": [f"{name}.{l}" for l in labels] if labels else [name],
                        "dtype": str(ds.dtype),
                        "unit": _text(ds.attrs.get(_Layout.UNIT, "")),
                        "description": _text(ds.attrs.get(_Layout.DESCRIPTION, "")),
                        "aggregation": _text(ds.attrs.get(_Layout.AGGREGATION, "")),
                    }
                )
        return pd.DataFrame(
            rows, columns=["variable", "width", "labels", "columns", "dtype", "unit", "description", "aggregation"]
        )

    @staticmethod
    def _labels(ds: h5py.Dataset, width: int) -> list[str]:
        raw = ds.attrs.get(_Layout.LABELS)
        labels = _text(raw).split(",") if raw is not None else []
        return labels if len(labels) == width else [str(k) for k in range(width)]

    def _check_variables(self, group: h5py.Group, variables, where: str) -> list[str]:
        names = sorted(k for k in group.keys() if isinstance(group[k], h5py.Dataset))
        wanted = _as_list(variables)
        if wanted is None:
            return names
        unknown = [v for v in wanted if v not in group]
        if unknown:
            raise KeyError(f"unknown {where} variable(s) {unknown}; the file has {names}")
        return list(dict.fromkeys(wanted))

    # -- frames --------------------------------------------------------------------------------------
    def panel(
        self,
        variables: str | Sequence[str] | None = None,
        arms: str | Sequence[str] | None = None,
        replicates: int | Sequence[int] | None = None,
        periods: str | int | Sequence[str | int] | None = None,
        households: slice | Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """The household panel as a long frame.

        variables: names of panel variables (default: all); arms: arm names (default: all, scenario order);
        replicates: replicate numbers; periods: labels ("2019") or positions (-1 is the last); households:
        a slice or a list of household indices of the replicate (default: all).
        Rows are ordered arm, replicate, period, household.
        """
        arms = self._select_arms(arms)
        reps = self._select_replicates(replicates)
        pidx = self._select_periods(periods)
        parts: list[dict[str, np.ndarray]] = []
        columns: list[str] | None = None
        for arm in arms:
            for r in reps:
                g = self._part(arm, r, "panel")
                if g is None:
                    raise ChacraFileError(
                        f"{self.path}: no household panel for arm '{arm}' replicate {r} (the run used "
                        "output.panel: false); use aggregates() instead"
                    )
                names = self._check_variables(g, variables, "panel")
                if not names:
                    raise ChacraFileError(f"{self.path}: the panel of arm '{arm}' replicate {r} has no variables")
                n_households = g[names[0]].shape[1]
                if households is None:
                    hsel: slice | np.ndarray = slice(None)
                    hids = np.arange(n_households, dtype=np.int64)
                elif isinstance(households, slice):
                    hsel = households
                    hids = np.arange(n_households, dtype=np.int64)[households]
                else:
                    hids = np.unique(np.asarray(households, dtype=np.int64))
                    if hids.size and (hids[0] < 0 or hids[-1] >= n_households):
                        raise KeyError(f"household index out of range [0, {n_households})")
                    hsel = hids
                # A list of households is read as its bounding range and picked in memory: a chunk holds up
                # to 32,768 households of one period, so this decompresses no more than h5py's point
                # selection would, and is much faster.
                if isinstance(hsel, np.ndarray):
                    lo = int(hids[0]) if hids.size else 0
                    read_sel = slice(lo, int(hids[-1]) + 1 if hids.size else 0)
                    pick = hids - lo
                else:
                    read_sel, pick = hsel, None
                nh = hids.size
                part: dict[str, np.ndarray] = {
                    "arm": np.full(nh * len(pidx), arm, dtype=object),
                    "replicate": np.full(nh * len(pidx), r, dtype=np.int64),
                    "household": np.tile(hids, len(pidx)),
                    "period": np.repeat(np.array([self.periods[p] for p in pidx], dtype=object), nh),
                }
                for name in names:
                    ds = g[name]
                    if ds.shape[0] != len(self.periods):
                        raise ChacraFileError(f"{self.path}: {ds.name} has {ds.shape[0]} periods, not {len(self.periods)}")
                    if pidx and nh:
                        block = np.stack([ds[p, read_sel] if pick is None else ds[p, read_sel][pick] for p in pidx])
                    else:
                        block = np.empty((len(pidx), nh) + ds.shape[2:], dtype=ds.dtype)
                    if ds.ndim == 2:
                        part[name] = block.reshape(-1)
                    else:
                        flat = block.reshape(len(pidx) * nh, ds.shape[2])
                        for k, label in enumerate(self._labels(ds, ds.shape[2])):
                            part[f"{name}.{label}"] = flat[:, k]
                if columns is None:
                    columns = list(part.keys())
                parts.append(part)
        return self._frame(parts, columns, ["arm", "replicate", "household", "period"])

    def aggregates(
        self,
        variables: str | Sequence[str] | None = None,
        arms: str | Sequence[str] | None = None,
        replicates: int | Sequence[int] | None = None,
        periods: str | int | Sequence[str | int] | None = None,
    ) -> pd.DataFrame:
        """Household means per period (``aggregates/``) as a long frame: arm, replicate, period, variables."""
        arms = self._select_arms(arms)
        reps = self._select_replicates(replicates)
        pidx = self._select_periods(periods)
        parts, columns = [], None
        for arm in arms:
            for r in reps:
                g = self._part(arm, r, "aggregates")
                if g is None:
                    raise ChacraFileError(f"{self.path}: arm '{arm}' replicate {r} has no aggregates")
                names = self._check_variables(g, variables, "aggregate")
                part = {
                    "arm": np.full(len(pidx), arm, dtype=object),
                    "replicate": np.full(len(pidx), r, dtype=np.int64),
                    "period": np.array([self.periods[p] for p in pidx], dtype=object),
                }
                for name in names:
                    ds = g[name]
                    block = ds[()][pidx]
                    if ds.ndim == 1:
                        part[name] = block
                    else:
                        # Aggregates may lack the labels attribute: the panel's dataset has it.
                        panel = self.panel_dataset(arm, r, name)
                        labelled = ds if _Layout.LABELS in ds.attrs or panel is None else panel
                        for k, label in enumerate(self._labels(labelled, ds.shape[1])):
                            part[f"{name}.{label}"] = block[:, k]
                if columns is None:
                    columns = list(part.keys())
                parts.append(part)
        return self._frame(parts, columns, ["arm", "replicate", "period"])

    def _frame(self, parts: list[dict], columns: list[str] | None, keys: list[str]) -> pd.DataFrame:
        if not parts:
            return pd.DataFrame(columns=keys)
        data = {}
        for c in columns:
            arrays = [p[c] if c in p else np.full(len(p[keys[0]]), np.nan) for p in parts]
            data[c] = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
        df = pd.DataFrame(data, columns=columns)
        df.attrs["arms"] = list(self.arms)
        df.attrs["periods"] = list(self.periods)
        df.attrs["path"] = self.path
        return df

    # -- population tables ---------------------------------------------------------------------------
    def _population_replicates(self) -> list[int]:
        if _Layout.POPULATION not in self._f:
            return []
        return _Layout.replicates(self._f[_Layout.POPULATION])

    def population_rows(self, table: str = "households") -> int | None:
        """Rows of a population table (households, centres, districts) in the first replicate, or None."""
        for r in self._population_replicates():
            name = _Layout.population(r, table)
            if name in self._f:
                g = self._f[name]
                if _Layout.ROWS in g.attrs:
                    return int(g.attrs[_Layout.ROWS])
                for k in g:
                    return int(g[k].shape[0])
        return None

    def _population_group(self, table: str, replicate: int) -> h5py.Group:
        name = _Layout.population(replicate, table)
        if name not in self._f:
            raise ChacraFileError(f"{self.path}: {name} is missing")
        return self._f[name]

    def population(
        self, table: str = "households", columns: str | Sequence[str] | None = None,
        replicates: int | Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """A population table ("households" at month 0, "centres", "districts"): one row per entity and
        replicate, columns replicate, <entity index> (household / centre / district), then the table's
        columns (multi-width ones as column.label)."""
        ids = {"households": "household", "centres": "centre", "districts": "district"}
        if table not in ids:
            raise ValueError(f"table must be households, centres or districts, not {table!r}")
        available = self._population_replicates()
        reps = available if replicates is None else sorted({int(r) for r in _as_list(replicates)})
        missing = [r for r in reps if r not in available]
        if missing:
            raise KeyError(f"no population for replicate(s) {missing}; the file has {available}")
        parts, cols = [], None
        for r in reps:
            g = self._population_group(table, r)
            names = self._check_variables(g, columns, table)
            n = g[names[0]].shape[0] if names else int(g.attrs.get(_Layout.ROWS, 0))
            part = {"replicate": np.full(n, r, dtype=np.int64), ids[table]: np.arange(n, dtype=np.int64)}
            for name in names:
                ds = g[name]
                values = ds[()]
                if ds.ndim == 1:
                    part[name] = values
                else:
                    for k, label in enumerate(self._labels(ds, ds.shape[1])):
                        part[f"{name}.{label}"] = values[:, k]
            if cols is None:
                cols = list(part.keys())
            parts.append(part)
        return self._frame(parts, cols, ["replicate", ids[table]])

    def households(self, columns=None, replicates=None) -> pd.DataFrame:
        return self.population("households", columns, replicates)

    def centres(self, columns=None, replicates=None) -> pd.DataFrame:
        return self.population("centres", columns, replicates)

    def districts(self, columns=None, replicates=None) -> pd.DataFrame:
        return self.population("districts", columns, replicates)

    # -- reach --------------------------------------------------------------------------------------
    def _unit_tables(self, table, key, arms, replicates):
        """(arm, replicate, group) of each selected unit whose `table` group holds the dataset `key`; units
        without it (the channel off, or a file written by an older chacra) are skipped."""
        for arm in self._select_arms(arms):
            for r in self._select_replicates(replicates):
                path = f"{_Layout.unit(arm, r)}/{table}"
                if path in self._f and key in self._f[path]:
                    yield arm, r, self._f[path]

    def reach(self, arms=None, replicates=None) -> pd.DataFrame:
        """Each unit's reach (docs/policy_arms.md, "Reach"): one row per arm, replicate and item, with columns
        arm, replicate, module, item, description, unit, value. Units without a reach table (files written by an
        older chacra) have no rows."""
        rows = []
        for arm, r, g in self._unit_tables(_Layout.REACH, "item", arms, replicates):
            cols = {c: (_strings(g[c]) if c != "value" else g[c][()].tolist()) for c in _Layout.REACH_COLUMNS
                    if c in g}
            for k in range(len(cols["item"])):
                rows.append({"arm": arm, "replicate": r, **{c: v[k] for c, v in cols.items()}})
        return pd.DataFrame(rows, columns=["arm", "replicate", *_Layout.REACH_COLUMNS])

    # -- local economies ----------------------------------------------------------------------------
    def economies(self, arms=None, replicates=None) -> pd.DataFrame:
        """Each unit's local economies table (docs/output.md, "Local economies"; only with the local markets
        channel): one row per arm, replicate, local economy and clearing period, with columns arm, replicate,
        then the table's own (economy, district, month, price_index, price_<good>, demand_<good>_pen,
        supply_<good>, wage_index, leakage_pen, imports_pen, exports_pen...). Empty without the channel."""
        frames = []
        for arm, r, g in self._unit_tables(_Layout.ECONOMIES, "economy", arms, replicates):
            names = [k for k in g.keys() if isinstance(g[k], h5py.Dataset)]
            first = [k for k in _Layout.ECONOMY_KEYS if k in names]  # identification, then by name
            df = pd.DataFrame({k: g[k][()] for k in first + [k for k in names if k not in first]})
            df.insert(0, "replicate", r)
            df.insert(0, "arm", arm)
            frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["arm", "replicate"])
        return pd.concat(frames, ignore_index=True)  # arms in scenario order; economies, then periods, in order

    # -- comparison and provenance -------------------------------------------------------------------
    def has_comparison(self, group: str = _Layout.COMPARISON) -> bool:
        return group in self._f and "arm" in self._f[group]

    def comparison_by_period(self) -> pd.DataFrame | None:
        """The stored effects per output period (``/comparison_by_period``, as ``chacra compare --by period
        --format json``: the comparison's columns plus ``period``); None when the file has none (older runs).
        The attributes of ``/comparison`` (reference_arm, horizon...) are in ``frame.attrs``."""
        if not self.has_comparison(_Layout.COMPARISON_BY_PERIOD):
            return None
        df = self.comparison(_Layout.COMPARISON_BY_PERIOD)
        main = self._f[_Layout.COMPARISON] if self.has_comparison() else None
        if main is not None:
            df.attrs.update({k: _plain(v) for k, v in main.attrs.items() if k != "description"})
        return df

    def interaction(self) -> pd.DataFrame | None:
        """The stored interaction of the programmes, ``/comparison/interaction`` (None when the file has none: it
        lacks one of the arms both, juntos_only, hw_only, no_programme): one row per outcome with mean_effect,
        ci_low, ci_high (95% t interval over replicates), the four arms' levels and n_replicates; the group's
        attributes (channels, formula...) in ``frame.attrs``."""
        if not self.has_comparison() or "interaction" not in self._f[_Layout.COMPARISON]:
            return None
        g = self._f[_Layout.COMPARISON]["interaction"]
        names = [k for k in g.keys() if k not in _Layout.COMPARISON_LISTS and isinstance(g[k], h5py.Dataset)]
        return _records_frame(g, names, g["outcome"].shape[0])

    def comparison(self, group: str = _Layout.COMPARISON) -> pd.DataFrame | None:
        """The stored ``/comparison`` table (None when the file has none): the columns of
        ``chacra compare --format json`` (COMPARISON_COLUMNS) and any others the group holds; NaN where an
        effect is undefined. The group's attributes (reference_arm, final_period, horizon...) and notes are
        in ``frame.attrs``."""
        if not self.has_comparison(group):
            return None
        g = self._f[group]
        n = g["arm"].shape[0]
        first = [c for c in COMPARISON_COLUMNS if c in g]
        if "period" in g:
            first.insert(first.index("statistic") + 1 if "statistic" in first else len(first), "period")
        names = first + sorted(
            k for k in g.keys() if k not in first and isinstance(g[k], h5py.Dataset)
        )
        df = _records_frame(g, names, n)
        if "sd_parameter" in df and "sd_sampling" in df:
            # As chacra compare's JSON: the parameters' share of the variance and the posterior (or "none").
            df["parameter_share"] = parameter_share(df["sd_parameter"].to_numpy(dtype=float),
                                                    df["sd_sampling"].to_numpy(dtype=float))
            df["posterior"] = str(df.attrs.get("posterior", "none"))
        for name in _Layout.COMPARISON_LISTS:
            if name in g:
                df.attrs[name] = _strings(g[name])
        df.attrs["source"] = f"{self.path}:/{group}"
        return df

    def provenance(self) -> dict:
        """The /provenance attributes as plain values, with ``scenario_yaml`` (the resolved scenario),
        ``arm_descriptions`` and the file's ``arms``, ``periods`` and ``replicate_numbers``."""
        out: dict = {}
        if _Layout.PROVENANCE in self._f:
            g = self._f[_Layout.PROVENANCE]
            out.update({k: _plain(v) for k, v in g.attrs.items()})
            if _Layout.SCENARIO_YAML in g:
                yaml = g[_Layout.SCENARIO_YAML][()]
                out["scenario_yaml"] = _text(yaml[0] if getattr(yaml, "ndim", 0) else yaml)
        out["arm_descriptions"] = {
            a: _text(self._f[_Layout.arm(a)].attrs.get(_Layout.DESCRIPTION, "")) for a in self.arms
        }
        out["arms"] = list(self.arms)
        out["periods"] = list(self.periods)
        out["replicate_numbers"] = list(self.replicates)
        out["path"] = self.path
        return out


# -- module-level shortcuts ----------------------------------------------------------------------------

def load_panel(path, variables=None, arms=None, replicates=None, periods=None, households=None) -> pd.DataFrame:
    """``ChacraOutput(path).panel(...)``: the household panel as a long frame (see ChacraOutput.panel)."""
    with ChacraOutput(path) as out:
        return out.panel(variables, arms, replicates, periods, households)


def load_aggregates(path, variables=None, arms=None, replicates=None, periods=None) -> pd.DataFrame:
    """``ChacraOutput(path).aggregates(...)``: per-period household means as a long frame."""
    with ChacraOutput(path) as out:
        return out.aggregates(variables, arms, replicates, periods)


def load_population(path, table="households", columns=None, replicates=None) -> pd.DataFrame:
    """``ChacraOutput(path).population(...)``: the households (month 0), centres or districts table."""
    with ChacraOutput(path) as out:
        return out.population(table, columns, replicates)


def load_provenance(path) -> dict:
    with ChacraOutput(path) as out:
        return out.provenance()


def load_variables(path, kind="panel") -> pd.DataFrame:
    with ChacraOutput(path) as out:
        return out.variables(kind)


def parameter_share(sd_parameter, sd_sampling):
    """The parameters' share of the variance, as chacra computes it (study/posterior.cpp): sd_p² / (sd_p² + sd_s²),
    0 when both are 0, NaN without a split. Element-wise on arrays; a float for scalars."""
    p = np.square(np.asarray(sd_parameter, dtype=float))
    v = p + np.square(np.asarray(sd_sampling, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(np.isfinite(v), np.where(v > 0, p / np.where(v > 0, v, 1.0), 0.0), np.nan)
    return share if share.ndim else float(share)


def evaluation_posterior(ev: pd.DataFrame) -> str | None:
    """The posterior an evaluation drew its parameters from (its JSON rows' posterior field), "an ensemble" when
    only the split shows it (files of older chacra), or None."""
    if "posterior" in ev:
        named = [p for p in ev["posterior"] if isinstance(p, str) and p]
        if named:
            return named[0]
    if "sd_parameter" in ev and pd.to_numeric(ev["sd_parameter"], errors="coerce").notna().any():
        return "an ensemble (not named in the JSON)"
    return None


def find_chacra(explicit: str | None = None) -> str | None:
    """The chacra executable: `explicit`, else $CHACRA_BINARY, else `chacra` on PATH, else None."""
    for candidate in (explicit, os.environ.get("CHACRA_BINARY")):
        if candidate:
            return candidate
    return shutil.which("chacra")


def _records_frame(g, names, n) -> pd.DataFrame:
    """The parallel columns `names` of length n of a records group (/comparison, /comparison/interaction) as a
    frame, the group's attributes in ``frame.attrs``; datasets of another length (per-file lists) are skipped."""
    data = {}
    for name in names:
        ds = g[name]
        if ds.ndim != 1 or ds.shape[0] != n:
            continue  # per-file lists (arms, notes)
        if h5py.check_string_dtype(ds.dtype) is not None or ds.dtype.kind in "SOU":
            data[name] = np.array(_strings(ds), dtype=object)
        else:
            data[name] = ds[()]
    df = pd.DataFrame(data)
    df.attrs.update({k: _plain(v) for k, v in g.attrs.items()})
    return df


def compare_json(path, reference: str | None = None, chacra: str | None = None, by_period: bool = False) -> pd.DataFrame:
    """Runs ``chacra compare PATH --format json [--reference ARM] [--by period]`` and returns its rows as a frame
    (null -> NaN)."""
    exe = find_chacra(chacra)
    if exe is None:
        raise FileNotFoundError("no chacra executable: pass chacra=..., set CHACRA_BINARY or put chacra on PATH")
    cmd = [exe, "compare", os.fspath(path), "--format", "json"]
    if reference:
        cmd += ["--reference", reference]
    if by_period:
        cmd += ["--by", "period"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise ChacraFileError(f"{' '.join(cmd)} failed (exit {res.returncode}): {res.stderr.strip()}")
    rows = json.loads(res.stdout)
    df = pd.DataFrame(rows)
    for c in ("mean_effect", "ci_low", "ci_high", "arm_value", "reference_value", "sd_parameter", "sd_sampling",
              "parameter_share"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df.attrs["source"] = " ".join(cmd)
    if rows and rows[0].get("posterior") not in (None, "none"):
        df.attrs["posterior"] = rows[0]["posterior"]
    if rows:
        df.attrs["reference_arm"] = rows[0].get("reference", "")
    return df


def load_comparison(path, reference: str | None = None, chacra: str | None = None,
                    compute: bool = True) -> pd.DataFrame | None:
    """The comparison table of a file: the stored ``/comparison`` when it exists (and matches `reference`
    if one is given), else, when `compute`, the output of ``chacra compare --format json`` (needs the
    executable, see find_chacra). None when neither is available."""
    with ChacraOutput(path) as out:
        df = out.comparison()
    if df is not None and (reference is None or df.attrs.get("reference_arm") == reference):
        return df
    if not compute or find_chacra(chacra) is None:
        return None
    return compare_json(path, reference, chacra)


def load_evaluation(path) -> pd.DataFrame:
    """The output of ``chacra evaluate --format json`` (a JSON array with outcome, unit, published,
    model_mean, p2_5, p97_5, coverage, ...) as a frame; null -> NaN. Also accepts an object with the rows
    under "outcomes" or "rows" and anything else as ``frame.attrs`` (e.g. scenario, seed)."""
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    meta = {}
    if isinstance(doc, dict):
        rows = doc.get("outcomes", doc.get("rows", []))
        meta = {k: v for k, v in doc.items() if k not in ("outcomes", "rows")}
    else:
        rows = doc
    df = pd.DataFrame(rows)
    for c in ("published", "model_mean", "p2_5", "p97_5", "coverage", "rd_mean", "sd_parameter", "sd_sampling",
              "parameter_share"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df.attrs.update(meta)
    df.attrs["path"] = os.fspath(path)
    return df
