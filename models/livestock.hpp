// File: models/livestock.hpp
// Livestock herds (economy.persistence.enabled): guinea pigs, sheep and cattle kept as stocks that grow, are
// eaten, sold and bought, and the poverty trap's asset threshold (economy.poverty_trap.enabled). The rules as
// plain code: models/livestock_rules.hpp.
//
// Phase "livestock.step" (per block, after adoption.update and before livelihood.income), per household and
// species s with herd H_s (heads, f32):
//   capacity   K_s = (per_household_s + per_ha_s * land_ha) * stocking + per_pasture_ha_s * pasture_ha + shed_s * shed
//              stocking = clamp(1 + stocking_wealth_slope * wealth_index, 0.2, 3) * (amazon_capacity_factor in the
//              Amazon); guinea pigs 15 a household + 45 with a shed, sheep 4/ha + 8/ha of cultivated pasture,
//              cattle 0.5/ha + 3/ha of cultivated pasture;
//   disease    guinea pigs: H <- H * (1 - disease_loss) with probability disease_prob a month;
//   births     B_s = birth_rate_s * H_s * r * (1 - climate loss for sheep and cattle), net of natural deaths;
//   kept       G_s = min(B_s, max(0, T_s - H_s)) with the target herd T_s = K_s * (1 - q);
//   out        the rest of the increase, plus any herd above capacity, plus (trap) destock_rate * q * the herd
//              between target and capacity: eaten up to eaten_per_month_s (livestock_own_pen), the rest sold at
//              price_s (livestock_sales_pen);
//   products   H_s * product_s * r (milk: product_pasture_pen per cow where cultivated pasture is sown; wool)
//              (livestock_products_pen);
//   distress   when cash on hand X = cash_pen + max(0, permanent_income_pen) (savings and the month's expected
//              income: herds move before income is known) is below distress_floor_pc_pen * persons, animals are sold
//              at price * (1 - distress_discount), guinea pigs first, then sheep, then cattle, until X would reach
//              the floor (in livestock_sales_pen);
//   breeding   a household with the small-animal shed and fewer than shed_breeding_stock guinea pigs buys the
//              rest at price_s through finance::pay (cash above the reserve, then credit); otherwise it waits.
// The poverty trap (economy.poverty_trap.enabled; else q = 0, r = 1): productive assets
// a = sum_s H_s * price_s + up-front value of the productive technologies adopted; q = 1 / (1 + exp((a -
// asset_threshold_pen) / width_pen)); returns r = 1 - (1 - low_return_factor) * q. Below the threshold the herd's
// increase is consumed rather than kept and the herd is run down towards a small target, above it the herd
// grows to capacity: two stable herd sizes (Carter and Barrett 2006; Lybbert et al. 2004).
//
// Random numbers: the disease draw takes 12 bits of one Philox block per (domain "livestock.disease", month,
// group of 16 consecutive households): 16 bits for each household of the group, so the phase computes one block
// per 16 household-months, keyed by the household's global index (the same draws whatever the thread count,
// blocking or arm). The baseline herds use one stream per household keyed by (domain "livestock.setup").
#pragma once

#include "models/economy.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace chacra::models {

struct SpeciesParams {
  double price_pen = 0.0;                // per head
  double birth_rate = 0.0;               // net births per head and month
  double eaten_per_month = 0.0;          // heads a household eats a month when the herd allows
  double capacity_per_household = 0.0;  // heads at stocking rate 1, whatever the land
  double capacity_per_ha = 0.0;         // heads per ha of land at stocking rate 1
  double capacity_per_pasture_ha = 0.0;  // heads per ha of cultivated pasture
  double capacity_shed = 0.0;           // heads added by the small-animal shed
  double product_pen = 0.0;             // products per head and month (milk, wool)
  double product_pasture_pen = 0.0;     // the same where cultivated pasture is sown
  double baseline_fill = 1.0;           // baseline herd as a share of capacity (its mean)
};

struct PovertyTrapParams {
  double asset_threshold_pen = 3000.0;
  double width_pen = 500.0;
  double low_return_factor = 0.6;
  double destock_rate = 0.1;
};

// Parameters of the module, read once in setup; names, ranges, units, descriptions and sources in describe()
// (models/livestock.cpp).
struct LivestockParams {
  std::array<SpeciesParams, kSpeciesCount> species = {{
      {20.0, 0.12, 2.0, 15.0, 0.0, 0.0, 45.0, 0.0, 0.0, 0.8},       // guinea_pigs
      {180.0, 0.025, 0.05, 0.0, 4.0, 8.0, 0.0, 2.0, 2.0, 1.0},      // sheep: wool
      {1800.0, 0.012, 0.0, 0.0, 0.5, 3.0, 0.0, 25.0, 60.0, 1.0},    // cattle: milk
  }};
  double disease_prob = 0.01;
  double disease_loss = 0.3;
  double distress_discount = 0.2;
  double distress_floor_pc_pen = 90.0;
  double shed_breeding_stock = 20.0;
  double amazon_capacity_factor = 0.4;
  double stocking_wealth_slope = 0.3;
  PovertyTrapParams trap;
  // Borrowed: the switches, the district climate shock, and the technologies' up-front costs.
  bool persistence = false;
  bool poverty_trap = false;
  double covariate_shock_prob = 0.15;
  double covariate_shock_loss = 0.35;
  std::array<double, kTechCount> upfront_pen{};

  template <class V> void describe(V& v);
  static LivestockParams from(const ParamSet& params);
};

class Livestock : public Module {
 public:
  static constexpr std::uint32_t kDiseaseDomain = rng::domain_id("livestock.disease");
  static constexpr std::uint32_t kSetupDomain = rng::domain_id("livestock.setup");
  // Households that share one Philox block of disease draws (16 bits each).
  static constexpr std::uint32_t kDiseaseGroup = 16;
  // Technologies whose up-front value counts as a productive asset (those that produce income).
  static constexpr std::array<bool, kTechCount> kProductive = {true, true, true, true, true,
                                                               true, true, false, false, false};

  static void register_params(Registry& registry);

  std::string name() const override { return "livestock"; }
  // Creates the module's columns (every arm, also with the channel off) and, with the channel on, draws the
  // baseline herds: sheep and cattle at baseline_fill of capacity, guinea pigs at capacity * baseline_fill *
  // (0.75 + 0.5 u), so herds are correlated with land and wealth, fewer in the Amazon.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  // "livestock.step", per block; idle (returns at once) with economy.persistence.enabled off.
  Phase step_phase() const;

  const LivestockParams& params() const { return p_; }

 private:
  LivestockParams p_;
  CreditTerms credit_;
};

// Columns of the engine (sim/population.hpp) and shared ones (shared_state.hpp, economy.hpp, livelihood.hpp)
// that this module reads or writes: borrowed_pen, cash_pen, debt_pen, district, district_region, herd, household_size,
// investment_pen, land_ha, pasture_ha, permanent_income_pen, tech_state, wealth_index.
//
// Columns owned by this module; the livelihood module's income phase reads the three flows when
// economy.persistence.enabled is on (instead of the flat animal income) and multiplies technology returns by
// asset_return_factor when economy.poverty_trap.enabled is on.
namespace col {
inline constexpr Col<float> livestock_sales_pen{
    .name = "livestock_sales_pen", .unit = "PEN 2017",
    .description = "Money from animals sold this month (the herd's increase, surplus and distress sales)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> livestock_own_pen{
    .name = "livestock_own_pen", .unit = "PEN 2017",
    .description = "Value of the household's own animals eaten at home this month",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> livestock_products_pen{
    .name = "livestock_products_pen", .unit = "PEN 2017",
    .description = "Milk and wool from the herd this month",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> asset_return_factor{
    .name = "asset_return_factor", .unit = "multiplier",
    .description = "Returns to productive assets this month: 1 above the poverty trap's asset threshold, lower "
                   "below (1 with the poverty trap off)"};
}  // namespace col

}  // namespace chacra::models
