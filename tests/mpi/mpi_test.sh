#!/usr/bin/env bash
# MPI scale-out tests of `chacra run` (ctest label mpi; see tests/mpi/CMakeLists.txt and docs/cluster.md).
#   mpi_test.sh reference     serial run of the test scenario (the fixture the others compare with)
#   mpi_test.sh identical K   mpirun -np K gives the serial output: h5diff of /arms /population /comparison
#   mpi_test.sh failure       a unit that throws on one rank: clear message naming the unit, non-zero exit
#   mpi_test.sh resume        after that failure, --resume (on another rank count) runs only unfinished units
#   mpi_test.sh crash         the same after a rank killed by SIGKILL mid-unit
# Splitting one unit's population by districts (--mpi-split districts|auto):
#   mpi_test.sh dreference    serial run of the district scenario; checks that Haku Wiñay's national rollout,
#                             business groups and businesses act in it, in more than one district block
#   mpi_test.sh districts K   mpirun -np K --mpi-split districts gives the serial output (K does not divide the
#                             11 districts)
#   mpi_test.sh dfailure      a split unit failing on a rank that does not write (and one killed mid-unit):
#                             exit non-zero, unit named; --resume with the unit split finishes it identically
#   mpi_test.sh dsmall        more ranks than districts (an empty block) and --mpi-split auto (groups of ranks)
#   mpi_test.sh markets       the local markets (cluster economies): -np 3 --mpi-split districts gives the serial
#                             output (each rank clears the economies of its districts)
# Environment (set by ctest): CHACRA (the executable), MPIEXEC, H5DIFF, WORK (scratch directory).
set -uo pipefail
: "${CHACRA:?}" "${WORK:?}"
MPIEXEC=${MPIEXEC:-mpirun}
H5DIFF=${H5DIFF:-h5diff}
mode=${1:?mode}
# Small and quick, but every arm of the built-in default and two replicates (units = arms x 2).
scenario=(--set population.households=1200 --set population.districts=6 --set run.years=2 --replicates 2
          --seed 11 --threads 1)
mpirun_() {
  local np=$1; shift
  # One machine (shared memory); root is allowed in CI containers; more ranks than cores on small runners.
  OMPI_MCA_btl_vader_single_copy_mechanism=none \
    "$MPIEXEC" --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader -np "$np" "$@"
}
# The district scenario: the built-in sequencing arms (national HW rollout by quota and priority, business
# groups, the CLAR and businesses in district markets), shrunk: 3,000 households in 11 districts, 5 years.
dscenario=(--set population.households=3000 --set population.districts=11 --set run.years=5 --replicates 1
           --seed 5 --threads 1)
fail() { echo "FAIL: $*" >&2; exit 1; }
same_as_reference() {  # file [reference]
  local ref=${2:-$WORK/reference.h5}
  for obj in /arms /population /comparison /arm_names /periods; do
    "$H5DIFF" -q "$ref" "$1" "$obj" "$obj" || fail "$1: $obj differs from the serial run ($ref)"
  done
}
mkdir -p "$WORK"
case $mode in
  reference)
    rm -f "$WORK/reference.h5"
    CHACRA_MPI=0 "$CHACRA" run "${scenario[@]}" -o "$WORK/reference.h5" --quiet || fail "serial run"
    h5dump -A -g /comparison "$WORK/reference.h5" >/dev/null 2>&1 || fail "the serial run wrote no /comparison"
    ;;
  identical)
    np=${2:?ranks}
    out=$WORK/np$np.h5
    rm -rf "$out" "$out.parts"
    mpirun_ "$np" "$CHACRA" run "${scenario[@]}" -o "$out" 2>"$WORK/np$np.log" || { cat "$WORK/np$np.log"; fail "mpirun -np $np"; }
    same_as_reference "$out"
    h5dump -a /provenance/mpi_ranks "$out" | grep -q "(0): $np\$" || fail "provenance does not record $np ranks"
    [[ ! -e $out.parts && ! -e $out.partial ]] || fail "unit files or OUT.partial left behind"
    # Without --force an existing output is refused (exit 2), as in a serial run.
    mpirun_ "$np" "$CHACRA" run "${scenario[@]}" -o "$out" -q 2>/dev/null; rc=$?
    [[ $rc -eq 2 ]] || fail "existing output: exit $rc, expected 2"
    echo "mpirun -np $np: identical to the serial run"
    ;;
  failure|resume|crash)
    out=$WORK/$mode.h5
    rm -rf "$out" "$out.parts" "$out.partial"
    unit="hw_only:1"
    [[ $mode == crash ]] && unit="juntos_only:1:crash"
    CHACRA_FAIL_UNIT=$unit mpirun_ 3 "$CHACRA" run "${scenario[@]}" -o "$out" 2>"$WORK/$mode.log"; rc=$?
    cat "$WORK/$mode.log" >&2
    [[ $rc -ne 0 ]] || fail "a failing unit gave exit status 0"
    [[ ! -e $out ]] || fail "a failed job left a complete-looking $out"
    if [[ $mode != crash ]]; then
      grep -q "failed in work unit arm 'hw_only', replicate 1: injected failure" "$WORK/$mode.log" ||
        fail "the message does not name the failed unit"
      grep -q -- "--resume" "$WORK/$mode.log" || fail "the message does not mention --resume"
    fi
    echo "failed job: exit status $rc"
    [[ $mode == failure ]] && exit 0
    kept=$(find "$out.parts" -name 'unit_*.h5' | wc -l)
    units=$(( $(h5ls "$WORK/reference.h5/arms" | wc -l) * 2 ))
    [[ $kept -lt $units ]] || fail "every unit finished despite the failure"
    # Resume on a different number of ranks: only the unfinished units run again.
    mpirun_ 2 "$CHACRA" run "${scenario[@]}" -o "$out" --resume 2>"$WORK/$mode.resume.log" ||
      { cat "$WORK/$mode.resume.log"; fail "--resume failed"; }
    started=$(grep -c ' started$' "$WORK/$mode.resume.log")
    [[ $started -eq $((units - kept)) ]] || fail "--resume ran $started units, expected $((units - kept)) ($kept were finished)"
    same_as_reference "$out"
    if ((kept > 0)); then
      grep -q "($kept finished earlier, kept)" "$WORK/$mode.resume.log" || fail "--resume does not report the kept units"
      h5dump -a /provenance/mpi_units_resumed "$out" | grep -q "(0): $kept\$" || fail "provenance lacks mpi_units_resumed"
    fi
    echo "--resume ran $started of $units units ($kept kept) and matches the serial run"
    ;;
  dreference)
    rm -f "$WORK/dreference.h5"
    CHACRA_MPI=0 "$CHACRA" run "${dscenario[@]}" -o "$WORK/dreference.h5" --quiet || fail "serial run"
    # Haku Wiñay must act, in districts of more than one rank's block, for the test to mean something.
    /usr/bin/python3 - "$WORK/dreference.h5" <<'PY' || fail "Haku Wiñay does not act in the district scenario"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
p = f["arms/both/replicate_0/panel"]
district = f["population/replicate_0/households/district"][:]
group, btype = p["hw_group"][-1], p["business_type"][-1]
cohorts = set(np.unique(p["hw_cohort"][-1])) - {-1}
print(f"groups {len(np.unique(group[group >= 0]))}, businesses' households {(btype > 0).sum()}, "
      f"cohorts {sorted(int(c) for c in cohorts)}, districts with groups {sorted(set(district[group >= 0]))}")
assert (group >= 0).sum() > 0 and (btype > 0).sum() > 0 and len(cohorts) >= 2
d = set(district[group >= 0]); assert min(d) <= 3 and max(d) >= 7, d
PY
    ;;
  districts)
    np=${2:?ranks}
    out=$WORK/dnp$np.h5
    rm -rf "$out" "$out.parts"
    mpirun_ "$np" "$CHACRA" run "${dscenario[@]}" --mpi-split districts -o "$out" 2>"$WORK/dnp$np.log" ||
      { cat "$WORK/dnp$np.log"; fail "mpirun -np $np --mpi-split districts"; }
    cat "$WORK/dnp$np.log" >&2
    same_as_reference "$out" "$WORK/dreference.h5"
    h5dump -a /provenance/mpi_split "$out" | grep -q '"districts"' || fail "provenance does not record the split"
    h5dump -a /provenance/mpi_unit_ranks "$out" | grep -q "both/0=0-$((np - 1))" || fail "provenance: unit ranks"
    [[ ! -e $out.parts && ! -e $out.partial ]] || fail "unit files or OUT.partial left behind"
    echo "mpirun -np $np --mpi-split districts: identical to the serial run"
    ;;
  dfailure)
    for how in "hw_only:0" "juntos_only:0:crash"; do
      out=$WORK/dfailure.h5
      rm -rf "$out" "$out.parts" "$out.partial"
      CHACRA_FAIL_UNIT=$how mpirun_ 3 "$CHACRA" run "${dscenario[@]}" --mpi-split districts -o "$out" \
        2>"$WORK/dfailure.log"; rc=$?
      cat "$WORK/dfailure.log" >&2
      [[ $rc -ne 0 ]] || fail "$how: a failing split unit gave exit status 0"
      [[ ! -e $out ]] || fail "$how: a failed job left a complete-looking $out"
      if [[ $how != *crash ]]; then
        grep -q "MPI rank 2 of 3 .* failed in work unit arm 'hw_only', replicate 0: injected failure" "$WORK/dfailure.log" ||
          fail "the message does not name the failed unit and rank"
      fi
      kept=$(find "$out.parts" -name 'unit_*.h5' | wc -l)
      units=$(h5ls "$WORK/dreference.h5/arms" | wc -l)
      [[ $kept -lt $units ]] || fail "$how: every unit finished despite the failure"
      # Units run before the failure are complete; the rest run on resume, split again (2 ranks).
      mpirun_ 2 "$CHACRA" run "${dscenario[@]}" --mpi-split districts -o "$out" --resume \
        2>"$WORK/dfailure.resume.log" || { cat "$WORK/dfailure.resume.log"; fail "$how: --resume failed"; }
      started=$(grep -c ' started$' "$WORK/dfailure.resume.log")
      [[ $started -eq $((units - kept)) ]] || fail "$how: --resume ran $started units, expected $((units - kept))"
      same_as_reference "$out" "$WORK/dreference.h5"
      echo "$how: failed job exit $rc; --resume ran $started of $units units ($kept kept), identical to serial"
    done
    ;;
  dsmall)
    # Two arms, two districts: -np 3 --mpi-split districts leaves one rank without districts; auto makes one
    # group per unit (rank 0, ranks 1-2), each unit split by districts within its group.
    small=(--set population.households=1500 --set population.districts=2 --set run.years=4 --replicates 1
           --seed 3 --threads 1)
    yaml=$(dirname "$0")/two_arms.yaml
    CHACRA_MPI=0 "$CHACRA" run "$yaml" "${small[@]}" -o "$WORK/sref.h5" --quiet --force || fail "serial run"
    for split in districts auto; do
      out=$WORK/s_$split.h5
      rm -rf "$out" "$out.parts"
      mpirun_ 3 "$CHACRA" run "$yaml" "${small[@]}" --mpi-split $split -o "$out" 2>"$WORK/s_$split.log" ||
        { cat "$WORK/s_$split.log"; fail "mpirun -np 3 --mpi-split $split"; }
      cat "$WORK/s_$split.log" >&2
      same_as_reference "$out" "$WORK/sref.h5"
    done
    h5dump -a /provenance/mpi_unit_ranks "$WORK/s_auto.h5" | grep -q 'hw_only/0=0,both/0=1-2' ||
      fail "auto: units not run by groups (rank 0) and (ranks 1-2)"
    echo "more ranks than districts, and --mpi-split auto: identical to the serial run"
    ;;
  markets)
    markets=(--set economy.welfare.enabled=true --set economy.markets.enabled=true --set markets.scope=cluster
             --set population.households=3000 --set population.districts=7 --set run.years=3 --replicates 1
             --seed 5 --threads 1)
    yaml=$(dirname "$0")/two_arms.yaml
    CHACRA_MPI=0 "$CHACRA" run "$yaml" "${markets[@]}" -o "$WORK/mref.h5" --quiet --force || fail "serial run"
    out=$WORK/m_np3.h5
    rm -rf "$out" "$out.parts"
    mpirun_ 3 "$CHACRA" run "$yaml" "${markets[@]}" --mpi-split districts -o "$out" 2>"$WORK/m_np3.log" ||
      { cat "$WORK/m_np3.log"; fail "mpirun -np 3 --mpi-split districts with the markets"; }
    same_as_reference "$out" "$WORK/mref.h5"
    h5dump -A -d /arms/both/replicate_0/panel/local_price_index "$out" >/dev/null 2>&1 ||
      fail "no local_price_index in the panel: the markets did not run"
    echo "local markets, mpirun -np 3 --mpi-split districts: identical to the serial run"
    ;;
  *) fail "unknown mode $mode" ;;
esac
