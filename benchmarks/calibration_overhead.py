#!/usr/bin/python3
"""Time of the calibration machinery (emulators, region search, MCMC, not the simulator) against the number
of fitted parameters k, on the scalable toy (k + 3 targets, the default settings: 4 waves of 10k runs, 32+
walkers x 3000 steps). Prints a table and writes JSON with host, commit and cores; the figures are quoted in
docs/calibration_method.md.

    /usr/bin/python3 benchmarks/calibration_overhead.py [--k 2,4,6,8] [--out overhead.json]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))

from chacra_analysis.calibration import Executor, calibrate, load_problem, make_simulator  # noqa: E402
from chacra_analysis.calibration import toy  # noqa: E402


def problem(k: int, directory: str) -> str:
    m = k + 3
    truth = np.where(np.arange(k) % 2 == 1, 0.35, 0.6)
    y = toy.scalable_means(truth, m)
    doc = {"name": f"scalable_k{k}", "seed": 1,
           "simulator": {"kind": "python", "function": "chacra_analysis.calibration.toy:scalable",
                         "options": {"outputs": m}},
           "parameters": {f"x{j + 1}": {"prior": {"distribution": "uniform", "min": 0.0, "max": 1.0},
                                        "source": "toy"} for j in range(k)},
           "calibration_targets": {f"y{i + 1}": {"observed": float(y[i]), "sd": 0.05, "source": "toy",
                                                 "statistic": {"kind": "output", "name": f"y{i + 1}"}}
                                   for i in range(m)}}
    path = os.path.join(directory, f"k{k}.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(doc, fh)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", default="2,4,6,8")
    ap.add_argument("--out")
    args = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in map(int, args.k.split(",")):
            p = load_problem(problem(k, tmp))
            t0, c0 = time.perf_counter(), time.process_time()
            r = calibrate(p, make_simulator(p), Executor("local", 1), log=lambda m: None)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            waves = r.provenance["history_matching"]["waves"]
            rows.append({"k": k, "targets": k + 3, "waves": len(waves),
                         "runs": sum(w["runs"] for w in waves) + len(r.predictive.seeds),
                         "emulators_s": sum(w["seconds"]["emulators"] for w in waves),
                         "search_s": sum(w["seconds"]["search"] for w in waves),
                         "mcmc_s": r.provenance["timing_seconds"]["mcmc"], "wall_s": wall, "cpu_s": cpu,
                         "acceptance": r.posterior.stats["acceptance_mean"],
                         "autocorr_max": max(r.posterior.stats["autocorr_time"])})
            print(" ".join(f"{key}={v:.3g}" if isinstance(v, float) else f"{key}={v}" for key, v in rows[-1].items()),
                  flush=True)
    info = {"host": platform.node(), "cores": os.cpu_count(), "load_average": os.getloadavg(), "commit": commit,
            "python": platform.python_version(), "rows": rows}
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(info, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
