// File: models/portfolio.hpp
// The risk channel (economy.risk.enabled): the district price of market-oriented crops, and each household's
// yearly choice of how much of its crop land goes to the commercial line, by a safety-first rule that counts
// a predictable transfer as secure income (the rules as plain code: models/portfolio_rules.hpp).
//
// Phase "portfolio.plan" (serial, after Haku Winay's phases and before adoption; idle with the channel off):
//   every month   the district's price state x (a stationary AR(1) in standard-normal units, persistence
//                 risk.price_persistence, one Philox block per district-month from domain "risk.price") and the
//                 mean-one price multipliers exp(sd x - sd^2/2) of the commercial line (sd risk.commercial_price_sd)
//                 and of other sold crops (sd risk.price_shock_sd): district columns commercial_price_factor and
//                 market_price_factor, which the income phase applies to crop sales.
//   planting      in risk.planting_month (September) each household chooses m = market_orientation, the share
//                 of its crop land in the commercial line (worth 1 + risk.commercial_premium per unit of output,
//                 risk.commercial_sold_share of it sold at the commercial price), as the largest m in [0, 1] with
//                   E[y(m)] - z SD[y(m)] >= need - secure        (z = risk.safety_z; 0 if m = 0 fails)
//                 over the coming crop year, where
//                   V       = crop_potential_pen * (1 - expected climate loss), the crops' expected value;
//                   g       = premium V - risk.commercial_input_pen_per_ha * land_ha, the gain of moving all land;
//                   E[y(m)] = R + g m with R = 12 persons c12 - 12 Tbar - g m_last, the own economy's income at
//                             m = 0 (consumption over the last 12 months, less the Juntos transfers that financed
//                             part of it, less the gain of last year's commercial land);
//                   SD[y(m)]^2 = (V (1 + premium m) cv_y)^2 + (V ((1 - m) s0 sd0 + m (1 + premium) s_c sd_c))^2,
//                             cv_y the CV of a year's crop value from climate and idiosyncratic yield shocks and
//                             sd0, sd_c the SDs of the year's sales-weighted price multipliers (from the process
//                             above and the harvest profile);
//                   need    = 12 persons * poverty line;
//                   secure  = the Juntos transfers the household can count on over the next 12 months (payment
//                             months while it still qualifies, times its compliance probability) + 
//                             risk.cash_insurance_share * cash.
//                 The commercial land's inputs (risk.commercial_input_pen_per_ha * land_ha * m) are paid now through
//                 finance::pay (cash above the reserve, then credit); a household that cannot pay them all
//                 plants only as much commercial land as it can pay for.
// Pensions are secure too: they reach the choice through past consumption (R) and carry no risk.
#pragma once

#include "models/economy.hpp"
#include "models/portfolio_rules.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/param_spec.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace chacra::models {

// The risk channel's magnitudes (risk.*), registered before the modules so that the income phase can borrow
// what it applies (the commercial premium and sold share; the price multipliers are district columns).
struct RiskParams {
  double commercial_premium = 0.35;
  double commercial_sold_share = 0.8;
  double commercial_price_sd = 0.30;
  double price_shock_sd = 0.15;
  double price_persistence = 0.9;
  double commercial_input_pen_per_ha = 300.0;
  double safety_z = 1.28;
  double cash_insurance_share = 0.5;
  int planting_month = 9;

  template <class V> void describe(V& v);
  static RiskParams from(const ParamSet& params);
  static void register_params(Registry& registry);
};

// What the portfolio choice reads of other modules' parameters (borrowed; registered after them).
struct PortfolioInputs {
  bool enabled = false;  // economy.risk.enabled
  double crop_sold_share = 0.30;
  double harvest_seasonality = 1.0;
  double farm_shock_sd = 0.35;
  double covariate_shock_prob = 0.15;
  double covariate_shock_loss = 0.35;
  double poverty_line_2017 = 338.0, poverty_line_2018 = 344.0, poverty_line_2019 = 352.0;
  double transfer_pen = 200.0;
  int max_child_age_years = 19;

  template <class V> void describe(V& v);
  static PortfolioInputs from(const ParamSet& params);
  double poverty_line(int year) const {
    return year <= 2017 ? poverty_line_2017 : (year == 2018 ? poverty_line_2018 : poverty_line_2019);
  }
};

class Portfolio : public Module {
 public:
  static constexpr std::uint32_t kPriceDomain = rng::domain_id("risk.price");

  // Registers PortfolioInputs (RiskParams is registered with the economy's parameters).
  static void register_params(Registry& registry);

  std::string name() const override { return "portfolio"; }
  // Creates the district price columns (multipliers 1) in every arm; with the channel on, draws each district's
  // initial price state and sets every household's orientation by the rule (without paying inputs).
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  Phase plan_phase() const;  // "portfolio.plan" (serial)

  const RiskParams& risk() const { return risk_; }
  // The planner's view of a crop year, from the parameters (the same for every household).
  const PortfolioRisk& planner() const { return planner_; }

 private:
  struct Columns;
  void plan(World& world, const StepContext& ctx) const;
  // Chooses household i's orientation for the crop year starting in `month` (of `year`); pays the inputs when
  // `pay`.
  void choose(const Columns& columns, std::uint32_t i, int month, int year, bool pay) const;

  RiskParams risk_;
  PortfolioInputs in_;
  CreditTerms credit_;
  PortfolioRisk planner_;
  double expected_crop_keep_ = 1.0;
  SafetyFirst choice_{PortfolioRisk{}};  // the rule with planner_'s risks
};

// Columns of the engine (sim/population.hpp) and other modules (shared_state.hpp, economy.hpp, livelihood.hpp,
// juntos.hpp) that this module reads or writes: borrowed_pen, cash_pen, consumption_pc_12m_pen,
// crop_potential_pen, debt_pen, household_size, investment_pen, juntos_compliance_prob, juntos_status,
// juntos_transfer_avg_pen, land_ha, market_orientation, member_age_months, member_secondary_done,
// permanent_income_pen, pregnancy_month.
//
// Columns owned by this module (district columns).
namespace col {
inline constexpr Col<float> district_price_state{
    .name = "price_state", .unit = "standard deviations",
    .description = "The district's crop price state this month (AR(1), mean 0, SD 1; economy.risk.enabled)"};
inline constexpr Col<float> district_commercial_price_factor{
    .name = "commercial_price_factor", .unit = "multiplier, mean 1",
    .description = "This month's price of the commercial line's output relative to its mean (economy.risk.enabled)"};
inline constexpr Col<float> district_market_price_factor{
    .name = "market_price_factor", .unit = "multiplier, mean 1",
    .description = "This month's price of other sold crops relative to its mean (economy.risk.enabled)"};
}  // namespace col

}  // namespace chacra::models
