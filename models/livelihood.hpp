// File: models/livelihood.hpp
// Income, consumption, savings and poverty.
//
// Income (phase "livelihood.income"; the rule income_by_source of models/livelihood_rules.hpp), per household
// and month m of the year, in PEN:
//   crop output   Q = crop_potential/12 * L * e_farm * (1 - climate loss)
//                 crop_potential = crop_value_pen_per_ha * land_ha^land_elasticity * capacity * (1 + water_crop_gain * water)
//                 sold: Q * crop_sold_share * price * H(m);  consumed: Q * (1 - crop_sold_share) * O(m)
//   animal output A = animal_value_pen * capacity / 12 * L * e_farm * (1 - covariate_animal_share * climate loss)
//                 sold: A * animal_sold_share * price;  consumed: the rest
//   technology t (adopted): R_t/12 * r_i * L * e_farm * financed * (1 - climate loss of its source)
//                 split into sold (* price, to crops or animals) and consumed (own production) by sold_share_t;
//                 crop-yield technologies follow H(m)/O(m), the others are flat over the year.
//                 r_i = capacity^return_capacity_elasticity [* land^tech_land_elasticity * (1 + water_crop_gain*water)
//                 for land-based technologies], normalised to mean 1 over the population: returns are very unequal
//                 (the mean return to an adopter is R_t only for a random adopter);
//                 pasture returns are also scaled by pasture_ha / adoption.pasture_mean_ha.
//   wage          wage_month_pen * members aged 15-64 * (1 - farm_labour_share - time_burden) * wage_employment_rate
//                 * (1 + market_wage_slope*(market - 0.5)) * (1 - min(max_labour_shift, sum of labour_share_t)) * e_off
//                 (time_burden: the share of adult time programme duties take, economy.graduation.enabled; else 0)
//   business      has_business * business_profit_pen * capacity * L * price * e_off + business_profit_pen (HW column)
//   transfers     juntos_transfer_pen (written by Juntos earlier in the month)
//   where L = max(0.2, 1 + locus_return * locus_of_control), price = 1 + market_price_slope*(market_dynamism - 0.5),
//   H(m) = 1 + harvest_seasonality*(P(m) - 1) and O(m) = 1 + own_consumption_seasonality*(P(m) - 1) with P the
//   Andean harvest profile (mean 1, peak April-July), e_farm and e_off mean-one log-normal idiosyncratic
//   shocks, and "climate loss" a district-year covariate shock (frost, drought) with probability
//   covariate_shock_prob and severity covariate_shock_loss * (0.5 + u).
//   income_monetary_pen = crops + animals + wage + business + transfers (gross of technology upkeep).
//
// Consumption and savings (phase "livelihood.consumption"; the rule consume of models/livelihood_rules.hpp), a
// buffer-stock rule:
//   net income N = income_monetary - U (U: upkeep of adopted technologies);
//   permanent income P <- P + permanent_income_weight * (N - P);
//   cash on hand X = cash + income_monetary;
//   spending C = clamp((1 - saving_rate - saving_boost) * P + excess_consumption_share * (X - U - buffer_months * P), 0, X);
//   upkeep is paid from what is left (financed share f = paid / U; an unfinanced share lowers next month's
//   technology returns by upkeep_return_dependence * (1 - f)); cash = X - C - paid >= 0.
//   consumption_pen = C + own_production_pen + other_consumption_pen, where other consumption (imputed rent,
//   in-kind public food programmes, gifts, and income the evaluation's survey does not record) is
//   household_size * other_consumption_pc_pen * w_i, w_i a fixed factor rising with the wealth index (mean 1).
//
// Welfare (phase "livelihood.welfare"): per-capita monthly consumption averaged over the last 12 months
// against the year's poverty line (338/344/352 PEN per person per month in 2017/2018/2019, the 2017 line
// before and the 2019 line after) and the extreme line: poor, extreme_poor, poverty_gap.
//
// Random numbers: one stream per (domain "livelihood.income", month, household), always one 64-bit word
// (its top 12 bits pick the farm shock, the next 12 the off-farm shock; see lognormal_table); and the district-year shock from a stream keyed by (domain
// "livelihood.district_shock", year, district), identical for every household of the district.
#pragma once

#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace chacra::models {

// Where a technology's return goes.
enum class TechSource : std::uint8_t { crops = 0, animals = 1, home = 2 };

struct TechEconomics {
  double return_pen = 0.0;    // annual value of extra output for an average household
  double sold_share = 0.0;    // share of the extra output sold (the rest is consumed at home)
  double labour_share = 0.0;  // share of off-farm working time the technology absorbs
  double upkeep_pen = 0.0;    // monthly cash cost (adoption.<tech>.upkeep_pen, declared by Adoption)
};

// Parameters of the module, read once in setup; each field's name, range, unit, description and source
// are in describe() (models/livelihood.cpp), its default is its initial value here.
struct LivelihoodParams {
  // Per technology (Tech order): annual return for an average adopter, share sold, share of off-farm time
  // absorbed (docs/calibration.md, "Livelihoods"); the upkeep is Adoption's parameter.
  std::array<TechEconomics, kTechCount> tech = {{
      {700, 0.30, 0.02},   // vegetable_garden: mostly eaten at home
      {0, 0.50, 0.01},     // organic_fertiliser_prep: its value comes through use
      {600, 0.40, 0.01},   // organic_fertiliser_use: about +15-20% crop output
      {2500, 0.75, 0.05},  // sprinkler_irrigation: a second, market-oriented campaign where water allows
      {1500, 0.70, 0.04},  // cultivated_pasture: milk and animals, per pasture_mean_ha sown
      {1500, 0.75, 0.05},  // small_animal_shed: guinea pigs for sale
      {700, 0.50, 0.02},   // improved_andean_crops
      {0, 0.0, 0.0},       // improved_stove: health and time, no income
      {0, 0.0, 0.0},       // safe_water: health, no income
      {0, 0.0, 0.0},       // waste_pit: hygiene, no income
  }};
  double pasture_mean_ha = 0.335;  // adoption.pasture_mean_ha, declared by Adoption
  double programme_return_multiplier = 1.6;  // livelihood.programme_return_multiplier
  double crop_value_pen_per_ha = 2100.0;
  double land_elasticity = 0.6;
  double water_crop_gain = 0.25;
  double crop_sold_share = 0.30;
  double animal_value_pen = 600.0;
  double animal_sold_share = 0.65;
  double harvest_seasonality = 1.0;
  double own_consumption_seasonality = 0.4;
  double wage_month_pen = 550.0;
  double wage_employment_rate = 0.24;
  double max_labour_shift = 0.5;
  double market_price_slope = 0.4;
  double market_wage_slope = 0.8;
  double business_share = 0.12;
  double business_profit_pen = 180.0;
  double business_wealth_slope = 0.5;
  double locus_return = 0.06;
  double return_capacity_elasticity = 2.0;
  double tech_land_elasticity = 0.5;
  double farm_shock_sd = 0.35;
  double offfarm_shock_sd = 0.40;
  double covariate_shock_prob = 0.15;
  double covariate_shock_loss = 0.35;
  double covariate_animal_share = 0.3;
  double saving_rate = 0.03;
  double buffer_months = 2.0;
  double excess_consumption_share = 0.25;
  double permanent_income_weight = 1.0 / 12.0;
  double upkeep_return_dependence = 1.0;
  double poverty_line_2017 = 338.0;
  double poverty_line_2018 = 344.0;
  double poverty_line_2019 = 352.0;
  double extreme_poverty_line = 183.0;
  double other_consumption_pc_pen = 330.0;
  double other_consumption_wealth_slope = 0.8;
  bool graduation = false;  // economy.graduation.enabled (borrowed): programme time comes out of wage work

  template <class V> void describe(V& v);
  static LivelihoodParams from(const ParamSet& params);
  double poverty_line(int year) const {
    return year <= 2017 ? poverty_line_2017 : (year == 2018 ? poverty_line_2018 : poverty_line_2019);
  }
};

class Livelihood : public Module {
 public:
  static constexpr std::uint32_t kIncomeDomain = rng::domain_id("livelihood.income");
  static constexpr std::uint32_t kDistrictShockDomain = rng::domain_id("livelihood.district_shock");
  static constexpr std::uint32_t kSetupDomain = rng::domain_id("livelihood.setup");

  // Source of each technology's return and whether it follows the harvest calendar and scales with land.
  static constexpr std::array<TechSource, kTechCount> kSource = {
      TechSource::crops,   TechSource::crops, TechSource::crops, TechSource::crops, TechSource::animals,
      TechSource::animals, TechSource::crops, TechSource::home,  TechSource::home,  TechSource::home};
  static constexpr std::array<bool, kTechCount> kHarvest = {false, true, true, false, false,
                                                            false, true, false, false, false};
  static constexpr std::array<bool, kTechCount> kLandBased = {false, true, true, true, false,
                                                              false, true, false, false, false};
  // Andean harvest profile P(m), m = 1..12 (mean 1): main harvest April-July.
  static constexpr std::array<double, 12> kHarvestProfile = {0.3, 0.3, 0.6, 1.8, 2.6, 2.4,
                                                             1.6, 0.6, 0.4, 0.4, 0.5, 0.5};

  static void register_params(Registry& registry);

  std::string name() const override { return "livelihood"; }
  // Creates the income, consumption and welfare columns and the household's fixed economic traits,
  // baseline_income_pen (expected annual monetary income at setup, without Juntos or HW), and initial cash,
  // permanent income and consumption history at their expected values. Setup order does not matter: if
  // Adoption is not set up yet, the baseline technology states are drawn here (Adoption::init_states, the
  // same states Adoption draws later), and household size is counted from the member ages.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  Phase income_phase() const;       // "livelihood.income"
  Phase consumption_phase() const;  // "livelihood.consumption"
  Phase welfare_phase() const;      // "livelihood.welfare"

  const LivelihoodParams& params() const { return p_; }

  // The district-year covariate loss of crop output (0 when no shock), identical for all its households.
  static double climate_loss(const rng::StreamSeed& seed, int year, std::uint32_t district, double probability,
                             double loss);
  // Inverse of the standard normal distribution function (Acklam's rational approximation, relative
  // error below 1.2e-9).
  static double inverse_normal(double p);
  // The mean-one log-normal shock exp(sigma*Z - sigma^2/2) as kShockBins equiprobable quantile bins, each
  // holding the distribution's conditional mean on the bin, so the table's mean is exactly 1 and a shock is
  // one table lookup from 12 random bits (all ones when sigma is 0).
  static constexpr int kShockBits = 12;
  static constexpr int kShockBins = 1 << kShockBits;
  static std::vector<float> lognormal_table(double sigma);

 private:
  LivelihoodParams p_;
  std::vector<float> farm_shock_;     // lognormal_table(farm_shock_sd), built in setup
  std::vector<float> offfarm_shock_;  // lognormal_table(offfarm_shock_sd)
};

// Columns of the engine (sim/population.hpp) and shared ones (shared_state.hpp) that this module reads or writes:
// asset_delivered, baseline_income_pen, business_profit_pen, cash_pen, consumption_pen, district,
// district_market_dynamism, extreme_poor, farm_labour_share, household_size, income_animals_pen,
// income_business_pen, income_crops_pen, income_monetary_pen, income_transfers_pen, income_wage_pen,
// juntos_transfer_pen, land_ha, locus_of_control, member_age_months, own_production_pen, pasture_ha, poor,
// poverty_gap, productive_capacity, saving_boost, tech_state, time_burden, water_access, wealth_index.
//
// Columns owned by this module besides those in shared_state.hpp.
namespace col {
inline constexpr Col<float> crop_potential_pen{
    .name = "crop_potential_pen", .unit = "PEN per year",
    .description = "Expected annual crop output value without technology or shocks (fixed)"};
inline constexpr Col<float> animal_potential_pen{
    .name = "animal_potential_pen", .unit = "PEN per year",
    .description = "Expected annual animal output value without technology or shocks (fixed)"};
inline constexpr Col<float> tech_return_factor_land{
    .name = "tech_return_factor_land", .unit = "multiplier, mean 1",
    .description = "Heterogeneity of land-based technology returns (capacity, land, water; fixed)"};
inline constexpr Col<float> tech_return_factor{
    .name = "tech_return_factor", .unit = "multiplier, mean 1",
    .description = "Heterogeneity of other technology returns (capacity; fixed)"};
inline constexpr Col<std::uint8_t> has_business{
    .name = "has_business", .unit = "0/1", .description = "Household runs a non-farm business (baseline)"};
inline constexpr Col<float> other_consumption_factor{
    .name = "other_consumption_factor", .unit = "multiplier, mean 1",
    .description = "Household factor of other consumption, rising with wealth (fixed)"};
inline constexpr Col<float> other_consumption_pen{
    .name = "other_consumption_pen", .unit = "PEN",
    .description = "Consumption financed outside modelled income (imputed rent, in-kind programmes, gifts)",
    .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> permanent_income_pen{
    .name = "permanent_income_pen", .unit = "PEN per month",
    .description = "Permanent monetary income net of upkeep (exponential average)"};
inline constexpr Col<float> upkeep_paid_pen{
    .name = "upkeep_paid_pen", .unit = "PEN",
    .description = "Technology upkeep paid from cash",
    .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> upkeep_financed_share{
    .name = "upkeep_financed_share", .unit = "share",
    .description = "Share of last month's technology upkeep that cash could finance"};
inline constexpr Col<float> consumption_pc_history{
    .name = "consumption_pc_history", .unit = "PEN per person per month",
    .description = "Per-capita consumption of the last 12 months, by month of the year",
    .width = 12};
inline constexpr Col<float> consumption_pc_12m_pen{
    .name = "consumption_pc_12m_pen", .unit = "PEN per person per month",
    .description = "Per-capita monthly consumption averaged over the last 12 months"};
inline constexpr Col<float> climate_shock_loss{
    .name = "climate_shock_loss", .unit = "share",
    .description = "Share of crop output lost to the district's climate shock"};
}  // namespace col

}  // namespace chacra::models
