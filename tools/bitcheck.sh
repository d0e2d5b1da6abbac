#!/usr/bin/env bash
# Bit-identity check: runs the bit-identity set of scenarios with a reference chacra binary (1 thread) and a
# new one (2 threads) and compares every dataset of /arms, /population, /comparison and /periods of the reference
# (tools/h5same.py: type, shape, bytes, attributes; datasets only in the new file are additions, listed). A
# refactor or optimisation must leave them all identical (docs/performance.md, "Same bits").
#
#   tools/bitcheck.sh REF_CHACRA [NEW_CHACRA] [-- KEY=VALUE ...]
#
# KEY=VALUE after -- are --set options for the new binary only (e.g. a new mechanism switched off, which the
# reference does not know): the new model with them must give the reference's bits.
#
# NEW_CHACRA defaults to build/chacra. The reference outputs are cached under $BITCHECK_CACHE (default
# /tmp/chacra-bitcheck/<sha of the reference binary>), keyed by the case's scenario text and settings, so repeated
# checks only rerun the new binary. The default scenario is passed to both binaries as this checkout's file
# (configs/default.yaml), not taken from each binary's built-in copy, so a change of the shipped default compares
# the same scenario on both sides.
# Exit status: 0 all identical, 1 a difference (the case and the datasets that differ are printed), 2 usage.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ref=$(readlink -f "$1"); shift
new=$(readlink -f build/chacra)
if [[ $# -gt 0 && $1 != -- ]]; then new=$(readlink -f "$1"); shift; fi
[[ $# -gt 0 && $1 == -- ]] && shift
extra=("$@")
for b in "$ref" "$new"; do [[ -x $b ]] || { echo "bitcheck: $b is not an executable" >&2; exit 2; }; done

sha=$(sha256sum "$ref" | cut -c1-16)
cache=${BITCHECK_CACHE:-/tmp/chacra-bitcheck/$sha}
work=$(mktemp -d /tmp/chacra-bitcheck-new.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"

# name | scenario | --set options
cases=(
  "default|configs/default.yaml|"
  "coaching|configs/coaching.yaml|run.replicates=1"
  "targeting|configs/targeting.yaml|run.replicates=1"
  "evaluation|configs/evaluation_2017.yaml|run.replicates=1"
  "budget|configs/budget_neutral.yaml|run.replicates=1"
  "arms_all|configs/arms_all.yaml|run.replicates=1 population.households=4000"
  "monthly|configs/default.yaml|population.households=3000 run.replicates=1 run.years=3 output.frequency=monthly juntos.top_ups=true juntos.rollout=phased juntos.coordination=formal arms.both.coaching.enabled=true"
  "quarterly_blocks|configs/default.yaml|population.households=2999 population.block_households=250 run.replicates=2 run.years=4 output.frequency=quarterly haku_winay.rollout_limit=budget arms.both.coaching.enabled=true arms.both.coaching.saturation=1"
  "topups_6000|configs/default.yaml|population.households=6000 run.replicates=1 juntos.top_ups=true juntos.coordination=formal juntos.rollout=phased"
)

run_case() {  # binary threads out scenario sets... (the new binary also gets the extra sets)
  local bin=$1 threads=$2 out=$3 scenario=$4; shift 4
  local more=()
  [[ $bin == "$new" ]] && more=("${extra[@]+"${extra[@]}"}")
  local args=(run)
  args+=("$scenario")
  args+=(-o "$out" --threads "$threads" --quiet --force)
  local s
  for s in "$@" "${more[@]+"${more[@]}"}"; do args+=(--set "$s"); done
  "$bin" "${args[@]}" > /dev/null
}

status=0
for c in "${cases[@]}"; do
  IFS='|' read -r name scenario sets <<< "$c"
  read -r -a set_list <<< "$sets"
  key=$(cat "$scenario" <(printf '%s\n' "$sets") | sha256sum | cut -c1-12)
  cached=$cache/$name-$key.h5
  if [[ ! -s $cached ]]; then
    run_case "$ref" 1 "$cached" "$scenario" "${set_list[@]+"${set_list[@]}"}" ||
      { echo "bitcheck: $name: the reference run failed" >&2; status=1; continue; }
  fi
  if ! run_case "$new" 2 "$work/$name.h5" "$scenario" "${set_list[@]+"${set_list[@]}"}"; then
    echo "bitcheck: $name: the new run failed" >&2; status=1; continue
  fi
  ok=1
  if ! /usr/bin/python3 tools/h5same.py "$cached" "$work/$name.h5" > "$work/diff.txt" 2>&1; then
    echo "bitcheck: $name differs" >&2
    head -20 "$work/diff.txt" >&2
    ok=0; status=1
  elif [[ -s $work/diff.txt ]]; then
    sed "s/^/bitcheck: $name: /" "$work/diff.txt"
  fi
  ((ok)) && echo "bitcheck: $name identical"
done
((status == 0)) && echo "bitcheck: all identical" || echo "bitcheck: DIFFERENCES" >&2
exit $status
