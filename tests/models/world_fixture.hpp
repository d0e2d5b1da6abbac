// File: tests/models/world_fixture.hpp
// Small hand-made worlds for the tests of the demography, adoption and livelihood modules: the engine's
// population columns are created directly (not through sim/population.cpp) so tests control every value,
// then the shared columns and the modules' setup, and the month's phases run block by block.
#pragma once

#include "models/adoption.hpp"
#include "models/demography.hpp"
#include "models/economy.hpp"
#include "models/finance.hpp"
#include "models/hw_business.hpp"
#include "models/livelihood.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"
#include "sim/world.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace chacra::testing {

// One household's attributes (the engine's population columns).
struct HouseholdSpec {
  std::vector<double> member_age_years = {35.0, 32.0, 10.0, 6.0};
  std::vector<int> member_female = {0, 1, 0, 1};
  float land_ha = 1.0f;
  std::uint8_t water_access = 1;
  float productive_capacity = 1.0f;
  float locus_of_control = 0.0f;
  float farm_labour_share = 0.75f;
  std::uint8_t has_ubn = 1;
  float wealth_index = 0.0f;
};

struct WorldSpec {
  int districts = 1;
  int centres_per_district = 1;
  int households_per_centre = 10;
  float market_dynamism = 0.5f;
  float district_poverty = 0.5f;
  float ubn_share = 0.6f;
  int start_year = 2017;
  int months = 120;
  std::size_t block_households = 64;
};

// Builds a world of spec.districts * spec.centres_per_district centres with households_per_centre
// households each; household i (global index, sorted by centre) gets household(i).
inline World make_world(const WorldSpec& spec, const std::function<HouseholdSpec(std::size_t)>& household) {
  World w;
  w.calendar.start_year = spec.start_year;
  w.calendar.months = spec.months;
  const auto n_districts = static_cast<std::size_t>(spec.districts);
  const std::size_t n_centres = n_districts * static_cast<std::size_t>(spec.centres_per_district);
  const std::size_t per_centre = static_cast<std::size_t>(spec.households_per_centre);
  const std::size_t n = n_centres * per_centre;

  w.districts.resize(n_districts);
  auto* d_poverty = w.districts.add(models::col::district_poverty_rate);
  w.districts.add(models::col::district_malnutrition_priority);
  auto* d_market = w.districts.add(models::col::district_market_dynamism);
  w.districts.add(models::col::district_region);
  w.districts.add(models::col::district_department);
  for (std::size_t d = 0; d < n_districts; ++d) {
    d_poverty[d] = spec.district_poverty;
    d_market[d] = spec.market_dynamism;
  }

  w.centres.resize(n_centres);
  auto* c_district = w.centres.add(models::col::centre_district);
  auto* c_households = w.centres.add(models::col::centre_households);
  auto* c_ubn = w.centres.add(models::col::centre_ubn_share);
  auto* c_market = w.centres.add(models::col::centre_market_access);
  w.centres.add(models::col::centre_water_share);
  auto* c_altitude = w.centres.add(models::col::centre_altitude_m);
  w.centres.add(models::col::centre_border_area);
  auto* c_nucleus = w.centres.add(models::col::centre_nucleus);
  w.centre_first.assign(n_centres + 1, 0);
  w.district_first.assign(n_districts + 1, 0);
  for (std::size_t c = 0; c < n_centres; ++c) {
    c_district[c] = static_cast<std::uint32_t>(c / static_cast<std::size_t>(spec.centres_per_district));
    c_households[c] = static_cast<std::uint32_t>(per_centre);
    c_ubn[c] = spec.ubn_share;
    c_market[c] = spec.market_dynamism;
    c_altitude[c] = 3300.0f;
    c_nucleus[c] = static_cast<std::uint32_t>(c);
    w.centre_first[c + 1] = static_cast<std::uint32_t>((c + 1) * per_centre);
  }
  for (std::size_t d = 0; d <= n_districts; ++d)
    w.district_first[d] = static_cast<std::uint32_t>(d * static_cast<std::size_t>(spec.centres_per_district));

  auto& h = w.households;
  h.resize(n);
  auto* centre = h.add(models::col::centre);
  auto* district = h.add(models::col::district);
  auto* age = h.add(models::col::member_age_months);
  auto* female = h.add(models::col::member_female);
  auto* land = h.add(models::col::land_ha);
  auto* water = h.add(models::col::water_access);
  auto* capacity = h.add(models::col::productive_capacity);
  auto* locus = h.add(models::col::locus_of_control);
  auto* locus0 = h.add(models::col::baseline_locus_of_control);
  auto* fls = h.add(models::col::farm_labour_share);
  auto* ubn = h.add(models::col::has_ubn);
  auto* wealth = h.add(models::col::wealth_index);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i / per_centre;
    centre[i] = static_cast<std::uint32_t>(c);
    district[i] = c_district[c];
    const HouseholdSpec s = household(i);
    for (int k = 0; k < kMaxMembers; ++k) {
      const bool present = k < static_cast<int>(s.member_age_years.size());
      age[i * kMaxMembers + k] =
          present ? static_cast<std::int16_t>(s.member_age_years[k] * 12.0 + 0.5) : std::int16_t{-1};
      female[i * kMaxMembers + k] =
          present && k < static_cast<int>(s.member_female.size()) && s.member_female[k] ? 1 : 0;
    }
    land[i] = s.land_ha;
    water[i] = s.water_access;
    capacity[i] = s.productive_capacity;
    locus[i] = s.locus_of_control;
    locus0[i] = s.locus_of_control;
    fls[i] = s.farm_labour_share;
    ubn[i] = s.has_ubn;
    wealth[i] = s.wealth_index;
  }
  models::add_shared_columns(w);
  w.make_blocks(spec.block_households);
  return w;
}

inline World make_world(const WorldSpec& spec, const HouseholdSpec& household = {}) {
  return make_world(spec, [&](std::size_t) { return household; });
}

// The three modules (and the household budget of the welfare channel) with a registry of their parameters;
// `params` may be changed before setup().
// Not copyable or movable: the parameter set points into the registry and phases into the modules.
struct Models {
  Registry registry;
  std::unique_ptr<ParamSet> params;
  models::Demography demography;
  models::Adoption adoption;
  models::Livelihood livelihood;
  models::Finance finance;
  rng::StreamSeed seed{20240601, 0};
  std::vector<Phase> month;

  Models() {
    models::EconomyParams::register_params(registry);
    models::Demography::register_params(registry);
    models::Adoption::register_params(registry);
    models::Livelihood::register_params(registry);
    models::Finance::register_params(registry);
    models::BusinessParams::register_params(registry);
    params = std::make_unique<ParamSet>(registry);
  }
  Models(const Models&) = delete;
  Models& operator=(const Models&) = delete;

  void set(const std::string& name, double v) { params->set(name, ParamValue{v}); }
  void set_int(const std::string& name, std::int64_t v) { params->set(name, ParamValue{v}); }
  // Sets a per-technology parameter "<prefix>.<tech>.<field>" for every technology.
  void set_all_techs(const std::string& prefix, const std::string& field, double v) {
    for (const char* t : models::kTechNames) set(prefix + "." + t + "." + field, v);
  }
  // Switches the adoption dynamics off: no new adopters and no drops (baseline states persist).
  void freeze_adoption() {
    set_all_techs("adoption", "baseline_hazard", 0.0);
    set_all_techs("adoption", "drop_hazard_supported", 0.0);
    set_all_techs("adoption", "drop_hazard_after", 0.0);
    set("adoption.peer_strength", 0.0);
  }
  // Switches demographic events off (members still age).
  void freeze_demography() {
    set("demography.conception_hazard", 0.0);
    set("demography.leave_hazard", 0.0);
    set("demography.old_age_mortality", 0.0);
  }
  void no_shocks() {
    set("livelihood.farm_shock_sd", 0.0);
    set("livelihood.offfarm_shock_sd", 0.0);
    set("livelihood.covariate_shock_prob", 0.0);
  }

  // Module setup in the order the model needs (demography, adoption, livelihood, finance) and the month's
  // phases (with economy.welfare.enabled, the budget with credit in place of the consumption rule, as
  // models/month.cpp orders them).
  void setup(World& w) {
    demography.setup(w, *params, seed);
    adoption.setup(w, *params, seed);
    livelihood.setup(w, *params, seed);
    finance.setup(w, *params, seed);
    const bool welfare = models::EconomyParams::from(*params).welfare;
    month.clear();
    if (welfare) month.push_back(finance.open_phase());
    month.insert(month.end(), {demography.step_phase(), adoption.update_phase(), livelihood.income_phase(),
                               welfare ? finance.budget_phase() : livelihood.consumption_phase(),
                               livelihood.welfare_phase()});
  }

  StepContext context(const World& w, int m) const { return StepContext{*params, seed, m, w.calendar}; }

  void run(World& w, const Phase& phase, int m) const {
    const StepContext ctx = context(w, m);
    for (const Block& b : w.blocks) phase.block(w, ctx, b);
  }
  void step(World& w, int m) const {
    for (const Phase& p : month) run(w, p, m);
  }
};

// Column helpers for tests.
template <class T> const T* column(const World& w, const Col<T>& c) { return w.households.get(c); }
template <class T> T* column(World& w, const Col<T>& c) { return w.households.get(c); }

// FNV-1a over every household column of a world (names excluded): the same state gives the same digest.
inline std::uint64_t household_digest(const World& w) {
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t c = 0; c < w.households.column_count(); ++c) {
    const auto& info = w.households.info(c);
    const auto* p = static_cast<const unsigned char*>(w.households.data(c));
    const std::size_t n = w.households.rows() * static_cast<std::size_t>(info.width) * column_type_size(info.type);
    for (std::size_t k = 0; k < n; ++k) hash = (hash ^ p[k]) * 1099511628211ull;
  }
  return hash;
}

}  // namespace chacra::testing
