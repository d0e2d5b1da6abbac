// File: models/livelihood.cpp
// Income by source, the buffer-stock consumption rule, and poverty status (see livelihood.hpp).
#include "models/livelihood.hpp"

#include "models/adoption.hpp"
#include "models/economy.hpp"
#include "models/livelihood_rules.hpp"
#include "models/lanes.hpp"
#include "models/row_ops.hpp"
#include "sim/param_spec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace chacra::models {

namespace {

constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;
constexpr int kWorkingAgeMin = 15 * 12;
constexpr int kWorkingAgeMax = 65 * 12;  // exclusive
constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);

inline int working_age_members(const std::int16_t* a) { return rows::members_aged(a, kWorkingAgeMin, kWorkingAgeMax); }

}  // namespace

// ---- Parameters ----

template <class V>
void LivelihoodParams::describe(V& v) {
  const std::string calib = "Calibration assumption (docs/calibration.md, Livelihoods)";
  const std::string calib_income =
      "Calibrated so that Juntos-type households in centres with 50-70% UBN share earn about PEN 4,500 a year "
      "of monetary income including the Juntos transfer (IEP/UC Davis control group; docs/calibration.md)";
  for (int t = 0; t < kTechCount; ++t) {
    const std::string name = kTechNames[t];
    const std::string base = "livelihood." + name + ".";
    TechEconomics& d = tech[t];
    const bool home = Livelihood::kSource[t] == TechSource::home;
    v.real(base + "return_pen", d.return_pen, {0, 1e6}, "PEN per year",
           "Annual value of the extra output from " + name + " for an adopter of average heterogeneity factor "
           "(gross of upkeep)" + (home ? std::string("; counted as own production (fuel, time, health savings)") : ""),
           home ? "Assumption: no income effect (health and time)"
                : calib + ": with the HW package and business profits, about +PEN 1,400 a year of monetary "
                          "income per assigned household (IEP/UC Davis evaluation of the 2017 HW cohort)");
    if (!home)
      v.real(base + "sold_share", d.sold_share, {0, 1}, "share",
             "Share of the extra output from " + name + " that is sold (the rest is consumed at home)", calib);
    v.real(base + "labour_share", d.labour_share, {0, 1}, "share of off-farm time",
           "Share of the household's off-farm working time that " + name + " absorbs (a shift from wage work to "
           "self-employment)",
           "Escobal and Ponce (2016): HW shifted labour from wage work to self-employment; size assumed");
    v.borrow("adoption." + name + ".upkeep_pen", d.upkeep_pen);
  }
  v.borrow("adoption.pasture_mean_ha", pasture_mean_ha);
  v.borrow("economy.graduation.enabled", graduation);
  v.real("livelihood.programme_return_multiplier", programme_return_multiplier, {0, 10}, "multiplier",
         "Return of a technology adopted with a programme asset and training (asset_delivered: improved kits, "
         "seed, technical assistance) relative to the same technology adopted traditionally",
         "Assumption; calibrated to the 2017 evaluation's income effect (docs/calibration.md)");
  v.real("livelihood.crop_value_pen_per_ha", crop_value_pen_per_ha, {0, 1e6}, "PEN per year",
         "Annual value of crop output (sold and consumed) of a household with 1 ha, capacity 1, no year-round "
         "water and no technology",
         calib_income);
  v.real("livelihood.land_elasticity", land_elasticity, {0, 1.5}, "elasticity",
         "Elasticity of crop output to land (smallholdings are farmed more intensively)", "Assumption");
  v.real("livelihood.water_crop_gain", water_crop_gain, {0, 5}, "share",
         "Extra crop output (and land-based technology returns) with year-round water", "Assumption");
  v.real("livelihood.crop_sold_share", crop_sold_share, {0, 1}, "share",
         "Share of crop output sold; the rest is consumed at home (subsistence farming)",
         "Assumption: highland smallholders sell a minority of their crops (ENA 2017)");
  v.real("livelihood.animal_value_pen", animal_value_pen, {0, 1e6}, "PEN per year",
         "Annual value of small-animal and dairy output of a household of capacity 1 without technology",
         calib_income);
  v.real("livelihood.animal_sold_share", animal_sold_share, {0, 1}, "share", "Share of animal output sold", "Assumption");
  v.real("livelihood.harvest_seasonality", harvest_seasonality, {0, 1}, "weight",
         "How strongly crop sales follow the Andean harvest profile (1: fully, peak April-July; 0: flat)",
         "Andean agricultural calendar: main harvest April-July");
  v.real("livelihood.own_consumption_seasonality", own_consumption_seasonality, {0, 1}, "weight",
         "How strongly home consumption of own crops follows the harvest profile (stored produce smooths it)",
         "Assumption");
  v.real("livelihood.wage_month_pen", wage_month_pen, {0, 1e6}, "PEN per month",
         "Monthly earnings of an adult working full time off the farm",
         "Rural day wage of about PEN 25 for 22 days (MTPE/ENAHO 2018), assumption");
  v.real("livelihood.wage_employment_rate", wage_employment_rate, {0, 1}, "share",
         "Share of the off-farm working time actually employed for a wage", calib_income);
  v.real("livelihood.max_labour_shift", max_labour_shift, {0, 1}, "share",
         "Largest share of off-farm working time that technologies can absorb", "Assumption");
  v.real("livelihood.market_price_slope", market_price_slope, {0, 2}, "per unit of market dynamism",
         "Prices received for sales rise with district market dynamism: 1 + slope * (dynamism - 0.5)",
         "Assumption");
  v.real("livelihood.market_wage_slope", market_wage_slope, {0, 2}, "per unit of market dynamism",
         "Wage employment rises with district market dynamism: 1 + slope * (dynamism - 0.5)", "Assumption");
  v.real("livelihood.business_share", business_share, {0, 1}, "share of households",
         "Share of households with a non-farm business at baseline (before HW businesses)", calib_income);
  v.real("livelihood.business_profit_pen", business_profit_pen, {0, 1e6}, "PEN per month",
         "Monthly profit of a baseline non-farm business of a household of capacity 1", calib_income);
  v.real("livelihood.business_wealth_slope", business_wealth_slope, {0, 5}, "per SD of wealth",
         "Probability of a baseline business scales with 1 + slope * wealth_index (clamped to [0, 1])",
         "Assumption");
  v.real("livelihood.locus_return", locus_return, {-1, 1}, "share per SD",
         "Farm and business income rise by this share per SD of locus of control",
         "IEP/UC Davis evaluation: households with above-median baseline locus of control have higher income; "
         "size assumed");
  v.real("livelihood.return_capacity_elasticity", return_capacity_elasticity, {0, 5}, "elasticity",
         "Elasticity of technology returns to productive capacity (above 1: returns are more unequal than "
         "farm output)",
         "IEP/UC Davis evaluation of the 2017 HW cohort: the income effect is very unequal (some households "
         "gain a lot, many little); size assumed");
  v.real("livelihood.tech_land_elasticity", tech_land_elasticity, {0, 2}, "elasticity",
         "Elasticity of land-based technology returns to land", "Assumption");
  v.real("livelihood.farm_shock_sd", farm_shock_sd, {0, 3}, "log",
         "SD of the monthly idiosyncratic log shock to farm output (mean-one log-normal)", "Assumption");
  v.real("livelihood.offfarm_shock_sd", offfarm_shock_sd, {0, 3}, "log",
         "SD of the monthly idiosyncratic log shock to wage and business income (mean-one log-normal)",
         "Assumption");
  v.real("livelihood.covariate_shock_prob", covariate_shock_prob, {0, 1}, "probability per district-year",
         "Probability that a district suffers a frost or drought in a year",
         "Assumption: frost and drought hit Andean districts every 6-7 years on average (SENAMHI, INDECI)");
  v.real("livelihood.covariate_shock_loss", covariate_shock_loss, {0, 0.66}, "share",
         "Mean share of the year's crop output lost in a shock year (uniform on 0.5-1.5 times this)",
         "Assumption");
  v.real("livelihood.covariate_animal_share", covariate_animal_share, {0, 1}, "share",
         "Animal output loses this share of the crop loss (fodder)", "Assumption");
  v.real("livelihood.saving_rate", saving_rate, {0, 1}, "share of permanent income",
         "Share of permanent income saved; saving_boost (financial education) adds to it", "Assumption");
  v.real("livelihood.buffer_months", buffer_months, {0, 60}, "months of permanent income",
         "Target cash buffer of the buffer-stock rule", "Assumption (Deaton 1991; Carroll 1997)");
  v.real("livelihood.excess_consumption_share", excess_consumption_share, {0, 1}, "share per month",
         "Share of cash on hand above (below) the target buffer spent (cut) each month", "Assumption");
  v.real("livelihood.permanent_income_weight", permanent_income_weight, {0, 1}, "weight per month",
         "Weight of the current month in the exponential average that forms permanent income",
         "Assumption: about a year of memory");
  v.real("livelihood.upkeep_return_dependence", upkeep_return_dependence, {0, 1}, "share",
         "Share of technology returns lost for the share of last month's upkeep that cash could not finance",
         "Assumption");
  v.real("livelihood.poverty_line_2017_pen", poverty_line_2017, {0, 1e5}, "PEN per person per month",
         "Poverty line in 2017 (also used before 2017)", "INEI, Evolucion de la pobreza monetaria 2017");
  v.real("livelihood.poverty_line_2018_pen", poverty_line_2018, {0, 1e5}, "PEN per person per month", "Poverty line in 2018",
         "INEI 2018");
  v.real("livelihood.poverty_line_2019_pen", poverty_line_2019, {0, 1e5}, "PEN per person per month",
         "Poverty line in 2019 (also used after 2019)", "INEI 2019");
  v.real("livelihood.extreme_poverty_line_pen", extreme_poverty_line, {0, 1e5}, "PEN per person per month", "Extreme poverty line",
         "INEI 2017");
  v.real("livelihood.other_consumption_pc_pen", other_consumption_pc_pen, {0, 1e5}, "PEN per person per month",
         "Mean per-capita consumption financed outside the monetary income and own production modelled here "
         "(imputed rent, in-kind public food programmes, gifts and remittances, and income the evaluation's "
         "survey does not record)",
         "Calibrated so that the no-programme population has about 50% poor and 15% extremely poor on "
         "consumption including own production (INEI rural highlands 2017-2020; docs/calibration.md)");
  v.real("livelihood.other_consumption_wealth_slope", other_consumption_wealth_slope, {0, 3}, "log per SD of wealth",
         "Other consumption scales with exp(slope * wealth_index), normalised to mean 1",
         "Calibrated with other_consumption_pc_pen to the extreme poverty rate (12.8% rural in 2017, INEI)");
}

LivelihoodParams LivelihoodParams::from(const ParamSet& params) { return read_params<LivelihoodParams>(params); }

void Livelihood::register_params(Registry& r) { declare_params<LivelihoodParams>(r); }

// ---- Helpers ----

double Livelihood::inverse_normal(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double lo = 0.02425, hi = 1.0 - lo;
  if (p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return std::numeric_limits<double>::infinity();
  if (p < lo) {
    const double q = std::sqrt(-2.0 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  if (p > hi) {
    const double q = std::sqrt(-2.0 * std::log1p(-p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

std::vector<float> Livelihood::lognormal_table(double sigma) {
  std::vector<float> t(kShockBins, 1.0f);
  if (sigma <= 0.0) return t;
  const auto phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  double lower = 0.0;  // Phi(a - sigma) at the bin's lower edge a (a = -inf for the first bin)
  for (int j = 0; j < kShockBins; ++j) {
    const double upper = j + 1 < kShockBins ? phi(inverse_normal((j + 1.0) / kShockBins) - sigma) : 1.0;
    t[j] = static_cast<float>((upper - lower) * kShockBins);
    lower = upper;
  }
  return t;
}

double Livelihood::climate_loss(const rng::StreamSeed& seed, int year, std::uint32_t district, double probability,
                                double loss) {
  auto s = seed.open(kDistrictShockDomain, static_cast<std::uint64_t>(year), district);
  const double occurs = s.uniform();
  const double severity = s.uniform();
  return occurs < probability ? std::min(1.0, loss * (0.5 + severity)) : 0.0;
}

// ---- Setup ----

void Livelihood::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = LivelihoodParams::from(params);
  farm_shock_ = lognormal_table(p_.farm_shock_sd);
  offfarm_shock_ = lognormal_table(p_.offfarm_shock_sd);
  auto& h = world.households;
  h.add(col::income_crops_pen);
  h.add(col::income_animals_pen);
  h.add(col::income_wage_pen);
  h.add(col::income_business_pen);
  h.add(col::income_transfers_pen);
  h.add(col::income_monetary_pen);
  h.add(col::own_production_pen);
  h.add(col::consumption_pen);
  auto* cash = h.add(col::cash_pen);
  auto* poor = h.add(col::poor);
  auto* extreme = h.add(col::extreme_poor);
  auto* gap = h.add(col::poverty_gap);
  auto* base_income = h.add(col::baseline_income_pen);
  auto* crop_pot = h.add(col::crop_potential_pen);
  auto* animal_pot = h.add(col::animal_potential_pen);
  auto* rf_land = h.add(col::tech_return_factor_land);
  auto* rf = h.add(col::tech_return_factor);
  auto* business = h.add(col::has_business);
  auto* other_f = h.add(col::other_consumption_factor);
  h.add(col::other_consumption_pen);
  auto* perm = h.add(col::permanent_income_pen);
  h.add(col::upkeep_paid_pen);
  auto* financed = h.add(col::upkeep_financed_share);
  auto* history = h.add(col::consumption_pc_history);
  auto* pc12 = h.add(col::consumption_pc_12m_pen);
  h.add(col::climate_shock_loss);

  // The baseline technology states enter expected income; draw them here if Adoption is set up later (it
  // then draws the same states again).
  if (!h.has(col::tech_state)) Adoption::init_states(world, AdoptionParams::from(params), seed);
  const auto* land = h.get(col::land_ha);
  const auto* water = h.get(col::water_access);
  const auto* capacity = h.get(col::productive_capacity);
  const auto* wealth = h.get(col::wealth_index);
  const auto* locus = h.get(col::locus_of_control);
  const auto* fls = h.get(col::farm_labour_share);
  const auto* district = h.get(col::district);
  const auto* age = h.get(col::member_age_months);
  const auto* state = h.get(col::tech_state);
  const auto* pasture = h.get(col::pasture_ha);
  const auto* market = world.districts.get(col::district_market_dynamism);

  // Households of the whole population (a world split by districts holds [household_begin, household_end)).
  const std::uint64_t n = world.total_households();
  const std::size_t i0 = world.household_begin(), i1 = world.household_end();
  // Fixed traits, then normalise the heterogeneity factors to mean 1 over the population.
  for (std::size_t i = i0; i < i1; ++i) {
    const double cap = std::max(0.0f, capacity[i]);
    const double l = std::max(0.0f, land[i]);
    const double wet = 1.0 + p_.water_crop_gain * (water[i] ? 1.0 : 0.0);
    crop_pot[i] = static_cast<float>(p_.crop_value_pen_per_ha * std::pow(l, p_.land_elasticity) * cap * wet);
    animal_pot[i] = static_cast<float>(p_.animal_value_pen * cap);
    const double capr = std::pow(cap, p_.return_capacity_elasticity);
    rf[i] = static_cast<float>(capr);
    rf_land[i] = static_cast<float>(capr * std::pow(l, p_.tech_land_elasticity) * wet);
    other_f[i] = static_cast<float>(std::exp(p_.other_consumption_wealth_slope * wealth[i]));
    auto s = seed.open(kSetupDomain, kSetupPeriod, i);
    const double pb = std::clamp(p_.business_share * (1.0 + p_.business_wealth_slope * wealth[i]), 0.0, 1.0);
    business[i] = s.uniform() < pb ? 1 : 0;
  }
  // Sums in household order (across ranks of a split world: Collective::ordered_sum).
  std::vector<double> sums(3, 0.0);  // rf, rf_land, other
  world.comm().ordered_sum(sums, [&](std::vector<double>& acc) {
    for (std::size_t i = i0; i < i1; ++i) {
      acc[0] += rf[i];
      acc[1] += rf_land[i];
      acc[2] += other_f[i];
    }
  });
  const auto norm = [n](double total) { return total > 0 ? static_cast<double>(n) / total : 0.0; };
  const double k_rf = norm(sums[0]), k_rf_land = norm(sums[1]), k_other = norm(sums[2]);

  // Expected income at the baseline states (no programme assets yet): shocks at their means, the year's
  // seasonal weights average 1.
  LivelihoodParams flat = p_;
  flat.harvest_seasonality = 0.0;
  flat.own_consumption_seasonality = 0.0;
  const IncomeConstants k(flat, 1);
  const double crop_keep = 1.0 - p_.covariate_shock_prob * p_.covariate_shock_loss;
  const Shocks<float> mean_shocks{1.0f, 1.0f, static_cast<float>(crop_keep)};
  const float line = static_cast<float>(p_.poverty_line(world.calendar.start_year));
  const float extreme_line = static_cast<float>(p_.extreme_poverty_line);
  const float steady_cash = static_cast<float>(std::max(
      0.0, p_.buffer_months - 1.0 +
               (p_.excess_consumption_share > 0 ? p_.saving_rate / p_.excess_consumption_share : 0.0)));
  for (std::size_t i = i0; i < i1; ++i) {
    rf[i] = static_cast<float>(rf[i] * k_rf);
    rf_land[i] = static_cast<float>(rf_land[i] * k_rf_land);
    other_f[i] = static_cast<float>(other_f[i] * k_other);
    const std::uint8_t* si = state + i * kTechCount;
    const unsigned adopted = rows::tech_mask(si, kAdopted);
    // No programme assets yet (asset mask 0); fully financed upkeep.
    const HouseholdInputs<float, unsigned> in{crop_pot[i], animal_pot[i], rf_land[i], rf[i], capacity[i], locus[i],
                                              market[district[i]], fls[i],
                                              static_cast<float>(working_age_members(age + i * kMaxMembers)),
                                              pasture[i], 1.0f, 0.0f, business[i] != 0 ? 1u : 0u, adopted, 0u,
                                              adopted};
    const Income<float> y = income_of(k, in, mean_shocks);
    const float monthly = y.crops + y.animals + y.wage + y.business;
    float upkeep = 0.0f;
    for (int t = 0; t < kTechCount; ++t)
      if (si[t] == kAdopted) upkeep += k.upkeep[t];
    base_income[i] = 12.0f * monthly;
    perm[i] = monthly - upkeep;
    // The rule's steady state with constant income: cash settles at (buffer - 1 + saving/excess share)
    // months of permanent income and spending equals permanent income.
    cash[i] = steady_cash * std::max(0.0f, perm[i]);
    financed[i] = 1.0f;
    // Members counted from the ages, so Demography may be set up before or after this module.
    int members = 0;
    for (int m = 0; m < kMaxMembers; ++m) members += age[i * kMaxMembers + m] >= 0;
    const float persons = static_cast<float>(std::max(1, members));
    const float other = persons * static_cast<float>(p_.other_consumption_pc_pen) * other_f[i];
    const float pc = (std::max(0.0f, perm[i]) + y.own + other) / persons;
    std::fill(history + i * 12, history + i * 12 + 12, pc);
    pc12[i] = pc;
    poor[i] = pc < line;
    extreme[i] = pc < extreme_line;
    gap[i] = pc < line ? (line - pc) / line : 0.0f;
  }
}

// ---- Phases ----

Phase Livelihood::income_phase() const {
  return Phase::per_block("livelihood.income", [this](World& world, const StepContext& ctx, const Block& block) {
    const LivelihoodParams& p = p_;
    auto& h = world.households;
    auto* crops = h.get(col::income_crops_pen);
    auto* animals = h.get(col::income_animals_pen);
    auto* wage = h.get(col::income_wage_pen);
    auto* business_income = h.get(col::income_business_pen);
    auto* transfers = h.get(col::income_transfers_pen);
    auto* monetary = h.get(col::income_monetary_pen);
    auto* own = h.get(col::own_production_pen);
    auto* shock_loss = h.get(col::climate_shock_loss);
    const auto* crop_pot = h.get(col::crop_potential_pen);
    const auto* animal_pot = h.get(col::animal_potential_pen);
    const auto* rf_land = h.get(col::tech_return_factor_land);
    const auto* rf = h.get(col::tech_return_factor);
    const auto* capacity = h.get(col::productive_capacity);
    const auto* locus = h.get(col::locus_of_control);
    const auto* fls = h.get(col::farm_labour_share);
    const auto* district = h.get(col::district);
    const auto* age = h.get(col::member_age_months);
    const auto* business = h.get(col::has_business);
    const auto* state = h.get(col::tech_state);
    const auto* asset = h.get(col::asset_delivered);
    const auto* pasture = h.get(col::pasture_ha);
    const auto* financed = h.get(col::upkeep_financed_share);
    const auto* juntos = h.get(col::juntos_transfer_pen);
    const auto* hw_profit = h.get(col::business_profit_pen);
    const auto* market = world.districts.get(col::district_market_dynamism);
    // Programme time comes out of off-farm work only with the graduation channel.
    const auto* programme_time = p.graduation ? h.get(col::time_burden) : nullptr;

    const IncomeConstants k(p, ctx.month_of_year());
    const int year = ctx.year();
    std::uint32_t cached_district = std::numeric_limits<std::uint32_t>::max();
    float crop_keep = 1.0f;

    const float* farm_shock = farm_shock_.data();
    const float* offfarm_shock = offfarm_shock_.data();
    constexpr int kShift = 64 - kShockBits;
    // The draws of household i: its own block for the idiosyncratic shocks, and its district's shock
    // (households are sorted by district: one stream per district and block).
    const auto shocks_of = [&](std::uint32_t i, std::uint32_t d) {
      auto s = ctx.seed.open(kIncomeDomain, static_cast<std::uint64_t>(ctx.month), i);
      const std::uint64_t bits = s();
      if (d != cached_district) {
        cached_district = d;
        crop_keep = static_cast<float>(
            1.0 - climate_loss(ctx.seed, year, d, p.covariate_shock_prob, p.covariate_shock_loss));
      }
      return Shocks<float>{farm_shock[bits >> kShift],
                           offfarm_shock[(bits >> (kShift - kShockBits)) & (kShockBins - 1)], crop_keep};
    };
    const auto row = [](const std::uint8_t* column, std::uint32_t i) {
      return column + static_cast<std::size_t>(i) * kTechCount;
    };

    // One household (V = float) or kLanes households (V = lanes::vf) from household i: the draws, table
    // lookups and row masks are gathered household by household, then the income formula runs in lanes
    // (the same bits either way, models/lanes.hpp).
    const auto step = [&](std::uint32_t i, auto kind) {
      using V = decltype(kind);
      using T = lanes::Traits<V>;
      using M = typename T::Mask;
      constexpr int n = T::width;
      float farm_s[n], offfarm_s[n], keep_s[n], market_s[n], adults_s[n];
      std::int32_t business_s[n], adopted_s[n], asset_s[n];
      unsigned present = 0;
      for (int j = 0; j < n; ++j) {
        const std::uint32_t hh = i + static_cast<std::uint32_t>(j), d = district[hh];
        const Shocks<float> e = shocks_of(hh, d);
        farm_s[j] = e.farm;
        offfarm_s[j] = e.offfarm;
        keep_s[j] = e.crop_keep;
        market_s[j] = market[d];
        adults_s[j] = static_cast<float>(working_age_members(age + static_cast<std::size_t>(hh) * kMaxMembers));
        business_s[j] = business[hh] != 0 ? -1 : 0;
        const unsigned on = rows::tech_mask(row(state, hh), kAdopted);
        adopted_s[j] = static_cast<std::int32_t>(on);
        asset_s[j] = static_cast<std::int32_t>(~rows::tech_mask(row(asset, hh), 0) & 0x3FFu);
        present |= on;
      }
      const auto load = [i](const float* column) { return T::load(column + i); };
      const HouseholdInputs<V, M> in{load(crop_pot),      load(animal_pot), load(rf_land),  load(rf),
                                     load(capacity),      load(locus),      T::load(market_s), load(fls),
                                     T::load(adults_s),   load(pasture),    load(financed),
                                     programme_time != nullptr ? load(programme_time) : V{},
                                     T::load_mask(business_s), T::load_mask(adopted_s), T::load_mask(asset_s),
                                     present};
      const Shocks<V> e{T::load(farm_s), T::load(offfarm_s), T::load(keep_s)};
      const Income<V> y = income_of(k, in, e);
      const V business_total = y.business + load(hw_profit);
      const V transfer = load(juntos);
      lanes::store(crops + i, y.crops);
      lanes::store(animals + i, y.animals);
      lanes::store(wage + i, y.wage);
      lanes::store(business_income + i, business_total);
      lanes::store(transfers + i, transfer);
      lanes::store(monetary + i, y.crops + y.animals + y.wage + business_total + transfer);
      lanes::store(own + i, y.own);
      lanes::store(shock_loss + i, 1.0f - e.crop_keep);
    };
    std::uint32_t i = block.household_begin;
    for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{});
    for (; i < block.household_end; ++i) step(i, 0.0f);  // the last few households of the block
  });
}

Phase Livelihood::consumption_phase() const {
  return Phase::per_block(
      "livelihood.consumption", [this](World& world, const StepContext&, const Block& block) {
        const LivelihoodParams& p = p_;
        auto& h = world.households;
        const auto* monetary = h.get(col::income_monetary_pen);
        const auto* own = h.get(col::own_production_pen);
        const auto* state = h.get(col::tech_state);
        const auto* boost = h.get(col::saving_boost);
        const auto* size = h.get(col::household_size);
        const auto* other_f = h.get(col::other_consumption_factor);
        auto* cash = h.get(col::cash_pen);
        auto* perm = h.get(col::permanent_income_pen);
        auto* financed = h.get(col::upkeep_financed_share);
        auto* paid_col = h.get(col::upkeep_paid_pen);
        auto* other_col = h.get(col::other_consumption_pen);
        auto* consumption = h.get(col::consumption_pen);

        const ConsumptionConstants k(p);

        // One household (V = float) or kLanes households (V = lanes::vf) from household i: the rule
        // (consume, models/livelihood_rules.hpp) through its fast driver, the same bits either way.
        const auto step = [&](std::uint32_t i, auto kind) {
          using V = decltype(kind);
          using T = lanes::Traits<V>;
          constexpr int n = T::width;
          float sizes[n];
          std::int32_t masks[n];
          unsigned present = 0;
          for (int j = 0; j < n; ++j) {
            const std::uint32_t hh = i + static_cast<std::uint32_t>(j);
            const unsigned m = rows::tech_mask(state + static_cast<std::size_t>(hh) * kTechCount, kAdopted);
            masks[j] = static_cast<std::int32_t>(m);
            present |= m;
            sizes[j] = static_cast<float>(std::max<int>(1, size[hh]));
          }
          const auto load = [i](const float* column) { return T::load(column + i); };
          const Budget<V> b = consumption_of(k, load(monetary), load(own), load(perm), load(cash), load(boost),
                                             T::load(sizes), load(other_f), T::load_mask(masks), present);
          lanes::store(perm + i, b.permanent_income);
          lanes::store(financed + i, b.financed_share);
          lanes::store(paid_col + i, b.upkeep_paid);
          lanes::store(cash + i, b.cash);
          lanes::store(other_col + i, b.other_consumption);
          lanes::store(consumption + i, b.consumption);
        };
        std::uint32_t i = block.household_begin;
        for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{});
        for (; i < block.household_end; ++i) step(i, 0.0f);  // the last few households of the block
      });
}

Phase Livelihood::welfare_phase() const {
  return Phase::per_block("livelihood.welfare", [this](World& world, const StepContext& ctx, const Block& block) {
    const LivelihoodParams& p = p_;
    auto& h = world.households;
    const auto* consumption = h.get(col::consumption_pen);
    const auto* size = h.get(col::household_size);
    auto* history = h.get(col::consumption_pc_history);
    auto* pc12 = h.get(col::consumption_pc_12m_pen);
    auto* poor = h.get(col::poor);
    auto* extreme = h.get(col::extreme_poor);
    auto* gap = h.get(col::poverty_gap);
    const float line = static_cast<float>(p.poverty_line(ctx.year()));
    const float extreme_line = static_cast<float>(p.extreme_poverty_line);
    const int slot = ctx.month_of_year() - 1;
    // One household (V = float) or kLanes households (V = lanes::vf) from household i, the same bits
    // either way (models/lanes.hpp).
    const auto step = [&](std::uint32_t i, auto kind) {
      using V = decltype(kind);
      using T = lanes::Traits<V>;
      constexpr int n = T::width;
      float sizes[n];
      for (int j = 0; j < n; ++j) sizes[j] = static_cast<float>(std::max<int>(1, size[i + j]));
      float* rows = history + static_cast<std::size_t>(i) * 12;
      const V now = T::load(consumption + i) / T::load(sizes);
      for (int j = 0; j < n; ++j) rows[12 * j + slot] = lanes::lane(now, j);
      const auto months = lanes::columns12(rows, V{});
      V total{};
      for (int m = 0; m < 12; ++m) total += months[m];
      const V c = total * (1.0f / 12.0f);
      const auto is_poor = c < line, is_extreme = c < extreme_line;
      lanes::store(pc12 + i, c);
      lanes::store(gap + i, lanes::select(is_poor, (line - c) / line, V{}));
      for (int j = 0; j < n; ++j) {
        poor[i + j] = lanes::lane(is_poor, j);
        extreme[i + j] = lanes::lane(is_extreme, j);
      }
    };
    std::uint32_t i = block.household_begin;
    for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{});
    for (; i < block.household_end; ++i) step(i, 0.0f);  // the last few households of the block
  });
}

}  // namespace chacra::models
