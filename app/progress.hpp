// Progress on stderr for the commands that run the model (run, sweep): a bar with rate and ETA on a terminal, a
// plain line every few seconds otherwise.
#pragma once

#include "sim/runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace chacra::cli {

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1) {}
  void operator()(std::uint64_t done, std::uint64_t total) {
    if (quiet_ || total == 0) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double since = std::chrono::duration<double>(now - last_).count();
    const bool finished = done >= total;
    if (!finished && since < (tty_ ? 0.2 : 5.0)) return;
    last_ = now;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    const double frac = static_cast<double>(done) / static_cast<double>(total);
    char line[160];
    if (tty_) {
      const int width = 30, filled = static_cast<int>(frac * width);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, ' ');
      std::snprintf(line, sizeof line, "\r[%s] %5.1f%%  %.3g M household-months/s  ETA %.0fs ", bar.c_str(),
                    100 * frac, rate / 1e6, eta);
      std::fputs(line, stderr);
      if (finished) std::fputs("\n", stderr);
    } else {
      // The resident set is logged so that long runs show their memory stays flat (the soak tier checks it).
      std::snprintf(line, sizeof line,
                    "progress: %.1f%% (%llu of %llu household-months, %.3g M/s, ETA %.0fs, RSS %lld MiB)\n",
                    100 * frac, static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                    rate / 1e6, eta, static_cast<long long>(resident_bytes() >> 20));
      std::fputs(line, stderr);
    }
    std::fflush(stderr);
  }

 private:
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

}  // namespace chacra::cli
