// File: study/comparison.cpp
// Policy comparison of the arms of a chacra output file (see study/comparison.hpp; definitions in
// docs/policy_arms.md). Per replicate, the reference arm's household outcomes are read once, one period at
// a time, then each other arm's; every statistic is a replicate draw, and the draws become a mean effect
// and a 95% interval. Everything runs in a fixed order, so the same file always gives the same bits.
#include "study/comparison.hpp"

#include "models/haku_winay.hpp"
#include "models/hw_business.hpp"
#include "models/juntos.hpp"
#include "models/livestock.hpp"
#include "models/local_markets.hpp"
#include "models/shared_state.hpp"
#include "sim/output/csv.hpp"
#include "sim/output/reader.hpp"
#include "sim/output/records.hpp"
#include "sim/runner.hpp"
#include "study/posterior.hpp"
#include "study/stats.hpp"
#include "sim/world.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace chacra::study {

// The model's names the comparison reads (column names, technology and status codes).
namespace col = models::col;
using models::BusinessStatus;
using models::JuntosStatus;
using models::kSpeciesCount;
using models::kSpeciesNames;
using models::kTechNames;
using models::TechState;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<double> kQuantiles = {0.10, 0.25, 0.50, 0.75, 0.90};
const char* const kQuantileNames[] = {"q10", "q25", "q50", "q75", "q90"};

// Panel variables the comparison reads: the names of the model's column declarations (string literals, so
// data() is a C string).
constexpr const char* kIncome = col::income_monetary_pen.name.data();
constexpr const char* kConsumption = col::consumption_pen.name.data();
constexpr const char* kTransfers = col::income_transfers_pen.name.data();
constexpr const char* kPoor = col::poor.name.data();
constexpr const char* kExtremePoor = col::extreme_poor.name.data();
constexpr const char* kGap = col::poverty_gap.name.data();
constexpr const char* kSize = col::household_size.name.data();
constexpr const char* kTech = col::tech_state.name.data();
constexpr const char* kBusiness = col::business_status.name.data();
constexpr const char* kCostJuntos = col::cost_juntos_pen.name.data();
constexpr const char* kCostHw = col::cost_hw_pen.name.data();
constexpr const char* kExitMonth = col::juntos_exit_month.name.data();
constexpr const char* kEnrolled = col::juntos_enrolled.name.data();
constexpr const char* kJuntosStatus = col::juntos_status.name.data();
constexpr const char* kCash = col::cash_pen.name.data();
constexpr const char* kDebt = col::debt_pen.name.data();
constexpr const char* kHerd = col::herd.name.data();
// The local markets' columns (economy.markets.enabled; models/local_markets.hpp).
constexpr const char* kPriceIndex = col::local_price_index.name.data();
constexpr const char* kWageIndex = col::local_wage_index.name.data();
constexpr const char* kLocalPrices = col::local_prices.name.data();
constexpr const char* kRealIncome = col::real_income_pen.name.data();
constexpr const char* kCentre = col::centre.name.data();

// The household-economy channels (economy.<name>.enabled), in the registry's order.
const char* const kChannels[] = {"welfare", "liquidity", "risk", "graduation", "persistence", "poverty_trap", "markets"};

// ---------------------------------------------------------------------------------------------------------
// One panel dataset [P, H] or [P, H, W], read one period at a time as doubles.

class PeriodReader {
 public:
  explicit PeriodReader(output::Dataset d) : d_(std::move(d)) {
    const auto& dims = d_.dims();
    if (dims.size() != 2 && dims.size() != 3)
      throw ComparisonError(d_.path() + ": expected a [periods, households(, width)] dataset");
    periods = dims[0];
    households = dims[1];
    width = dims.size() == 3 ? dims[2] : 1;
    flow = d_.variable().flow();
  }
  // The variable's unit, as the file states it.
  const std::string& unit() const { return d_.variable().unit; }
  // out[i * width + k] for household i and sub-column k.
  void read(std::size_t period, std::vector<double>& out) const { d_.read({period, 0}, {1, households}, out); }
  std::size_t periods = 0, households = 0, width = 1;
  bool flow = false;

 private:
  output::Dataset d_;
};

// ---------------------------------------------------------------------------------------------------------
// What the file says about itself.

struct FileInfo {
  std::vector<std::string> arms, periods;
  int replicates = 0;
  int months_per_period = 12;
  std::string reference;  // run.reference_arm of the scenario ("" if none)
  double discount_rate = 0.05;
  std::vector<std::string> channels, arm_channel_sets;  // see InteractionTable
  std::array<double, kSpeciesCount> herd_price{};       // livestock.<species>.price_pen, PEN per head
  std::string posterior;  // provenance posterior_file of chacra run --posterior, "" without
};

int months_from_labels(const std::vector<std::string>& labels, const std::string& frequency) {
  if (frequency == "monthly") return 1;
  if (frequency == "quarterly") return 3;
  if (frequency == "yearly") return 12;
  if (!labels.empty() && labels.front().find('Q') != std::string::npos) return 3;
  if (!labels.empty() && labels.front().find('-') != std::string::npos) return 1;
  return 12;
}

std::optional<double> number(const std::optional<h5::AttrValue>& v) {
  if (!v) return std::nullopt;
  if (const auto* i = std::get_if<long long>(&*v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&*v)) return *d;
  return std::nullopt;
}

std::string text(const std::optional<h5::AttrValue>& v) {
  const std::string* s = v ? std::get_if<std::string>(&*v) : nullptr;
  return s ? *s : "";
}

FileInfo read_file_info(const output::Reader& in) {
  FileInfo info;
  // Prices of a file whose scenario does not state them: the livestock module's defaults.
  for (std::size_t k = 0; k < kSpeciesCount; ++k) info.herd_price[k] = models::LivestockParams{}.species[k].price_pen;
  info.arms = in.arms();
  info.periods = in.periods();
  const std::string frequency = text(in.provenance("output_frequency"));
  const std::optional<double> replicates = number(in.provenance("replicates"));
  info.posterior = text(in.provenance("posterior_file"));
  try {
    const std::string yaml = in.scenario_yaml();
    if (!yaml.empty()) {
      const YAML::Node root = YAML::Load(yaml);
      if (root["run"] && root["run"]["reference_arm"]) info.reference = root["run"]["reference_arm"].as<std::string>();
      if (root["comparison"] && root["comparison"]["discount_rate"])
        info.discount_rate = root["comparison"]["discount_rate"].as<double>();
      // The channels on in the run: the resolved scenario states every economy.<channel>.enabled; an arm may
      // switch one itself in its `set`.
      const YAML::Node economy = root["economy"];
      for (const char* c : kChannels)
        if (economy && economy[c] && economy[c]["enabled"] && economy[c]["enabled"].as<bool>()) info.channels.push_back(c);
      if (const YAML::Node arms = root["arms"]; arms && arms.IsSequence())
        for (const auto& arm : arms) {
          if (!arm["name"] || !arm["set"] || !arm["set"].IsMap()) continue;
          const std::string name = arm["name"].as<std::string>();
          if (std::find(kInteractionArms.begin(), kInteractionArms.end(), name) == kInteractionArms.end()) continue;
          for (const auto& kv : arm["set"]) {
            const std::string key = kv.first.as<std::string>();
            if (key.rfind("economy.", 0) == 0 && kv.second.IsScalar())
              info.arm_channel_sets.push_back(name + ": " + key + "=" + kv.second.as<std::string>());
          }
        }
      const YAML::Node livestock = root["livestock"];
      for (std::size_t k = 0; k < kSpeciesCount; ++k)
        if (livestock && livestock[kSpeciesNames[k]] && livestock[kSpeciesNames[k]]["price_pen"])
          info.herd_price[k] = livestock[kSpeciesNames[k]]["price_pen"].as<double>();
    }
  } catch (const std::exception&) {
    // An unreadable scenario text leaves the defaults: first arm, 5% a year.
  }
  info.months_per_period = months_from_labels(info.periods, frequency);
  if (replicates && *replicates >= 1) {
    info.replicates = static_cast<int>(*replicates);
  } else {
    // Count the replicates of the first arm.
    while (in.has_unit(info.arms.front(), static_cast<std::uint32_t>(info.replicates))) ++info.replicates;
  }
  return info;
}

// Every arm x replicate unit is present with its panel.
void check_units(const output::Reader& in, const FileInfo& info) {
  if (info.replicates < 1) throw ComparisonError("the file holds no replicate of arm '" + info.arms.front() + "'");
  for (const auto& arm : info.arms)
    for (int r = 0; r < info.replicates; ++r) {
      const auto rr = static_cast<std::uint32_t>(r);
      if (!in.has_unit(arm, rr))
        throw ComparisonError("arm '" + arm + "' replicate " + std::to_string(r) +
                              " is missing (an incomplete or truncated file)");
      if (!in.has_panel(arm, rr))
        throw ComparisonError("the file has no household panel (it was written with output.panel: false); the "
                              "comparison needs it: run again with output.panel: true");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Household outcomes of one arm in one replicate.

// A per-household outcome whose group value is sum(num) / sum(den) over the group's households; for a
// plain mean den is 1 and its vector is left empty (so is everything of a horizon that is not measured, to
// keep memory near what the run itself holds). "fin" is the final output year, "hor" the horizon.
struct HhOutcome {
  std::string name, unit;
  bool has_final = true, has_horizon = true;
  std::vector<double> fin_num, fin_den, hor_num, hor_den;
  // What each period adds to the population sums of hor_num and hor_den (horizon outcomes only), [period].
  std::vector<double> per_num, per_den;
};

struct ArmData {
  std::size_t households = 0, periods = 0;
  std::vector<HhOutcome> outcomes;                     // fixed order (see load_arm)
  std::vector<std::uint8_t> poor_by_period;            // [period * H + i], empty without `poor`
  std::vector<double> exit_month;                      // final period's juntos_exit_month, empty without it
  std::vector<double> cost, cost_juntos, cost_hw;      // undiscounted totals over the horizon
  std::vector<double> disc_cost, disc_income, disc_earned;  // discounted totals
  std::vector<double> size_fin, size_hor;  // household size: last period, mean over periods
  // Assets at the end of the last period (the interaction table's; empty without the panel variable): savings,
  // debt, and the herd valued at the scenario's prices.
  std::vector<double> cash_fin, debt_fin, herd_value_fin;
  bool has_cost = false, has_income = false, has_earned = false, has_size = false;
  // The local markets (only when the file holds their columns): per household, totals over the horizon of
  // monetary income, income deflated by the local price index and programme spending on the household (Juntos
  // transfers received and Haku Winay spending), and horizon means of the price index, wage and food price.
  bool has_markets = false;
  std::vector<double> mk_income, mk_real, mk_injection, mk_cpi, mk_wage, mk_food;
  std::vector<double> centre;  // each household's centre (population table), for the spillovers

  const HhOutcome* find(const std::string& name) const {
    for (const auto& o : outcomes)
      if (o.name == name) return &o;
    return nullptr;
  }
};

struct Layout {
  std::size_t periods = 0;
  int months_per_period = 12;
  std::size_t final_periods = 1;  // periods forming the final output year
  double discount_rate = 0.05;
  std::array<double, kSpeciesCount> herd_price{};  // PEN per head of each species
  double horizon_years() const { return static_cast<double>(periods * static_cast<std::size_t>(months_per_period)) / 12.0; }
  // Discount factor of period p: (1 + r)^-(years from the start of the run to the middle of the period).
  double discount(std::size_t p) const {
    const double t = (static_cast<double>(p) + 0.5) * months_per_period / 12.0;
    return std::pow(1.0 + discount_rate, -t);
  }
};

HhOutcome make_outcome(const std::string& name, const std::string& unit, std::size_t n, bool ratio_final,
                       bool ratio_horizon, bool horizon = true) {
  HhOutcome o;
  o.name = name;
  o.unit = unit;
  o.has_horizon = horizon;
  o.fin_num.assign(n, 0.0);
  if (ratio_final) o.fin_den.assign(n, 0.0);
  if (horizon) o.hor_num.assign(n, 0.0);
  if (horizon && ratio_horizon) o.hor_den.assign(n, 0.0);
  return o;
}

double sum_of(const std::vector<double>& v);

// Reads every period of one arm and replicate and builds the household outcomes. `notes` collects what
// could not be measured (first replicate only, so each note appears once).
ArmData load_arm(const output::Reader& in, const std::string& arm, int replicate, const Layout& L, std::size_t households,
                 const std::vector<double>& static_size, std::vector<std::string>* notes) {
  const auto r = static_cast<std::uint32_t>(replicate);
  const std::size_t n = households, P = L.periods;
  ArmData d;
  d.households = n;
  d.periods = P;
  auto note = [&](const std::string& s) {
    if (notes && std::find(notes->begin(), notes->end(), s) == notes->end()) notes->push_back(s);
  };
  auto open = [&](const char* var) -> std::optional<PeriodReader> {
    if (!in.has_panel_variable(arm, r, var)) return std::nullopt;
    output::Dataset d = in.panel(arm, r, var);
    const std::string path = d.path();
    PeriodReader p(std::move(d));
    if (p.periods != P || p.households != n)
      throw ComparisonError(path + " has shape [" + std::to_string(p.periods) + ", " + std::to_string(p.households) +
                            "], expected [" + std::to_string(P) + ", " + std::to_string(n) + "]");
    return p;
  };
  auto income = open(kIncome), consumption = open(kConsumption), transfers = open(kTransfers), poor = open(kPoor),
       extreme = open(kExtremePoor), gap = open(kGap), size = open(kSize), tech = open(kTech),
       business = open(kBusiness), cost_j = open(kCostJuntos), cost_h = open(kCostHw), exit = open(kExitMonth);
  if (!income) note(std::string("no panel variable ") + kIncome + ": income outcomes, quantiles, Gini and income per PEN skipped");
  if (!consumption) note(std::string("no panel variable ") + kConsumption + ": consumption outcomes skipped");
  if (!poor) note(std::string("no panel variable ") + kPoor + ": poverty headcount, sustained exit and cost per household lifted skipped");
  if (!extreme) note(std::string("no panel variable ") + kExtremePoor + ": extreme poverty skipped");
  if (!gap) note(std::string("no panel variable ") + kGap + ": poverty gap skipped");
  if (!size) note(std::string("no panel variable ") + kSize + ": person weights use the household size at the start");
  if (!tech) note(std::string("no panel variable ") + kTech + ": technology adoption and persistence skipped");
  if (!business) note(std::string("no panel variable ") + kBusiness + ": business survival skipped");
  if (!cost_j && !cost_h)
    note(std::string("no cost variables (") + kCostJuntos + ", " + kCostHw + "): costs and effects per PEN skipped");
  if (!exit) note(std::string("no panel variable ") + kExitMonth + ": sustained exit skipped");
  if (income && !transfers) note(std::string("no panel variable ") + kTransfers + ": earned income skipped");

  const double annualise = 12.0 / (static_cast<double>(P) * L.months_per_period);
  const double inv_p = 1.0 / static_cast<double>(P);
  const std::size_t first_final = P - L.final_periods;
  // Units of the outcomes that are levels of a panel variable come from the variable's own unit in the file:
  // a flow averaged per household and year ("PEN per household per year"), a state per household.
  auto level_unit = [](const PeriodReader& r) {
    return r.unit() + (r.flow ? " per household per year" : " per household");
  };

  // Outcome slots, in the order rows will appear.
  enum Slot { kInc, kEarned, kCons, kPovP, kPovH, kExtP, kExtH, kGapP, kTechCount_, kPersAll, kBiz, kSlotCount };
  std::vector<int> slot(kSlotCount, -1);
  auto add = [&](Slot s, HhOutcome o) {
    slot[s] = static_cast<int>(d.outcomes.size());
    d.outcomes.push_back(std::move(o));
  };
  if (income) add(kInc, make_outcome(kIncome, level_unit(*income), n, false, false));
  if (income && transfers) add(kEarned, make_outcome("earned_income_pen", level_unit(*income), n, false, false));
  if (consumption) add(kCons, make_outcome(kConsumption, level_unit(*consumption), n, false, false));
  if (poor) add(kPovP, make_outcome("poverty_headcount", "share of persons", n, true, true));
  if (poor) add(kPovH, make_outcome("poverty_headcount_households", "share of households", n, false, false));
  if (extreme) add(kExtP, make_outcome("extreme_poverty_headcount", "share of persons", n, true, true));
  if (extreme) add(kExtH, make_outcome("extreme_poverty_headcount_households", "share of households", n, false, false));
  if (gap) add(kGapP, make_outcome("poverty_gap", gap->unit() + " (FGT1, persons)", n, true, true));
  const std::size_t W = tech ? tech->width : 0;
  std::size_t tech_first = 0;
  if (tech) {
    add(kTechCount_, make_outcome("technologies_adopted", "technologies per household", n, false, false));
    add(kPersAll, make_outcome("persistence_all_technologies", "share of ever-adopted household-technologies", n,
                               true, false, false));
    tech_first = d.outcomes.size();
    for (std::size_t k = 0; k < W; ++k) {
      const std::string tname = k < kTechNames.size() ? kTechNames[k] : "tech" + std::to_string(k);
      d.outcomes.push_back(make_outcome("adopted_" + tname, "share of households", n, false, false));
    }
    for (std::size_t k = 0; k < W; ++k) {
      const std::string tname = k < kTechNames.size() ? kTechNames[k] : "tech" + std::to_string(k);
      d.outcomes.push_back(make_outcome("persistence_" + tname, "share of ever-adopters", n, true, false, false));
    }
  }
  if (business) {
    add(kBiz, make_outcome("business_survival", "share of households with a business ever started", n, true, false,
                           false));
  }
  auto out = [&](Slot s) -> HhOutcome* { return slot[s] < 0 ? nullptr : &d.outcomes[static_cast<std::size_t>(slot[s])]; };

  d.has_income = income.has_value();
  d.has_earned = income && transfers;
  d.has_cost = cost_j || cost_h;
  d.has_size = true;
  if (d.has_cost) {
    d.cost.assign(n, 0.0), d.cost_juntos.assign(n, 0.0), d.cost_hw.assign(n, 0.0), d.disc_cost.assign(n, 0.0);
  }
  if (income) d.disc_income.assign(n, 0.0);
  if (d.has_earned) d.disc_earned.assign(n, 0.0);
  d.size_fin.assign(n, 0.0), d.size_hor.assign(n, 0.0);
  if (poor) d.poor_by_period.assign(P * n, 0);

  std::vector<double> v_inc, v_cons, v_tr, v_poor, v_ext, v_gap, v_size, v_tech, v_biz, v_cj, v_ch;
  std::vector<double> running(2 * d.outcomes.size(), 0.0);  // population sums of hor_num, hor_den so far
  for (std::size_t p = 0; p < P; ++p) {
    const bool last = p + 1 == P, in_final = p >= first_final;
    const double disc = L.discount(p);
    if (income) income->read(p, v_inc);
    if (consumption) consumption->read(p, v_cons);
    if (transfers) transfers->read(p, v_tr);
    if (poor) poor->read(p, v_poor);
    if (extreme) extreme->read(p, v_ext);
    if (gap) gap->read(p, v_gap);
    if (size) size->read(p, v_size);
    else v_size = static_size;
    if (tech) tech->read(p, v_tech);
    if (business && last) business->read(p, v_biz);
    if (cost_j) cost_j->read(p, v_cj);
    if (cost_h) cost_h->read(p, v_ch);
    // A flow in the final year sums its periods; a state takes the last period's value.
    auto final_flow = [&](HhOutcome* o, std::size_t i, double v, bool is_flow) {
      if (is_flow ? in_final : last) o->fin_num[i] += v;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const double sz = v_size[i];
      d.size_hor[i] += sz * inv_p;
      if (last) d.size_fin[i] = sz;
      if (income) {
        const double y = v_inc[i];
        HhOutcome* o = out(kInc);
        final_flow(o, i, y, income->flow);
        o->hor_num[i] += income->flow ? y * annualise : y * inv_p;
        d.disc_income[i] += disc * y;
        if (transfers) {
          const double e = y - v_tr[i];
          HhOutcome* oe = out(kEarned);
          final_flow(oe, i, e, income->flow);
          oe->hor_num[i] += income->flow ? e * annualise : e * inv_p;
          d.disc_earned[i] += disc * e;
        }
      }
      if (consumption) {
        HhOutcome* o = out(kCons);
        final_flow(o, i, v_cons[i], consumption->flow);
        o->hor_num[i] += consumption->flow ? v_cons[i] * annualise : v_cons[i] * inv_p;
      }
      if (poor) {
        const double y = v_poor[i] != 0.0 ? 1.0 : 0.0;
        d.poor_by_period[p * n + i] = static_cast<std::uint8_t>(y);
        HhOutcome *op = out(kPovP), *oh = out(kPovH);
        if (last) op->fin_num[i] = y * sz, op->fin_den[i] = sz, oh->fin_num[i] = y;
        op->hor_num[i] += y * sz, op->hor_den[i] += sz;
        oh->hor_num[i] += y * inv_p;
      }
      if (extreme) {
        const double y = v_ext[i] != 0.0 ? 1.0 : 0.0;
        HhOutcome *op = out(kExtP), *oh = out(kExtH);
        if (last) op->fin_num[i] = y * sz, op->fin_den[i] = sz, oh->fin_num[i] = y;
        op->hor_num[i] += y * sz, op->hor_den[i] += sz;
        oh->hor_num[i] += y * inv_p;
      }
      if (gap) {
        HhOutcome* o = out(kGapP);
        if (last) o->fin_num[i] = v_gap[i] * sz, o->fin_den[i] = sz;
        o->hor_num[i] += v_gap[i] * sz, o->hor_den[i] += sz;
      }
      if (tech) {
        HhOutcome *oc = out(kTechCount_), *opers = out(kPersAll);
        for (std::size_t k = 0; k < W; ++k) {
          const double s = v_tech[i * W + k];
          const double adopted = s == static_cast<double>(TechState::adopted) ? 1.0 : 0.0;
          HhOutcome& oa = d.outcomes[tech_first + k];
          oa.hor_num[i] += adopted * inv_p;
          oc->hor_num[i] += adopted * inv_p;
          if (last) {
            oa.fin_num[i] = adopted;
            oc->fin_num[i] += adopted;
            const double ever = s != static_cast<double>(TechState::never) ? 1.0 : 0.0;
            HhOutcome& ops = d.outcomes[tech_first + W + k];
            ops.fin_num[i] = adopted, ops.fin_den[i] = ever;
            opers->fin_num[i] += adopted, opers->fin_den[i] += ever;
          }
        }
      }
      if (business && last) {
        HhOutcome* o = out(kBiz);
        const double s = v_biz[i];
        o->fin_num[i] = s == static_cast<double>(BusinessStatus::active) ? 1.0 : 0.0;
        o->fin_den[i] = s != static_cast<double>(BusinessStatus::none) ? 1.0 : 0.0;
      }
      if (d.has_cost) {
        const double cj = cost_j ? v_cj[i] : 0.0, ch = cost_h ? v_ch[i] : 0.0;
        d.cost_juntos[i] += cj, d.cost_hw[i] += ch, d.cost[i] += cj + ch;
        d.disc_cost[i] += disc * (cj + ch);
      }
    }
    // The period's part of each horizon sum: the running population sum now less the one before.
    for (std::size_t k = 0; k < d.outcomes.size(); ++k) {
      HhOutcome& o = d.outcomes[k];
      if (!o.has_horizon) continue;
      if (o.per_num.empty()) o.per_num.assign(P, 0.0), o.per_den.assign(P, 0.0);
      const double num = sum_of(o.hor_num), den = o.hor_den.empty() ? 0.0 : sum_of(o.hor_den);
      o.per_num[p] = num - running[2 * k];
      o.per_den[p] = den - running[2 * k + 1];
      running[2 * k] = num, running[2 * k + 1] = den;
    }
  }
  if (exit) {
    exit->read(P - 1, d.exit_month);
  }
  // The local markets: a second pass over the periods, only for a file that has them.
  if (auto lpi = open(kPriceIndex); lpi && income) {
    auto real = open(kRealIncome), wage = open(kWageIndex), prices = open(kLocalPrices);
    d.has_markets = real && wage && prices;
    if (d.has_markets) {
      for (auto* v : {&d.mk_income, &d.mk_real, &d.mk_injection, &d.mk_cpi, &d.mk_wage, &d.mk_food}) v->assign(n, 0.0);
      std::vector<double> v_lpi, v_real, v_wage, v_prices;
      for (std::size_t p = 0; p < P; ++p) {
        income->read(p, v_inc);
        if (transfers) transfers->read(p, v_tr);
        if (cost_h) cost_h->read(p, v_ch);
        lpi->read(p, v_lpi);
        real->read(p, v_real);
        wage->read(p, v_wage);
        prices->read(p, v_prices);
        for (std::size_t i = 0; i < n; ++i) {
          d.mk_income[i] += v_inc[i];
          d.mk_real[i] += v_real[i];
          d.mk_injection[i] += (transfers ? v_tr[i] : 0.0) + (cost_h ? v_ch[i] : 0.0);
          d.mk_cpi[i] += v_lpi[i] * inv_p;
          d.mk_wage[i] += v_wage[i] * inv_p;
          d.mk_food[i] += v_prices[i * prices->width] * inv_p;
        }
      }
    }
  }
  // Assets at the end of the run, for the interaction table only (the comparison's own rows do not read them).
  if (auto cash = open(kCash)) cash->read(P - 1, d.cash_fin);
  if (auto debt = open(kDebt)) debt->read(P - 1, d.debt_fin);
  if (auto herd = open(kHerd)) {
    std::vector<double> heads;
    herd->read(P - 1, heads);
    d.herd_value_fin.assign(n, 0.0);
    const std::size_t S = std::min<std::size_t>(herd->width, kSpeciesCount);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < S; ++k) d.herd_value_fin[i] += heads[i * herd->width + k] * L.herd_price[k];
  }
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// Subgroups of one replicate (masks over households).

struct Subgroup {
  std::string name;
  std::vector<std::uint8_t> in;
  bool key_only = false;  // for subgroup rows (all households is separate)
};

std::vector<Subgroup> make_subgroups(const output::Reader& in, int replicate, std::size_t n,
                                     const std::vector<std::uint8_t>* juntos_ever, std::vector<std::string>* notes) {
  std::vector<Subgroup> groups;
  auto note = [&](const std::string& s) {
    if (notes && std::find(notes->begin(), notes->end(), s) == notes->end()) notes->push_back(s);
  };
  auto read_col = [&](output::layout::Table table, const std::string& name) -> std::optional<std::vector<double>> {
    const auto r = static_cast<std::uint32_t>(replicate);
    if (!in.has_population_column(r, table, name)) return std::nullopt;
    return in.population(r, table, name).read_all();
  };
  // Baseline income quintiles: households ranked by (baseline income, index), five equal groups.
  if (auto base = read_col(output::layout::Table::households, std::string(col::baseline_income_pen.name)); base && base->size() == n && n > 0) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return (*base)[a] < (*base)[b]; });
    for (int q = 0; q < 5; ++q) groups.push_back({"baseline_income_q" + std::to_string(q + 1), std::vector<std::uint8_t>(n, 0)});
    const std::size_t first = groups.size() - 5;
    for (std::size_t rank = 0; rank < n; ++rank) groups[first + rank * 5 / n].in[order[rank]] = 1;
  } else {
    note("no baseline_income_pen in the population table: income-quintile subgroups skipped");
  }
  if (juntos_ever) {
    Subgroup ever{"juntos_ever_enrolled", *juntos_ever}, never{"juntos_never_enrolled", std::vector<std::uint8_t>(n, 0)};
    for (std::size_t i = 0; i < n; ++i) never.in[i] = ever.in[i] ? 0 : 1;
    groups.push_back(std::move(ever));
    groups.push_back(std::move(never));
  } else {
    note("no juntos_enrolled or juntos_status in the panel: Juntos subgroups skipped");
  }
  auto district = read_col(output::layout::Table::households, std::string(col::district.name));
  auto region = read_col(output::layout::Table::districts, std::string(col::district_region.name));
  if (district && region && district->size() == n) {
    for (int r = 0; r < 3; ++r) {
      Subgroup g{std::string("region_") + region_name(static_cast<Region>(r)), std::vector<std::uint8_t>(n, 0)};
      for (std::size_t i = 0; i < n; ++i) {
        const auto di = static_cast<std::size_t>((*district)[i]);
        g.in[i] = di < region->size() && static_cast<int>((*region)[di]) == r ? 1 : 0;
      }
      groups.push_back(std::move(g));
    }
  } else {
    note("no district/region columns in the population tables: region subgroups skipped");
  }
  if (auto water = read_col(output::layout::Table::households, std::string(col::water_access.name)); water && water->size() == n) {
    Subgroup yes{"water_access", std::vector<std::uint8_t>(n, 0)}, no{"no_water_access", std::vector<std::uint8_t>(n, 0)};
    for (std::size_t i = 0; i < n; ++i) ((*water)[i] != 0.0 ? yes : no).in[i] = 1;
    groups.push_back(std::move(yes));
    groups.push_back(std::move(no));
  } else {
    note("no water_access in the population table: water subgroups skipped");
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------------------
// Replicate draws, collected per row key in first-seen order.

struct Draws {
  ComparisonRow row;  // identity fields
  std::vector<double> effects, arm_values, ref_values;
  std::vector<double> by_replicate;  // the effect of each replicate in order (NaN where undefined), for the split
};

class Collector {
 public:
  // With `split` (a run with --posterior), rows() also splits each effect's spread into the parameters' part and
  // sampling's by the pairs of replicates that share a parameter draw.
  explicit Collector(bool split = false) : split_(split) {}
  // The replicate the following add() calls belong to.
  void at_replicate(int r) { replicate_ = static_cast<std::size_t>(r); }

  void add(const std::string& arm, const std::string& reference, const std::string& outcome,
           const std::string& subgroup, const std::string& statistic, const std::string& unit, double effect,
           double arm_value, double ref_value, const std::string& period = "") {
    std::string key = arm;
    key.append("\x1f").append(outcome).append("\x1f").append(subgroup).append("\x1f").append(statistic);
    key.append("\x1f").append(period);
    auto it = index_.find(key);
    if (it == index_.end()) {
      it = index_.emplace(std::move(key), draws_.size()).first;
      Draws d;
      d.row.arm = arm, d.row.reference = reference, d.row.outcome = outcome, d.row.subgroup = subgroup;
      d.row.statistic = statistic, d.row.unit = unit, d.row.period = period;
      draws_.push_back(std::move(d));
    }
    Draws& d = draws_[it->second];
    if (split_) {
      if (d.by_replicate.size() <= replicate_) d.by_replicate.resize(replicate_ + 1, kNaN);
      d.by_replicate[replicate_] = effect;
    }
    if (std::isfinite(effect)) d.effects.push_back(effect);
    if (std::isfinite(arm_value)) d.arm_values.push_back(arm_value);
    if (std::isfinite(ref_value)) d.ref_values.push_back(ref_value);
  }

  std::vector<ComparisonRow> rows() const {
    std::vector<ComparisonRow> out;
    for (const auto& d : draws_) {
      if (d.effects.empty() && d.arm_values.empty()) continue;
      ComparisonRow r = d.row;
      r.n_replicates = static_cast<int>(d.effects.size());
      if (d.effects.empty()) {
        r.mean_effect = r.ci_low = r.ci_high = kNaN;
        r.interval = "none";
      } else {
        const stats::Interval iv = d.effects.size() >= 20 ? stats::percentile_interval(d.effects, 0.95)
                                                          : stats::mean_interval(d.effects, 0.95);
        r.mean_effect = iv.mean, r.ci_low = iv.low, r.ci_high = iv.high;
        r.interval = d.effects.size() >= 20 ? "percentile" : d.effects.size() >= 2 ? "t" : "single";
      }
      r.arm_value = d.arm_values.empty() ? kNaN : stats::mean(d.arm_values);
      r.reference_value = d.ref_values.empty() ? kNaN : stats::mean(d.ref_values);
      if (split_) {
        const posterior::VarianceSplit v = posterior::split_variance(d.by_replicate);
        r.sd_parameter = v.sd_parameter, r.sd_sampling = v.sd_sampling;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  std::vector<Draws> draws_;
  std::unordered_map<std::string, std::size_t> index_;
  bool split_ = false;
  std::size_t replicate_ = 0;
};

// sum(num) / sum(den) over the households in `in` (all when null); an empty den counts households.
double ratio_of_sums(const std::vector<double>& num, const std::vector<double>& den, const std::vector<std::uint8_t>* in) {
  double a = 0.0, b = 0.0;
  const bool count = den.empty();
  for (std::size_t i = 0; i < num.size(); ++i) {
    if (in && !(*in)[i]) continue;
    a += num[i];
    b += count ? 1.0 : den[i];
  }
  return b > 0.0 ? a / b : kNaN;
}

double sum_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

// Person-weighted Gini of per-capita income (households with members only); NaN when undefined.
double pc_income_gini(const std::vector<double>& income, const std::vector<double>& size) {
  std::vector<double> values, weights;
  values.reserve(income.size());
  weights.reserve(income.size());
  for (std::size_t i = 0; i < income.size(); ++i) {
    if (!(size[i] > 0.0)) continue;
    values.push_back(income[i] / size[i]);
    weights.push_back(size[i]);
  }
  if (values.empty()) return kNaN;
  try {
    return stats::weighted_gini(values, weights);
  } catch (const std::invalid_argument&) {
    return kNaN;  // total income not positive
  }
}

// The local economy (docs/markets.md, "Multipliers and spillovers"): the local income multiplier of the arm's
// programme spending, nominal and real, the effects on prices and the wage, and on the income of households with
// no programme spending inside and outside the centres the programmes reach.
template <class Add, class AddEffect>
void compare_markets(const ArmData& a, const ArmData& r, const Layout& L, const Add& add, const AddEffect& add_effect) {
  const std::size_t n = a.households;
  // Real: each arm's income deflated by its own local price index, the spending by the reference arm's index of the
  // household's economy (models/markets.hpp, local_multipliers, household by household).
  double dy = 0, dreal = 0, dinj = 0, dinj_real = 0;
  for (std::size_t i = 0; i < n; ++i) {
    dy += a.mk_income[i] - r.mk_income[i];
    dreal += a.mk_real[i] - r.mk_real[i];
    dinj += a.mk_injection[i] - r.mk_injection[i];
    dinj_real += (a.mk_injection[i] - r.mk_injection[i]) / r.mk_cpi[i];
  }
  const bool injected = dinj > 0;
  add_effect("local_income_multiplier", "nominal", "PEN of local income per PEN of programme spending",
             injected ? dy / dinj : kNaN);
  add_effect("local_income_multiplier", "real", "PEN of real local income per real PEN of programme spending",
             injected ? dreal / dinj_real : kNaN);
  const double N = static_cast<double>(n);
  add("local_price_index", "all", "horizon_mean", "index (outside prices = 1)", sum_of(a.mk_cpi) / N, sum_of(r.mk_cpi) / N);
  add("local_wage_index", "all", "horizon_mean", "index (farm-gate wage = 1)", sum_of(a.mk_wage) / N, sum_of(r.mk_wage) / N);
  add("local_food_price", "all", "horizon_mean", "index (farm-gate price = 1)", sum_of(a.mk_food) / N, sum_of(r.mk_food) / N);
  // Non-participants: no programme spending on the household in the arm; a programme centre has at least one
  // household with programme spending in the arm.
  if (a.centre.size() != n || a.mk_injection.empty()) return;
  std::map<double, bool> reached;
  for (std::size_t i = 0; i < n; ++i) {
    const bool participant = a.mk_injection[i] > r.mk_injection[i] || (a.has_cost && a.cost[i] > 0);
    reached[a.centre[i]] = reached[a.centre[i]] || participant;
  }
  const double annualise = 12.0 / (static_cast<double>(L.periods) * L.months_per_period);
  double in_a = 0, in_r = 0, in_n = 0, out_a = 0, out_r = 0, out_n = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool participant = a.mk_injection[i] > r.mk_injection[i] || (a.has_cost && a.cost[i] > 0);
    if (participant) continue;
    if (reached[a.centre[i]]) in_a += a.mk_income[i], in_r += r.mk_income[i], in_n += 1;
    else out_a += a.mk_income[i], out_r += r.mk_income[i], out_n += 1;
  }
  const std::string unit = "PEN per household per year";
  add("non_participant_income_in_programme_centres", "all", "horizon_mean", unit,
      in_n > 0 ? in_a / in_n * annualise : kNaN, in_n > 0 ? in_r / in_n * annualise : kNaN);
  add("non_participant_income_elsewhere", "all", "horizon_mean", unit,
      out_n > 0 ? out_a / out_n * annualise : kNaN, out_n > 0 ? out_r / out_n * annualise : kNaN);
}

// The effect in each output period of every horizon outcome, whole population. A period's level is in the horizon
// mean's unit: the period's share of a household mean's horizon sum times the number of periods (flows become
// yearly rates), or the period's ratio of sums (person-weighted outcomes); the horizon_mean of a household mean
// is then the mean of its period levels, of a person-weighted one their person-weighted mean.
void compare_periods(const std::string& arm_name, const std::string& ref_name, const ArmData& a, const ArmData& r,
                     const std::vector<std::string>& labels, Collector& c) {
  const auto level = [&](const HhOutcome& o, std::size_t p, std::size_t n) {
    if (!o.hor_den.empty()) return o.per_den[p] > 0.0 ? o.per_num[p] / o.per_den[p] : kNaN;
    return n > 0 ? o.per_num[p] * static_cast<double>(a.periods) / static_cast<double>(n) : kNaN;
  };
  for (const auto& oa : a.outcomes) {
    const HhOutcome* orf = r.find(oa.name);
    if (!orf || oa.per_num.empty() || orf->per_num.empty()) continue;
    for (std::size_t p = 0; p < a.periods && p < labels.size(); ++p) {
      const double av = level(oa, p, a.households), rv = level(*orf, p, r.households);
      c.add(arm_name, ref_name, oa.name, "all", "period", oa.unit, av - rv, av, rv, labels[p]);
    }
  }
}

// Every statistic of `arm` against `ref` in one replicate.
void compare_pair(const std::string& arm_name, const std::string& ref_name, const ArmData& a, const ArmData& r,
                  const std::vector<Subgroup>& groups, const Layout& L, Collector& c) {
  const std::size_t n = a.households;
  auto add = [&](const std::string& outcome, const std::string& subgroup, const std::string& statistic,
                 const std::string& unit, double av, double rv) {
    c.add(arm_name, ref_name, outcome, subgroup, statistic, unit, av - rv, av, rv);
  };
  auto add_effect = [&](const std::string& outcome, const std::string& statistic, const std::string& unit, double eff) {
    c.add(arm_name, ref_name, outcome, "all", statistic, unit, eff, kNaN, kNaN);
  };
  // Means in the final year and over the horizon, whole population.
  for (const auto& oa : a.outcomes) {
    const HhOutcome* orf = r.find(oa.name);
    if (!orf) continue;
    if (oa.has_final) add(oa.name, "all", "final_year", oa.unit, ratio_of_sums(oa.fin_num, oa.fin_den, nullptr),
                          ratio_of_sums(orf->fin_num, orf->fin_den, nullptr));
    if (oa.has_horizon) add(oa.name, "all", "horizon_mean", oa.unit, ratio_of_sums(oa.hor_num, oa.hor_den, nullptr),
                            ratio_of_sums(orf->hor_num, orf->hor_den, nullptr));
    // Distribution of effects: quantiles of the paired household differences and of the two distributions.
    if (oa.name == kIncome || oa.name == kConsumption) {
      std::vector<double> diff(n);
      for (std::size_t i = 0; i < n; ++i) diff[i] = oa.fin_num[i] - orf->fin_num[i];
      if (n > 0) {
        const auto dq = stats::quantiles(diff, kQuantiles);
        const auto qa = stats::quantiles(oa.fin_num, kQuantiles);
        const auto qr = stats::quantiles(orf->fin_num, kQuantiles);
        for (std::size_t j = 0; j < kQuantiles.size(); ++j)
          c.add(arm_name, ref_name, oa.name, "all", std::string("paired_difference_") + kQuantileNames[j], oa.unit,
                dq[j], kNaN, kNaN);
        for (std::size_t j = 0; j < kQuantiles.size(); ++j)
          add(oa.name, "all", std::string("distribution_") + kQuantileNames[j], oa.unit, qa[j], qr[j]);
      }
    }
  }
  // Sustained exit: households that left Juntos in this arm, non-poor k years later, against the same
  // households at the same dates in the reference arm.
  if (!a.exit_month.empty() && !a.poor_by_period.empty() && !r.poor_by_period.empty()) {
    const long horizon_months = static_cast<long>(L.periods) * L.months_per_period;
    for (int years : {2, 5}) {
      double den = 0, na = 0, nr = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double e = a.exit_month[i];
        if (e < 0) continue;
        const long m = static_cast<long>(e) + 12L * years;
        if (m >= horizon_months) continue;
        const auto p = static_cast<std::size_t>(m / L.months_per_period);
        den += 1;
        na += a.poor_by_period[p * n + i] ? 0.0 : 1.0;
        nr += r.poor_by_period[p * n + i] ? 0.0 : 1.0;
      }
      const std::string name = "sustained_exit_" + std::to_string(years) + "y";
      if (den > 0) add(name, "all", "juntos_leavers", "share of Juntos leavers not poor", na / den, nr / den);
      else c.add(arm_name, ref_name, name, "all", "juntos_leavers", "share of Juntos leavers not poor", kNaN, kNaN, kNaN);
    }
  }
  // Gini of per-capita income (persons).
  if (a.has_income && r.has_income) {
    const HhOutcome *ia = a.find(kIncome), *ir = r.find(kIncome);
    add("gini_pc_income", "all", "final_year", "Gini (0-1)", pc_income_gini(ia->fin_num, a.size_fin),
        pc_income_gini(ir->fin_num, r.size_fin));
    add("gini_pc_income", "all", "horizon_mean", "Gini (0-1)", pc_income_gini(ia->hor_num, a.size_hor),
        pc_income_gini(ir->hor_num, r.size_hor));
  }
  // Costs and what they buy.
  if (a.has_cost && r.has_cost) {
    const double N = static_cast<double>(n);
    const double ca = sum_of(a.cost), cr = sum_of(r.cost);
    add("total_cost_pen", "all", "horizon_total", "PEN (synthetic population)", ca, cr);
    add("cost_per_household_pen", "all", "horizon_total", "PEN per household (all households)", ca / N, cr / N);
    add("juntos_cost_per_household_pen", "all", "horizon_total", "PEN per household (all households)",
        sum_of(a.cost_juntos) / N, sum_of(r.cost_juntos) / N);
    add("hw_cost_per_household_pen", "all", "horizon_total", "PEN per household (all households)",
        sum_of(a.cost_hw) / N, sum_of(r.cost_hw) / N);
    auto per_reached = [&](const ArmData& d) {
      double s = 0, k = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (d.cost[i] > 0) s += d.cost[i], k += 1;
      return k > 0 ? s / k : kNaN;
    };
    add("cost_per_reached_household_pen", "all", "horizon_total", "PEN per household with programme spending",
        per_reached(a), per_reached(r));
    const double dca = sum_of(a.disc_cost), dcr = sum_of(r.disc_cost);
    add("discounted_cost_per_household_pen", "all", "horizon_discounted", "PEN per household (present value)",
        dca / N, dcr / N);
    const double dcost = dca - dcr;
    if (a.has_income && r.has_income) {
      const double gain = sum_of(a.disc_income) - sum_of(r.disc_income);
      add_effect("income_gain_per_pen", "horizon_discounted", "PEN of income per PEN spent (present values)",
                 dcost > 0 ? gain / dcost : kNaN);
    }
    if (a.has_earned && r.has_earned) {
      const double gain = sum_of(a.disc_earned) - sum_of(r.disc_earned);
      add_effect("earned_income_gain_per_pen", "horizon_discounted",
                 "PEN of income net of transfers per PEN spent (present values)", dcost > 0 ? gain / dcost : kNaN);
    }
    if (!a.poor_by_period.empty() && !r.poor_by_period.empty()) {
      const std::size_t P = L.periods;
      double lifted = 0, years = 0;
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t i = 0; i < n; ++i) {
          const double d = static_cast<double>(r.poor_by_period[p * n + i]) - a.poor_by_period[p * n + i];
          years += d * L.months_per_period / 12.0;
          if (p + 1 == P) lifted += d;
        }
      add_effect("cost_per_household_lifted_out_of_poverty", "final_year",
                 "PEN (present value) per household out of poverty", dcost > 0 && lifted > 0 ? dcost / lifted : kNaN);
      add_effect("cost_per_poverty_year_averted", "horizon_discounted",
                 "PEN (present value) per household-year out of poverty", dcost > 0 && years > 0 ? dcost / years : kNaN);
    }
  }
  if (a.has_markets && r.has_markets) compare_markets(a, r, L, add, add_effect);
  // Subgroups: the main outcomes' means.
  const std::vector<std::pair<std::string, bool>> sub_outcomes = {
      {kIncome, true}, {kConsumption, true}, {"poverty_headcount", true}, {"poverty_headcount_households", false},
      {"extreme_poverty_headcount", false}};
  for (const auto& g : groups)
    for (const auto& [name, horizon] : sub_outcomes) {
      const HhOutcome *oa = a.find(name), *orf = r.find(name);
      if (!oa || !orf) continue;
      add(name, g.name, "final_year", oa->unit, ratio_of_sums(oa->fin_num, oa->fin_den, &g.in),
          ratio_of_sums(orf->fin_num, orf->fin_den, &g.in));
      if (horizon)
        add(name, g.name, "horizon_mean", oa->unit, ratio_of_sums(oa->hor_num, oa->hor_den, &g.in),
            ratio_of_sums(orf->hor_num, orf->hor_den, &g.in));
    }
}

// The interaction table's outcomes: levels of an arm on the whole population (the comparison's own statistic
// for each, or the mean asset holding per household at the end of the run).
struct InteractionOutcome {
  const char* outcome;
  const char* statistic;
};
const InteractionOutcome kInteractionOutcomes[] = {
    {"income_monetary_pen", "final_year"},         {"income_monetary_pen", "horizon_mean"},
    {"earned_income_pen", "final_year"},           {"earned_income_pen", "horizon_mean"},
    {"consumption_pen", "final_year"},             {"consumption_pen", "horizon_mean"},
    {"poverty_headcount", "final_year"},           {"poverty_headcount", "horizon_mean"},
    {"extreme_poverty_headcount", "final_year"},   {"extreme_poverty_headcount", "horizon_mean"},
    {"technologies_adopted", "final_year"},        {"cash_pen", "final_year"},
    {"debt_pen", "final_year"},                    {"herd_value_pen", "final_year"},
};
constexpr std::size_t kInteractionOutcomeCount = std::size(kInteractionOutcomes);

// An arm's level of each interaction outcome in one replicate (NaN where the file does not measure it), and
// the outcomes' units (left as they are where unknown).
std::array<double, kInteractionOutcomeCount> interaction_levels(const ArmData& d, std::vector<std::string>& units) {
  std::array<double, kInteractionOutcomeCount> v;
  v.fill(kNaN);
  auto mean_of = [](const std::vector<double>& x) { return x.empty() ? kNaN : sum_of(x) / static_cast<double>(x.size()); };
  for (std::size_t k = 0; k < kInteractionOutcomeCount; ++k) {
    const std::string name = kInteractionOutcomes[k].outcome;
    const bool final_year = std::string(kInteractionOutcomes[k].statistic) == "final_year";
    if (const HhOutcome* o = d.find(name)) {
      v[k] = final_year ? ratio_of_sums(o->fin_num, o->fin_den, nullptr) : ratio_of_sums(o->hor_num, o->hor_den, nullptr);
      units[k] = o->unit;
    } else if (name == kCash && !d.cash_fin.empty()) {
      v[k] = mean_of(d.cash_fin), units[k] = "PEN per household (end of the run)";
    } else if (name == kDebt && !d.debt_fin.empty()) {
      v[k] = mean_of(d.debt_fin), units[k] = "PEN per household (end of the run)";
    } else if (name == "herd_value_pen" && !d.herd_value_fin.empty()) {
      v[k] = mean_of(d.herd_value_fin), units[k] = "PEN per household at livestock.*.price_pen (end of the run)";
    }
  }
  return v;
}

// Households ever enrolled in Juntos, in any arm of the replicate (juntos_enrolled, else juntos_status).
std::optional<std::vector<std::uint8_t>> juntos_ever(const output::Reader& file, const FileInfo& info, int replicate,
                                                     std::size_t n) {
  std::vector<std::uint8_t> ever(n, 0);
  bool any = false;
  std::vector<double> v;
  const auto r = static_cast<std::uint32_t>(replicate);
  for (const auto& arm : info.arms) {
    const bool enrolled = file.has_panel_variable(arm, r, kEnrolled);
    if (!enrolled && !file.has_panel_variable(arm, r, kJuntosStatus)) continue;
    PeriodReader reader(file.panel(arm, r, enrolled ? kEnrolled : kJuntosStatus));
    if (reader.households != n) continue;
    any = true;
    for (std::size_t p = 0; p < reader.periods; ++p) {
      reader.read(p, v);
      for (std::size_t i = 0; i < n; ++i) {
        const bool in = enrolled ? v[i] != 0.0
                                 : (v[i] == static_cast<double>(JuntosStatus::enrolled) ||
                                    v[i] == static_cast<double>(JuntosStatus::suspended));
        if (in) ever[i] = 1;
      }
    }
  }
  if (!any) return std::nullopt;
  return ever;
}

// ---------------------------------------------------------------------------------------------------------
// Text forms.

std::string number(double v) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back to the same double
  return std::string(buf, res.ptr);
}

}  // namespace

std::string format_fixed(double v, int decimals, bool plus) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string text = buf;
  if (text.find_first_not_of("-0.") == std::string::npos && text.front() == '-') text.erase(0, 1);  // no "-0.000"
  const bool negative = text.front() == '-';
  std::string digits = text.substr(negative ? 1 : 0);
  const auto point = digits.find('.');
  std::string whole = digits.substr(0, point), rest = point == std::string::npos ? "" : digits.substr(point);
  const bool zero = (whole + rest).find_first_not_of("0.") == std::string::npos;
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  whole = grouped;
  std::string out;
  if (negative) out += '-';
  else if (plus && !zero) out += '+';
  out += whole;
  out += rest;
  return out;
}

int decimals_for(double magnitude) {
  if (!(magnitude < 100) || magnitude == 0) return 0;
  if (magnitude >= 10) return 1;
  if (magnitude >= 1) return 2;
  return 3;
}

namespace {

struct KeyOutcome {
  const char* outcome;
  const char* statistic;
  const char* label;
  bool brief;  // in the default table (the others with --summary full)
};
const KeyOutcome kKeyOutcomes[] = {
    {"income_monetary_pen", "final_year", "Monetary income, final year", true},
    {"income_monetary_pen", "horizon_mean", "Monetary income, mean over the horizon", false},
    {"earned_income_pen", "final_year", "Income net of transfers, final year", false},
    {"consumption_pen", "final_year", "Consumption, final year", true},
    {"poverty_headcount", "final_year", "Poverty headcount (persons), final year", true},
    {"poverty_headcount", "horizon_mean", "Poverty headcount (persons), mean over the horizon", false},
    {"extreme_poverty_headcount", "final_year", "Extreme poverty headcount (persons), final year", true},
    {"poverty_gap", "final_year", "Poverty gap (FGT1), final year", false},
    {"sustained_exit_2y", "juntos_leavers", "Not poor 2 years after leaving Juntos", false},
    {"sustained_exit_5y", "juntos_leavers", "Not poor 5 years after leaving Juntos", false},
    {"technologies_adopted", "final_year", "Technologies in use, final year", true},
    {"persistence_all_technologies", "final_year", "Adoption persistence (still in use / ever adopted), final year", false},
    {"business_survival", "final_year", "HW business survival (active / ever started), final year", false},
    {"gini_pc_income", "final_year", "Gini of per-capita income, final year", false},
    {"income_monetary_pen", "paired_difference_q90", "Household income gain at the 90th percentile of gains, final year", false},
    {"cost_per_household_pen", "horizon_total", "Programme cost per household, whole horizon", true},
    {"income_gain_per_pen", "horizon_discounted", "Income gained per PEN spent (discounted)", false},
    {"cost_per_household_lifted_out_of_poverty", "final_year", "Cost per household lifted out of poverty", false},
    // The local markets (economy.markets.enabled): shown only when the file has them.
    {"local_income_multiplier", "nominal", "Local income multiplier of programme spending, nominal", true},
    {"local_income_multiplier", "real", "Local income multiplier of programme spending, real", true},
    {"local_price_index", "horizon_mean", "Local price index, mean over the horizon", true},
    {"local_wage_index", "horizon_mean", "Local day wage, mean over the horizon", true},
    {"local_food_price", "horizon_mean", "Local food price, mean over the horizon", false},
    {"non_participant_income_in_programme_centres", "horizon_mean",
     "Income of non-participants in programme centres, mean over the horizon", true},
    {"non_participant_income_elsewhere", "horizon_mean", "Income of households outside programme centres, mean over the horizon",
     true},
};

// The interaction section of the terminal table.
void format_interaction(const InteractionTable& t, std::ostream& os) {
  if (t.rows.empty()) return;
  os << "\nInteraction of the programmes: both - juntos_only - hw_only + no_programme (0 when they add up;\n"
        "per replicate on common random numbers, mean and 95% t interval over replicates)\n"
     << "Household-economy channels on: " << t.channels_text() << "\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-36s %11s  %-23s %11s %12s\n", "outcome", "interaction", "95% interval", "both",
                "no_programme");
  os << line;
  for (const auto& r : t.rows) {
    double magnitude = 0;
    for (double v : {r.mean, r.ci_low, r.ci_high, r.levels[0], r.levels[3]})
      if (std::isfinite(v)) magnitude = std::max(magnitude, std::abs(v));
    const int d = decimals_for(magnitude);
    std::string iv;
    if (std::isfinite(r.mean) && r.interval == "t")
      iv = "[" + format_fixed(r.ci_low, d, true) + ", " + format_fixed(r.ci_high, d, true) + "]";
    // "(horizon)" for horizon_mean: the longest label, extreme_poverty_headcount (horizon), fits 36 columns.
    const std::string statistic = r.statistic == "horizon_mean" ? "horizon" : r.statistic;
    const std::string label = r.outcome + (r.statistic == "final_year" ? "" : " (" + statistic + ")");
    // Within 100 columns: the levels of both arms alone are in the CSV and JSON rows.
    std::snprintf(line, sizeof line, "  %-36s %11s  %-23s %11s %12s\n", label.c_str(), format_fixed(r.mean, d, true).c_str(),
                  iv.c_str(), format_fixed(r.levels[0], d).c_str(), format_fixed(r.levels[3], d).c_str());
    os << line;
  }
  os << "  (final year unless marked \"(horizon)\": the mean over the horizon; units: compare --format json)\n";
}

// The interaction rows in the comparison's row form (CSV and JSON): arm "interaction", arm_value the level in
// `both`, reference_value the level in `no_programme`.
constexpr const char* kInteractionArm = "interaction";
constexpr const char* kInteractionFormula = "both-juntos_only-hw_only+no_programme";
ComparisonRow as_comparison_row(const InteractionRow& r) {
  ComparisonRow c;
  c.arm = kInteractionArm, c.reference = kInteractionFormula, c.outcome = r.outcome, c.subgroup = "all";
  c.statistic = r.statistic, c.unit = r.unit, c.interval = r.interval;
  c.mean_effect = r.mean, c.ci_low = r.ci_low, c.ci_high = r.ci_high, c.n_replicates = r.n_replicates;
  c.arm_value = r.levels[0], c.reference_value = r.levels[3];
  return c;
}

// What the intervals hold: both sources of uncertainty (a run with --posterior) or sampling alone (said plainly).
std::string uncertainty_text(const ComparisonTable& t) {
  if (t.posterior.empty())
    return "No posterior: the parameters are fixed at the scenario's values, so the intervals hold sampling\n"
           "uncertainty only (population, chance), not what is unknown about the parameters; chacra run\n"
           "--posterior FILE draws them from a calibration's posterior and splits the two.\n";
  return "Parameters drawn from the posterior " + t.posterior + " (one draw per pair of\n"
         "replicates): the intervals hold parameter and sampling uncertainty; under each effect, the sd of\n"
         "each part (between pairs: parameters; within pairs: population, chance) and the parameters' share\n"
         "of the variance.\n";
}

// "sd parameters 12.5, sampling 30.1: parameters 15% of the variance" (n/a with fewer than two complete pairs).
std::string split_text(const ComparisonRow& r, int decimals) {
  const double share = parameter_share(r);
  if (!std::isfinite(share)) return "sd parameters n/a, sampling n/a (fewer than two complete pairs)";
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.0f%%", 100.0 * share);
  return "sd parameters " + format_fixed(r.sd_parameter, decimals) + ", sampling " +
         format_fixed(r.sd_sampling, decimals) + ": parameters " + pct + " of the variance";
}

// Within 100 columns: arm names up to 26 characters, then effect (12), interval (29), the two levels (13 each).
constexpr std::size_t kArmWidthMax = 26;

std::string format_table(const ComparisonTable& t, bool full) {
  std::ostringstream os;
  if (t.arms.size() < 2) {
    os << "The file has a single arm" << (t.arms.empty() ? "" : ", '" + t.arms.front() + "'")
       << ": nothing to compare.\n";
    return os.str();
  }
  std::string interval_rule = t.replicates >= 20 ? "95% percentile intervals over replicates"
                              : t.replicates >= 2 ? "95% t intervals over replicates"
                                                  : "no interval with one replicate";
  os << "Comparison against '" << t.reference << "' (" << t.replicates << " replicate"
     << (t.replicates == 1 ? "" : "s") << ", " << interval_rule << ";\n  final year " << t.final_year
     << ", horizon " << t.horizon << ", discount rate " << number(t.discount_rate) << "/yr)\n";
  os << uncertainty_text(t);
  std::map<std::string, const ComparisonRow*> by_key;
  for (const auto& r : t.rows)
    if (r.subgroup == "all") by_key[r.arm + "|" + r.outcome + "|" + r.statistic] = &r;
  std::size_t arm_w = 12;
  for (const auto& a : t.arms) arm_w = std::max(arm_w, a.size());
  arm_w = std::min(arm_w, kArmWidthMax);
  auto cut = [&](const std::string& a) { return a.size() <= arm_w ? a : a.substr(0, arm_w - 1) + "~"; };
  char line[512];
  for (const auto& k : kKeyOutcomes) {
    if (!full && !k.brief) continue;
    std::vector<const ComparisonRow*> rows;
    std::string unit;
    double magnitude = 0;
    for (const auto& a : t.arms) {
      auto it = by_key.find(a + "|" + k.outcome + "|" + k.statistic);
      if (it == by_key.end()) continue;
      const ComparisonRow& r = *it->second;
      rows.push_back(&r);
      unit = r.unit;
      for (double v : {r.mean_effect, r.ci_low, r.ci_high, r.arm_value, r.reference_value})
        if (std::isfinite(v)) magnitude = std::max(magnitude, std::abs(v));
    }
    if (rows.empty()) continue;
    // Costs are amounts spent, not gains: no "+".
    const bool signed_effect = std::string(k.outcome).rfind("cost", 0) != 0;
    const int d = decimals_for(magnitude);
    const std::string heading = std::string(k.label) + " (" + unit + ")";
    if (heading.size() <= 98) os << "\n" << heading << "\n";
    else os << "\n" << k.label << "\n  (" << unit << ")\n";
    std::snprintf(line, sizeof line, "  %-*s %12s  %-29s %13s %13s\n", static_cast<int>(arm_w), "arm", "effect",
                  "95% interval", "reference", "arm");
    os << line;
    for (const ComparisonRow* r : rows) {
      std::string iv;
      if (std::isfinite(r->mean_effect) && r->interval != "single")
        iv = "[" + format_fixed(r->ci_low, d, signed_effect) + ", " + format_fixed(r->ci_high, d, signed_effect) + "]";
      std::snprintf(line, sizeof line, "  %-*s %12s  %-29s %13s %13s\n", static_cast<int>(arm_w), cut(r->arm).c_str(),
                    format_fixed(r->mean_effect, d, signed_effect).c_str(), iv.c_str(),
                    format_fixed(r->reference_value, d).c_str(), format_fixed(r->arm_value, d).c_str());
      os << line;
      if (!t.posterior.empty()) os << "  " << std::string(arm_w, ' ') << split_text(*r, d) << "\n";
    }
  }
  format_interaction(t.interaction, os);
  for (const auto& n : t.notes) os << "\nnote: " << n;
  if (!t.notes.empty()) os << "\n";
  os << "\nEffects are arm minus reference on the same households and random numbers (n/a: undefined, e.g.\n"
        "no spending difference). "
     << (full ? "" : "More outcomes: --summary full. ")
     << "Subgroups, quantiles, technologies:\nchacra compare FILE --format csv|json.\n";
  return os.str();
}

// The outcomes `chacra compare --by period` prints as a table (every outcome is in its CSV and JSON).
const KeyOutcome kPeriodOutcomes[] = {
    {"income_monetary_pen", "period", "Monetary income", true},
    {"earned_income_pen", "period", "Income net of transfers", true},
    {"consumption_pen", "period", "Consumption", true},
    {"poverty_headcount", "period", "Poverty headcount (persons)", true},
    {"extreme_poverty_headcount", "period", "Extreme poverty headcount (persons)", true},
    {"technologies_adopted", "period", "Technologies in use", true},
};

std::string format_period_table(const ComparisonTable& t) {
  std::ostringstream os;
  if (t.period_rows.empty()) {
    os << "No effects per period (a single arm, or a stored comparison written before they were; use "
          "--recompute).\n";
    return os.str();
  }
  std::string interval_rule = t.replicates >= 20 ? "95% percentile intervals over replicates"
                              : t.replicates >= 2 ? "95% t intervals over replicates"
                                                  : "no interval with one replicate";
  os << "Effects per output period against '" << t.reference << "' (" << t.replicates << " replicate"
     << (t.replicates == 1 ? "" : "s") << ", " << interval_rule << ";\n  horizon " << t.horizon
     << "; flows as yearly rates, so a household mean's horizon mean is the mean of its periods)\n";
  os << uncertainty_text(t);
  // Within 100 columns: arm names up to 20 characters, then period (9), effect (12), interval (25), levels (13).
  constexpr std::size_t kPeriodArmWidthMax = 20;
  std::size_t arm_w = 12;
  for (const auto& a : t.arms) arm_w = std::max(arm_w, a.size());
  arm_w = std::min(arm_w, kPeriodArmWidthMax);
  auto cut = [&](const std::string& a) { return a.size() <= arm_w ? a : a.substr(0, arm_w - 1) + "~"; };
  char line[512];
  for (const auto& k : kPeriodOutcomes) {
    std::vector<const ComparisonRow*> rows;
    double magnitude = 0;
    for (const auto& a : t.arms)
      for (const auto& r : t.period_rows)
        if (r.arm == a && r.outcome == k.outcome && r.subgroup == "all") {
          rows.push_back(&r);
          for (double v : {r.mean_effect, r.ci_low, r.ci_high, r.arm_value, r.reference_value})
            if (std::isfinite(v)) magnitude = std::max(magnitude, std::abs(v));
        }
    if (rows.empty()) continue;
    const int d = decimals_for(magnitude);
    os << "\n" << k.label << " by period (" << rows.front()->unit << ")\n";
    std::snprintf(line, sizeof line, "  %-*s %-9s %12s  %-25s %13s %13s\n", static_cast<int>(arm_w), "arm", "period",
                  "effect", "95% interval", "reference", "arm");
    os << line;
    for (const ComparisonRow* r : rows) {
      std::string iv;
      if (std::isfinite(r->mean_effect) && r->interval != "single")
        iv = "[" + format_fixed(r->ci_low, d, true) + ", " + format_fixed(r->ci_high, d, true) + "]";
      std::snprintf(line, sizeof line, "  %-*s %-9s %12s  %-25s %13s %13s\n", static_cast<int>(arm_w),
                    cut(r->arm).c_str(), r->period.c_str(), format_fixed(r->mean_effect, d, true).c_str(), iv.c_str(),
                    format_fixed(r->reference_value, d).c_str(), format_fixed(r->arm_value, d).c_str());
      os << line;
    }
  }
  os << "\nEvery outcome measured over the horizon, per period: chacra compare FILE --by period --format csv|json.\n";
  return os.str();
}

const char* const kCsvColumns[] = {"arm",          "reference",   "outcome",      "subgroup",  "statistic",
                                   "mean_effect",  "ci_low",      "ci_high",      "n_replicates", "unit",
                                   "interval",     "arm_value",   "reference_value", "sd_parameter",
                                   "sd_sampling",  "parameter_share", "posterior"};

// The posterior column of CSV and JSON rows: the file, or "none" for a run without one.
std::string posterior_or_none(const ComparisonTable* t) {
  return t == nullptr || t->posterior.empty() ? "none" : t->posterior;
}

std::string format_csv(const std::vector<ComparisonRow>& rows, bool with_period, const ComparisonTable* table) {
  std::ostringstream os;
  csv::Writer csv(os, "the comparison");
  std::vector<std::string> header(std::begin(kCsvColumns), std::end(kCsvColumns));
  if (with_period) header.insert(header.begin() + 5, "period");
  csv.header(header);
  for (const auto& r : rows) {
    csv.text(r.arm).text(r.reference).text(r.outcome).text(r.subgroup).text(r.statistic);
    if (with_period) csv.text(r.period);
    csv.number(r.mean_effect);
    csv.number(r.ci_low).number(r.ci_high).number(r.n_replicates).text(r.unit).text(r.interval).number(r.arm_value);
    csv.number(r.reference_value).number(r.sd_parameter).number(r.sd_sampling).number(parameter_share(r));
    csv.text(posterior_or_none(table)).end_row();
  }
  csv.close();
  return os.str();
}

// The rows as a JSON array of objects with the CSV's columns (NaN as null), in the same order; the interaction
// rows, when given, follow, with one more field, the channels that were on.
std::string format_json(const std::vector<ComparisonRow>& table_rows, bool with_period, const ComparisonTable* table,
                        const InteractionTable* interaction = nullptr) {
  auto rows = nlohmann::ordered_json::array();
  auto row = [&](const ComparisonRow& r) {
    nlohmann::ordered_json o = {{"arm", r.arm},
                                {"reference", r.reference},
                                {"outcome", r.outcome},
                                {"subgroup", r.subgroup},
                                {"statistic", r.statistic}};
    if (with_period) o["period"] = r.period;
    o.update(nlohmann::ordered_json{{"mean_effect", r.mean_effect},
                                    {"ci_low", r.ci_low},
                                    {"ci_high", r.ci_high},
                                    {"n_replicates", r.n_replicates},
                                    {"unit", r.unit},
                                    {"interval", r.interval},
                                    {"arm_value", r.arm_value},
                                    {"reference_value", r.reference_value},
                                    {"sd_parameter", r.sd_parameter},
                                    {"sd_sampling", r.sd_sampling},
                                    {"parameter_share", parameter_share(r)},
                                    {"posterior", posterior_or_none(table)}});
    return o;
  };
  for (const auto& r : table_rows) rows.push_back(row(r));
  if (interaction != nullptr)
    for (const auto& r : interaction->rows) {
      auto j = row(as_comparison_row(r));
      j["channels"] = interaction->channels_text();
      rows.push_back(std::move(j));
    }
  return rows.dump(2) + "\n";
}

bool same_double(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

UnknownArmError::UnknownArmError(const std::string& arm, std::vector<std::string> arms)
    : BadInput([&] {
        std::string s = "no arm named '" + arm + "' in the file; its arms are:";
        for (const auto& a : arms) s += " " + a;
        return s;
      }()),
      arms_(std::move(arms)) {}

bool operator==(const ComparisonRow& a, const ComparisonRow& b) {
  return a.arm == b.arm && a.reference == b.reference && a.outcome == b.outcome && a.subgroup == b.subgroup &&
         a.statistic == b.statistic && a.unit == b.unit && a.interval == b.interval &&
         same_double(a.mean_effect, b.mean_effect) && same_double(a.ci_low, b.ci_low) &&
         same_double(a.ci_high, b.ci_high) && a.n_replicates == b.n_replicates &&
         same_double(a.sd_parameter, b.sd_parameter) && same_double(a.sd_sampling, b.sd_sampling) &&
         same_double(a.arm_value, b.arm_value) && same_double(a.reference_value, b.reference_value) &&
         a.period == b.period;
}

bool operator==(const ComparisonTable& a, const ComparisonTable& b) {
  return a.reference == b.reference && a.arms == b.arms && a.replicates == b.replicates &&
         a.final_period == b.final_period && a.final_year == b.final_year && a.horizon == b.horizon &&
         same_double(a.discount_rate, b.discount_rate) && a.notes == b.notes && a.rows == b.rows &&
         a.period_rows == b.period_rows && a.interaction == b.interaction && a.posterior == b.posterior;
}

bool operator==(const InteractionRow& a, const InteractionRow& b) {
  return a.outcome == b.outcome && a.statistic == b.statistic && a.unit == b.unit && a.interval == b.interval &&
         same_double(a.mean, b.mean) && same_double(a.ci_low, b.ci_low) && same_double(a.ci_high, b.ci_high) &&
         a.n_replicates == b.n_replicates && a.levels.size() == b.levels.size() &&
         std::equal(a.levels.begin(), a.levels.end(), b.levels.begin(), same_double);
}

bool operator==(const InteractionTable& a, const InteractionTable& b) {
  return a.channels == b.channels && a.arm_channel_sets == b.arm_channel_sets && a.rows == b.rows;
}

std::string InteractionTable::channels_text() const {
  std::string s;
  for (const auto& c : channels) s += (s.empty() ? "" : ", ") + c;
  if (s.empty()) s = "none (every economy.* channel off)";
  for (const auto& a : arm_channel_sets) s += "; " + a;
  return s;
}

double parameter_share(const ComparisonRow& r) { return posterior::parameter_share(r.sd_parameter, r.sd_sampling); }

ReplicateInterval t_interval_of(const std::vector<double>& draws) {
  if (draws.empty()) return {kNaN, kNaN, kNaN, "none"};
  const stats::Interval iv = stats::mean_interval(draws, 0.95);
  return {iv.mean, iv.low, iv.high, draws.size() >= 2 ? "t" : "single"};
}

void summarise_interaction(const std::vector<std::vector<std::array<double, 4>>>& levels, std::vector<InteractionRow>& rows) {
  for (std::size_t k = 0; k < rows.size(); ++k) {
    InteractionRow& row = rows[k];
    row.draws.clear();
    std::vector<double> draws;
    std::array<std::vector<double>, 4> arm_levels;
    for (const auto& rep : levels) {
      const auto& l = rep[k];
      for (std::size_t a = 0; a < 4; ++a)
        if (std::isfinite(l[a])) arm_levels[a].push_back(l[a]);
      const double x = l[0] - l[1] - l[2] + l[3];
      row.draws.push_back(x);
      if (std::isfinite(x)) draws.push_back(x);
    }
    row.n_replicates = static_cast<int>(draws.size());
    const ReplicateInterval iv = t_interval_of(draws);
    row.mean = iv.mean, row.ci_low = iv.low, row.ci_high = iv.high, row.interval = iv.interval;
    row.levels.clear();
    for (const auto& v : arm_levels) row.levels.push_back(v.empty() ? kNaN : stats::mean(v));
  }
}

void Comparison::register_params(Registry& r) {
  r.real("comparison.discount_rate", 0.05, 0, 1, "per year",
         "Discount rate of the comparison's present values (income gained per PEN spent, cost per household "
         "lifted out of poverty); flows of an output period are discounted to the start of the run from the "
         "middle of the period. Read from the base scenario (an arm's own value is ignored)",
         "Assumption: 5% a year; Peru's public investment system (Invierte.pe) uses a social discount rate of "
         "about 8%, set 0.08 for that convention");
}

ComparisonTable compare_file(hid_t file_id, const std::string& reference_arm, const ComparisonProgress& progress) {
  h5::quiet_errors();
  const output::Reader file(file_id);
  const FileInfo info = read_file_info(file);
  ComparisonTable t;
  t.arms = info.arms;
  t.replicates = info.replicates;
  t.discount_rate = info.discount_rate;
  t.posterior = info.posterior;
  t.reference = !reference_arm.empty() ? reference_arm : !info.reference.empty() ? info.reference : info.arms.front();
  if (std::find(info.arms.begin(), info.arms.end(), t.reference) == info.arms.end())
    throw UnknownArmError(t.reference, info.arms);
  check_units(file, info);

  Layout L;
  L.months_per_period = info.months_per_period;
  L.discount_rate = info.discount_rate;
  L.herd_price = info.herd_price;
  // The panel's shape (periods, households) from the reference arm's income, or any variable.
  auto shape_of = [&](int r) {
    const auto rr = static_cast<std::uint32_t>(r);
    const auto vars = file.panel_variables(t.reference, rr);
    if (vars.empty())
      throw ComparisonError("the panel of arm '" + t.reference + "' replicate " + std::to_string(r) + " holds no variable");
    PeriodReader reader(file.panel(t.reference, rr, file.has_panel_variable(t.reference, rr, kIncome) ? kIncome : vars.front()));
    return std::pair{reader.periods, reader.households};
  };
  L.periods = shape_of(0).first;
  if (L.periods == 0) throw ComparisonError("the panel has no period");
  if (L.periods > info.periods.size())
    throw ComparisonError("the panel has more periods than /periods lists (damaged file?)");
  L.final_periods = std::min<std::size_t>(L.periods, static_cast<std::size_t>(std::max(1, 12 / L.months_per_period)));
  const auto& labels = info.periods;
  t.final_period = labels[L.periods - 1];
  // "2017-2024" for years; "2024Q1 to 2024Q4" and "2024-01 to 2024-12" where labels hold a dash.
  const std::string to = t.final_period.find('-') != std::string::npos || L.months_per_period != 12 ? " to " : "-";
  t.final_year = L.final_periods == 1 ? t.final_period : labels[L.periods - L.final_periods] + to + t.final_period;
  t.horizon = L.periods == 1 ? labels[0] : labels[0] + to + t.final_period;

  Collector collector(!info.posterior.empty()), by_period(!info.posterior.empty());
  const std::vector<std::string> period_labels(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(L.periods));
  // The interaction term needs the four arms; each arm's levels are taken as the arm is read.
  const bool interaction = std::all_of(kInteractionArms.begin(), kInteractionArms.end(), [&](const std::string& a) {
    return std::find(info.arms.begin(), info.arms.end(), a) != info.arms.end();
  });
  std::vector<std::vector<std::array<double, 4>>> levels;  // [replicate][outcome][arm]
  std::vector<std::string> units(kInteractionOutcomeCount);
  auto record = [&](const std::string& arm, const ArmData& d) {
    if (!interaction) return;
    const auto it = std::find(kInteractionArms.begin(), kInteractionArms.end(), arm);
    if (it == kInteractionArms.end()) return;
    const auto a = static_cast<std::size_t>(it - kInteractionArms.begin());
    const auto v = interaction_levels(d, units);
    for (std::size_t k = 0; k < kInteractionOutcomeCount; ++k) levels.back()[k][a] = v[k];
  };
  // Progress in arm panels read: every arm of every replicate, the reference once per replicate.
  const auto panels = static_cast<std::uint64_t>(info.replicates) * info.arms.size();
  std::uint64_t done = 0;
  if (progress) progress(0, panels);
  for (int r = 0; r < info.replicates; ++r) {
    if (interaction) {
      std::array<double, 4> none;
      none.fill(kNaN);
      levels.emplace_back(kInteractionOutcomeCount, none);
    }
    const std::size_t n = shape_of(r).second;
    std::vector<std::string>* notes = r == 0 ? &t.notes : nullptr;
    std::vector<double> static_size(n, 1.0);
    if (file.has_population_column(static_cast<std::uint32_t>(r), output::layout::Table::households, kSize)) {
      auto s = file.population(static_cast<std::uint32_t>(r), output::layout::Table::households, kSize).read_all();
      if (s.size() == n) static_size = std::move(s);
    }
    const auto ever = juntos_ever(file, info, r, n);
    const auto groups = make_subgroups(file, r, n, ever ? &*ever : nullptr, notes);
    ArmData ref = load_arm(file, t.reference, r, L, n, static_size, notes);
    std::vector<double> centre;
    if (ref.has_markets && file.has_population_column(static_cast<std::uint32_t>(r), output::layout::Table::households, kCentre))
      centre = file.population(static_cast<std::uint32_t>(r), output::layout::Table::households, kCentre).read_all();
    record(t.reference, ref);
    collector.at_replicate(r), by_period.at_replicate(r);
    if (progress) progress(++done, panels);
    for (const auto& arm : info.arms) {
      if (arm == t.reference) continue;
      ArmData a = load_arm(file, arm, r, L, n, static_size, nullptr);
      a.centre = centre;
      record(arm, a);
      compare_pair(arm, t.reference, a, ref, groups, L, collector);
      compare_periods(arm, t.reference, a, ref, period_labels, by_period);
      if (progress) progress(++done, panels);
    }
  }
  t.rows = collector.rows();
  t.period_rows = by_period.rows();
  if (interaction) {
    std::vector<InteractionRow> rows(kInteractionOutcomeCount);
    for (std::size_t k = 0; k < kInteractionOutcomeCount; ++k)
      rows[k].outcome = kInteractionOutcomes[k].outcome, rows[k].statistic = kInteractionOutcomes[k].statistic,
      rows[k].unit = units[k];
    summarise_interaction(levels, rows);
    // Outcomes the file does not measure (no asset columns with the channels off) are left out.
    for (auto& row : rows)
      if (std::any_of(row.levels.begin(), row.levels.end(), [](double x) { return std::isfinite(x); }))
        t.interaction.rows.push_back(std::move(row));
    t.interaction.channels = info.channels;
    t.interaction.arm_channel_sets = info.arm_channel_sets;
  }
  return t;
}

bool has_comparison(hid_t file) { return output::has_comparison(file); }

bool has_panel(hid_t file) {
  const output::Reader in(file);
  if (!in.is_chacra_output()) return false;
  try {
    return in.has_panel(in.arms().front(), 0);
  } catch (const output::FileError&) {
    return false;  // no arms
  }
}

namespace {

// The table's columns: name, description, and the row field each holds.
struct TextColumn {
  const char* name;
  std::string ComparisonRow::*field;
  const char* description;
};
struct NumberColumn {
  const char* name;
  double ComparisonRow::*field;
  const char* description;
};
const TextColumn kTextColumns[] = {
    {"arm", &ComparisonRow::arm, "Arm compared"},
    {"reference", &ComparisonRow::reference, "Reference arm"},
    {"outcome", &ComparisonRow::outcome, "Outcome (docs/policy_arms.md)"},
    {"subgroup", &ComparisonRow::subgroup, "Households the statistic is computed on ('all' or a subgroup)"},
    {"statistic", &ComparisonRow::statistic,
     "final_year, horizon_mean, horizon_total, horizon_discounted, juntos_leavers, paired_difference_qNN, "
     "distribution_qNN"},
    {"unit", &ComparisonRow::unit, "Unit of mean_effect, ci_low, ci_high, arm_value and reference_value"},
    {"interval", &ComparisonRow::interval,
     "percentile (>= 20 replicates), t (2-19), single (1 replicate, zero width), none (undefined)"},
};
const NumberColumn kNumberColumns[] = {
    {"mean_effect", &ComparisonRow::mean_effect, "Mean over replicates of the effect (arm minus reference); NaN if undefined"},
    {"ci_low", &ComparisonRow::ci_low, "Lower end of the 95% interval"},
    {"ci_high", &ComparisonRow::ci_high, "Upper end of the 95% interval"},
    {"arm_value", &ComparisonRow::arm_value, "Mean over replicates of the arm's own level (NaN if not a level)"},
    {"reference_value", &ComparisonRow::reference_value,
     "Mean over replicates of the reference arm's level (NaN if not a level)"},
};
constexpr const char* kReplicatesColumn = "n_replicates";
constexpr const char* kPeriodColumn = "period";
// The split of a run with --posterior; NaN without one. Optional when read: files written before it lack them.
const NumberColumn kSplitColumns[] = {
    {"sd_parameter", &ComparisonRow::sd_parameter,
     "Runs with --posterior: sd of the replicate effects between pairs of replicates sharing a parameter draw (the "
     "parameters' uncertainty); NaN without a posterior"},
    {"sd_sampling", &ComparisonRow::sd_sampling,
     "Runs with --posterior: sd of the replicate effects within pairs (population, chance); NaN without a posterior"},
};
// The attribute of /comparison naming the posterior ensemble, "none" for a run without one.
constexpr const char* kPosteriorAttribute = "posterior";

// The rows as parallel record columns (with the period column for the effects per period).
std::vector<output::RecordColumn> row_columns(const std::vector<ComparisonRow>& rows, bool with_period) {
  std::vector<output::RecordColumn> out;
  for (const auto& c : kTextColumns) {
    output::RecordColumn col{c.name, c.description, true, {}, {}, ColumnType::f64};
    for (const auto& r : rows) col.strings.push_back(r.*(c.field));
    out.push_back(std::move(col));
  }
  if (with_period) {
    output::RecordColumn col{kPeriodColumn, "Output period of the effect (its label in /periods)", true, {}, {},
                             ColumnType::f64};
    for (const auto& r : rows) col.strings.push_back(r.period);
    out.push_back(std::move(col));
  }
  for (const auto& c : kNumberColumns) {
    output::RecordColumn col{c.name, c.description, false, {}, {}, ColumnType::f64};
    for (const auto& r : rows) col.numbers.push_back(r.*(c.field));
    out.push_back(std::move(col));
  }
  output::RecordColumn reps{kReplicatesColumn, "Replicates in which the effect is defined", false, {}, {}, ColumnType::i32};
  for (const auto& r : rows) reps.numbers.push_back(r.n_replicates);
  out.push_back(std::move(reps));
  for (const auto& c : kSplitColumns) {
    output::RecordColumn col{c.name, c.description, false, {}, {}, ColumnType::f64};
    for (const auto& r : rows) col.numbers.push_back(r.*(c.field));
    out.push_back(std::move(col));
  }
  return out;
}

// Rows back from record columns; throws ComparisonError naming a missing column.
std::vector<ComparisonRow> rows_of(const output::Records& in, bool with_period) {
  auto column = [&](const char* name, bool text) -> const output::RecordColumn& {
    const output::RecordColumn* c = in.column(name);
    if (!c || c->text != text)
      throw ComparisonError(std::string("the stored comparison has no column ") + name + " (damaged file?)");
    return *c;
  };
  const std::size_t n = in.rows();
  std::vector<ComparisonRow> rows(n);
  for (const auto& c : kTextColumns) {
    const auto& col = column(c.name, true);
    for (std::size_t i = 0; i < n; ++i) rows[i].*(c.field) = col.strings[i];
  }
  if (with_period) {
    const auto& col = column(kPeriodColumn, true);
    for (std::size_t i = 0; i < n; ++i) rows[i].period = col.strings[i];
  }
  for (const auto& c : kNumberColumns) {
    const auto& col = column(c.name, false);
    for (std::size_t i = 0; i < n; ++i) rows[i].*(c.field) = col.numbers[i];
  }
  const auto& reps = column(kReplicatesColumn, false);
  for (std::size_t i = 0; i < n; ++i) rows[i].n_replicates = static_cast<int>(reps.numbers[i]);
  for (const auto& c : kSplitColumns)
    if (const output::RecordColumn* col = in.column(c.name); col && !col->text)
      for (std::size_t i = 0; i < n; ++i) rows[i].*(c.field) = col->numbers[i];
  return rows;
}

// The interaction table's storage: the comparison's layout (parallel columns), with the four arms' levels.
constexpr const char* kInteractionGroup = "comparison/interaction";
constexpr const char* kNoChannel = "none";
struct InteractionText {
  const char* name;
  std::string InteractionRow::*field;
  const char* description;
};
struct InteractionNumber {
  const char* name;
  double InteractionRow::*field;
  const char* description;
};
const InteractionText kInteractionText[] = {
    {"outcome", &InteractionRow::outcome, "Outcome (docs/policy_arms.md)"},
    {"statistic", &InteractionRow::statistic, "final_year or horizon_mean, as in the comparison"},
    {"unit", &InteractionRow::unit, "Unit of the interaction, its interval and the arms' levels"},
    {"interval", &InteractionRow::interval, "t (2+ replicates), single (1 replicate, zero width), none (undefined)"},
};
const InteractionNumber kInteractionNumber[] = {
    {"mean_effect", &InteractionRow::mean, "Mean over replicates of both - juntos_only - hw_only + no_programme"},
    {"ci_low", &InteractionRow::ci_low, "Lower end of the 95% t interval over replicates"},
    {"ci_high", &InteractionRow::ci_high, "Upper end of the 95% t interval over replicates"},
};

output::Records interaction_records(const InteractionTable& t) {
  output::Records out;
  out.description =
      "Interaction of the two programmes: per replicate both - juntos_only - hw_only + no_programme on common random "
      "numbers, its mean over replicates and 95% t interval; 0 when the programmes add up. Definitions: "
      "docs/policy_arms.md";
  std::string channels, sets;
  for (const auto& c : t.channels) channels += (channels.empty() ? "" : ",") + c;
  for (const auto& a : t.arm_channel_sets) sets += (sets.empty() ? "" : ";") + a;
  out.attributes = {{"formula", std::string("both - juntos_only - hw_only + no_programme")},
                    {"channels", channels.empty() ? std::string(kNoChannel) : channels},
                    {"arm_channel_sets", sets.empty() ? std::string(kNoChannel) : sets}};
  out.arms = kInteractionArms;
  for (const auto& c : kInteractionText) {
    output::RecordColumn col{c.name, c.description, true, {}, {}, ColumnType::f64};
    for (const auto& r : t.rows) col.strings.push_back(r.*(c.field));
    out.columns.push_back(std::move(col));
  }
  for (const auto& c : kInteractionNumber) {
    output::RecordColumn col{c.name, c.description, false, {}, {}, ColumnType::f64};
    for (const auto& r : t.rows) col.numbers.push_back(r.*(c.field));
    out.columns.push_back(std::move(col));
  }
  for (std::size_t a = 0; a < kInteractionArms.size(); ++a) {
    output::RecordColumn col{kInteractionArms[a] + "_value", "Mean over replicates of arm " + kInteractionArms[a] +
                             "'s level", false, {}, {}, ColumnType::f64};
    for (const auto& r : t.rows) col.numbers.push_back(r.levels[a]);
    out.columns.push_back(std::move(col));
  }
  output::RecordColumn reps{kReplicatesColumn, "Replicates in which all four arms define the outcome", false, {}, {},
                            ColumnType::i32};
  for (const auto& r : t.rows) reps.numbers.push_back(r.n_replicates);
  out.columns.push_back(std::move(reps));
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty() || s == kNoChannel) return out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) out.push_back(s.substr(start, i - start)), start = i + 1;
  return out;
}

InteractionTable read_interaction(const output::Records& in) {
  InteractionTable t;
  t.channels = split(text(in.attribute("channels")), ',');
  t.arm_channel_sets = split(text(in.attribute("arm_channel_sets")), ';');
  auto column = [&](const std::string& name, bool is_text) -> const output::RecordColumn& {
    const output::RecordColumn* c = in.column(name);
    if (!c || c->text != is_text)
      throw ComparisonError("the stored interaction table has no column " + name + " (damaged file?)");
    return *c;
  };
  const std::size_t n = in.rows();
  t.rows.resize(n);
  for (const auto& c : kInteractionText) {
    const auto& col = column(c.name, true);
    for (std::size_t i = 0; i < n; ++i) t.rows[i].*(c.field) = col.strings[i];
  }
  for (const auto& c : kInteractionNumber) {
    const auto& col = column(c.name, false);
    for (std::size_t i = 0; i < n; ++i) t.rows[i].*(c.field) = col.numbers[i];
  }
  for (const auto& arm : kInteractionArms) {
    const auto& col = column(arm + "_value", false);
    for (std::size_t i = 0; i < n; ++i) t.rows[i].levels.push_back(col.numbers[i]);
  }
  const auto& reps = column(kReplicatesColumn, false);
  for (std::size_t i = 0; i < n; ++i) t.rows[i].n_replicates = static_cast<int>(reps.numbers[i]);
  return t;
}

}  // namespace

output::Records comparison_records(const ComparisonTable& t) {
  output::Records out;
  out.description =
      "Effects of each arm against the reference arm on common random numbers, with 95% intervals over replicates; "
      "one row per (arm, outcome, subgroup, statistic) across the parallel datasets. Definitions: "
      "docs/policy_arms.md";
  out.attributes = {{"reference_arm", t.reference},
                    {"replicates", static_cast<long long>(t.replicates)},
                    {"final_period", t.final_period},
                    {"final_year", t.final_year},
                    {"horizon", t.horizon},
                    {"discount_rate", t.discount_rate},
                    {kPosteriorAttribute, t.posterior.empty() ? std::string("none") : t.posterior}};
  out.arms = t.arms;
  out.notes = t.notes;
  out.columns = row_columns(t.rows, false);
  return out;
}

void write_comparison(hid_t file, const ComparisonTable& t) {
  const output::Records out = comparison_records(t);
  output::write_comparison(file, out);
  // The effects per period, apart, so the table above keeps one row per (arm, outcome, subgroup, statistic).
  output::Records by_period = out;
  by_period.description = "Effects of each arm against the reference arm in each output period, with 95% intervals "
                          "over replicates (statistic period); the attributes and lists of /comparison apply";
  by_period.lists = false;
  by_period.columns = row_columns(t.period_rows, true);
  output::write_records(file, output::layout::kComparisonByPeriod, by_period);
  if (!t.interaction.rows.empty()) output::write_records(file, kInteractionGroup, interaction_records(t.interaction));
}

ComparisonTable read_comparison(hid_t file) {
  h5::quiet_errors();
  ComparisonTable t = comparison_from_records(output::read_comparison(file));
  // Files stored before the attribute: the run's provenance says whether it drew from a posterior.
  if (t.posterior.empty()) t.posterior = text(output::Reader(file).provenance("posterior_file"));
  // Files written before the effects per period have none (has_period_comparison tells).
  if (output::has_records(file, output::layout::kComparisonByPeriod, "arm"))
    t.period_rows = rows_of(output::read_records(file, output::layout::kComparisonByPeriod), true);
  if (h5::exists(file, kInteractionGroup)) t.interaction = read_interaction(output::read_records(file, kInteractionGroup));
  return t;
}

ComparisonTable comparison_from_records(const output::Records& in) {
  ComparisonTable t;
  auto attr_text = [&](const char* name) {
    const auto v = in.attribute(name);
    const std::string* s = v ? std::get_if<std::string>(&*v) : nullptr;
    if (!s) throw ComparisonError(std::string("the stored comparison has no attribute ") + name + " (damaged file?)");
    return *s;
  };
  t.reference = attr_text("reference_arm");
  t.replicates = static_cast<int>(number(in.attribute("replicates")).value_or(0));
  t.final_period = attr_text("final_period");
  t.final_year = attr_text("final_year");
  t.horizon = attr_text("horizon");
  t.discount_rate = number(in.attribute("discount_rate")).value_or(kNaN);
  if (const std::string p = text(in.attribute(kPosteriorAttribute)); p != "none") t.posterior = p;
  t.arms = in.arms;
  t.notes = in.notes;
  t.rows = rows_of(in, false);
  return t;
}

bool has_period_comparison(hid_t file) {
  return output::has_records(file, output::layout::kComparisonByPeriod, "arm");
}

std::string format_comparison_by_period(const ComparisonTable& table, const std::string& format) {
  if (format == "table") return format_period_table(table);
  if (format == "csv") return format_csv(table.period_rows, true, &table);
  if (format == "json") return format_json(table.period_rows, true, &table);
  throw std::invalid_argument("comparison format must be table, csv or json, got '" + format + "'");
}

std::string format_comparison(const ComparisonTable& table, const std::string& format, bool full) {
  if (format == "table") return format_table(table, full);
  if (format == "csv") {
    std::vector<ComparisonRow> rows = table.rows;
    for (const auto& r : table.interaction.rows) rows.push_back(as_comparison_row(r));
    return format_csv(rows, false, &table);
  }
  if (format == "json") return format_json(table.rows, false, &table, &table.interaction);
  throw std::invalid_argument("comparison format must be table, csv or json, got '" + format + "'");
}

std::uint64_t comparison_memory_bytes(std::uint64_t households, std::uint64_t periods, std::uint64_t tech_width) {
  // What load_arm allocates for one arm when every variable is present (see make_outcome): final-year
  // values of 11 + 2W outcomes, denominators of the 5 + W ratio outcomes, horizon values of 10 + W outcomes
  // and 3 horizon denominators; eight per-household totals; the poverty status of every period (a byte).
  // Two arms are held at once (the reference and the compared arm), plus subgroup masks, sizes and the
  // paired differences being summarised (about 128 bytes).
  const std::uint64_t doubles = (11 + 2 * tech_width) + (5 + tech_width) + (10 + tech_width) + 3 + 8;
  const std::uint64_t per_arm = 8 * doubles + periods;
  std::uint64_t per_household = 0, total = 0;
  if (__builtin_add_overflow(2 * per_arm, std::uint64_t{128}, &per_household) ||
      __builtin_mul_overflow(households, per_household, &total))
    return std::numeric_limits<std::uint64_t>::max();
  return total;
}

namespace {

// The panel's (households, periods, technology columns) as the comparison will read them.
std::array<std::uint64_t, 3> panel_shape(hid_t file_id) {
  const output::Reader file(file_id);
  const std::string& arm = file.arms().front();
  std::uint64_t households = 0, periods = 0, width = 0;
  for (const auto& var : file.panel_variables(arm, 0)) {
    const PeriodReader r(file.panel(arm, 0, var));
    households = std::max<std::uint64_t>(households, r.households);
    periods = std::max<std::uint64_t>(periods, r.periods);
    if (var == kTech) width = r.width;
  }
  return {households, periods, width};
}

}  // namespace

void finalize_run_comparison(hid_t file, RunComparison& out) {
  out = RunComparison{};
  if (!has_panel(file)) {
    out.note = "no comparison: the run wrote no household panel (output.panel: false)";
    return;
  }
  // The comparison holds two arms' household outcomes at once. A population split across MPI ranks (or
  // one near the memory limit) may not leave room for it on this process: then the finished panel is kept
  // without /comparison rather than lost to an out-of-memory kill, and `chacra compare` computes the same
  // table later on a machine with more memory.
  const auto [households, periods, width] = panel_shape(file);
  const std::uint64_t need = comparison_memory_bytes(households, periods, width);
  const std::uint64_t limit = memory_limit_bytes(), in_use = resident_bytes();
  const std::uint64_t room = limit * 9 / 10 > in_use ? limit * 9 / 10 - in_use : 0;
  if (need > room) {
    out.note = "no comparison: it needs about " + std::to_string(need >> 20) + " MiB for " +
               std::to_string(households) + " households, and " + std::to_string(room >> 20) +
               " MiB are left (limit " + std::to_string(limit >> 20) + " MiB, " + std::to_string(in_use >> 20) +
               " MiB in use); the panel is complete: run `chacra compare` on the output on a machine with more "
               "memory";
    return;
  }
  out.table = compare_file(file, "");
  write_comparison(file, out.table);
  out.available = true;
}

std::string format_run_comparison(const RunComparison& c, bool full) {
  if (!c.available) return c.note.empty() ? std::string() : c.note + "\n";
  if (c.table.arms.size() < 2) return "";
  return "\n" + format_comparison(c.table, "table", full);
}

}  // namespace chacra::study
