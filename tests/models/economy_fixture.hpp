// File: tests/models/economy_fixture.hpp
// The household economy's test worlds: the modules of world_fixture.hpp plus the livestock module, with the
// economy's switches and terms registered, and a helper to run a month made of chosen phases (tests fill the
// columns another branch's phase would write, such as tech_profit_pen, with a phase of their own).
#pragma once

#include "models/livestock.hpp"
#include "tests/models/world_fixture.hpp"

#include <functional>
#include <string>
#include <vector>

namespace chacra::testing {

struct EconomyModels : Models {
  models::Livestock livestock;

  EconomyModels() {
    models::Livestock::register_params(registry);
    params = std::make_unique<ParamSet>(registry);
  }
  void set_bool(const std::string& name, bool v) { params->set(name, ParamValue{v}); }
  // Switches one channel of the economy (economy.<channel>.enabled).
  void channel(const std::string& name, bool on) { set_bool("economy." + name + ".enabled", on); }

  // Every module's setup; the month is demography, adoption, livestock, income, consumption, welfare.
  void setup(World& w) {
    Models::setup(w);
    livestock.setup(w, *params, seed);
    month = {demography.step_phase(),  adoption.update_phase(),        livestock.step_phase(),
             livelihood.income_phase(), livelihood.consumption_phase(), livelihood.welfare_phase()};
  }
};

// A world of identical households in two districts: `centres` centres of `per_centre` households.
inline World economy_world(int centres = 20, int per_centre = 50) {
  WorldSpec spec;
  spec.districts = 2;
  spec.centres_per_district = centres / 2;
  spec.households_per_centre = per_centre;
  return make_world(spec);
}

// A per-block phase from a function of one household (tests use it to write what another phase would).
inline Phase household_phase(const std::string& name, std::function<void(World&, const StepContext&, std::uint32_t)> f) {
  return Phase::per_block(name, [f](World& w, const StepContext& ctx, const Block& b) {
    for (std::uint32_t i = b.household_begin; i < b.household_end; ++i) f(w, ctx, i);
  });
}

}  // namespace chacra::testing
