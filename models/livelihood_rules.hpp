// The livelihood module's economic rules as plain code, one household at a time: income by source
// (income_by_source), the income of the household economy's channels (economy_income: real transfers,
// remittances, Pension 65, in-kind items, programme time, herds, the commercial crop line), the buffer-stock
// consumption and saving rule (consume), each beside the fast driver that the phases run on several households at
// once in float lanes (income_of, economy_income_of, consumption_of; models/lanes.hpp); and the remittance
// process (remittance_step, which the phase runs as remittance_state without branches) and technology profits
// (tech_profits, run in lanes by tech_profits_of). A test checks that each driver gives the plain rule's bits on random inputs, so the rule
// an economist audits is the one the model runs. Formulas: models/livelihood.hpp.
#pragma once

#include "models/lanes.hpp"
#include "models/livelihood.hpp"
#include "models/shared_state.hpp"
#include "sim/rng.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace chacra::models {

// The month's income constants, in float, derived from the parameters and the month of the year.
struct IncomeConstants {
  std::array<float, kTechCount> r_month{}, labour{}, upkeep{};
  // Shares of a technology's output by destination, with the month's seasonal weight.
  std::array<float, kTechCount> crop_sold_coef{}, animal_sold_coef{}, own_crop_coef{}, own_animal_coef{},
      own_home_coef{};
  float hw = 1, ow = 1, programme_return = 1;
  float crop_sold = 0, animal_sold = 0, pasture_scale = 0;
  float wage_month = 0, max_shift = 0, business_profit = 0, locus_return = 0;
  float price_slope = 0, wage_slope = 0, animal_cov = 0, finance_dep = 0;
  // Technologies with a return or a labour share. The others (by default the stove, safe water and the
  // waste pit) add exactly +0.0 to every income sum even when adopted, so income skips them.
  unsigned earning = 0;

  IncomeConstants(const LivelihoodParams& p, int month_of_year) {
    const double prof = Livelihood::kHarvestProfile[static_cast<std::size_t>(month_of_year - 1)];
    hw = static_cast<float>(1.0 + p.harvest_seasonality * (prof - 1.0));
    ow = static_cast<float>(1.0 + p.own_consumption_seasonality * (prof - 1.0));
    for (int t = 0; t < kTechCount; ++t) {
      r_month[t] = static_cast<float>(p.tech[t].return_pen / 12.0);
      labour[t] = static_cast<float>(p.tech[t].labour_share);
      if (r_month[t] != 0.0f || labour[t] != 0.0f) earning |= 1u << t;
      upkeep[t] = static_cast<float>(p.tech[t].upkeep_pen);
      const float sold = static_cast<float>(p.tech[t].sold_share);
      const float season_sold = Livelihood::kHarvest[t] ? hw : 1.0f;
      const float season_own = Livelihood::kHarvest[t] ? ow : 1.0f;
      switch (Livelihood::kSource[t]) {
        case TechSource::crops:
          crop_sold_coef[t] = sold * season_sold;
          own_crop_coef[t] = (1.0f - sold) * season_own;
          break;
        case TechSource::animals:
          animal_sold_coef[t] = sold;
          own_animal_coef[t] = 1.0f - sold;
          break;
        case TechSource::home: own_home_coef[t] = 1.0f; break;
      }
    }
    programme_return = static_cast<float>(p.programme_return_multiplier);
    crop_sold = static_cast<float>(p.crop_sold_share);
    animal_sold = static_cast<float>(p.animal_sold_share);
    pasture_scale = p.pasture_mean_ha > 0 ? static_cast<float>(1.0 / p.pasture_mean_ha) : 0.0f;
    wage_month = static_cast<float>(p.wage_month_pen * p.wage_employment_rate);
    max_shift = static_cast<float>(p.max_labour_shift);
    business_profit = static_cast<float>(p.business_profit_pen);
    locus_return = static_cast<float>(p.locus_return);
    price_slope = static_cast<float>(p.market_price_slope);
    wage_slope = static_cast<float>(p.market_wage_slope);
    animal_cov = static_cast<float>(p.covariate_animal_share);
    finance_dep = static_cast<float>(p.upkeep_return_dependence);
  }
};

// What differs between households (inputs of one month's income): one household (V = float, M = unsigned)
// or kLanes households in lanes (V = lanes::vf, M = lanes::vi; models/lanes.hpp). Both evaluate the same
// operations in the same order, so a household's income is the same bits either way.
template <class V, class M>
struct HouseholdInputs {
  V crop_potential, animal_potential, rf_land, rf, capacity, locus, market, farm_labour_share, adults, pasture_ha,
      financed, programme_time;
  M business;        // non-zero (all ones in lanes) where the household has a non-farm business
  M adopted, asset;  // technology bit masks: adopted; programme asset and training delivered
  unsigned present;  // technologies that some household of the lanes has adopted
};

// Shocks of one month: idiosyncratic multipliers (mean 1) and the share of crop output kept after the
// district's climate shock.
template <class V>
struct Shocks {
  V farm, offfarm, crop_keep;
};

template <class V>
struct Income {
  V crops, animals, wage, business, own;
};

// The fast driver of the income rule: one household (V = float) or lanes::kLanes households (V = lanes::vf)
// at once, skipping the technologies that earn nothing; the same bits as income_by_source. `EveryEarning`:
// visit every technology that earns, whoever adopted it (a non-adopter's terms are +0.0, see below), in an
// unrolled sequence of branches that keep their direction all month, instead of looping over the technologies
// some household of the lanes adopted, whose trip count changes from one group of households to the next (a
// mispredicted exit; with the household economy's channels the loop mispredicted about once per household).
template <bool EveryEarning = false, class V, class M>
[[gnu::always_inline]] inline Income<V> income_of(const IncomeConstants& k, const HouseholdInputs<V, M>& h, const Shocks<V>& e) {
  using lanes::max_of;
  using lanes::min_of;
  using lanes::select;
  Income<V> out;
  const V loc = max_of(0.2f, 1.0f + k.locus_return * h.locus);
  const V price = max_of(0.0f, 1.0f + k.price_slope * (h.market - 0.5f));
  const V wage_f = max_of(0.0f, 1.0f + k.wage_slope * (h.market - 0.5f));
  const V animal_keep = 1.0f - k.animal_cov * (1.0f - e.crop_keep);
  const V farm = loc * e.farm;

  const V crop_out = h.crop_potential * (1.0f / 12.0f) * farm * e.crop_keep;
  out.crops = crop_out * k.crop_sold * price * k.hw;
  out.own = crop_out * (1.0f - k.crop_sold) * k.ow;
  const V animal_out = h.animal_potential * (1.0f / 12.0f) * farm * animal_keep;
  out.animals = animal_out * k.animal_sold * price;
  out.own += animal_out * (1.0f - k.animal_sold);

  const V tech_common = farm * (1.0f - k.finance_dep * (1.0f - h.financed));
  // Only adopted technologies that earn (k.earning), in index order: any other would add +0.0 to every sum
  // (all factors are finite and non-negative and the sums start at +0.0), and multiplying by 1.0f is exact,
  // so skipping those terms and factors gives the same bits as the full product over all ten
  // (docs/performance.md). In lanes, a household that has not adopted t adds +0.0 terms (lanes::keep).
  V labour{}, crop_sold{}, animal_sold{}, own_crop{}, own_animal{}, own_home{};
  const V pasture_ratio = h.pasture_ha * k.pasture_scale;
  const auto term = [&](auto tech) {
    const int t = tech;
    const auto on = lanes::has_bit(h.adopted, t);
    V v = k.r_month[t] * (Livelihood::kLandBased[t] ? h.rf_land : h.rf);
    if (t == tech_index(Tech::cultivated_pasture)) v *= pasture_ratio;
    v = lanes::keep(on, select(lanes::has_bit(h.asset, t), v * k.programme_return, v));
    labour += lanes::keep(on, k.labour[t]);
    // A technology's output goes to one source (IncomeConstants): its other four coefficients are +0.0, and
    // v * +0.0 added to a sum that starts at +0.0 changes no bit (v is finite), so the unrolled sequence, where
    // t is a constant, skips those terms.
    const TechSource source = Livelihood::kSource[t];
    if (!EveryEarning || source == TechSource::crops) crop_sold += v * k.crop_sold_coef[t];
    if (!EveryEarning || source == TechSource::animals) animal_sold += v * k.animal_sold_coef[t];
    if (!EveryEarning || source == TechSource::crops) own_crop += v * k.own_crop_coef[t];
    if (!EveryEarning || source == TechSource::animals) own_animal += v * k.own_animal_coef[t];
    if (!EveryEarning || source == TechSource::home) own_home += v * k.own_home_coef[t];
  };
  if constexpr (EveryEarning) {
    lanes::for_each_bit<kTechCount>(k.earning, term);
  } else {
    for (unsigned present = h.present & k.earning; present != 0; present &= present - 1) term(__builtin_ctz(present));
  }
  out.crops += crop_sold * tech_common * e.crop_keep * price;
  out.animals += animal_sold * tech_common * animal_keep * price;
  out.own += (own_crop * e.crop_keep + own_animal * animal_keep + own_home) * tech_common;
  out.wage = k.wage_month * h.adults * max_of(0.0f, 1.0f - h.farm_labour_share - h.programme_time) * wage_f *
             (1.0f - min_of(k.max_shift, labour)) * e.offfarm;
  out.business = select(h.business != 0, k.business_profit * h.capacity * loc * price * e.offfarm, V{});
  return out;
}

// ---- Income by source: the plain rule ----

// One household's income inputs in a month (technology masks: bit t for technology t).
struct HouseholdIncome {
  float crop_potential = 0, animal_potential = 0;  // annual values, fixed at setup
  float return_factor_land = 1, return_factor = 1;  // heterogeneity of technology returns
  float capacity = 1, locus = 0;
  float market = 0.5f;  // the district's market dynamism
  float farm_labour_share = 0, adults = 0;  // adults: members aged 15-64
  float pasture_ha = 0;
  float financed = 1;   // share of last month's upkeep that cash financed
  float programme_time = 0;  // share of adult time taken by programme duties (time_burden; graduation channel)
  bool business = false;  // runs a baseline non-farm business
  unsigned adopted = 0, asset = 0;  // technologies adopted; with a programme asset
};

// Monthly income by source (PEN): the formulas of models/livelihood.hpp, in float, term by term.
inline Income<float> income_by_source(const IncomeConstants& k, const HouseholdIncome& h, const Shocks<float>& e) {
  Income<float> out;
  // Locus of control, prices and wages of the district, and the climate shock's share kept for animals.
  const float locus = std::max(0.2f, 1.0f + k.locus_return * h.locus);
  const float price = std::max(0.0f, 1.0f + k.price_slope * (h.market - 0.5f));
  const float wage_factor = std::max(0.0f, 1.0f + k.wage_slope * (h.market - 0.5f));
  const float animal_keep = 1.0f - k.animal_cov * (1.0f - e.crop_keep);
  const float farm = locus * e.farm;

  // Own crops and animals: sold at the month's price, the rest eaten at home.
  const float crop_output = h.crop_potential * (1.0f / 12.0f) * farm * e.crop_keep;
  out.crops = crop_output * k.crop_sold * price * k.hw;
  out.own = crop_output * (1.0f - k.crop_sold) * k.ow;
  const float animal_output = h.animal_potential * (1.0f / 12.0f) * farm * animal_keep;
  out.animals = animal_output * k.animal_sold * price;
  out.own += animal_output * (1.0f - k.animal_sold);

  // Adopted technologies: a return scaled by the household's heterogeneity factor (and pasture area), higher
  // with a programme asset, split between sales and home consumption; each absorbs some off-farm time.
  float labour = 0.0f, crop_sold = 0.0f, animal_sold = 0.0f, own_crop = 0.0f, own_animal = 0.0f, own_home = 0.0f;
  for (int t = 0; t < kTechCount; ++t) {
    if (((h.adopted >> t) & 1u) == 0) continue;
    float value = k.r_month[t] * (Livelihood::kLandBased[t] ? h.return_factor_land : h.return_factor);
    if (t == tech_index(Tech::cultivated_pasture)) value *= h.pasture_ha * k.pasture_scale;
    if (((h.asset >> t) & 1u) != 0) value = value * k.programme_return;
    labour += k.labour[t];
    crop_sold += value * k.crop_sold_coef[t];
    animal_sold += value * k.animal_sold_coef[t];
    own_crop += value * k.own_crop_coef[t];
    own_animal += value * k.own_animal_coef[t];
    own_home += value * k.own_home_coef[t];
  }
  // Returns fall with the share of last month's upkeep that cash could not pay.
  const float tech_common = farm * (1.0f - k.finance_dep * (1.0f - h.financed));
  out.crops += crop_sold * tech_common * e.crop_keep * price;
  out.animals += animal_sold * tech_common * animal_keep * price;
  out.own += (own_crop * e.crop_keep + own_animal * animal_keep + own_home) * tech_common;

  // Wage work off the farm, less the time programme duties take (first from off-farm work) and the time
  // technologies absorb; a baseline non-farm business.
  out.wage = k.wage_month * h.adults * std::max(0.0f, 1.0f - h.farm_labour_share - h.programme_time) * wage_factor *
             (1.0f - std::min(k.max_shift, labour)) * e.offfarm;
  out.business = h.business ? k.business_profit * h.capacity * locus * price * e.offfarm : 0.0f;
  return out;
}

// ---- The household economy's income (models/livelihood.hpp, "Welfare from the household's own economy") ----

// The month's constants of the channels' income terms, in float.
struct EconomyIncomeConstants {
  std::array<float, kTechCount> upkeep{};  // monthly upkeep of each technology
  float deflate = 1.0f;       // real value of a nominal sol of the Juntos transfer (1 / P(t), or 1 if indexed)
  float pension_each = 0.0f;  // Pension 65 per eligible member this month (0 outside the payment months)
  float school_each = 0.0f;   // school meals per child of school age this month (0 in January and February)
  float milk_each = 0.0f;     // Vaso de Leche per young child
  float insurance = 0.0f;     // share of the income shortfall that remittances replace
  bool time = false;          // economy.graduation.enabled: programme time is taken from off-farm work
  bool herds = false;         // economy.persistence.enabled: animal income from the herds' flows
  bool commercial = false;    // economy.risk.enabled: the commercial crop line and price shocks
  float premium = 0.0f;       // extra value of the commercial line per unit of output shifted
  float commercial_sold = 0.0f;
};

// What the channels add to one household's month (V = float for one household, lanes::vf for several).
template <class V>
struct EconomyInputs {
  V juntos;           // Juntos transfer paid this month, nominal (juntos_transfer_pen)
  V hw_profit;        // the household's share of an HW business's profit
  V burden;           // share of adult time taken by programme duties
  V sales, products, livestock_own;  // the herds' flows (livestock.step)
  V labour;           // farm output factor of the household's labour (1 without the welfare channel)
  V orientation;      // share of crop output in the commercial line
  V price_traditional, price_commercial;  // the district-month price shock's factors (mean 1)
  V remittance;       // remittances before the insurance response (0 if the household does not receive)
  V receiving;        // 1 if the household receives remittances, else 0
  V permanent;        // last month's permanent income
  V pension_members;  // members who receive Pension 65 this month (0 if none)
  V school_children, milk_children;
  V rent;             // imputed rent of the dwelling
};

template <class V>
struct EconomyIncome {
  V crops, animals, wage, business, transfers, remittances, pension, monetary, own, in_kind;
};

// One household's month of income with the channels (the plain rule): income by source on the traditional share
// of crop output (the household inputs' crop potential is the whole), then each channel's terms.
inline EconomyIncome<float> economy_income(const IncomeConstants& k, const EconomyIncomeConstants& c,
                                           HouseholdIncome h, const Shocks<float>& e, const EconomyInputs<float>& x) {
  const float crop_potential = h.crop_potential * x.labour;
  h.crop_potential = c.commercial ? crop_potential * (1.0f - x.orientation) : crop_potential;
  h.animal_potential = h.animal_potential * x.labour;
  const Income<float> y = income_by_source(k, h, e);
  EconomyIncome<float> out;
  out.crops = y.crops;
  out.own = y.own;
  if (c.commercial) {
    // The commercial line: more value per unit of output, mostly sold, at a riskier price.
    const float locus = std::max(0.2f, 1.0f + k.locus_return * h.locus);
    const float price = std::max(0.0f, 1.0f + k.price_slope * (h.market - 0.5f));
    const float output = crop_potential * (1.0f / 12.0f) * (locus * e.farm) * e.crop_keep * x.orientation *
                         (1.0f + c.premium);
    out.crops = out.crops * x.price_traditional + output * c.commercial_sold * price * k.hw * x.price_commercial;
    out.own = out.own + output * (1.0f - c.commercial_sold) * k.ow;
  }
  // Programme duties take time from off-farm work first.
  out.wage = c.time ? y.wage * (1.0f - std::min(1.0f, x.burden)) : y.wage;
  // The herds' sales and products replace the flat animal income (whose potential is then zero).
  out.animals = c.herds ? y.animals + (x.sales + x.products) : y.animals;
  if (c.herds) out.own = out.own + x.livestock_own;
  out.business = y.business + x.hw_profit;
  out.transfers = x.juntos * c.deflate;
  out.pension = c.pension_each * x.pension_members;
  const float other = out.crops + out.animals + out.wage + out.business + out.transfers + out.pension;
  // Relatives send more when current income falls short of permanent income (insurance).
  float due = 0.0f;
  for (int t = 0; t < kTechCount; ++t)
    if (((h.adopted >> t) & 1u) != 0) due += c.upkeep[t];
  const float shortfall = std::max(0.0f, x.permanent - (other + x.remittance - due));
  out.remittances = x.remittance + x.receiving * (c.insurance * shortfall);
  out.monetary = other + out.remittances;
  out.in_kind = x.rent + c.school_each * x.school_children + c.milk_each * x.milk_children;
  return out;
}

// The fast driver of economy_income: one household (V = float) or lanes::kLanes households (V = lanes::vf), the
// same operations in the same order, so the same bits. Always inlined: called out of line it passes its inputs
// through memory (a measured 5% of the whole model with the welfare channel on). `due`: each household's upkeep
// of its adopted technologies as economy_income sums it (in ascending t from +0.0: upkeep_due_table of c.upkeep,
// models/finance_rules.hpp, looked up by the phase from the household's mask).
template <class V, class M>
[[gnu::always_inline]] inline EconomyIncome<V> economy_income_of(const IncomeConstants& k, const EconomyIncomeConstants& c,
                                          HouseholdInputs<V, M> h, const Shocks<V>& e, const EconomyInputs<V>& x,
                                          V due) {
  using lanes::max_of;
  using lanes::min_of;
  const V crop_potential = h.crop_potential * x.labour;
  h.crop_potential = c.commercial ? crop_potential * (1.0f - x.orientation) : crop_potential;
  h.animal_potential = h.animal_potential * x.labour;
  const Income<V> y = income_of<true>(k, h, e);
  EconomyIncome<V> out;
  out.crops = y.crops;
  out.own = y.own;
  if (c.commercial) {
    const V locus = max_of(0.2f, 1.0f + k.locus_return * h.locus);
    const V price = max_of(0.0f, 1.0f + k.price_slope * (h.market - 0.5f));
    const V output = crop_potential * (1.0f / 12.0f) * (locus * e.farm) * e.crop_keep * x.orientation *
                     (1.0f + c.premium);
    out.crops = out.crops * x.price_traditional + output * c.commercial_sold * price * k.hw * x.price_commercial;
    out.own = out.own + output * (1.0f - c.commercial_sold) * k.ow;
  }
  out.wage = c.time ? y.wage * (1.0f - min_of(1.0f, x.burden)) : y.wage;
  out.animals = c.herds ? y.animals + (x.sales + x.products) : y.animals;
  if (c.herds) out.own = out.own + x.livestock_own;
  out.business = y.business + x.hw_profit;
  out.transfers = x.juntos * c.deflate;
  out.pension = c.pension_each * x.pension_members;
  const V other = out.crops + out.animals + out.wage + out.business + out.transfers + out.pension;
  const V shortfall = max_of(0.0f, x.permanent - (other + x.remittance - due));
  out.remittances = x.remittance + x.receiving * (c.insurance * shortfall);
  out.monetary = other + out.remittances;
  out.in_kind = x.rent + c.school_each * x.school_children + c.milk_each * x.milk_children;
  return out;
}

// ---- Remittances ----

// The draw index b (the top 53 bits of a 64-bit word) below which the uniform u = (b + 0.5) 2^-53 that the phase
// makes of it (rng::uniform53) is below p: u < p exactly when b < draw_threshold(p). u is non-decreasing in b
// (b + 0.5 rounds to even above 2^52), so the threshold is the first b whose u reaches p, found by bisection;
// 2^53 where no b's does.
inline std::uint64_t draw_threshold(double p) {
  if (!(rng::uniform53(0) < p)) return 0;  // also p NaN: u < NaN never holds
  // uniform53(lo) < p; hi: the first b with uniform53(b) >= p, or 2^53.
  std::uint64_t lo = 0, hi = std::uint64_t{1} << 53;
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (rng::uniform53(mid) < p ? lo : hi) = mid;
  }
  return hi;
}

struct RemittanceConstants {
  float persistence = 0.9f;   // rho of the log level's AR(1)
  float shock_sd = 0.3f;      // sigma of its monthly shock
  float stationary_sd = 0.0f;  // sigma / sqrt(1 - rho^2): where a new episode starts
  float half_variance = 0.0f;  // stationary_sd^2 / 2, so that the level's mean is the household's base
  double stop = 0.01;          // hazard a month of stopping while receiving
  double start = 0.0;          // hazard a month of starting while not
  double start_migrant = 0.0;  // probability of starting in a month when a member leaves the household
  RemittanceConstants() = default;
  RemittanceConstants(double rho, double sigma, double stop_hazard, double start_hazard, double migrant_share)
      : persistence(static_cast<float>(rho)), shock_sd(static_cast<float>(sigma)),
        stationary_sd(static_cast<float>(rho < 1.0 ? sigma / std::sqrt(1.0 - rho * rho) : 0.0)),
        half_variance(static_cast<float>(rho < 1.0 ? 0.5 * sigma * sigma / (1.0 - rho * rho) : 0.0)),
        stop(stop_hazard), start(start_hazard), start_migrant(1.0 - (1.0 - start_hazard) * (1.0 - migrant_share)),
        stop_below(draw_threshold(stop)), start_below(draw_threshold(start)),
        start_migrant_below(draw_threshold(start_migrant)) {}
  // The hazards as thresholds of the draw index (draw_threshold): u < stop exactly when b < stop_below, etc.
  std::uint64_t stop_below = draw_threshold(0.01), start_below = 0, start_migrant_below = 0;
};

// One month of a household's remittance process (before the insurance response): `u` uniform on (0, 1) decides
// whether it starts (more likely in a month when a member left, `migrant`) or stops receiving, `z` standard normal
// is the shock of its log level `level` (a new episode starts at a draw of the stationary distribution). Returns
// the month's remittances, base * exp(level - v/2) while it receives (mean: base), else 0; updates `receiving`
// and `level`.
inline float remittance_step(const RemittanceConstants& k, std::uint8_t& receiving, float& level, float base, double u,
                             float z, bool migrant) {
  if (receiving != 0) {
    if (u < k.stop) {
      receiving = 0;
      level = 0.0f;
      return 0.0f;
    }
    level = k.persistence * level + k.shock_sd * z;
  } else {
    if (!(u < (migrant ? k.start_migrant : k.start))) return 0.0f;
    receiving = 1;
    level = k.stationary_sd * z;
  }
  return base * std::exp(level - k.half_variance);
}

// The phase's form of remittance_step: the month of the receiving state and the log level (as remittance_step
// updates them) as selects, without a branch on the household's state (which mispredicted about a third of the
// time); returns whether the household receives this month. The remittances are then base * exp(level - v/2)
// where it receives and 0 elsewhere (test WelfareRules.RemittanceStateMatchesTheStep).
inline bool remittance_state(const RemittanceConstants& k, std::uint8_t& receiving, float& level, double u, float z,
                             bool migrant) {
  const bool was = receiving != 0;
  const bool stop = u < k.stop;
  const bool start = u < (migrant ? k.start_migrant : k.start);
  const float continued = k.persistence * level + k.shock_sd * z;
  const float fresh = k.stationary_sd * z;
  const float stay = was ? continued : level;
  level = (was ? stop : start) ? (was ? 0.0f : fresh) : stay;
  // Receiving after the month: was and did not stop, or was not and started.
  const bool now = was != (was ? stop : start);
  receiving = now ? 1 : 0;
  return now;
}

// remittance_state on lanes::kLanes households at once (the phase's lanes): `was` the receiving state (all ones
// where it receives), `event` all ones where the month's draw stops a receiving household's remittances or starts
// a non-receiving one's (u < stop, or u < the start hazard, migrant or not), `z` the level's shock. Updates `level`
// as remittance_state does, with the same float operations; returns the receiving state after the month.
inline lanes::vi remittance_lanes(const RemittanceConstants& k, lanes::vi was, lanes::vi event, lanes::vf& level,
                                  lanes::vf z) {
  using lanes::select;
  const lanes::vf continued = k.persistence * level + k.shock_sd * z;
  const lanes::vf fresh = k.stationary_sd * z;
  const lanes::vf stay = select(was, continued, level);
  level = select(event, select(was, lanes::vf{}, fresh), stay);
  return was ^ event;
}

// ---- Technology profits ----

// The month's profit of each adopted technology in `which` (bit t), written to out[t] (others left alone): the
// value of its output (sold at the month's price times `price_factor`, eaten at farm-gate value) less its upkeep
// and the off-farm earnings its labour share gives up (`offfarm_potential`: the household's expected off-farm
// earnings this month at full off-farm time).
inline void tech_profits(const IncomeConstants& k, const std::array<float, kTechCount>& upkeep,
                         const HouseholdIncome& h, const Shocks<float>& e, float price_factor, float offfarm_potential,
                         unsigned which, float* out) {
  const float locus = std::max(0.2f, 1.0f + k.locus_return * h.locus);
  const float price = std::max(0.0f, 1.0f + k.price_slope * (h.market - 0.5f)) * price_factor;
  const float animal_keep = 1.0f - k.animal_cov * (1.0f - e.crop_keep);
  const float common = locus * e.farm * (1.0f - k.finance_dep * (1.0f - h.financed));
  for (unsigned set = which & h.adopted; set != 0; set &= set - 1) {
    const int t = __builtin_ctz(set);
    float value = k.r_month[t] * (Livelihood::kLandBased[t] ? h.return_factor_land : h.return_factor);
    if (t == tech_index(Tech::cultivated_pasture)) value *= h.pasture_ha * k.pasture_scale;
    if (((h.asset >> t) & 1u) != 0) value = value * k.programme_return;
    const float sold = value * (k.crop_sold_coef[t] * e.crop_keep + k.animal_sold_coef[t] * animal_keep) * price;
    const float eaten = value * (k.own_crop_coef[t] * e.crop_keep + k.own_animal_coef[t] * animal_keep +
                                 k.own_home_coef[t]);
    out[t] = (sold + eaten) * common - upkeep[t] - k.labour[t] * offfarm_potential;
  }
}

// The phase's driver of tech_profits: one household (V = float) or lanes::kLanes households (V = lanes::vf), for
// every technology in `which` (the same set for every household of a month, so the loop's branches are
// predictable, where a loop over each household's own technologies is not). out(t, profit) receives technology
// t's profit in the lanes whose household has adopted it and +0.0 in the others: the same bits as tech_profits on
// a row that holds +0.0 for every technology in `which`.
template <class V, class M, class Out>
inline void tech_profits_of(const IncomeConstants& k, const std::array<float, kTechCount>& upkeep,
                            const HouseholdInputs<V, M>& h, const Shocks<V>& e, V price_factor, V offfarm_potential,
                            unsigned which, Out&& out) {
  using lanes::max_of;
  const V locus = max_of(0.2f, 1.0f + k.locus_return * h.locus);
  const V price = max_of(0.0f, 1.0f + k.price_slope * (h.market - 0.5f)) * price_factor;
  const V animal_keep = 1.0f - k.animal_cov * (1.0f - e.crop_keep);
  const V common = locus * e.farm * (1.0f - k.finance_dep * (1.0f - h.financed));
  lanes::for_each_bit<kTechCount>(which, [&](auto tech) {
    const int t = tech;
    V value = k.r_month[t] * (Livelihood::kLandBased[t] ? h.rf_land : h.rf);
    if (t == tech_index(Tech::cultivated_pasture)) value *= h.pasture_ha * k.pasture_scale;
    value = lanes::select(lanes::has_bit(h.asset, t), value * k.programme_return, value);
    // The plain rule's sums of a coefficient per source, each term but the technology's own source +0.0 (all
    // coefficients and shares kept are finite and >= 0): the same bits as the own source's term alone.
    constexpr TechSource source = Livelihood::kSource[decltype(tech)::value];
    V sold_share{}, eaten_share{};
    if constexpr (source == TechSource::crops) {
      sold_share = k.crop_sold_coef[t] * e.crop_keep;
      eaten_share = k.own_crop_coef[t] * e.crop_keep;
    } else if constexpr (source == TechSource::animals) {
      sold_share = k.animal_sold_coef[t] * animal_keep;
      eaten_share = k.own_animal_coef[t] * animal_keep;
    } else {
      eaten_share = V{} + k.own_home_coef[t];
    }
    const V sold = value * sold_share * price;
    const V eaten = value * eaten_share;
    out(t, lanes::keep(lanes::has_bit(h.adopted, t),
                       (sold + eaten) * common - upkeep[t] - k.labour[t] * offfarm_potential));
  });
}

// ---- Consumption and saving ----

// The month's consumption constants, in float.
struct ConsumptionConstants {
  std::array<float, kTechCount> upkeep{};  // monthly upkeep of each technology
  float weight = 0;      // of this month in permanent income
  float saving = 0;      // saving rate out of permanent income
  float excess = 0;      // share of cash on hand above (below) the buffer spent (cut)
  float buffer = 0;      // target buffer, months of permanent income
  float other_pc = 0;    // other consumption per person
  explicit ConsumptionConstants(const LivelihoodParams& p) {
    for (int t = 0; t < kTechCount; ++t) upkeep[t] = static_cast<float>(p.tech[t].upkeep_pen);
    weight = static_cast<float>(p.permanent_income_weight);
    saving = static_cast<float>(p.saving_rate);
    excess = static_cast<float>(p.excess_consumption_share);
    buffer = static_cast<float>(p.buffer_months);
    other_pc = static_cast<float>(p.other_consumption_pc_pen);
  }
};

// One household's consumption inputs in a month.
struct HouseholdBudget {
  float income = 0;           // monetary income this month (income_monetary_pen)
  float own_production = 0;   // own produce eaten at home
  float permanent_income = 0;  // last month's
  float cash = 0;             // liquid savings at the start of the month
  float saving_boost = 0;     // added to the saving rate (financial education, Juntos coordination)
  float persons = 1;          // household size (at least 1)
  float other_factor = 1;     // household factor of other consumption
  unsigned adopted = 0;       // technologies adopted (bit t)
};

template <class V>
struct Budget {
  V permanent_income, financed_share, upkeep_paid, cash, other_consumption, consumption;
};

// The buffer-stock rule (models/livelihood.hpp): upkeep falls due for the adopted technologies; permanent
// income follows net income; the household spends out of permanent income less its saving, plus a share of
// cash on hand above the target buffer (less below it), within what it has; upkeep is paid from what is
// left, and what it cannot pay lowers next month's technology returns.
inline Budget<float> consume(const ConsumptionConstants& k, const HouseholdBudget& h) {
  float due = 0.0f;
  for (int t = 0; t < kTechCount; ++t)
    if (((h.adopted >> t) & 1u) != 0) due += k.upkeep[t];
  const float permanent = h.permanent_income + k.weight * ((h.income - due) - h.permanent_income);
  const float positive = std::max(0.0f, permanent);
  const float on_hand = std::max(0.0f, h.cash) + h.income;
  const float desired = (1.0f - k.saving - h.saving_boost) * positive + k.excess * (on_hand - due - k.buffer * positive);
  const float spend = std::clamp(desired, 0.0f, on_hand);
  const float left = on_hand - spend;
  const float paid = std::min(due, left);
  const float other = h.persons * k.other_pc * h.other_factor;
  return {permanent, due > 0.0f ? paid / due : 1.0f, paid, std::max(0.0f, left - paid), other,
          spend + h.own_production + other};
}

// The fast driver of the consumption rule, for one household (V = float) or lanes::kLanes households (V =
// lanes::vf): the same operations in the same order, so the same bits as consume. `present`: technologies
// some household of the lanes has adopted; `adopted`: each household's mask.
template <class V, class M>
inline Budget<V> consumption_of(const ConsumptionConstants& k, V income, V own_production, V permanent_income, V cash,
                                V saving_boost, V persons, V other_factor, M adopted, unsigned present) {
  using lanes::max_of;
  // Upkeep of the adopted technologies in index order (the others would add +0.0).
  V due{};
  for (; present != 0; present &= present - 1) {
    const int t = __builtin_ctz(present);
    due += lanes::keep(lanes::has_bit(adopted, t), k.upkeep[t]);  // upkeep is finite, >= 0
  }
  const V pi = permanent_income + k.weight * ((income - due) - permanent_income);
  const V p_pos = max_of(0.0f, pi);
  const V on_hand = max_of(0.0f, cash) + income;
  const V desired = (1.0f - k.saving - saving_boost) * p_pos + k.excess * (on_hand - due - k.buffer * p_pos);
  const V spend = lanes::clamp_of(desired, V{}, on_hand);
  const V left = on_hand - spend;
  const V paid = lanes::min_of(due, left);
  const V other = persons * k.other_pc * other_factor;
  return {pi, lanes::select(due > 0.0f, paid / due, V{} + 1.0f), paid, max_of(0.0f, left - paid), other,
          spend + own_production + other};
}

}  // namespace chacra::models
