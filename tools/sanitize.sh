#!/usr/bin/env bash
# Builds chacra under a sanitizer in a build dir of its own and runs the test suite there.
#
#   tools/sanitize.sh asan [CTEST ARGS...]   AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
#                                            (-DCHACRA_SANITIZE=ON) in build-asan/
#   tools/sanitize.sh tsan [CTEST ARGS...]   ThreadSanitizer (-DCHACRA_TSAN=ON) in build-tsan/
#
# Without CTEST ARGS it runs the default tier (-LE slow), as CI does. The CLI tests start the instrumented
# chacra executable, so every end-to-end run (hostile input, interruption, full disk, resume) is checked
# too. A sanitizer report makes the process exit with a status no chacra path uses (ASan/UBSan 86,
# LSan 87, TSan 66), so a report can never pass for an expected exit status. Environment:
#   CHACRA_JOBS   build and test parallelism (default 2)
#   CHACRA_BUILD_TYPE  (default RelWithDebInfo: optimised, with line numbers in reports)
#   CHACRA_TSAN_TBB_DIR  (tsan) directory of TBBConfig.cmake of a oneTBB built with -DTBB_SANITIZE=thread.
#                 Debian's libtbb.so is not instrumented, so ThreadSanitizer cannot see how oneTBB hands
#                 tasks between threads and reports every parallel loop as racing (false positives); only
#                 an instrumented oneTBB gives a meaningful TSan run. See docs/reliability.md.
# Reports are explained in docs/reliability.md; TSan suppressions are in tools/tsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kind=${1:-}
[[ $# -gt 0 ]] && shift
jobs=${CHACRA_JOBS:-2}
build_type=${CHACRA_BUILD_TYPE:-RelWithDebInfo}

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
    if [[ -n "${CHACRA_TSAN_TBB_DIR:-}" ]]; then
      options+=("-DTBB_DIR=$CHACRA_TSAN_TBB_DIR")
    else
      echo "sanitize.sh: warning: CHACRA_TSAN_TBB_DIR is not set; with Debian's uninstrumented oneTBB," \
           "ThreadSanitizer reports false races in every parallel loop (docs/reliability.md)" >&2
    fi
    ;;
  *)
    echo "usage: tools/sanitize.sh asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac

cmake -S . -B "$dir" "${options[@]}" -DCMAKE_BUILD_TYPE="$build_type" -DCHACRA_BUILD_BENCHMARKS=OFF
cmake --build "$dir" -j"$jobs"
if [[ $# -eq 0 ]]; then
  set -- -LE slow
fi
ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@"
