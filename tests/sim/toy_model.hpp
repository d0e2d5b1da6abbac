// A toy model for engine tests (sim/ is tested without models/): per-household draws, a centre-level
// aggregate inside blocks, a serial district phase, and a per-district programme switch.
#pragma once

#include "sim/engine.hpp"
#include "sim/engine_params.hpp"
#include "sim/scenario.hpp"

#include <cmath>
#include <memory>

namespace toy {

inline void register_params(chacra::Registry& r) {
  r.integer("toy.programme_district", -1, -1, 1'000'000, "district", "District where the toy programme runs (-1: none)",
            "test");
  r.real("toy.transfer", 10.0, 0, 1e6, "PEN", "Toy transfer", "test");
}

inline const chacra::Registry& registry() {
  static const chacra::Registry reg = [] {
    chacra::Registry r;
    chacra::register_engine_params(r);
    register_params(r);
    return r;
  }();
  return reg;
}

class ToyModule : public chacra::Module {
 public:
  std::string name() const override { return "toy"; }
  void setup(chacra::World& w, const chacra::ParamSet& p, const chacra::rng::StreamSeed&) override {
    district_ = static_cast<int>(p.integer("toy.programme_district"));
    transfer_ = static_cast<float>(p.real("toy.transfer"));
    w.households.add<float>("toy_income", "PEN", "Toy income", 1, true, chacra::PeriodAggregation::sum);
    w.households.add<std::uint8_t>("toy_state", "0/1", "Toy state", 1, true);
    w.households.add<float>("toy_wealth", "PEN", "Toy wealth", 1, true);
    w.centres.add<float>("toy_centre_share", "share", "Share of the centre in state 1");
    w.districts.add<double>("toy_district_income", "PEN", "District income last month");
  }
  chacra::Phase income() const {
    const int district = district_;
    const float transfer = transfer_;
    return chacra::Phase::per_block("toy.income", [district, transfer](chacra::World& w, const chacra::StepContext& ctx,
                                                                         const chacra::Block& b) {
      auto* inc = w.households.get<float>("toy_income");
      auto* state = w.households.get<std::uint8_t>("toy_state");
      auto* wealth = w.households.get<float>("toy_wealth");
      const auto* cap = w.households.get<float>("productive_capacity");
      const auto* dist = w.households.get<std::uint32_t>("district");
      auto* share = w.centres.get<float>("toy_centre_share");
      const auto* dinc = w.districts.get<double>("toy_district_income");
      for (std::uint32_t c = b.centre_begin; c < b.centre_end; ++c) {
        float s = 0;
        for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) s += state[i];
        const auto n = static_cast<float>(w.centre_first[c + 1] - w.centre_first[c]);
        share[c] = n > 0 ? s / n : 0.f;
        for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) {
          auto r = ctx.seed.open(chacra::rng::domain_id("toy.income"), static_cast<std::uint64_t>(ctx.month), i);
          const double shock = r.lognormal(0.0, 0.3);
          const double u = r.uniform();  // drawn whatever the programme does: common random numbers
          const bool treated = static_cast<int>(dist[i]) == district;
          inc[i] = static_cast<float>(100.0 * cap[i] * shock + 10.0 * share[c] + 1e-6 * dinc[dist[i]]) +
                   (treated ? transfer : 0.f);
          state[i] = u < 0.2 + 0.5 * share[c] ? 1 : 0;
          wealth[i] += inc[i] * 0.1f;
        }
      }
    });
  }
  static chacra::Phase district_sum() {
    return chacra::Phase::serial("toy.district_sum", [](chacra::World& w, const chacra::StepContext&) {
      auto* dinc = w.districts.get<double>("toy_district_income");
      const auto* inc = w.households.get<float>("toy_income");
      const auto* dist = w.households.get<std::uint32_t>("district");
      for (std::size_t d = 0; d < w.district_count(); ++d) dinc[d] = 0;
      for (std::size_t i = 0; i < w.household_count(); ++i) dinc[dist[i]] += inc[i];
    });
  }

 private:
  int district_ = -1;
  float transfer_ = 0;
};

inline chacra::Model build(const chacra::ParamSet&) {
  chacra::Model m;
  auto mod = std::make_unique<ToyModule>();
  auto* raw = mod.get();
  m.modules.push_back(std::move(mod));
  // The phases read parameters captured at setup, so they are built lazily through the module.
  m.month.push_back(chacra::Phase::per_block("toy.income", [raw](chacra::World& w, const chacra::StepContext& c,
                                                                 const chacra::Block& b) { raw->income().block(w, c, b); }));
  m.month.push_back(ToyModule::district_sum());
  return m;
}

// A scenario built in code: base parameters plus arms given as (name, overrides).
inline chacra::Scenario scenario(std::int64_t households, std::int64_t years, std::int64_t replicates,
                                 const std::vector<std::pair<std::string, std::int64_t>>& arms) {
  chacra::Scenario s{"<test>", "toy", "toy scenario", chacra::ParamSet(registry()), {}};
  s.base.set("population.households", households);
  s.base.set("population.districts", std::int64_t{8});
  s.base.set("population.block_households", std::int64_t{64});
  s.base.set("run.years", years);
  s.base.set("run.replicates", replicates);
  s.base.set("output.frequency", std::string("quarterly"));
  for (const auto& [name, district] : arms) {
    chacra::Arm a{name, "", s.base, {{"toy.programme_district", district}}};
    a.params.set("toy.programme_district", district);
    s.arms.push_back(a);
  }
  return s;
}

}  // namespace toy
