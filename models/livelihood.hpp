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
// Welfare from the household's own economy (economy.welfare.enabled; the rules welfare_income and
// remittance_step of models/livelihood_rules.hpp). Every amount is in real 2017 soles ("PEN 2017"); a nominal
// amount is divided by the price index P(t) = (1 + prices.inflation_rate)^((t - mid-2017)/12). Income:
//   the sources above with the full economy's levels: welfare.crop_value_pen_per_ha, welfare.animal_value_pen,
//     welfare.wage_employment_rate, welfare.business_share and welfare.business_profit_pen replace the
//     livelihood.* values that were calibrated to the evaluation survey's narrower income; crop and animal output
//     scale with the household's farm labour, (max(0.5, members aged 15-64 + members aged 65+ / 2) / 2)^
//     welfare.farm_labour_elasticity, this month's members;
//   transfers = juntos_transfer_pen / P(t) (the PEN 200 is not indexed; juntos.transfer_indexed = true keeps it
//     real);
//   remittances (remittance_pen): a household trait, base b_i = remittances.mean_pen * exp(0.3 w_i) / mean *
//     exp(sd z_i - sd^2/2) (w the wealth index); a household receives at the start with probability
//     remittances.share, stops with hazard remittances.stop_hazard a month and starts with hazard
//     stop * share / (1 - share) (the share's stationary hazard), and in a month when a young adult leaves
//     the household (members_left, demography) it starts with probability 1 - (1 - that)(1 -
//     remittances.migrant_share): migrants send money home; while it receives, x <- rho x + sigma e (rho remittances.persistence, sigma
//     remittances.shock_sd; a new episode starts from the stationary distribution) and it receives
//     b_i exp(x - v/2) with v = sigma^2 / (1 - rho^2), plus remittances.insurance_share of the shortfall
//     max(0, P - (Y_other + that - U)) of its current income (Y_other: the month's other monetary income, U the
//     upkeep) from its permanent income P (Yang and Choi 2007);
//   Pension 65 (pension_pen): in the Juntos payment months, pension65.amount_pen / P(t) per member aged 65+ of a
//     household that takes it up (pension65.take_up, a trait) and is currently classified extremely poor
//     (juntos_classified_poor, the SISFOH classification Juntos uses; MIDIS);
//   income_monetary_pen = crops + animals + wage + business + transfers + remittances + Pension 65.
// In-kind (in_kind_pen, consumed as received, never cash): school meals (Qali Warma)
//   in_kind.school_meal_pen * in_kind.school_days per child aged in_kind.school_min/max_age_years in March to
//   December, Vaso de Leche in_kind.milk_pen per child up to in_kind.milk_max_age_years, and the imputed rent of
//   the dwelling in_kind.imputed_rent_pen * exp(0.4 w_i) / mean (a trait).
// Consumption is then finance.budget's (models/finance.hpp): no other consumption term.
// Poverty: per-capita consumption over the last 12 months against the regional line, constant in real terms
//   (welfare.poverty_line_highlands_pen for the highlands, welfare.poverty_line_amazon_pen for the Amazon) and
//   the extreme line welfare.extreme_poverty_line_pen; the headcount is a share of persons (each member of a
//   household has its per-capita consumption).
// Other channels (each with its own switch, whatever economy.welfare.enabled): economy.graduation.enabled takes
//   programme time from off-farm work first (wage * (1 - time_burden)); economy.persistence.enabled replaces the
//   flat animal income and the flat returns of cultivated pasture and the small-animal shed by the herds' flows
//   (livestock_sales_pen + livestock_products_pen sold, livestock_own_pen eaten) and writes tech_profit_pen for the
//   other technologies (output value - upkeep - labour share * the household's expected off-farm earnings);
//   economy.risk.enabled puts the share m = market_orientation of crop output in the commercial line: value
//   (1 + risk.commercial_premium), sold share risk.commercial_sold_share at the district's commercial price
//   factor, while traditional crop sales get its market price factor (both moved each month by portfolio.plan's
//   AR(1) price state, models/portfolio.hpp, the process the planting choice expects).
//
// Random numbers: one Philox block per (domain "livelihood.income", month, household), laid out in
// models/economy.hpp (income_draw): the farm and off-farm shocks (lognormal_table), and with the welfare channel the
// remittance shock (normal_table) and its start or stop; the district-year shock from a stream keyed by (domain
// "livelihood.district_shock", year, district), identical for every household of the district; household traits
// of the welfare channel from (domain "livelihood.welfare_setup", household).
#pragma once

#include "models/economy.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"

#include <algorithm>
#include <array>
#include <cmath>
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

// Parameters of the welfare channel (economy.welfare.enabled) and of the income terms of the other channels;
// describe() in models/livelihood.cpp.
struct WelfareParams {
  // Regional poverty lines, constant in real terms (PEN 2017 per person per month).
  double poverty_line_highlands_pen = 275.0;
  double poverty_line_amazon_pen = 282.0;
  double extreme_poverty_line_pen = 183.0;
  // Income levels of the full economy, in place of the livelihood.* values fitted to the evaluation survey.
  double crop_value_pen_per_ha = 4910.0;  // posterior median (configs/calibration/chacra_2017.yaml)
  double animal_value_pen = 2565.0;
  double wage_employment_rate = 0.766;
  double business_share = 0.25;
  double business_profit_pen = 450.0;
  double farm_labour_elasticity = 0.6;  // farm output scales with (working-age members / 2)^this
  bool juntos_transfer_indexed = false;  // juntos.transfer_indexed
  // Remittances.
  double remittance_share = 0.25;
  double remittance_mean_pen = 120.0;
  double remittance_level_sd = 0.6;
  double remittance_wealth_slope = 0.3;
  double remittance_persistence = 0.9;
  double remittance_shock_sd = 0.3;
  double remittance_stop_hazard = 0.01;
  double remittance_migrant_share = 0.5;
  double remittance_insurance_share = 0.3;
  // Pension 65.
  bool pension_enabled = true;
  double pension_pen = 250.0;  // per two months, nominal
  int pension_min_age_months = 65 * 12;
  double pension_take_up = 0.9;
  // In-kind items.
  double school_meal_pen = 2.0;
  double school_days = 20.0;
  int school_min_age_months = 3 * 12;
  int school_max_age_months = 11 * 12;  // the last year of age covered
  double milk_pen = 10.0;
  int milk_max_age_months = 6 * 12;     // the last year of age covered
  double imputed_rent_pen = 60.0;
  double rent_wealth_slope = 0.4;
  // The commercial crop line (economy.risk.enabled; borrowed from the risk channel's parameters).
  double commercial_premium = 0.35;
  double commercial_sold_share = 0.8;

  template <class V> void describe(V& v);
  // The start hazard that keeps the receiving share stationary.
  // The farm output factor of a household with `adults` members aged 15-64 and `elders` aged 65 and over (an
  // elder farms half as much as a younger adult): (max(0.5, adults + elders / 2) / 2)^farm_labour_elasticity.
  double labour_factor(int adults, int elders) const {
    return std::pow(std::max(0.5, adults + 0.5 * elders) / 2.0, farm_labour_elasticity);
  }
  double remittance_start_hazard() const {
    return remittance_share < 1.0 ? remittance_stop_hazard * remittance_share / (1.0 - remittance_share) : 1.0;
  }
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
  WelfareParams welfare;

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
  static constexpr std::uint32_t kWelfareSetupDomain = rng::domain_id("livelihood.welfare_setup");

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
  // The standard normal distribution as kShockBins equiprobable quantile bins, each holding the distribution's
  // conditional mean on the bin (mean exactly 0 up to rounding): a normal draw from 12 random bits.
  static std::vector<float> normal_table();

 private:
  // The month's income when any channel of the household economy that changes it is on (welfare, risk,
  // graduation, persistence); income_phase runs the earlier formula otherwise.
  void economy_income(World& world, const StepContext& ctx, const Block& block) const;
  void setup_welfare(World& world, const rng::StreamSeed& seed);
  void welfare_initial_state(World& world, const ParamSet& params);

  LivelihoodParams p_;
  EconomyParams economy_;
  PriceParams prices_;
  std::vector<float> normal_;  // normal_table(), built in setup
  // WelfareParams::labour_factor(adults, elders) at [adults * (kMaxMembers + 1) + elders], built in setup.
  std::array<float, (kMaxMembers + 1) * (kMaxMembers + 1)> labour_factor_{};
  std::vector<float> farm_shock_;     // lognormal_table(farm_shock_sd), built in setup
  std::vector<float> offfarm_shock_;  // lognormal_table(offfarm_shock_sd)
  // Each set of technologies' monthly upkeep (upkeep_due_table, models/finance_rules.hpp), built in setup.
  std::array<float, 1u << kTechCount> due_table_{};
};

// Columns of the engine (sim/population.hpp) and shared ones (shared_state.hpp) that this module reads or writes:
// asset_delivered, baseline_income_pen, business_profit_pen, cash_pen, consumption_pen, debt_pen, district,
// district_commercial_price_factor, district_market_price_factor,
// district_market_dynamism, district_region, extreme_poor, farm_labour_share, household_size, income_animals_pen,
// income_business_pen, income_crops_pen, income_monetary_pen, income_transfers_pen, income_wage_pen,
// juntos_classified_poor, juntos_transfer_pen, land_ha, livestock_own_pen,
// livestock_products_pen, livestock_sales_pen, locus_of_control, market_orientation, member_age_months, members_left,
// own_production_pen, pasture_ha, poor, poverty_gap, productive_capacity, saving_boost, tech_profit_pen, tech_state,
// time_burden, water_access, wealth_index.
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
// The welfare channel (economy.welfare.enabled; zero otherwise).
inline constexpr Col<float> remittance_pen{
    .name = "remittance_pen", .unit = "PEN 2017",
    .description = "Remittances received from relatives this month (part of monetary income)", .panel = true,
    .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> pension_pen{
    .name = "pension_pen", .unit = "PEN 2017",
    .description = "Pension 65 (non-contributory pension) received this month (part of monetary income)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> in_kind_pen{
    .name = "in_kind_pen", .unit = "PEN 2017",
    .description = "In-kind consumption this month: school meals (Qali Warma), Vaso de Leche and the imputed rent of "
                   "the dwelling (never cash)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<std::uint8_t> remittance_receiving{
    .name = "remittance_receiving", .unit = "0/1", .description = "Household currently receives remittances"};
inline constexpr Col<std::uint8_t> remittance_migrants{
    .name = "remittance_migrants", .unit = "members",
    .description = "Members who have left the household that the remittance process has seen (members_left)"};
inline constexpr Col<float> remittance_level{
    .name = "remittance_level", .unit = "log",
    .description = "Persistent log deviation of the household's remittances from its base (AR(1))"};
inline constexpr Col<float> remittance_base_pen{
    .name = "remittance_base_pen", .unit = "PEN 2017 per month",
    .description = "Mean monthly remittances of the household while it receives (fixed trait)"};
inline constexpr Col<float> imputed_rent_pen{
    .name = "imputed_rent_pen", .unit = "PEN 2017 per month",
    .description = "Imputed rent of the owned dwelling (fixed trait, rising with wealth)"};
inline constexpr Col<std::uint8_t> pension_take_up{
    .name = "pension_take_up", .unit = "0/1",
    .description = "Household claims Pension 65 for its members aged 65+ when classified extremely poor (trait)"};
inline constexpr Col<float> climate_shock_loss{
    .name = "climate_shock_loss", .unit = "share",
    .description = "Share of crop output lost to the district's climate shock"};
}  // namespace col

}  // namespace chacra::models
