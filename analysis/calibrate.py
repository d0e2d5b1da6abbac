#!/usr/bin/python3
"""Calibrates a simulator's structural parameters against a problem file: history matching with emulators,
MCMC on the region left, posterior predictive check; writes the posterior ensemble and its summary.

    /usr/bin/python3 analysis/calibrate.py PROBLEM.yaml -o DIR [--workers N] [--seed S] [--force]
    /usr/bin/python3 analysis/calibrate.py PROBLEM.yaml --check          # validate only, run nothing
    mpiexec -n 9 /usr/bin/python3 -m mpi4py.futures analysis/calibrate.py PROBLEM.yaml -o DIR --mpi

Writes DIR/posterior.h5 (the ensemble for the planned `chacra run --posterior`), DIR/defaults.json (posterior
medians), DIR/summary.md, DIR/parameters.csv, DIR/targets.csv and DIR/figures/*.png. If history matching rules out
every parameter set it writes DIR/history_matching.h5 (the runs, no posterior) and exits 1.
Exit status: 0 success, 1 runtime failure (a simulator run failed, nothing non-implausible), 2 bad input.
See docs/calibration_method.md.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

OUTPUTS = ("posterior.h5", "history_matching.h5", "defaults.json", "summary.md", "parameters.csv", "targets.csv",
           "figures")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("problem", help="the calibration problem (YAML)")
    ap.add_argument("-o", "--output", help="output directory (created; existing outputs need --force)")
    ap.add_argument("--force", action="store_true", help="overwrite this tool's outputs in the directory")
    ap.add_argument("--check", action="store_true", help="validate the problem (and against chacra's parameter "
                                                         "registry) and stop")
    ap.add_argument("--workers", type=int, help="simulator calls at once (default: simulator.workers, else cores "
                                                "/ threads per call)")
    ap.add_argument("--mpi", action="store_true", help="spread simulator calls over MPI ranks (start with "
                                                       "mpiexec -n N python3 -m mpi4py.futures ...)")
    ap.add_argument("--seed", type=int, help="override the problem's seed")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only errors and the summary")
    return ap


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    # The heavy modules (scikit-learn, emcee, matplotlib) load only once the problem is valid.
    from chacra_analysis.calibration import Executor, ProblemError, SimulatorError, load_problem, make_simulator

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    try:
        problem = load_problem(args.problem)
        if args.seed is not None:
            if args.seed < 0:
                raise ProblemError([f"--seed: expected a number >= 0, got {args.seed}"])
            problem.seed = args.seed
        simulator = make_simulator(problem)
    except ProblemError as e:
        print(f"calibrate: {len(e.errors)} error(s) in the problem:\n" + "\n".join("  " + x for x in e.errors),
              file=sys.stderr)
        return 2
    except SimulatorError as e:
        print(f"calibrate: {e}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.problem}: ok: {len(problem.parameters)} fitted parameters, {len(problem.calibration)} "
              f"calibration targets, {len(problem.validation)} validation targets")
        return 0
    if not args.output:
        print("calibrate: -o DIR is required (or --check)", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"calibrate: --workers: expected a number >= 1, got {args.workers}", file=sys.stderr)
        return 2
    existing = [n for n in OUTPUTS if os.path.exists(os.path.join(args.output, n))]
    if existing and not args.force:
        print(f"calibrate: {args.output} already holds {', '.join(existing)}: pass --force to overwrite them "
              "(nothing else in the directory is touched)", file=sys.stderr)
        return 2
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        print(f"calibrate: {args.output} exists and is not a directory", file=sys.stderr)
        return 2
    if args.mpi:
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            print("calibrate: --mpi needs mpi4py (Debian: python3-mpi4py)", file=sys.stderr)
            return 2
    executor = Executor("mpi" if args.mpi else "local", args.workers or problem.simulator.get("workers"))
    from chacra_analysis.calibration import NoNonImplausibleRegion, calibrate, write_calibration
    from chacra_analysis.calibration.ensemble import to_json
    from chacra_analysis.calibration.plots import write_figures
    from chacra_analysis.calibration.predictive import text_tables

    os.makedirs(args.output, exist_ok=True)
    try:
        result = calibrate(problem, simulator, executor, log)
    except NoNonImplausibleRegion as e:
        print(f"calibrate: {e}", file=sys.stderr)
        partial = getattr(e, "calibration", None)
        if partial is not None:
            path = os.path.join(args.output, "history_matching.h5")
            write_calibration(path, partial)
            print(f"calibrate: the runs and the waves are in {path}", file=sys.stderr)
        return 1
    except SimulatorError as e:
        print(f"calibrate: {e}", file=sys.stderr)
        return 1

    write_calibration(os.path.join(args.output, "posterior.h5"), result)
    params, targets = result.tables()
    params.to_csv(os.path.join(args.output, "parameters.csv"), index=False)
    targets.to_csv(os.path.join(args.output, "targets.csv"), index=False)
    central = result.central()
    with open(os.path.join(args.output, "defaults.json"), "w", encoding="utf-8") as fh:
        fh.write(to_json({"statistic": "weighted posterior median", "problem": problem.name,
                          "problem_sha256": problem.sha256, "values": central,
                          "set_arguments": [f"--set {k}={v:.6g}" for k, v in central.items()]}) + "\n")
    tables = text_tables(params, targets, problem.predictive.level)
    prov = result.provenance
    header = (f"# Calibration: {problem.name}\n\nProblem {problem.path} (sha256 {problem.sha256[:16]}), seed "
              f"{problem.seed}; {prov['history_matching']['simulator_runs']} simulator runs in "
              f"{len(result.history.waves)} waves ({prov['history_matching']['stop_reason']}), then "
              f"{result.predictive.values.shape[0]} for the predictive check; MCMC acceptance "
              f"{prov['mcmc']['acceptance_mean']:.2f}, effective sample size "
              f"{prov['mcmc']['effective_sample_size']:.0f}; {prov['timing_seconds']['total']:.1f} s.\n\n")
    with open(os.path.join(args.output, "summary.md"), "w", encoding="utf-8") as fh:
        fh.write(header + tables)
    figures = write_figures(result, targets, os.path.join(args.output, "figures"))
    print(header + tables)
    misses = targets[~targets["lands"].astype(bool)]
    if len(misses):
        print(f"{len(misses)} target(s) outside the predictive interval: {', '.join(misses['target'])}")
    log(f"wrote {args.output}/posterior.h5, defaults.json, summary.md, parameters.csv, targets.csv and "
        f"{len(figures)} figures")
    log("defaults: " + json.dumps(central))
    return 0


if __name__ == "__main__":
    sys.exit(main())
