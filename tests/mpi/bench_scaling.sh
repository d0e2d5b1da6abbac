#!/usr/bin/env bash
# Scaling of `chacra run` with MPI ranks on one machine (docs/performance.md, "MPI scaling").
#   tests/mpi/bench_scaling.sh BUILD_DIR [REPEATS] [-- extra chacra run options]
# Runs the built-in default scenario (or what the extra options select) serially and under
# mpirun --oversubscribe -np K with --threads 1 per rank; prints wall and CPU seconds (user+sys of all
# processes), and each process's CPU seconds and peak resident set (rank 0 first), best wall of REPEATS.
# Environment: SPLIT=units|districts|auto (--mpi-split, default units), RANKS="1 2 3" (rank counts).
set -euo pipefail
build=${1:?build dir}; shift
repeats=${1:-3}; shift || true
[[ ${1:-} == -- ]] && shift
extra=("$@")
split=${SPLIT:-units}
ranks=${RANKS:-1 2 3}
chacra=$build/chacra
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader)
# Each process's wall, user, sys and peak RSS (KiB) into $work/time.<rank>.
timed=(sh -c 'exec /usr/bin/time -f "%e %U %S %M" -o "$0.${OMPI_COMM_WORLD_RANK:-0}" "$@"' "$work/time")
printf '%-36s %8s %8s  %-20s %s\n' configuration wall_s cpu_s cpu_s_per_rank rss_mib_per_rank
for cfg in serial $(for k in $ranks; do echo "np$k"; done); do
  best_wall=999999 best_cpu=0 best_ranks="" best_rss=""
  for ((i = 0; i < repeats; i++)); do
    rm -rf "$work"/o.h5* "$work"/time.*
    case $cfg in
      serial) cmd=(env CHACRA_MPI=0 "${timed[@]}" "$chacra") ;;
      np*) cmd=("${mpi[@]}" -np "${cfg#np}" "${timed[@]}" "$chacra") ;;
    esac
    start=$(date +%s.%N)
    "${cmd[@]}" run -o "$work/o.h5" --threads 1 -q --mpi-split "$split" "${extra[@]}"
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    cpu=$(cat "$work"/time.* | awk '{s += $2 + $3} END {print s}')
    files=$(cd "$work" && ls time.* | sort -t. -k2 -n)
    ranks_cpu=$(for f in $files; do awk '{printf "%.2f ", $2 + $3}' "$work/$f"; done)
    rss=$(for f in $files; do awk '{printf "%.0f ", $4 / 1024}' "$work/$f"; done)
    if (($(echo "$wall < $best_wall" | bc))); then best_wall=$wall best_cpu=$cpu best_ranks=$ranks_cpu best_rss=$rss; fi
  done
  label="$cfg (threads 1 per rank)"
  [[ $cfg == serial ]] || label="$cfg --mpi-split $split"
  printf '%-36s %8.2f %8.2f  %-20s %s\n' "$label" "$best_wall" "$best_cpu" "$best_ranks" "$best_rss"
done
