#!/usr/bin/env bash
# Scaling of `chacra run` with MPI ranks on one machine (docs/performance.md, "MPI scaling").
#   tests/mpi/bench_scaling.sh BUILD_DIR [REPEATS] [-- extra chacra run options]
# Runs the built-in default scenario (4 arms x 2 replicates = 8 units) serially and under
# mpirun --oversubscribe -np 1/2/3 with --threads 1 per rank; prints wall and CPU seconds (user+sys of all
# processes), best of REPEATS.
set -euo pipefail
build=${1:?build dir}; shift
repeats=${1:-3}; shift || true
[[ ${1:-} == -- ]] && shift
extra=("$@")
chacra=$build/chacra
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader)
printf '%-28s %8s %8s\n' configuration wall_s cpu_s
for cfg in serial np1 np2 np3; do
  best_wall=999999 best_cpu=0
  for ((i = 0; i < repeats; i++)); do
    rm -rf "$work"/o.h5*
    case $cfg in
      serial) cmd=(env CHACRA_MPI=0 "$chacra") ;;
      np*) cmd=("${mpi[@]}" -np "${cfg#np}" "$chacra") ;;
    esac
    /usr/bin/time -f '%e %U %S' -o "$work/time" "${cmd[@]}" run -o "$work/o.h5" --threads 1 -q "${extra[@]}"
    read -r wall user sys <"$work/time"
    if (($(echo "$wall < $best_wall" | bc))); then best_wall=$wall best_cpu=$(echo "$user + $sys" | bc); fi
  done
  printf '%-28s %8.2f %8.2f\n' "$cfg (threads 1 per rank)" "$best_wall" "$best_cpu"
done
