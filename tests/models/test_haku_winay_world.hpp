// File: tests/models/test_haku_winay_world.hpp
// Hand-made worlds and a month driver for the Haku Winay tests: every centre, district and household
// attribute the module reads is set directly, and the columns of other modules it reads (tech_state,
// juntos_enrolled, ...) are created by hand, so the tests know the eligible sets and outcomes exactly.
#pragma once

#include "models/adoption.hpp"
#include "models/demography.hpp"
#include "models/economy.hpp"
#include "models/haku_winay.hpp"
#include "models/hw_business.hpp"
#include "models/livelihood.hpp"
#include "models/juntos.hpp"
#include "models/livestock.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/engine_params.hpp"
#include "sim/params.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chacra::hw_testing {

struct DistrictSpec {
  float poverty = 0.5f;
  std::uint8_t malnutrition = 0;
  std::uint8_t region = 0;
  float dynamism = 0.5f;
};

struct CentreSpec {
  std::uint32_t district = 0;  // centres must be listed in district order
  int households = 60;
  float ubn_share = 0.7f;
  std::uint8_t border = 0;
  float water_share = 0.5f;
  float altitude_m = 3500.0f;
  float market_access = 0.5f;
};

struct HouseholdSpec {
  float land_ha = 1.0f;  // subsistence by default (under 1.3 ha, 80% of labour in farming)
  float farm_labour_share = 0.8f;
  std::uint8_t water_access = 1;
  float productive_capacity = 1.0f;
  float locus_of_control = 0.0f;
  std::uint8_t juntos = 0;
  double youngest_child_years = 8.0;  // < 0: no child
};

// Household k of centre c gets household(c, k).
using HouseholdFn = std::function<HouseholdSpec(std::uint32_t centre, std::uint32_t k)>;

inline World make_world(const std::vector<DistrictSpec>& districts, const std::vector<CentreSpec>& centres,
                        const HouseholdFn& household = [](std::uint32_t, std::uint32_t) { return HouseholdSpec{}; },
                        std::size_t block_households = 64) {
  namespace col = models::col;
  World w;
  w.calendar.start_year = 2017;
  w.calendar.months = 120;
  w.districts.resize(districts.size());
  auto* d_poverty = w.districts.add(col::district_poverty_rate);
  auto* d_mal = w.districts.add(col::district_malnutrition_priority);
  auto* d_dyn = w.districts.add(col::district_market_dynamism);
  auto* d_region = w.districts.add(col::district_region);
  for (std::size_t d = 0; d < districts.size(); ++d) {
    d_poverty[d] = districts[d].poverty;
    d_mal[d] = districts[d].malnutrition;
    d_dyn[d] = districts[d].dynamism;
    d_region[d] = districts[d].region;
  }
  const std::size_t nc = centres.size();
  w.centres.resize(nc);
  auto* c_district = w.centres.add(col::centre_district);
  auto* c_households = w.centres.add(col::centre_households);
  auto* c_ubn = w.centres.add(col::centre_ubn_share);
  auto* c_market = w.centres.add(col::centre_market_access);
  auto* c_water = w.centres.add(col::centre_water_share);
  auto* c_alt = w.centres.add(col::centre_altitude_m);
  auto* c_border = w.centres.add(col::centre_border_area);
  auto* c_nucleus = w.centres.add(col::centre_nucleus);
  w.centre_first.assign(nc + 1, 0);
  for (std::size_t c = 0; c < nc; ++c) {
    c_district[c] = centres[c].district;
    c_households[c] = static_cast<std::uint32_t>(centres[c].households);
    c_ubn[c] = centres[c].ubn_share;
    c_market[c] = centres[c].market_access;
    c_water[c] = centres[c].water_share;
    c_alt[c] = centres[c].altitude_m;
    c_border[c] = centres[c].border;
    c_nucleus[c] = static_cast<std::uint32_t>(c);
    w.centre_first[c + 1] = w.centre_first[c] + static_cast<std::uint32_t>(centres[c].households);
  }
  w.district_first.assign(districts.size() + 1, 0);
  for (std::size_t d = 0, c = 0; d <= districts.size(); ++d) {
    while (c < nc && c_district[c] < d) ++c;
    w.district_first[d] = static_cast<std::uint32_t>(c);
  }

  auto& h = w.households;
  h.resize(w.centre_first[nc]);
  auto* centre = h.add(col::centre);
  auto* district = h.add(col::district);
  auto* age = h.add(col::member_age_months);
  h.add(col::member_female);
  auto* land = h.add(col::land_ha);
  auto* water = h.add(col::water_access);
  auto* capacity = h.add(col::productive_capacity);
  auto* locus = h.add(col::locus_of_control);
  auto* locus0 = h.add(col::baseline_locus_of_control);
  auto* farm = h.add(col::farm_labour_share);
  auto* ubn = h.add(col::has_ubn);
  h.add(col::wealth_index);
  // Other modules' columns that Haku Winay reads.
  h.add(col::tech_state);
  h.add(col::cash_pen);
  h.add(col::income_monetary_pen);
  h.add(col::pasture_ha);
  models::add_shared_columns(w);
  auto* juntos = h.get(col::juntos_enrolled);
  for (std::uint32_t c = 0; c < nc; ++c) {
    for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) {
      const HouseholdSpec s = household(c, i - w.centre_first[c]);
      centre[i] = c;
      district[i] = c_district[c];
      std::int16_t* a = age + static_cast<std::size_t>(i) * kMaxMembers;
      for (int k = 0; k < kMaxMembers; ++k) a[k] = -1;
      a[0] = 40 * 12;
      a[1] = 38 * 12;
      if (s.youngest_child_years >= 0) a[2] = static_cast<std::int16_t>(s.youngest_child_years * 12);
      land[i] = s.land_ha;
      water[i] = s.water_access;
      capacity[i] = s.productive_capacity;
      locus[i] = locus0[i] = s.locus_of_control;
      farm[i] = s.farm_labour_share;
      ubn[i] = 1;
      juntos[i] = s.juntos;
    }
  }
  w.make_blocks(block_households);
  return w;
}

// The module with its own registry and parameters, and a driver that runs its four phases for a month as
// the stepper would (serial phases once, block phases on every block), then plays the adoption module's
// part of consuming the push.
struct HwRun {
  Registry registry;
  std::unique_ptr<ParamSet> params;
  std::unique_ptr<models::HakuWinay> hw;
  rng::StreamSeed seed{20170601, 0};
  std::vector<Phase> month;

  HwRun() {
    register_engine_params(registry);
    // Haku Winay's businesses read the survival rule's parameters, which borrow the economy's switches and the
    // adoption and livelihood modules' parameters; its graduation route borrows Juntos's and demography's.
    models::EconomyParams::register_params(registry);
    models::Adoption::register_params(registry);
    models::Livelihood::register_params(registry);
    models::BusinessParams::register_params(registry);
    models::Livestock::register_params(registry);
    models::Juntos::register_params(registry);
    models::Demography::register_params(registry);  // the graduation route borrows the secondary-completion age
    models::HakuWinay::register_params(registry);
    params = std::make_unique<ParamSet>(registry);
    // Tests default to a quota large enough to start every eligible centre in 2017.
    set("haku_winay.eligible_share_per_year", 1.0);
  }
  HwRun(const HwRun&) = delete;
  HwRun& operator=(const HwRun&) = delete;

  void set(const std::string& name, double v) { params->set(name, ParamValue{v}); }
  void set_int(const std::string& name, std::int64_t v) { params->set(name, ParamValue{v}); }
  void set_bool(const std::string& name, bool v) { params->set(name, ParamValue{v}); }
  void set_choice(const std::string& name, const std::string& v) { params->set(name, ParamValue{v}); }

  void setup(World& w) {
    hw = std::make_unique<models::HakuWinay>();
    hw->setup(w, *params, seed);
    month = {hw->rollout_phase(), hw->stages_phase(), hw->competition_phase(), hw->business_phase()};
  }
  void step(World& w, int m, bool reset_push = true) const {
    const StepContext ctx{*params, seed, m, w.calendar};
    for (const Phase& p : month) {
      if (p.scope == Phase::Scope::global)
        p.global(w, ctx);
      else
        for (const Block& b : w.blocks) p.block(w, ctx, b);
    }
    if (reset_push) {
      float* push = w.households.get(models::col::adoption_push);
      for (std::size_t i = 0; i < w.household_count() * models::kTechCount; ++i) push[i] = 0.0f;
    }
  }
  void run(World& w, int months) const {
    for (int m = 0; m < months; ++m) step(w, m);
  }
};

}  // namespace chacra::hw_testing
