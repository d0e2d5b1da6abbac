// File: models/livelihood.cpp
// Income by source, the buffer-stock consumption rule, and poverty status (see livelihood.hpp).
#include "models/livelihood.hpp"

#include "models/adoption.hpp"
#include "models/demography.hpp"
#include "models/economy.hpp"
#include "models/finance.hpp"
#include "models/finance_rules.hpp"
#include "models/juntos.hpp"
#include "models/livelihood_rules.hpp"
#include "models/livestock.hpp"
#include "models/portfolio.hpp"
#include "models/lanes.hpp"
#include "models/row_ops.hpp"
#include "sim/param_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace chacra::models {

namespace {

constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;
constexpr int kWorkingAgeMin = 15 * 12;
constexpr int kWorkingAgeMax = 65 * 12;  // exclusive
constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);

inline int working_age_members(const std::int16_t* a) { return rows::members_aged(a, kWorkingAgeMin, kWorkingAgeMax); }
inline int elder_members(const std::int16_t* a) { return rows::members_aged(a, kWorkingAgeMax, 0x7FFF); }

// The columns both income kernels (the plain one and the household economy's) read and write, looked up once
// per block in one place so the two cannot drift apart.
struct IncomeColumns {
  float *crops, *animals, *wage, *business_income, *transfers, *monetary, *own, *shock_loss;
  const float *crop_pot, *animal_pot, *rf_land, *rf, *capacity, *locus, *fls, *pasture, *financed, *juntos, *hw_profit;
  const std::uint32_t* district;
  const std::int16_t* age;
  const std::uint8_t *business, *state, *asset;
  const float* market;  // the district's market dynamism

  explicit IncomeColumns(World& world)
      : crops(world.households.get(col::income_crops_pen)),
        animals(world.households.get(col::income_animals_pen)),
        wage(world.households.get(col::income_wage_pen)),
        business_income(world.households.get(col::income_business_pen)),
        transfers(world.households.get(col::income_transfers_pen)),
        monetary(world.households.get(col::income_monetary_pen)),
        own(world.households.get(col::own_production_pen)),
        shock_loss(world.households.get(col::climate_shock_loss)),
        crop_pot(world.households.get(col::crop_potential_pen)),
        animal_pot(world.households.get(col::animal_potential_pen)),
        rf_land(world.households.get(col::tech_return_factor_land)),
        rf(world.households.get(col::tech_return_factor)),
        capacity(world.households.get(col::productive_capacity)),
        locus(world.households.get(col::locus_of_control)),
        fls(world.households.get(col::farm_labour_share)),
        pasture(world.households.get(col::pasture_ha)),
        financed(world.households.get(col::upkeep_financed_share)),
        juntos(world.households.get(col::juntos_transfer_pen)),
        hw_profit(world.households.get(col::business_profit_pen)),
        district(world.households.get(col::district)),
        age(world.households.get(col::member_age_months)),
        business(world.households.get(col::has_business)),
        state(world.households.get(col::tech_state)),
        asset(world.households.get(col::asset_delivered)),
        market(world.districts.get(col::district_market_dynamism)) {}
};

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
         "Assumption fitted to the 2017 evaluation's income effect, so not evidence: kept as the default of "
         "scenarios without the household economy; the calibrated evaluation scenario sets 1.0 (no premium; "
         "docs/calibration.md)");
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
  welfare.describe(v);
}

template <class V>
void WelfareParams::describe(V& v) {
  const std::string on = " (economy.welfare.enabled)";
  // The structural parameters fitted by chacra calibrate (issue 23).
  static constexpr const char* kPosterior =
      "Posterior median, calibrated against baseline and control-group moments only (configs/calibration/"
      "chacra_2017.yaml, docs/calibration.md); prior ";
  const std::string fit =
      "Calibration of the welfare channel: with no programme, poverty and extreme poverty on persons land at INEI's "
      "rural levels (2017: 48.7% highlands, 41.4% Amazon; rural extreme 12.8%; INEI, Evolucion de la pobreza "
      "monetaria 2017) with no fixed consumption term (docs/calibration.md)";
  v.real("welfare.poverty_line_highlands_pen", poverty_line_highlands_pen, {0, 1e5}, "PEN 2017 per person per month",
         "Poverty line of households in highland districts, constant in real terms" + on,
         "INEI, Evolucion de la pobreza monetaria 2018: PEN 280 in the sierra in 2018, in 2017 prices");
  v.real("welfare.poverty_line_amazon_pen", poverty_line_amazon_pen, {0, 1e5}, "PEN 2017 per person per month",
         "Poverty line of households in Amazon districts, constant in real terms" + on,
         "INEI, Evolucion de la pobreza monetaria 2018: PEN 287 in the selva in 2018, in 2017 prices");
  v.real("welfare.extreme_poverty_line_pen", extreme_poverty_line_pen, {0, 1e5}, "PEN 2017 per person per month",
         "Extreme poverty line (the cost of the minimum food basket), the same in every region" + on,
         "INEI 2017: PEN 183; regional extreme lines are not in the sources used (assumption: the national line)");
  v.real("welfare.crop_value_pen_per_ha", crop_value_pen_per_ha, {0, 1e6}, "PEN 2017 per year",
         "Replaces livelihood.crop_value_pen_per_ha" + on +
             ": annual value of crop output of a household with 1 ha, capacity 1, no year-round water, no technology",
         std::string(kPosterior) + "uniform 3,000-8,000 (MINAGRI / INEI highland potato yields of 10-15 t/ha at PEN 0.7-1.0 a kg, part of the land cropped)");
  v.real("welfare.animal_value_pen", animal_value_pen, {0, 1e6}, "PEN 2017 per year",
         "Replaces livelihood.animal_value_pen" + on + ": annual value of small-animal and dairy output",
         std::string(kPosterior) + "uniform 1,000-3,500 (CENAGRO 2012, INEI: 10-20 guinea pigs, 5-10 sheep and 1-2 cattle)");
  v.real("welfare.wage_employment_rate", wage_employment_rate, {0, 1}, "share",
         "Replaces livelihood.wage_employment_rate" + on + ": share of off-farm working time employed for a wage",
         std::string(kPosterior) + "uniform 0.3-0.95 (assumption)");
  v.real("welfare.business_share", business_share, {0, 1}, "share of households",
         "Replaces livelihood.business_share" + on + ": share of households with a non-farm business at baseline",
         fit);
  v.real("welfare.business_profit_pen", business_profit_pen, {0, 1e6}, "PEN 2017 per month",
         "Replaces livelihood.business_profit_pen" + on + ": monthly profit of a baseline non-farm business", fit);
  v.real("welfare.farm_labour_elasticity", farm_labour_elasticity, {0, 1}, "elasticity",
         "Crop and animal output scale with (max(0.5, members aged 15-64 + members aged 65+ / 2) / 2)^elasticity: "
         "larger households farm their land more intensively" + on + " (prior range 0.2-0.6)",
         "Assumption: labour elasticities of smallholder farm output of about 0.3-0.5 in production function "
         "estimates; without it output per person would fall one for one with household size");
  v.boolean("juntos.transfer_indexed", juntos_transfer_indexed,
            "The Juntos transfer keeps its real value (false: the nominal PEN 200 loses value with inflation; "
            "applied where livelihood.income books the transfer" + on + ")",
            "MIDIS: PEN 200 every two months since 2005, never indexed");
  const std::string remit = "Assumption (order of magnitude of ENAHO's rural private current transfers)";
  v.real("remittances.share", remittance_share, {0, 0.99}, "share of households",
         "Stationary share of households receiving remittances from relatives" + on + " (prior range 0.1-0.4)",
         remit + ": about a quarter of rural households receive transfers from relatives");
  v.real("remittances.mean_pen", remittance_mean_pen, {0, 1e5}, "PEN 2017 per month",
         "Mean monthly remittances of a receiving household" + on + " (prior range 50-250)", remit);
  v.real("remittances.level_sd", remittance_level_sd, {0, 3}, "log",
         "Dispersion of the household's base level of remittances (log-normal, mean one)" + on, "Assumption");
  v.real("remittances.wealth_slope", remittance_wealth_slope, {0, 3}, "log per SD of wealth",
         "Remittances scale with exp(slope * wealth_index), normalised to mean 1 (relatives who migrated from "
         "better-off households earn more; absent members are not modelled)" + on,
         "Assumption");
  v.real("remittances.persistence", remittance_persistence, {0, 0.999}, "per month",
         "Persistence of the log level of remittances (AR(1))" + on, "Assumption");
  v.real("remittances.shock_sd", remittance_shock_sd, {0, 3}, "log",
         "SD of the monthly shock to the log level of remittances" + on, "Assumption");
  v.real("remittances.stop_hazard", remittance_stop_hazard, {0, 1}, "per month",
         "Monthly hazard that a receiving household stops receiving (the start hazard keeps the share stationary)" +
             on,
         "Assumption: episodes last about eight years on average");
  v.real("remittances.migrant_share", remittance_migrant_share, {0, 1}, "probability",
         "Probability that a household not receiving remittances starts to when a young adult leaves it "
         "(demography's out-migration)" + on + " (prior range 0.2-0.8)",
         "Assumption: rural out-migrants to cities and mines send money home (internal remittances; the design's "
         "absent working-age members)");
  v.real("remittances.insurance_share", remittance_insurance_share, {0, 1}, "share",
         "Share of the shortfall of current from permanent income that relatives replace, receiving households "
         "only" + on,
         "Yang and Choi (2007), World Bank Economic Review: remittances to Philippine households replaced about 60% "
         "of income falls; set lower (assumption) for internal remittances within rural Peru");
  const std::string p65 = "Pension 65 (MIDIS): PEN 250 every two months since 2012 to people aged 65 and over "
                          "classified extremely poor by SISFOH, not indexed";
  v.boolean("pension65.enabled", pension_enabled,
            "Pension 65 pays its members aged 65+ of households classified extremely poor (only acts when "
            "economy.welfare.enabled)",
            p65);
  v.real("pension65.amount_pen", pension_pen, {0, 1e5}, "PEN per two months, nominal",
         "Pension paid every two months (in the Juntos payment months) per eligible member, deflated" + on, p65);
  v.years_as_months("pension65.min_age_years", pension_min_age_months, {0, 120}, "Age from which members qualify",
                    p65);
  v.real("pension65.take_up", pension_take_up, {0, 1}, "share of households",
         "Share of eligible households that claim the pension (a fixed household trait)" + on, "Assumption");
  v.real("in_kind.school_meal_pen", school_meal_pen, {0, 1000}, "PEN 2017 per child and school day",
         "Value of a school meal (Qali Warma) per child of school age, March to December" + on,
         "Assumption from Qali Warma's cost per ration (MIDIS)");
  v.real("in_kind.school_days", school_days, {0, 31}, "days per month", "School days a month" + on, "Assumption");
  v.years_as_months("in_kind.school_min_age_years", school_min_age_months, {0, 25},
                    "Youngest age receiving school meals (initial education from 3)", "Qali Warma (MIDIS): initial "
                    "and primary education");
  v.years_as_months("in_kind.school_max_age_years", school_max_age_months, {0, 25},
                    "Oldest age receiving school meals (the last year of primary)",
                    "Qali Warma (MIDIS): initial and primary education");
  v.real("in_kind.milk_pen", milk_pen, {0, 1000}, "PEN 2017 per child per month",
         "Value of the Vaso de Leche ration per young child" + on, "Assumption (Vaso de Leche, municipal programme)");
  v.years_as_months("in_kind.milk_max_age_years", milk_max_age_months, {0, 25},
                    "Oldest age receiving Vaso de Leche (children up to 6)", "Vaso de Leche: children aged 0-6");
  v.real("in_kind.imputed_rent_pen", imputed_rent_pen, {0, 1e5}, "PEN 2017 per month",
         "Mean imputed rent of the owned dwelling, counted as consumption" + on,
         "INEI counts imputed rent in household spending; level assumed");
  v.real("in_kind.rent_wealth_slope", rent_wealth_slope, {0, 3}, "log per SD of wealth",
         "Imputed rent scales with exp(slope * wealth_index), normalised to mean 1 (better dwellings)" + on,
         "Assumption");
  // The commercial line's value and sold share, declared by the risk channel (models/portfolio.hpp).
  v.borrow("risk.commercial_premium", commercial_premium);
  v.borrow("risk.commercial_sold_share", commercial_sold_share);
  v.constraint(
      "in_kind.school_ages_ordered",
      [](const WelfareParams& p) -> std::optional<std::string> {
        if (p.school_min_age_months > p.school_max_age_months)
          return std::string("in_kind.school_min_age_years must not exceed in_kind.school_max_age_years");
        return std::nullopt;
      },
      school_min_age_months, school_max_age_months);
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

std::vector<float> Livelihood::normal_table() {
  std::vector<float> t(kShockBins, 0.0f);
  const auto density = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * 3.14159265358979323846); };
  // The conditional mean of Z on [a, b] is (phi(a) - phi(b)) / P(a < Z < b), here with P = 1 / kShockBins.
  double lower = 0.0;  // phi at the bin's lower edge (0 at -inf)
  for (int j = 0; j < kShockBins; ++j) {
    const double upper = j + 1 < kShockBins ? density(inverse_normal((j + 1.0) / kShockBins)) : 0.0;
    t[j] = static_cast<float>((lower - upper) * kShockBins);
    lower = upper;
  }
  return t;
}

// ---- Setup ----

void Livelihood::setup_welfare(World& world, const rng::StreamSeed& seed) {
  auto& h = world.households;
  auto* receiving = h.get(col::remittance_receiving);
  auto* level = h.get(col::remittance_level);
  auto* base = h.get(col::remittance_base_pen);
  auto* rent = h.get(col::imputed_rent_pen);
  auto* take_up = h.get(col::pension_take_up);
  auto* migrants = h.get(col::remittance_migrants);
  const auto* wealth = h.get(col::wealth_index);
  const std::uint8_t* left = h.has(col::members_left) ? h.get(col::members_left) : nullptr;
  const WelfareParams& wp = p_.welfare;
  const RemittanceConstants rk(wp.remittance_persistence, wp.remittance_shock_sd, wp.remittance_stop_hazard,
                               wp.remittance_start_hazard(), wp.remittance_migrant_share);
  const std::size_t i0 = world.household_begin(), i1 = world.household_end();
  const double level_sd = wp.remittance_level_sd;
  for (std::size_t i = i0; i < i1; ++i) {
    auto s = seed.open(kWelfareSetupDomain, 0, i);
    const double u_receive = s.uniform(), u_pension = s.uniform();
    const double z_base = s.normal(), z_level = s.normal();
    receiving[i] = u_receive < wp.remittance_share ? 1 : 0;
    level[i] = receiving[i] ? static_cast<float>(rk.stationary_sd * z_level) : 0.0f;
    base[i] = static_cast<float>(std::exp(level_sd * z_base - 0.5 * level_sd * level_sd) *
                                 std::exp(wp.remittance_wealth_slope * wealth[i]));
    rent[i] = static_cast<float>(std::exp(wp.rent_wealth_slope * wealth[i]));
    take_up[i] = u_pension < wp.pension_take_up ? 1 : 0;
    migrants[i] = left != nullptr ? left[i] : 0;
  }
  // The wealth factors normalised to mean 1 over the population (sums in household order).
  std::vector<double> sums(2, 0.0);
  world.comm().ordered_sum(sums, [&](std::vector<double>& acc) {
    for (std::size_t i = i0; i < i1; ++i) {
      acc[0] += std::exp(wp.remittance_wealth_slope * wealth[i]);
      acc[1] += rent[i];
    }
  });
  const auto n = static_cast<double>(world.total_households());
  const double k_remit = sums[0] > 0 ? wp.remittance_mean_pen * n / sums[0] : 0.0;
  const double k_rent = sums[1] > 0 ? wp.imputed_rent_pen * n / sums[1] : 0.0;
  for (std::size_t i = i0; i < i1; ++i) {
    base[i] = static_cast<float>(base[i] * k_remit);
    rent[i] = static_cast<float>(rent[i] * k_rent);
  }
}

void Livelihood::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = LivelihoodParams::from(params);
  economy_ = EconomyParams::from(params);
  prices_ = PriceParams::from(params);
  if (economy_.welfare) {
    // The full economy's income levels in place of those fitted to the evaluation survey's narrower income.
    p_.crop_value_pen_per_ha = p_.welfare.crop_value_pen_per_ha;
    p_.animal_value_pen = p_.welfare.animal_value_pen;
    p_.wage_employment_rate = p_.welfare.wage_employment_rate;
    p_.business_share = p_.welfare.business_share;
    p_.business_profit_pen = p_.welfare.business_profit_pen;
  }
  normal_ = normal_table();
  for (int a = 0; a <= kMaxMembers; ++a)
    for (int o = 0; o <= kMaxMembers; ++o)
      labour_factor_[static_cast<std::size_t>(a * (kMaxMembers + 1) + o)] =
          static_cast<float>(p_.welfare.labour_factor(a, o));
  farm_shock_ = lognormal_table(p_.farm_shock_sd);
  offfarm_shock_ = lognormal_table(p_.offfarm_shock_sd);
  {
    std::array<float, kTechCount> upkeep{};
    for (int t = 0; t < kTechCount; ++t) upkeep[t] = static_cast<float>(p_.tech[t].upkeep_pen);
    due_table_ = upkeep_due_table(upkeep);
  }
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
  h.add(col::remittance_pen);
  h.add(col::pension_pen);
  h.add(col::in_kind_pen);
  h.add(col::remittance_receiving);
  h.add(col::remittance_level);
  h.add(col::remittance_migrants);
  h.add(col::remittance_base_pen);
  h.add(col::imputed_rent_pen);
  h.add(col::pension_take_up);

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
    if (economy_.welfare) continue;  // welfare_initial_state below
    const std::uint8_t* si = state + i * kTechCount;
    const unsigned adopted = rows::tech_mask(si, kAdopted);
    // No programme assets yet (asset mask 0); fully financed upkeep.
    const HouseholdInputs<float, unsigned> in{crop_pot[i], animal_pot[i], rf_land[i], rf[i], capacity[i], locus[i],
                                              market[district[i]], fls[i],
                                              static_cast<float>(working_age_members(age + i * kMaxMembers)),
                                              pasture[i], 1.0f, 0.0f, business[i] != 0 ? 1u : 0u, adopted, 0u,
                                              adopted};
    const Income<float> y = income_of(k, in, mean_shocks);
    float upkeep = 0.0f;
    for (int t = 0; t < kTechCount; ++t)
      if (si[t] == kAdopted) upkeep += k.upkeep[t];
    const float monthly = y.crops + y.animals + y.wage + y.business;
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
  if (economy_.welfare) {
    setup_welfare(world, seed);
    welfare_initial_state(world, params);
  }
}

void Livelihood::welfare_initial_state(World& world, const ParamSet& params) {
  // Each household starts on the seasonal cycle of its expected income: two years of the budget rule
  // (finance.budget, models/finance_rules.hpp) at mean shocks and without programmes, from cash at the
  // constant-income steady state and no debt; the state entering the third January is the start, and the second
  // year's consumption fills the twelve months of history.
  auto& h = world.households;
  auto* cash = h.get(col::cash_pen);
  auto* debt = h.get(col::debt_pen);
  auto* perm = h.get(col::permanent_income_pen);
  auto* financed = h.get(col::upkeep_financed_share);
  auto* base_income = h.get(col::baseline_income_pen);
  auto* history = h.get(col::consumption_pc_history);
  auto* pc12 = h.get(col::consumption_pc_12m_pen);
  auto* poor = h.get(col::poor);
  auto* extreme = h.get(col::extreme_poor);
  auto* gap = h.get(col::poverty_gap);
  const auto* crop_pot = h.get(col::crop_potential_pen);
  const auto* animal_pot = h.get(col::animal_potential_pen);
  const auto* rf_land = h.get(col::tech_return_factor_land);
  const auto* rf = h.get(col::tech_return_factor);
  const auto* capacity = h.get(col::productive_capacity);
  const auto* locus = h.get(col::locus_of_control);
  const auto* fls = h.get(col::farm_labour_share);
  const auto* district = h.get(col::district);
  const auto* age = h.get(col::member_age_months);
  const auto* state = h.get(col::tech_state);
  const auto* pasture = h.get(col::pasture_ha);
  const auto* business = h.get(col::has_business);
  const auto* receiving = h.get(col::remittance_receiving);
  const auto* remittance_base = h.get(col::remittance_base_pen);
  const auto* rent = h.get(col::imputed_rent_pen);
  const auto* market = world.districts.get(col::district_market_dynamism);
  const auto* region = world.districts.get(col::district_region);
  const WelfareParams& wp = p_.welfare;
  const BudgetConstants kb = budget_constants(FinanceParams::from(params));
  std::vector<IncomeConstants> k;
  for (int m = 1; m <= 12; ++m) k.emplace_back(p_, m);
  const Shocks<float> mean_shocks{1.0f, 1.0f,
                                  static_cast<float>(1.0 - p_.covariate_shock_prob * p_.covariate_shock_loss)};
  const float steady_cash = static_cast<float>(std::max(
      0.0, p_.buffer_months - 1.0 +
               (p_.excess_consumption_share > 0 ? p_.saving_rate / p_.excess_consumption_share : 0.0)));
  const auto school = static_cast<float>(wp.school_meal_pen * wp.school_days);
  const auto milk = static_cast<float>(wp.milk_pen);
  const auto extreme_line = static_cast<float>(wp.extreme_poverty_line_pen);
  for (std::size_t i = world.household_begin(); i < world.household_end(); ++i) {
    const std::int16_t* a = age + i * kMaxMembers;
    const int adults = working_age_members(a);
    const auto labour = static_cast<float>(wp.labour_factor(adults, elder_members(a)));
    const unsigned adopted = rows::tech_mask(state + i * kTechCount, kAdopted);
    // No programme assets yet (asset mask 0); fully financed upkeep.
    const HouseholdInputs<float, unsigned> in{crop_pot[i] * labour, animal_pot[i] * labour, rf_land[i], rf[i],
                                              capacity[i], locus[i], market[district[i]], fls[i],
                                              static_cast<float>(adults), pasture[i], 1.0f, 0.0f,
                                              business[i] != 0 ? 1u : 0u, adopted, 0u, adopted};
    const float remittances = receiving[i] ? remittance_base[i] : 0.0f;
    const auto persons = static_cast<float>(std::max(1, rows::members_aged(a, 0, 0x7FFF)));
    const auto pupils = static_cast<float>(rows::members_aged(a, wp.school_min_age_months, wp.school_max_age_months + 12));
    const auto young = static_cast<float>(rows::members_aged(a, 0, wp.milk_max_age_months + 12));
    std::array<float, 12> income{}, in_kind{};
    float year_income = 0.0f;
    for (int m = 0; m < 12; ++m) {
      const Income<float> y = income_of(k[static_cast<std::size_t>(m)], in, mean_shocks);
      income[m] = y.crops + y.animals + y.wage + y.business + remittances;
      in_kind[m] = y.own + rent[i] + (m >= 2 ? school : 0.0f) * pupils + milk * young;
      year_income += income[m];
    }
    float upkeep = 0.0f;
    for (int t = 0; t < kTechCount; ++t)
      if ((adopted >> t) & 1u) upkeep += kb.upkeep[t];
    base_income[i] = year_income;
    HouseholdFinances f;
    f.permanent_income = year_income / 12.0f - upkeep;
    f.cash = steady_cash * std::max(0.0f, f.permanent_income);
    f.persons = persons;
    f.adopted = adopted;
    float* row = history + i * 12;
    for (int m = 0; m < 24; ++m) {
      f.income = income[m % 12];
      f.in_kind = in_kind[m % 12];
      const BudgetResult<float> b = budget(kb, f);
      f.permanent_income = b.permanent_income;
      f.cash = b.cash;
      f.debt = b.debt;
      if (m >= 12) row[m - 12] = b.consumption / persons;
    }
    cash[i] = f.cash;
    debt[i] = f.debt;
    perm[i] = f.permanent_income;
    financed[i] = 1.0f;
    float total = 0.0f;
    for (int m = 0; m < 12; ++m) total += row[m];
    const float pc = total * (1.0f / 12.0f);
    const auto line = static_cast<float>(region[district[i]] == static_cast<std::uint8_t>(Region::amazon)
                                             ? wp.poverty_line_amazon_pen
                                             : wp.poverty_line_highlands_pen);
    pc12[i] = pc;
    poor[i] = pc < line;
    extreme[i] = pc < extreme_line;
    gap[i] = pc < line ? (line - pc) / line : 0.0f;
  }
}


// ---- Phases ----

Phase Livelihood::income_phase() const {
  return Phase::per_block("livelihood.income", [this](World& world, const StepContext& ctx, const Block& block) {
    if (economy_.welfare || economy_.risk || economy_.graduation || economy_.persistence) {
      economy_income(world, ctx, block);
      return;
    }
    const LivelihoodParams& p = p_;
    const IncomeColumns c(world);
    const auto [crops, animals, wage, business_income, transfers, monetary, own, shock_loss, crop_pot, animal_pot,
                rf_land, rf, capacity, locus, fls, pasture, financed, juntos, hw_profit, district, age, business, state,
                asset, market] = c;
    // Programme time comes out of off-farm work only with the graduation channel.
    const auto* programme_time = p.graduation ? world.households.get(col::time_burden) : nullptr;

    const IncomeConstants k(p, ctx.month_of_year());
    const int year = ctx.year();
    std::uint32_t cached_district = std::numeric_limits<std::uint32_t>::max();
    float crop_keep = 1.0f;

    const float* farm_shock = farm_shock_.data();
    const float* offfarm_shock = offfarm_shock_.data();
    constexpr int kShift = 64 - kShockBits;
    // The draws of household i: its own block for the idiosyncratic shocks, and its district's shock
    // (households are sorted by district: one stream per district and block).
    const rng::FirstBlocks blocks(ctx.seed, kIncomeDomain, static_cast<std::uint64_t>(ctx.month));
    const auto shocks_of = [&](std::uint32_t i, std::uint32_t d) {
      const std::uint64_t bits = blocks(i).v[0];
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

void Livelihood::economy_income(World& world, const StepContext& ctx, const Block& block) const {
  const LivelihoodParams& p = p_;
  const WelfareParams& wp = p.welfare;
  const EconomyParams& econ = economy_;
  auto& h = world.households;
  const IncomeColumns cols(world);
  const auto [crops, animals, wage, business_income, transfers, monetary, own, shock_loss, crop_pot, animal_pot,
              rf_land, rf, capacity, locus, fls, pasture, financed, juntos, hw_profit, district, age, business, state,
              asset, market] = cols;
  auto* remittance = h.get(col::remittance_pen);
  auto* pension = h.get(col::pension_pen);
  auto* in_kind = h.get(col::in_kind_pen);
  auto* receiving = h.get(col::remittance_receiving);
  auto* level = h.get(col::remittance_level);
  auto* migrants = h.get(col::remittance_migrants);
  auto* tech_profit = h.get(col::tech_profit_pen);
  // Departures from the household (no Demography module: nobody leaves).
  const std::uint8_t* left = h.has(col::members_left) ? h.get(col::members_left) : nullptr;
  const auto* remittance_base = h.get(col::remittance_base_pen);
  const auto* rent = h.get(col::imputed_rent_pen);
  const auto* take_up = h.get(col::pension_take_up);
  const auto* perm = h.get(col::permanent_income_pen);
  const auto* burden = h.get(col::time_burden);
  const auto* sales = h.get(col::livestock_sales_pen);
  const auto* products = h.get(col::livestock_products_pen);
  const auto* eaten = h.get(col::livestock_own_pen);
  const auto* orientation = h.get(col::market_orientation);
  // Pension 65 reads Juntos's SISFOH classification (no Juntos module: nobody is classified, nobody is paid).
  const std::uint8_t* classified = h.has(col::juntos_classified_poor) ? h.get(col::juntos_classified_poor) : nullptr;

  const int month = ctx.month, year = ctx.year();
  IncomeConstants k(p, ctx.month_of_year());
  if (econ.persistence) {
    // Pasture and sheds act through the herds (capacity, yields) instead of a flat return.
    for (int t = 0; t < kTechCount; ++t)
      if (kSource[t] == TechSource::animals) k.r_month[t] = 0.0f;
  }
  EconomyIncomeConstants c;
  for (int t = 0; t < kTechCount; ++t) c.upkeep[t] = static_cast<float>(p.tech[t].upkeep_pen);
  const double price_index = prices::index(prices_.inflation_rate, ctx.calendar, month);
  const bool pay_month = Juntos::payment_month(month);
  if (econ.welfare) {
    c.deflate = wp.juntos_transfer_indexed ? 1.0f : static_cast<float>(1.0 / price_index);
    c.pension_each = wp.pension_enabled && pay_month ? static_cast<float>(wp.pension_pen / price_index) : 0.0f;
    c.school_each = ctx.month_of_year() >= 3 ? static_cast<float>(wp.school_meal_pen * wp.school_days) : 0.0f;
    c.milk_each = static_cast<float>(wp.milk_pen);
    c.insurance = static_cast<float>(wp.remittance_insurance_share);
  }
  c.time = econ.graduation;
  c.herds = econ.persistence;
  c.commercial = econ.risk;
  c.premium = static_cast<float>(wp.commercial_premium);
  c.commercial_sold = static_cast<float>(wp.commercial_sold_share);
  const bool pensions = c.pension_each > 0.0f && classified != nullptr;
  const RemittanceConstants rk(wp.remittance_persistence, wp.remittance_shock_sd, wp.remittance_stop_hazard,
                               wp.remittance_start_hazard(), wp.remittance_migrant_share);
  // Technologies whose profit this phase knows (with the herds, pasture and sheds earn through livestock.step).
  unsigned profit_techs = 0;
  for (int t = 0; t < kTechCount; ++t)
    if (!(econ.persistence && kSource[t] == TechSource::animals)) profit_techs |= 1u << t;

  // Crop prices this month: the district's price state that portfolio.plan moved (economy.risk.enabled), the
  // same process the households' planting choice expects. Worlds without the portfolio module (unit tests of
  // this phase alone) sell at mean prices.
  const bool prices_move = econ.risk && world.districts.has(col::district_market_price_factor);
  const float* market_price = prices_move ? world.districts.get(col::district_market_price_factor) : nullptr;
  const float* commercial_price = prices_move ? world.districts.get(col::district_commercial_price_factor) : nullptr;
  std::uint32_t cached_district = std::numeric_limits<std::uint32_t>::max();
  float crop_keep = 1.0f, price_traditional = 1.0f, price_commercial = 1.0f;
  const auto district_draws = [&](std::uint32_t d) {
    if (d == cached_district) return;
    cached_district = d;
    crop_keep = static_cast<float>(1.0 - climate_loss(ctx.seed, year, d, p.covariate_shock_prob, p.covariate_shock_loss));
    if (market_price != nullptr) {
      price_traditional = market_price[d];
      price_commercial = commercial_price[d];
    }
  };
  const float* farm_shock = farm_shock_.data();
  const float* offfarm_shock = offfarm_shock_.data();
  const float* normal = normal_.data();
  const auto& labour_factor = labour_factor_;
  const float* due_table = due_table_.data();
  // Members aged 15-64, 65+, of school age and young enough for Vaso de Leche, counted in one pass.
  const std::array<std::int16_t, 4> count_lo{static_cast<std::int16_t>(kWorkingAgeMin),
                                             static_cast<std::int16_t>(kWorkingAgeMax),
                                             static_cast<std::int16_t>(wp.school_min_age_months), 0};
  const std::array<std::int16_t, 4> count_hi{static_cast<std::int16_t>(kWorkingAgeMax), 0x7FFF,
                                             static_cast<std::int16_t>(wp.school_max_age_months + 12),
                                             static_cast<std::int16_t>(wp.milk_max_age_months + 12)};
  const int old_age = wp.pension_min_age_months;
  // Each household's block of the month (domain "livelihood.income", counted by month and household).
  const rng::FirstBlocks blocks(ctx.seed, kIncomeDomain, static_cast<std::uint64_t>(month));
  using namespace income_draw;

  // One household (V = float) or kLanes households (V = lanes::vf) from household i: the draws, the remittance
  // process, member counts and masks household by household, then the income formula (economy_income,
  // models/livelihood_rules.hpp) in lanes, the same bits either way. `welfare` is economy.welfare.enabled.
  const auto step = [&](std::uint32_t i, auto kind, auto welfare_on) {
    constexpr bool welfare = decltype(welfare_on)::value;
    using V = decltype(kind);
    using T = lanes::Traits<V>;
    using M = typename T::Mask;
    constexpr int n = T::width;
    float farm_s[n], offfarm_s[n], adults_s[n], labour_s[n], remit_s[n], due_s[n];
    unsigned present = 0;
    // The district's values (its climate shock, crop prices and market), once for the lanes when their
    // households share a district (households are sorted by district: almost always), else lane by lane.
    V keep_v, pt_v, pc_v, market_v;
    if (rows::one_district<n>(district, i)) {
      const std::uint32_t d = district[i];
      district_draws(d);
      keep_v = V{} + crop_keep;
      pt_v = V{} + price_traditional;
      pc_v = V{} + price_commercial;
      market_v = V{} + market[d];
    } else {
      float keep_s[n], market_s[n], pt_s[n], pc_s[n];
      for (int j = 0; j < n; ++j) {
        const std::uint32_t d = district[i + static_cast<std::uint32_t>(j)];
        district_draws(d);
        keep_s[j] = crop_keep;
        pt_s[j] = price_traditional;
        pc_s[j] = price_commercial;
        market_s[j] = market[d];
      }
      keep_v = T::load(keep_s);
      pt_v = T::load(pt_s);
      pc_v = T::load(pc_s);
      market_v = T::load(market_s);
    }
    // The household-level inputs in lanes: household by household for the one-household tail (as the rule reads
    // them), four households at a time otherwise (their flags and technology rows loaded together).
    V adults_v, labour_v, school_v{}, milk_v{}, remit_v{}, receiving_v{}, pension_v{}, due_v;
    M business_m, adopted_m, asset_m;
    if constexpr (n == 1) {
      const std::uint32_t hh = i;
      const auto block_bits = blocks(hh);
      const std::uint64_t w0 = block_bits.v[0];
      farm_s[0] = farm_shock[w0 >> kFarmShift];
      offfarm_s[0] = offfarm_shock[(w0 >> kOffFarmShift) & kMask];
      const std::int16_t* a = age + static_cast<std::size_t>(hh) * kMaxMembers;
      int adults = 0, elders = 0;
      if constexpr (welfare) {
        const std::array<int, 4> counts = rows::members_aged4(a, count_lo, count_hi);
        adults = counts[0];
        elders = counts[1];
        labour_v = labour_factor[static_cast<std::size_t>(counts[0] * (kMaxMembers + 1) + counts[1])];
        school_v = static_cast<float>(counts[2]);
        milk_v = static_cast<float>(counts[3]);
      } else {
        adults = working_age_members(a);
        labour_v = 1.0f;
      }
      adults_v = static_cast<float>(adults);
      business_m = business[hh] != 0 ? ~0u : 0u;
      const unsigned on = rows::tech_mask(state + static_cast<std::size_t>(hh) * kTechCount, kAdopted);
      adopted_m = on;
      due_v = due_table[on];
      asset_m = ~rows::tech_mask(asset + static_cast<std::size_t>(hh) * kTechCount, 0) & 0x3FFu;
      present = on;
      if constexpr (welfare) {
        // The remittance process (its start or stop from word 1, its shock from word 0) and Pension 65, without
        // branches on the household's state.
        const double u = rng::uniform53(block_bits.v[1] >> 11);
        const bool migrant = left != nullptr && left[hh] != migrants[hh];
        if (migrant) migrants[hh] = left[hh];
        const bool receives = remittance_state(rk, receiving[hh], level[hh], u,
                                               normal[(w0 >> kRemittanceShift) & kMask], migrant);
        remit_v = receives ? remittance_base[hh] * std::exp(level[hh] - rk.half_variance) : 0.0f;
        receiving_v = receives ? 1.0f : 0.0f;
        if (pensions) {
          // Members of pension age (the 65+ count above when the pension's age is 65), where paid.
          const int members = old_age == kWorkingAgeMax ? elders : rows::members_aged(a, old_age, 0x7FFF);
          const int paid = static_cast<int>(classified[hh] != 0) & static_cast<int>(take_up[hh] != 0);
          pension_v = static_cast<float>(members * paid);
        }
      }
    } else {
      std::uint64_t draw_s[n];  // word 1's top 53 bits: the remittances' start or stop
      float z_s[n];             // the remittance level's shock
      std::array<int, 4> counts_s[n];
#pragma GCC unroll 4
      for (int j = 0; j < n; ++j) {
        const std::uint32_t hh = i + static_cast<std::uint32_t>(j);
        const auto block_bits = blocks(hh);
        const std::uint64_t w0 = block_bits.v[0];
        farm_s[j] = farm_shock[w0 >> kFarmShift];
        offfarm_s[j] = offfarm_shock[(w0 >> kOffFarmShift) & kMask];
        const std::int16_t* a = age + static_cast<std::size_t>(hh) * kMaxMembers;
        if constexpr (welfare) {
          counts_s[j] = rows::members_aged4(a, count_lo, count_hi);
          z_s[j] = normal[(w0 >> kRemittanceShift) & kMask];
          draw_s[j] = block_bits.v[1] >> 11;
        } else {
          adults_s[j] = static_cast<float>(working_age_members(a));
        }
      }
      // The four households' technology rows at once: adopted, and with a programme asset (not state 0).
      const std::uint64_t on4 = rows::tech_masks4(state + static_cast<std::size_t>(i) * kTechCount, kAdopted);
      const std::uint64_t no_asset4 = rows::tech_masks4(asset + static_cast<std::size_t>(i) * kTechCount, 0);
      for (int j = 0; j < n; ++j) due_s[j] = due_table[rows::tech_mask_of(on4, j)];
      present = rows::tech_mask_of(on4, 0) | rows::tech_mask_of(on4, 1) | rows::tech_mask_of(on4, 2) |
                rows::tech_mask_of(on4, 3);
      adopted_m = rows::tech_mask_lanes(on4);
      asset_m = ~rows::tech_mask_lanes(no_asset4) & 0x3FF;
      business_m = lanes::flags4(business + i);
      due_v = T::load(due_s);
      if constexpr (welfare) {
        const M adults_i{counts_s[0][0], counts_s[1][0], counts_s[2][0], counts_s[3][0]};
        const M elders_i{counts_s[0][1], counts_s[1][1], counts_s[2][1], counts_s[3][1]};
        const M school_i{counts_s[0][2], counts_s[1][2], counts_s[2][2], counts_s[3][2]};
        const M milk_i{counts_s[0][3], counts_s[1][3], counts_s[2][3], counts_s[3][3]};
        adults_v = __builtin_convertvector(adults_i, V);
        school_v = __builtin_convertvector(school_i, V);
        milk_v = __builtin_convertvector(milk_i, V);
        const M at = adults_i * (kMaxMembers + 1) + elders_i;
        for (int j = 0; j < n; ++j) labour_s[j] = labour_factor[static_cast<std::size_t>(at[j])];
        labour_v = T::load(labour_s);
        // The remittance process in lanes (remittance_lanes): whether the month's draw stops or starts each
        // household's remittances is chosen by its state, then compared as an integer (draw_threshold).
        std::int32_t event_s[n];
        for (int j = 0; j < n; ++j) {
          const std::uint32_t hh = i + static_cast<std::uint32_t>(j);
          const bool migrant = left != nullptr && left[hh] != migrants[hh];
          const std::uint64_t below =
              receiving[hh] != 0 ? rk.stop_below : (migrant ? rk.start_migrant_below : rk.start_below);
          event_s[j] = draw_s[j] < below ? -1 : 0;
        }
        if (left != nullptr) std::memcpy(migrants + i, left + i, n);  // the departures seen so far
        V lv = T::load(level + i);
        const M now = remittance_lanes(rk, lanes::flags4(receiving + i), T::load_mask(event_s), lv, T::load(z_s));
        lanes::store(level + i, lv);
        lanes::store_flags4(receiving + i, now);
        receiving_v = lanes::keep(now, 1.0f);
        // base * exp(level - v/2) where it receives, 0 elsewhere (exp for every household measured 35
        // instructions a household-month more and no faster).
        for (int j = 0; j < n; ++j)
          remit_s[j] = now[j] != 0 ? remittance_base[i + static_cast<std::uint32_t>(j)] * std::exp(lv[j] - rk.half_variance)
                                   : 0.0f;
        remit_v = T::load(remit_s);
        if (pensions) {
          // Members of pension age (the 65+ count above when the pension's age is 65), where paid.
          M members = elders_i;
          if (old_age != kWorkingAgeMax)
            for (int j = 0; j < n; ++j)
              members[j] = rows::members_aged(
                  age + static_cast<std::size_t>(i + static_cast<std::uint32_t>(j)) * kMaxMembers, old_age, 0x7FFF);
          pension_v = __builtin_convertvector(members & (lanes::flags4(classified + i) & lanes::flags4(take_up + i)), V);
        }
      } else {
        adults_v = T::load(adults_s);
        labour_v = V{} + 1.0f;
      }
    }

    const auto load = [i](const float* column) { return T::load(column + i); };
    const HouseholdInputs<V, M> in{load(crop_pot),      econ.persistence ? V{} : load(animal_pot),
                                   load(rf_land),       load(rf),
                                   load(capacity),      load(locus),
                                   market_v,            load(fls),
                                   adults_v,            load(pasture),
                                   load(financed),
                                   V{},  // programme time: with the welfare channel it scales wage work below
                                   business_m,
                                   adopted_m, asset_m,
                                   present};
    const Shocks<V> e{T::load(farm_s), T::load(offfarm_s), keep_v};
    const EconomyInputs<V> x{load(juntos),
                             load(hw_profit),
                             econ.graduation ? load(burden) : V{},
                             econ.persistence ? load(sales) : V{},
                             econ.persistence ? load(products) : V{},
                             econ.persistence ? load(eaten) : V{},
                             labour_v,
                             econ.risk ? load(orientation) : V{},
                             pt_v,
                             pc_v,
                             remit_v,
                             receiving_v,
                             load(perm),
                             pension_v,
                             school_v,
                             milk_v,
                             welfare ? load(rent) : V{}};
    const EconomyIncome<V> y = economy_income_of(k, c, in, e, x, due_v);
    lanes::store(crops + i, y.crops);
    lanes::store(animals + i, y.animals);
    lanes::store(wage + i, y.wage);
    lanes::store(business_income + i, y.business);
    lanes::store(transfers + i, y.transfers);
    lanes::store(monetary + i, y.monetary);
    lanes::store(own + i, y.own);
    lanes::store(shock_loss + i, 1.0f - e.crop_keep);
    lanes::store(remittance + i, y.remittances);
    lanes::store(pension + i, y.pension);
    lanes::store(in_kind + i, y.in_kind);
    if (econ.persistence) {
      // Each adopted technology's profit (+0.0 for the others of profit_techs), in lanes like the income formula.
      using lanes::max_of;
      const V wage_f = max_of(0.0f, 1.0f + k.wage_slope * (in.market - 0.5f));
      const V offfarm_potential = k.wage_month * in.adults * max_of(0.0f, 1.0f - in.farm_labour_share) * wage_f;
      float* rows = tech_profit + static_cast<std::size_t>(i) * kTechCount;
      std::array<V, kTechCount> profits;
      tech_profits_of(k, c.upkeep, in, e, pt_v, offfarm_potential, profit_techs,
                      [&](int t, V profit) { profits[static_cast<std::size_t>(t)] = profit; });
      // Technologies 0-3 and 6-9 (all but the herds' two with persistence) as two transposed stores of four
      // columns; any other technology in profit_techs lane by lane.
      unsigned rest = profit_techs;
      for (const int t0 : {0, 6}) {
        if (((profit_techs >> t0) & 0xFu) != 0xFu) continue;
        lanes::store_columns4(rows + t0, kTechCount,
                              {profits[t0], profits[t0 + 1], profits[t0 + 2], profits[t0 + 3]});
        rest &= ~(0xFu << t0);
      }
      for (; rest != 0; rest &= rest - 1) {
        const int t = __builtin_ctz(rest);
        for (int j = 0; j < n; ++j) rows[j * kTechCount + t] = lanes::lane(profits[static_cast<std::size_t>(t)], j);
      }
    }
  };
  const auto run = [&](auto welfare_on) {
    std::uint32_t i = block.household_begin;
    for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{}, welfare_on);
    for (; i < block.household_end; ++i) step(i, 0.0f, welfare_on);  // the last few households of the block
  };
  if (econ.welfare) {
    run(std::true_type{});
  } else {
    run(std::false_type{});
  }
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
          const unsigned present = rows::budget_lanes<n>(state, size, i, sizes, masks);
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
    const bool regional = economy_.welfare;
    const float line = static_cast<float>(p.poverty_line(ctx.year()));
    const float extreme_line =
        static_cast<float>(regional ? p.welfare.extreme_poverty_line_pen : p.extreme_poverty_line);
    const int slot = ctx.month_of_year() - 1;
    // With the welfare channel, each household's line is its region's, constant in real terms.
    const auto* district = h.get(col::district);
    const auto* region = world.districts.get(col::district_region);
    const auto highlands = static_cast<float>(p.welfare.poverty_line_highlands_pen);
    const auto amazon = static_cast<float>(p.welfare.poverty_line_amazon_pen);
    constexpr auto kAmazon = static_cast<std::uint8_t>(Region::amazon);
    // One household (V = float) or kLanes households (V = lanes::vf) from household i, the same bits
    // either way (models/lanes.hpp).
    const auto step = [&](std::uint32_t i, auto kind) {
      using V = decltype(kind);
      using T = lanes::Traits<V>;
      constexpr int n = T::width;
      const V persons = lanes::persons(size + i, V{});
      float* rows = history + static_cast<std::size_t>(i) * 12;
      const V now = T::load(consumption + i) / persons;
      for (int j = 0; j < n; ++j) rows[12 * j + slot] = lanes::lane(now, j);
      const auto months = lanes::columns12(rows, V{});
      V total{};
      for (int m = 0; m < 12; ++m) total += months[m];
      const V c = total * (1.0f / 12.0f);
      V line_v = V{} + line;
      if (regional && models::rows::one_district<n>(district, i)) {
        line_v = V{} + (region[district[i]] == kAmazon ? amazon : highlands);
      } else if (regional) {
        float lines[n];
        for (int j = 0; j < n; ++j) lines[j] = region[district[i + j]] == kAmazon ? amazon : highlands;
        line_v = T::load(lines);
      }
      const auto is_poor = c < line_v, is_extreme = c < extreme_line;
      lanes::store(pc12 + i, c);
      lanes::store(gap + i, lanes::select(is_poor, (line_v - c) / line_v, V{}));
      if constexpr (n == 1) {
        poor[i] = is_poor;
        extreme[i] = is_extreme;
      } else {
        lanes::store_flags4(poor + i, is_poor);
        lanes::store_flags4(extreme + i, is_extreme);
      }
    };
    std::uint32_t i = block.household_begin;
    for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{});
    for (; i < block.household_end; ++i) step(i, 0.0f);  // the last few households of the block
  });
}

}  // namespace chacra::models
