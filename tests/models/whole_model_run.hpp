// File: tests/models/whole_model_run.hpp
// The whole model on a small generated population, for the tests that need every module in the month's order.
#pragma once

#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/population.hpp"

#include <cstdint>
#include <functional>

namespace chacra::testing {

// Runs the full model for `months` on replicate 0 of a small population and returns the final world;
// `after(world, month)`, when given, is called at the end of each month.
inline World run_model(ParamSet p, int months, const std::function<void(const World&, int)>& after = {}) {
  p.set("population.households", std::int64_t{4000});
  p.set("population.districts", std::int64_t{8});
  p.set("run.years", std::int64_t{(months + 11) / 12});
  World w = generate_population(p, 0);
  Model m = models::build_model(p);
  const rng::StreamSeed seed{7, 0};
  for (auto& mod : m.modules) mod->setup(w, p, seed);
  Stepper stepper(w, m.month, p, seed);
  for (int month = 0; month < months; ++month) {
    stepper.step(month);
    if (after) after(w, month);
  }
  return w;
}

}  // namespace chacra::testing
