// Progress lines of long commands (see app/progress.hpp).
#include "app/progress.hpp"

#include "sim/runner.hpp"
#include "study/comparison.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace chacra::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[48];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

Progress::Progress(std::string unit, bool quiet, bool log)
    : unit_(std::move(unit)), quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1), log_(log) {}

void Progress::operator()(std::uint64_t done, std::uint64_t total) {
  if (quiet_ || total == 0 || (!tty_ && !log_)) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since = std::chrono::duration<double>(now - last_).count();
  const bool finished = done >= total;
  if (!finished && since < (tty_ ? 0.2 : 5.0)) return;
  last_ = now;
  const double frac = static_cast<double>(done) / static_cast<double>(total);
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::string eta = done == 0 ? "?" : format_duration(rate > 0 ? static_cast<double>(total - done) / rate : 0.0);
  const std::string count = study::format_fixed(static_cast<double>(done), 0) + " of " +
                            study::format_fixed(static_cast<double>(total), 0) + " " + unit_;
  char line[256];
  if (tty_) {
    const int width = 20, filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, ' ');
    // Within 100 columns; the trailing blanks clear a longer previous line.
    std::snprintf(line, sizeof line, "\r[%s] %5.1f%%  %s, %s elapsed, ETA %s   ", bar.c_str(), 100 * frac,
                  count.c_str(), format_duration(elapsed).c_str(), eta.c_str());
    std::fputs(line, stderr);
    if (finished) std::fputs("\n", stderr);
  } else {
    // The resident set is logged so that long runs show their memory stays flat (the soak tier checks it).
    std::snprintf(line, sizeof line, "progress: %.1f%% (%s, %s elapsed, ETA %s, RSS %lld MiB)\n", 100 * frac,
                  count.c_str(), format_duration(elapsed).c_str(), eta.c_str(),
                  static_cast<long long>(resident_bytes() >> 20));
    std::fputs(line, stderr);
  }
  std::fflush(stderr);
}

}  // namespace chacra::cli
