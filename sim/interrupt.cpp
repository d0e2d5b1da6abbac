// Signal-driven stop flag (lock-free atomics only, so the handler is async-signal-safe).
#include "sim/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace chacra {

namespace {
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
extern "C" void on_signal(int sig) { request_stop(sig); }
}  // namespace

void request_stop(int signal) { g_signal.store(signal == 0 ? -1 : signal, std::memory_order_relaxed); }
bool stop_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
int stop_signal() {
  const int s = g_signal.load(std::memory_order_relaxed);
  return s < 0 ? 0 : s;
}
void clear_stop() { g_signal.store(0); }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // Past a file-size limit (ulimit -f) a write should fail with EFBIG and be reported, not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace chacra
