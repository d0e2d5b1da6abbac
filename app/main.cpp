// Entry point of the chacra executable; everything lives in the cli namespace.
#include "app/cli.hpp"

#include <oneapi/tbb/global_control.h>

#include <new>

int main(int argc, char** argv) {
  // A handle on oneTBB's scheduler, so that its worker threads are joined before the process exits. A
  // worker still alive at exit leaves its thread-local block behind, which leak checkers report as possibly
  // lost (valgrind in tests/cli_slow).
  tbb::task_scheduler_handle scheduler{tbb::attach{}};
  const int status = chacra::cli::main(argc, argv);
  // false when the workers cannot be joined (another thread still uses the scheduler); exiting is fine then.
  // Only after a success: when a worker could not be created (pthread_create failing under ulimit -u or -v),
  // oneTBB's finalize waits for it for ever, and a failing process need not join anything.
  if (status == 0) (void)tbb::finalize(scheduler, std::nothrow);
  return status;
}
