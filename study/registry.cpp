// The full parameter registry: the model's, then the study tools' (docs/parameters.md lists them in this order).
#include "study/registry.hpp"

#include "models/registry.hpp"
#include "study/budget.hpp"
#include "study/comparison.hpp"
#include "study/evaluation.hpp"

namespace chacra::study {

const Registry& registry() {
  static const Registry reg = [] {
    Registry r = models::registry();
    evaluation::register_params(r);
    BudgetNeutrality::register_params(r);
    Comparison::register_params(r);
    return r;
  }();
  return reg;
}

}  // namespace chacra::study
