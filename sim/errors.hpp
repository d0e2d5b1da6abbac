// The failures chacra tells apart and the exit status of each (README: 0 success, 1 runtime failure, 2 bad
// input, 128 + signal when interrupted). Library code throws; only main turns an exception into a status,
// through exit_status(), the one place that maps the one to the other.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace chacra {

// Input the user can fix: the command line, the scenario (ConfigError), a population that does not fit in memory
// (ResourceError), an output that exists (OutputExists). Exit status 2.
class BadInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command line that cannot be understood (unknown option, missing or malformed value).
class UsageError : public BadInput {
 public:
  using BadInput::BadInput;
};

// A failure another process has already reported (another MPI rank's), with the status it maps to there; main
// prints nothing more and exits with that status.
class ReportedElsewhere : public std::runtime_error {
 public:
  explicit ReportedElsewhere(int status)
      : std::runtime_error("failed on another process (status " + std::to_string(status) + ")"), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// Rethrows the exception being handled as one whose message is `message` and whose exit status is the handled
// one's (the caller adds context: which file, which option, what to do next). Call only inside a catch block.
[[noreturn]] void rethrow_as(const std::string& message);

// The exit status of an error: 128 + signal for Interrupted, 2 for BadInput, the recorded status
// of ReportedElsewhere, 1 for anything else; an exception nesting another (rethrow_as) has the status of the one
// it nests.
int exit_status(const std::exception& e);

}  // namespace chacra
