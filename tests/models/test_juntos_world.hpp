// File: tests/models/test_juntos_world.hpp
// Hand-made worlds and a month driver for the Juntos tests: the engine's and demography's columns Juntos reads
// are created directly so the tests control every value; helpers force targeting and co-responsibility checks.
#pragma once

#include "models/adoption.hpp"
#include "models/economy.hpp"
#include "models/hw_business.hpp"
#include "models/livelihood.hpp"
#include "models/livestock.hpp"
#include "models/juntos.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/engine_params.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace chacra::models::juntos_testing {

// A hand-made household: what Juntos reads.
struct HouseholdSpec {
  std::uint32_t centre = 0;
  float wealth = -3.0f;  // far below the PMT cutoff: the PMT's target
  std::uint8_t ubn = 1;
  float land_ha = 0.5f;
  std::vector<std::int16_t> ages_months = {35 * 12, 33 * 12, 5 * 12};
  std::vector<std::uint8_t> secondary_done = {1, 1, 0};
  std::uint8_t pregnancy_month = 0;
};

struct CentreSpec {
  std::uint32_t district = 0;
  float market_access = 0.5f;
};

// Builds a world with the engine's and demography's columns created by hand. Households must be given
// sorted by centre and centres sorted by district.
inline World make_world(const std::vector<float>& district_poverty, const std::vector<CentreSpec>& centres,
                        const std::vector<HouseholdSpec>& households, std::size_t block_households = 64) {
  World w;
  w.calendar.start_year = 2017;
  w.calendar.months = 120;
  w.districts.resize(district_poverty.size());
  float* poverty = w.districts.add(col::district_poverty_rate);
  for (std::size_t d = 0; d < district_poverty.size(); ++d) poverty[d] = district_poverty[d];

  w.centres.resize(centres.size());
  auto* c_district = w.centres.add(col::centre_district);
  auto* c_access = w.centres.add(col::centre_market_access);
  auto* c_households = w.centres.add(col::centre_households);
  for (std::size_t c = 0; c < centres.size(); ++c) {
    c_district[c] = centres[c].district;
    c_access[c] = centres[c].market_access;
  }

  auto& h = w.households;
  h.resize(households.size());
  auto* centre = h.add(col::centre);
  auto* district = h.add(col::district);
  auto* age = h.add(col::member_age_months);
  h.add(col::member_female);
  auto* secondary = h.add(col::member_secondary_done);
  auto* pregnancy = h.add(col::pregnancy_month);
  auto* size = h.add(col::household_size);
  auto* ubn = h.add(col::has_ubn);
  auto* wealth = h.add(col::wealth_index);
  auto* land = h.add(col::land_ha);
  h.add(col::cash_pen);

  w.centre_first.assign(centres.size() + 1, 0);
  for (std::size_t i = 0; i < households.size(); ++i) {
    const auto& s = households[i];
    centre[i] = s.centre;
    district[i] = centres[s.centre].district;
    c_households[s.centre] += 1;
    for (int k = 0; k < kMaxMembers; ++k) {
      const bool used = k < static_cast<int>(s.ages_months.size());
      age[i * kMaxMembers + k] = used ? s.ages_months[k] : std::int16_t{-1};
      secondary[i * kMaxMembers + k] = used && k < static_cast<int>(s.secondary_done.size()) ? s.secondary_done[k] : 0;
    }
    pregnancy[i] = s.pregnancy_month;
    size[i] = static_cast<std::uint8_t>(s.ages_months.size());
    ubn[i] = s.ubn;
    wealth[i] = s.wealth;
    land[i] = s.land_ha;
  }
  for (std::size_t c = 0; c < centres.size(); ++c) w.centre_first[c + 1] = w.centre_first[c] + c_households[c];
  w.district_first.assign(district_poverty.size() + 1, 0);
  for (std::size_t d = 0, c = 0; d <= district_poverty.size(); ++d) {
    while (c < centres.size() && c_district[c] < d) ++c;
    w.district_first[d] = static_cast<std::uint32_t>(c);
  }
  add_shared_columns(w);
  w.make_blocks(block_households);
  return w;
}

// A population of `n` households drawn from a test stream: `districts` districts of poverty 0.6 (all
// eligible), centres of 40 households with market access uniform on [0, 1], young children only (nobody
// ages out within a few years unless `aging` says otherwise).
inline World random_world(std::uint32_t n, std::uint32_t districts = 10, std::uint64_t seed = 7) {
  const rng::StreamSeed s{seed, 0};
  std::vector<float> poverty(districts, 0.6f);
  const std::uint32_t n_centres = (n + 39) / 40;
  std::vector<CentreSpec> centres(n_centres);
  for (std::uint32_t c = 0; c < n_centres; ++c) {
    auto st = s.open(rng::domain_id("test.centre"), 0, c);
    centres[c].district = c * districts / n_centres;
    centres[c].market_access = static_cast<float>(st.uniform());
  }
  std::vector<HouseholdSpec> hh(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    auto st = s.open(rng::domain_id("test.household"), 0, i);
    hh[i].centre = i / 40;
    hh[i].ubn = st.bernoulli(0.6) ? 1 : 0;
    hh[i].wealth = static_cast<float>(st.normal(hh[i].ubn ? -0.5 : 0.5, 0.85));
    hh[i].land_ha = static_cast<float>(st.lognormal(0.0, 0.8));
    const bool children = st.bernoulli(0.75);
    hh[i].ages_months = {static_cast<std::int16_t>(30 * 12 + st.below(240)), 32 * 12};
    hh[i].secondary_done = {1, 1};
    if (children) {
      hh[i].ages_months.push_back(static_cast<std::int16_t>(st.below(10 * 12)));
      hh[i].secondary_done.push_back(0);
    }
  }
  return make_world(poverty, centres, hh);
}

inline Registry make_registry() {
  Registry r;
  register_engine_params(r);
  EconomyParams::register_params(r);
  // Juntos values animals and technologies at the prices their modules declare.
  Adoption::register_params(r);
  Livelihood::register_params(r);
  BusinessParams::register_params(r);
  Livestock::register_params(r);
  Juntos::register_params(r);
  return r;
}

// Ages every member by one month (what Demography does before Juntos each month).
inline void age_members(World& w) {
  auto* age = w.households.get(col::member_age_months);
  for (std::size_t i = 0; i < w.household_count() * kMaxMembers; ++i)
    if (age[i] >= 0) ++age[i];
}

// Runs Juntos's two phases for months [0, months), calling `before(m)` first (demography and resets) and
// `after(m)` last (recording), over every block in order.
inline void run(World& w, Juntos& juntos, const ParamSet& ps, int months, const std::function<void(int)>& before,
                const std::function<void(int)>& after, std::uint64_t seed = 11) {
  const std::vector<Phase> phases = {juntos.eligibility_phase(), juntos.payment_phase()};
  for (int m = 0; m < months; ++m) {
    if (before) before(m);
    const StepContext ctx{ps, rng::StreamSeed{seed, 0}, m, w.calendar};
    for (const auto& b : w.blocks)
      for (const auto& p : phases) p.block(w, ctx, b);
    if (after) after(m);
  }
}

struct Trace {
  std::vector<std::vector<std::uint8_t>> status;  // [month][household]
  std::vector<std::vector<std::uint8_t>> compliant;
  std::vector<std::vector<float>> transfer;
  std::vector<std::vector<float>> cost;
  std::vector<std::vector<std::uint8_t>> eligible;
};

inline Trace run_trace(World& w, Juntos& juntos, const ParamSet& ps, int months, bool aging = true,
                       const std::function<void(int)>& before = {}) {
  Trace t;
  const auto n = w.household_count();
  run(
      w, juntos, ps, months,
      [&](int m) {
        if (aging && m > 0) age_members(w);
        if (before) before(m);
      },
      [&](int) {
        auto& h = w.households;
        const auto* st = h.get(col::juntos_status);
        const auto* co = h.get(col::juntos_compliant);
        const auto* tr = h.get(col::juntos_transfer_pen);
        const auto* cs = h.get(col::cost_juntos_pen);
        const auto* el = h.get(col::juntos_eligible);
        t.status.emplace_back(st, st + n);
        t.compliant.emplace_back(co, co + n);
        t.transfer.emplace_back(tr, tr + n);
        t.cost.emplace_back(cs, cs + n);
        t.eligible.emplace_back(el, el + n);
      });
  return t;
}

constexpr auto kEnrolled = static_cast<std::uint8_t>(JuntosStatus::enrolled);
constexpr auto kSuspended = static_cast<std::uint8_t>(JuntosStatus::suspended);
constexpr auto kExited = static_cast<std::uint8_t>(JuntosStatus::exited);

inline bool affiliated(std::uint8_t s) { return s == kEnrolled || s == kSuspended; }

// Parameters that make targeting exact: no PMT errors, everybody takes up.
inline void exact_targeting(ParamSet& ps) {
  ps.set("juntos.pmt_exclusion_error", 0.0);
  ps.set("juntos.pmt_inclusion_error", 0.0);
  ps.set("juntos.take_up", 1.0);
}

// Forces the co-responsibility checks: a household whose compliance probability is 1 always complies (the
// uniform is below 1) and one whose probability is 0 never does. Set after setup (which draws it) and
// before the payment phase that checks it; costs the model nothing.
inline void set_compliance(World& w, std::uint32_t household, float probability) {
  w.households.get(col::juntos_compliance_prob)[household] = probability;
}
inline void always_comply(World& w) {
  for (std::uint32_t i = 0; i < w.household_count(); ++i) set_compliance(w, i, 1.0f);
}

}  // namespace chacra::models::juntos_testing
