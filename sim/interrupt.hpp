// Cooperative cancellation: signal handlers set a flag that long loops poll between months.
#pragma once

#include <stdexcept>
#include <string>

namespace chacra {

// Thrown by the runner when a stop was requested; carries the signal number (0 if none).
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(int signal)
      : std::runtime_error("interrupted by signal " + std::to_string(signal)), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

void request_stop(int signal);  // async-signal-safe
bool stop_requested();
int stop_signal();
void clear_stop();
// Installs SIGINT and SIGTERM handlers that call request_stop.
void install_stop_handlers();

}  // namespace chacra
