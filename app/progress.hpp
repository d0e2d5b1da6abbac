// Progress of a long command on stderr: on a terminal one line redrawn in place (bar, count, elapsed time,
// ETA); elsewhere (a log, a batch job) a plain line every 5 s with the resident memory when the command logs,
// else nothing. Stdout, where results go, is never touched.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace chacra::cli {

class Progress {
 public:
  // `unit` names what is counted ("household-months", "replicates"); `log` prints the plain lines off a terminal.
  Progress(std::string unit, bool quiet, bool log);
  void operator()(std::uint64_t done, std::uint64_t total);

 private:
  std::string unit_;
  bool quiet_, tty_, log_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

// A duration for people: "45s", "12m05s", "3h07m".
std::string format_duration(double seconds);

}  // namespace chacra::cli
