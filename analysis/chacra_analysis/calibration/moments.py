"""Calibration targets of chacra in the sources' own definitions, computed from a `chacra run` file: poverty
headcounts on persons (INEI counts persons, the output's aggregates are household means) by natural region, and
the Juntos payment rate among affiliated households, Juntos's coverage of persons. Used as `{kind: function, needs: run}` statistics by
configs/calibration/chacra_2017.yaml."""

import h5py
import numpy as np

_REGIONS = {"southern_highlands": 0, "northern_highlands": 1, "amazon": 2}


def _replicates(f, arm):
    group = f["arms"][arm]
    names = sorted((k for k in group if k.startswith("replicate_")), key=lambda k: int(k.split("_")[1]))
    if not names:
        raise ValueError(f"arm {arm!r} has no replicates")
    return [(n, group[n]["panel"]) for n in names]


def person_headcount(run_path, evaluation=None, arm="juntos_only", variable="poor", regions=None, period=-1):
    """Share of persons in households with `variable` = 1 in `period` (default the last), over every replicate;
    `regions` (names: southern_highlands, northern_highlands, amazon) restricts to households of those
    districts."""
    codes = None if regions is None else [_REGIONS[r] for r in regions]
    num = den = 0.0
    with h5py.File(run_path, "r") as f:
        for name, panel in _replicates(f, arm):
            flag = panel[variable][period].astype(float)
            size = panel["household_size"][period].astype(float)
            keep = np.ones(flag.shape, dtype=bool)
            if codes is not None:
                pop = f["population"][name]
                region = pop["districts"]["region"][()][pop["households"]["district"][()]]
                keep = np.isin(region, codes)
            num += float(np.sum(flag[keep] * size[keep]))
            den += float(np.sum(size[keep]))
    if den <= 0:
        raise ValueError("no persons in the selected households")
    return num / den


def juntos_paid_share(run_path, evaluation=None, arm="juntos_only", period=-1):
    """Share of affiliated households (juntos_enrolled) that met their co-responsibilities in the last check of
    `period`, i.e. that are paid in the next round, over every replicate."""
    paid = enrolled = 0
    with h5py.File(run_path, "r") as f:
        for _, panel in _replicates(f, arm):
            e = panel["juntos_enrolled"][period] == 1
            paid += int(np.sum(panel["juntos_compliant"][period][e] == 1))
            enrolled += int(np.sum(e))
    if enrolled == 0:
        raise ValueError("no household is affiliated to Juntos")
    return paid / enrolled


def juntos_person_coverage(run_path, evaluation=None, arm="juntos_only", period=-1):
    """Share of persons living in households affiliated to Juntos (juntos_enrolled) in `period`, over every
    replicate: MIDIS counts Juntos's reach in households and in the persons living in them."""
    return person_headcount(run_path, evaluation, arm=arm, variable="juntos_enrolled", period=period)
