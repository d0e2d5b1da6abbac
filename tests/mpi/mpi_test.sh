#!/usr/bin/env bash
# MPI scale-out tests of `chacra run` (ctest label mpi; see tests/mpi/CMakeLists.txt and docs/cluster.md).
#   mpi_test.sh reference     serial run of the test scenario (the fixture the others compare with)
#   mpi_test.sh identical K   mpirun -np K gives the serial output: h5diff of /arms /population /comparison
#   mpi_test.sh failure       a unit that throws on one rank: clear message naming the unit, non-zero exit
#   mpi_test.sh resume        after that failure, --resume (on another rank count) runs only unfinished units
#   mpi_test.sh crash         the same after a rank killed by SIGKILL mid-unit
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
fail() { echo "FAIL: $*" >&2; exit 1; }
same_as_reference() {  # file
  for obj in /arms /population /comparison /arm_names /periods; do
    "$H5DIFF" -q "$WORK/reference.h5" "$1" "$obj" "$obj" || fail "$1: $obj differs from the serial run"
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
  *) fail "unknown mode $mode" ;;
esac
