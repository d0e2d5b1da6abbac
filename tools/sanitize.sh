#!/usr/bin/env bash
# Builds chacra under a sanitizer in a build dir of its own and runs the test suite there.
#
#   tools/sanitize.sh asan [CTEST ARGS...]   AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
#                                            (-DCHACRA_SANITIZE=ON) in build-asan/
#   tools/sanitize.sh tsan [CTEST ARGS...]   ThreadSanitizer (-DCHACRA_TSAN=ON) in build-tsan/
#
# Without CTEST ARGS it runs the default tier (-LE 'slow|soak|fuzz'), as CI does. The CLI tests start the
# instrumented chacra executable, so every end-to-end run (hostile input, interruption, full disk, resume)
# is checked too. A sanitizer report makes the process exit with a status no chacra path uses (ASan/UBSan 86,
# LSan 87, TSan 66), so a report can never pass for an expected exit status. Environment:
#   CHACRA_JOBS   build and test parallelism (default 2)
#   CHACRA_BUILD_TYPE  (default RelWithDebInfo: optimised, with line numbers in reports)
#   CHACRA_TSAN_TBB_DIR  (tsan) directory of TBBConfig.cmake of a oneTBB built with -DTBB_SANITIZE=thread.
#                 Unset: $CHACRA_TBB_TSAN_PREFIX/lib/cmake/TBB (default prefix $HOME/tbb-tsan), built there
#                 first by tools/build_tbb_tsan.sh (Debian's oneTBB source, about 1 minute) when missing.
#                 Debian's libtbb.so is not instrumented, so ThreadSanitizer cannot see how oneTBB hands
#                 tasks between threads and reports every parallel loop as racing (false positives); only
#                 an instrumented oneTBB gives a meaningful TSan run. "system" uses Debian's anyway (only to
#                 see those false reports). After the build the script checks with ldd that chacra and
#                 every test executable load the instrumented libtbb.so.12 (through the build RUNPATH).
#                 See docs/reliability.md.
# Reports are explained in docs/reliability.md; TSan suppressions are in tools/tsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kind=${1:-}
[[ $# -gt 0 ]] && shift
jobs=${CHACRA_JOBS:-2}
build_type=${CHACRA_BUILD_TYPE:-RelWithDebInfo}
tbb_dir=

case "$kind" in
  asan)
    dir=build-asan
    options=(-DCHACRA_SANITIZE=ON)
    export ASAN_OPTIONS="exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:print_summary=1"
    export UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="exitcode=87"
    ;;
  tsan)
    dir=build-tsan
    options=(-DCHACRA_TSAN=ON)
    export TSAN_OPTIONS="exitcode=66:halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp"
    tbb_dir=${CHACRA_TSAN_TBB_DIR:-}
    if [[ "$tbb_dir" == system ]]; then
      echo "sanitize.sh: warning: using Debian's uninstrumented oneTBB: ThreadSanitizer reports false races" \
           "in every parallel loop (docs/reliability.md)" >&2
      options+=(-UTBB_DIR)
      tbb_dir=
    else
      if [[ -z "$tbb_dir" ]]; then
        tbb_dir=${CHACRA_TBB_TSAN_PREFIX:-$HOME/tbb-tsan}/lib/cmake/TBB
        [[ -f "$tbb_dir/TBBConfig.cmake" ]] || tools/build_tbb_tsan.sh "${CHACRA_TBB_TSAN_PREFIX:-$HOME/tbb-tsan}"
      fi
      [[ -f "$tbb_dir/TBBConfig.cmake" ]] || { echo "sanitize.sh: no TBBConfig.cmake in $tbb_dir" >&2; exit 2; }
      options+=("-DTBB_DIR=$tbb_dir")
    fi
    ;;
  *)
    echo "usage: tools/sanitize.sh asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac

cmake -S . -B "$dir" "${options[@]}" -DCMAKE_BUILD_TYPE="$build_type" -DCHACRA_BUILD_BENCHMARKS=OFF
cmake --build "$dir" -j"$jobs"
if [[ "$kind" == tsan && -n "$tbb_dir" ]]; then
  # The instrumented libtbb.so.12 has the same soname as Debian's; make sure it is the one loaded.
  tbb_lib=$(cd "$tbb_dir/../.." && pwd)/libtbb.so.12
  for exe in "$dir/chacra" "$dir"/tests/chacra_*_tests; do
    [[ -x "$exe" ]] || continue
    loaded=$(ldd "$exe" | awk '$1 == "libtbb.so.12" { print $3 }')
    if [[ "$(realpath -e "$loaded" 2>/dev/null)" != "$(realpath -e "$tbb_lib")" ]]; then
      echo "sanitize.sh: $exe loads libtbb.so.12 from '${loaded}', not the instrumented $tbb_lib" >&2
      exit 2
    fi
  done
  echo "sanitize.sh: chacra and the test executables load the instrumented $tbb_lib" >&2
fi
if [[ $# -eq 0 ]]; then
  set -- -LE 'slow|soak|fuzz'
fi
ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@"
