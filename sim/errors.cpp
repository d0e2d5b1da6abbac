// The exit status of an error (see sim/errors.hpp).
#include "sim/errors.hpp"

#include "sim/interrupt.hpp"

namespace chacra {

namespace {
// An error with a message of the caller's, nesting the error it stands for.
class Restated : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace

void rethrow_as(const std::string& message) { std::throw_with_nested(Restated(message)); }

int exit_status(const std::exception& e) {
  if (const auto* nested = dynamic_cast<const std::nested_exception*>(&e); nested && nested->nested_ptr()) {
    try {
      nested->rethrow_nested();
    } catch (const std::exception& inner) {
      return exit_status(inner);
    } catch (...) {
      return 1;
    }
  }
  if (const auto* in = dynamic_cast<const Interrupted*>(&e)) return 128 + (in->signal() ? in->signal() : 2);
  if (const auto* elsewhere = dynamic_cast<const ReportedElsewhere*>(&e)) return elsewhere->status();
  if (dynamic_cast<const BadInput*>(&e)) return 2;
  return 1;
}

}  // namespace chacra
