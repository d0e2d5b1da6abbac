// File: study/population_summary.cpp
// The population summary of `chacra population summary` (see population_summary.hpp).
#include "study/population_summary.hpp"

#include "models/registry.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/population.hpp"
#include "study/stats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace chacra::study::population {

namespace {

// The shares of a ranking from its counts, against the eligible centres' Juntos share and Juntos households.
// (market_access and eligible_market_access arrive as household-weighted sums.)
void finish_ranking(Ranking& r, double eligible_juntos_share, std::size_t eligible_juntos,
                    std::size_t eligible_households) {
  r.juntos_share = r.households > 0 ? static_cast<double>(r.juntos_households) / static_cast<double>(r.households) : 0.0;
  r.lift = eligible_juntos_share > 0.0 ? r.juntos_share / eligible_juntos_share : 0.0;
  r.juntos_coverage =
      eligible_juntos > 0 ? static_cast<double>(r.juntos_households) / static_cast<double>(eligible_juntos) : 0.0;
  r.market_access = r.households > 0 ? r.market_access / static_cast<double>(r.households) : 0.0;
  r.eligible_market_access =
      eligible_households > 0 ? r.eligible_market_access / static_cast<double>(eligible_households) : 0.0;
}

}  // namespace

ReplicatePopulation observe_population(const ParamSet& base, std::uint32_t replicate) {
  ParamSet params = base;
  params.set("juntos.enabled", true);
  params.set("juntos.start_month", std::int64_t{0});
  World w = generate_population(params, replicate);
  Model model = models::build_model(params);
  const rng::StreamSeed seed{static_cast<std::uint64_t>(params.integer("run.seed")), replicate};
  for (auto& m : model.modules) m->setup(w, params, seed);
  Stepper stepper(w, model.month, params, seed);
  stepper.step(0);

  ReplicatePopulation out;
  out.districts = w.district_count();
  out.households = w.household_count();
  const auto* c_district = w.centres.get(col::centre_district);
  const auto* ubn = w.centres.get(col::centre_ubn_share);
  const auto* market = w.centres.get(col::centre_market_access);
  const auto* water = w.centres.get(col::centre_water_share);
  const auto* altitude = w.centres.get(col::centre_altitude_m);
  const auto* poverty = w.districts.get(col::district_poverty_rate);
  const auto* region = w.districts.get(col::district_region);
  const auto* land = w.households.get(col::land_ha);
  const auto* juntos = w.households.get(models::col::juntos_enrolled);
  const double threshold = params.real("juntos.district_poverty_threshold");
  const auto rule_2017 = models::TargetingRule::preset(models::HwTargetingPreset::rule_2017, params);
  const auto profiles = models::centre_profiles(w, rule_2017);
  out.centres.reserve(w.centre_count());
  for (std::size_t c = 0; c < w.centre_count(); ++c) {
    CentreRow r;
    r.replicate = replicate;
    r.district = c_district[c];
    r.region = static_cast<Region>(region[r.district]);
    r.households = w.centre_first[c + 1] - w.centre_first[c];
    r.district_poverty = poverty[r.district];
    r.juntos_district = poverty[r.district] > threshold;
    r.ubn_share = ubn[c];
    r.market_access = market[c];
    r.water_share = water[c];
    r.altitude_m = altitude[c];
    double land_sum = 0.0;
    std::uint32_t affiliated = 0;
    for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) {
      land_sum += land[i];
      affiliated += juntos[i] != 0 ? 1u : 0u;
    }
    r.land_ha = r.households > 0 ? land_sum / r.households : 0.0;
    r.juntos_share = r.households > 0 ? static_cast<double>(affiliated) / r.households : 0.0;
    r.juntos_households = affiliated;
    r.eligible_2017 = models::centre_eligible(rule_2017, profiles[c]);
    out.centres.push_back(r);
  }
  out.eligibility = models::eligibility_reports(w, params);
  return out;
}

std::vector<Ranking> rank_eligible(const std::vector<CentreRow>& rows, double households_share) {
  std::vector<std::size_t> eligible;
  std::size_t households = 0, juntos = 0;
  double market = 0.0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].eligible_2017) continue;
    eligible.push_back(i);
    households += rows[i].households;
    juntos += rows[i].juntos_households;
    market += rows[i].market_access * rows[i].households;
  }
  const double overall = households > 0 ? static_cast<double>(juntos) / static_cast<double>(households) : 0.0;
  std::vector<Ranking> out;
  for (const char* order : {"juntos_share", "ubn_share", "index"}) {
    std::vector<std::size_t> ranked = eligible;
    const std::string o = order;
    // Highest first, ties by position (the rollout's stable sort over centre indices).
    std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) {
      if (o == "juntos_share") return rows[a].juntos_share > rows[b].juntos_share;
      if (o == "ubn_share") return rows[a].ubn_share > rows[b].ubn_share;
      return false;
    });
    Ranking r;
    r.order = o;
    r.households_share = households_share;
    const double quota = households_share * static_cast<double>(households);
    // Whole centres in order until the quota is reached (the last one may pass it).
    for (std::size_t i : ranked) {
      if (static_cast<double>(r.households) >= quota) break;
      ++r.centres;
      r.households += rows[i].households;
      r.juntos_households += rows[i].juntos_households;
      r.market_access += rows[i].market_access * rows[i].households;
    }
    r.eligible_market_access = market;
    finish_ranking(r, overall, juntos, households);
    out.push_back(r);
  }
  return out;
}

namespace {

double field(const CentreRow& r, const std::string& name) {
  if (name == "district_poverty") return r.district_poverty;
  if (name == "ubn_share") return r.ubn_share;
  if (name == "juntos_share") return r.juntos_share;
  if (name == "market_access") return r.market_access;
  if (name == "water_share") return r.water_share;
  if (name == "altitude_m") return r.altitude_m;
  if (name == "land_ha") return r.land_ha;
  throw std::logic_error("population summary: no centre variable '" + name + "'");
}

// Share of the centre-to-centre variance of `name` that lies between districts (of the same replicate).
double between_district_share(const std::vector<const CentreRow*>& rows, const std::string& name) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::pair<double, std::size_t>> sums;
  double total = 0.0;
  for (const CentreRow* r : rows) {
    auto& s = sums[{r->replicate, r->district}];
    s.first += field(*r, name);
    ++s.second;
    total += field(*r, name);
  }
  const double grand = total / static_cast<double>(rows.size());
  double sst = 0.0, ssw = 0.0;
  for (const CentreRow* r : rows) {
    const auto& s = sums[{r->replicate, r->district}];
    const double x = field(*r, name), district_mean = s.first / static_cast<double>(s.second);
    sst += (x - grand) * (x - grand);
    ssw += (x - district_mean) * (x - district_mean);
  }
  return sst > 0.0 ? 1.0 - ssw / sst : 0.0;
}

Dispersion dispersion(const std::vector<const CentreRow*>& rows, const std::string& variable, const std::string& subset,
                      std::vector<double> thresholds) {
  Dispersion d;
  d.variable = variable;
  d.centres = subset;
  d.n = rows.size();
  d.thresholds = std::move(thresholds);
  if (rows.size() < 2) return d;
  std::vector<double> v;
  v.reserve(rows.size());
  for (const CentreRow* r : rows) v.push_back(field(*r, variable));
  d.mean = stats::mean(v);
  d.sd = stats::stddev(v);
  const auto q = stats::quantiles(v, {0.1, 0.25, 0.5, 0.75, 0.9});
  d.p10 = q[0], d.p25 = q[1], d.p50 = q[2], d.p75 = q[3], d.p90 = q[4];
  for (double t : d.thresholds) {
    // A centre meets a targeting threshold at or above it (in float, as the rules compare).
    const auto n = std::count_if(v.begin(), v.end(), [t](double x) { return x >= t - 1e-9; });
    d.at_or_above.push_back(static_cast<double>(n) / static_cast<double>(v.size()));
  }
  d.between_district_share = between_district_share(rows, variable);
  return d;
}

}  // namespace

Summary summarise_centres(const std::string& scenario, const ParamSet& params, int replicates,
                          const std::vector<ReplicatePopulation>& populations) {
  Summary s;
  s.scenario = scenario;
  s.geography = params.choice("population.geography");
  s.replicates = replicates;
  s.population_seed = params.integer("population.seed");
  std::vector<const CentreRow*> all, juntos_districts;
  for (const auto& p : populations) {
    s.households += p.households;
    s.districts += p.districts;
    s.centres += p.centres.size();
    for (const auto& c : p.centres) {
      all.push_back(&c);
      if (c.juntos_district) juntos_districts.push_back(&c);
    }
  }
  const double focalised = params.real("haku_winay.focalised_min_juntos_share");
  const double min_ubn = params.real("haku_winay.min_ubn_share");
  const std::vector<double> juntos_thresholds = {0.1, focalised, 0.5};
  const std::vector<double> ubn_thresholds = {min_ubn - 0.1, min_ubn, min_ubn + 0.1};
  s.dispersion.push_back(dispersion(all, "juntos_share", "all", juntos_thresholds));
  s.dispersion.push_back(dispersion(juntos_districts, "juntos_share", "juntos_districts", juntos_thresholds));
  s.dispersion.push_back(dispersion(all, "ubn_share", "all", ubn_thresholds));
  s.dispersion.push_back(dispersion(juntos_districts, "ubn_share", "juntos_districts", ubn_thresholds));

  const std::size_t k = kCorrelationVariables.size();
  std::vector<std::vector<double>> columns(k);
  for (std::size_t j = 0; j < k; ++j)
    for (const CentreRow* r : all) columns[j].push_back(field(*r, kCorrelationVariables[j]));
  s.correlations.assign(k, std::vector<double>(k, 1.0));
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = 0; b < a; ++b)
      s.correlations[a][b] = s.correlations[b][a] =
          all.size() >= 2 ? stats::correlation(columns[a], columns[b]) : std::nan("");

  for (auto region : {Region::southern_highlands, Region::northern_highlands, Region::amazon}) {
    RegionRow row;
    row.region = region_name(region);
    std::map<std::pair<std::uint32_t, std::uint32_t>, double> district_poverty;
    for (const CentreRow* r : all) {
      if (r->region != region) continue;
      ++row.centres;
      row.households += r->households;
      district_poverty[{r->replicate, r->district}] = r->district_poverty;
      row.ubn_share += r->ubn_share;
      row.juntos_share += r->juntos_share;
      row.market_access += r->market_access;
      row.water_share += r->water_share;
      row.altitude_m += r->altitude_m;
      row.land_ha += r->land_ha;
    }
    row.districts = district_poverty.size();
    for (const auto& [key, poverty] : district_poverty) row.district_poverty += poverty;
    if (row.districts > 0) row.district_poverty /= static_cast<double>(row.districts);
    if (row.centres > 0) {
      const double n = static_cast<double>(row.centres);
      for (double* x : {&row.ubn_share, &row.juntos_share, &row.market_access, &row.water_share, &row.altitude_m,
                        &row.land_ha})
        *x /= n;
    }
    s.regions.push_back(row);
  }

  for (const auto& p : populations) {
    if (s.eligibility.empty()) {
      s.eligibility = p.eligibility;
      continue;
    }
    for (std::size_t i = 0; i < p.eligibility.size() && i < s.eligibility.size(); ++i) {
      auto& to = s.eligibility[i];
      const auto& from = p.eligibility[i];
      to.centres += from.centres;
      to.eligible_centres += from.eligible_centres;
      to.households += from.households;
      to.eligible_households += from.eligible_households;
      to.juntos_households += from.juntos_households;
      to.eligible_juntos_households += from.eligible_juntos_households;
    }
  }
  // Rankings within each replicate (a rollout ranks one population); counts and household-weighted sums pooled.
  std::size_t eligible_households = 0, eligible_juntos = 0;
  double eligible_market = 0.0;
  for (const auto& p : populations) {
    for (const auto& c : p.centres) {
      if (!c.eligible_2017) continue;
      eligible_households += c.households;
      eligible_juntos += c.juntos_households;
      eligible_market += c.market_access * c.households;
    }
    const auto one = rank_eligible(p.centres, kRankedHouseholdsShare);
    if (s.rankings.empty()) {
      s.rankings = one;
      for (auto& r : s.rankings) r.centres = r.households = r.juntos_households = 0, r.market_access = 0.0;
    }
    for (std::size_t i = 0; i < one.size(); ++i) {
      auto& to = s.rankings[i];
      to.centres += one[i].centres;
      to.households += one[i].households;
      to.juntos_households += one[i].juntos_households;
      to.market_access += one[i].market_access * static_cast<double>(one[i].households);
    }
  }
  const double eligible_share =
      eligible_households > 0 ? static_cast<double>(eligible_juntos) / static_cast<double>(eligible_households) : 0.0;
  for (auto& r : s.rankings) {
    r.eligible_market_access = eligible_market;
    finish_ranking(r, eligible_share, eligible_juntos, eligible_households);
  }

  for (auto& r : s.eligibility) {
    r.juntos_share_of_eligible =
        r.eligible_households > 0 ? static_cast<double>(r.eligible_juntos_households) / r.eligible_households : 0.0;
    r.juntos_coverage =
        r.juntos_households > 0 ? static_cast<double>(r.eligible_juntos_households) / r.juntos_households : 0.0;
  }
  return s;
}

Summary summarise(const std::string& scenario, const ParamSet& params, int replicates,
                  const std::function<void(std::uint64_t done, std::uint64_t total)>& progress) {
  if (replicates < 1) throw std::invalid_argument("population summary: at least one replicate");
  std::vector<ReplicatePopulation> populations;
  const auto total = static_cast<std::uint64_t>(replicates);
  if (progress) progress(0, total);
  for (int r = 0; r < replicates; ++r) {
    populations.push_back(observe_population(params, static_cast<std::uint32_t>(r)));
    if (progress) progress(static_cast<std::uint64_t>(r) + 1, total);
  }
  return summarise_centres(scenario, params, replicates, populations);
}

// ---------------------------------------------------------------------------------------------------------
// Formats

namespace {

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& c : cells) out += " " + c + " |";
  return out + "\n";
}

std::string rule(std::size_t n) {
  std::string out = "|";
  for (std::size_t i = 0; i < n; ++i) out += "---|";
  return out + "\n";
}

const char* subset_words(const std::string& subset) {
  return subset == "all" ? "all centres" : "centres of Juntos districts";
}

const char* order_words(const std::string& order) {
  return order == "juntos_share" ? "Juntos share (highest first)"
         : order == "ubn_share"  ? "UBN share (highest first)"
                                 : "centre index (no ranking)";
}

std::string format_table(const Summary& s) {
  std::ostringstream os;
  os << "Population of scenario '" << s.scenario << "': " << s.geography << " geography, " << s.replicates
     << " replicate(s) (population.seed " << s.population_seed << "), " << s.households << " households in "
     << s.centres << " centres of " << s.districts << " districts. Juntos share: households affiliated after "
     << "the first month, with Juntos on from the start.\n";
  for (const char* variable : {"juntos_share", "ubn_share"}) {
    const Dispersion* first = nullptr;
    for (const auto& d : s.dispersion)
      if (d.variable == variable) first = first ? first : &d;
    if (first == nullptr) continue;
    os << "\n" << (std::string(variable) == "juntos_share" ? "Juntos share" : "UBN share") << " across centres\n\n";
    std::vector<std::string> head = {"centres", "n", "mean", "sd", "p10", "p25", "p50", "p75", "p90"};
    for (double t : first->thresholds) head.push_back(">= " + fixed(t, 2));
    head.push_back("between districts");
    os << row(head) << rule(head.size());
    for (const auto& d : s.dispersion) {
      if (d.variable != variable) continue;
      std::vector<std::string> cells = {subset_words(d.centres), std::to_string(d.n), fixed(d.mean, 3), fixed(d.sd, 3),
                                        fixed(d.p10, 3), fixed(d.p25, 3), fixed(d.p50, 3), fixed(d.p75, 3),
                                        fixed(d.p90, 3)};
      for (double a : d.at_or_above) cells.push_back(fixed(a, 3));
      cells.push_back(fixed(d.between_district_share, 3));
      os << row(cells);
    }
  }
  os << "\nCorrelations across centres\n\n";
  std::vector<std::string> head = {""};
  for (const auto& v : kCorrelationVariables) head.push_back(v);
  os << row(head) << rule(head.size());
  for (std::size_t a = 0; a < kCorrelationVariables.size(); ++a) {
    std::vector<std::string> cells = {kCorrelationVariables[a]};
    for (std::size_t b = 0; b < kCorrelationVariables.size(); ++b) cells.push_back(fixed(s.correlations[a][b], 2));
    os << row(cells);
  }
  os << "\nBy region (means over centres; district poverty over districts)\n\n";
  head = {"region", "districts", "centres", "households", "district_poverty", "ubn_share", "juntos_share",
          "market_access", "water_share", "altitude_m", "land_ha"};
  os << row(head) << rule(head.size());
  for (const auto& r : s.regions) {
    os << row({r.region, std::to_string(r.districts), std::to_string(r.centres), std::to_string(r.households),
               fixed(r.district_poverty, 3), fixed(r.ubn_share, 3), fixed(r.juntos_share, 3), fixed(r.market_access, 3),
               fixed(r.water_share, 3), fixed(r.altitude_m, 0), fixed(r.land_ha, 2)});
  }
  os << "\nHaku Winay targeting rules on this population (eligibility reports)\n\n";
  head = {"rule", "centres", "eligible", "households", "eligible_hh", "juntos_share", "juntos_cover"};
  os << row(head) << rule(head.size());
  for (const auto& r : s.eligibility) {
    os << row({r.rule, std::to_string(r.centres), std::to_string(r.eligible_centres), std::to_string(r.households),
               std::to_string(r.eligible_households), fixed(r.juntos_share_of_eligible, 3),
               fixed(r.juntos_coverage, 3)});
  }
  if (!s.rankings.empty()) {
    os << "\nRanking the centres eligible under rule_2017: the first centres holding "
       << fixed(100.0 * s.rankings.front().households_share, 0)
       << "% of their households (a year's quota), per replicate\n\n";
    head = {"order", "centres", "households", "juntos_households", "juntos_share", "lift", "juntos_cover",
            "market_access"};
    os << row(head) << rule(head.size());
    for (const auto& r : s.rankings)
      os << row({order_words(r.order), std::to_string(r.centres), std::to_string(r.households),
                 std::to_string(r.juntos_households), fixed(r.juntos_share, 3), fixed(r.lift, 3),
                 fixed(r.juntos_coverage, 3), fixed(r.market_access, 3)});
    os << "\nAll eligible households: Juntos share " << fixed(s.rankings.front().juntos_share / s.rankings.front().lift, 3)
       << ", market access " << fixed(s.rankings.front().eligible_market_access, 3) << ".\n";
  }
  return os.str();
}

nlohmann::ordered_json number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nullptr; }

std::string format_json(const Summary& s) {
  nlohmann::ordered_json j;
  j["scenario"] = s.scenario;
  j["geography"] = s.geography;
  j["replicates"] = s.replicates;
  j["population_seed"] = s.population_seed;
  j["households"] = s.households;
  j["districts"] = s.districts;
  j["centres"] = s.centres;
  auto dispersion = nlohmann::ordered_json::array();
  for (const auto& d : s.dispersion) {
    auto above = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < d.thresholds.size(); ++i)
      above.push_back({{"threshold", d.thresholds[i]}, {"share_of_centres", number(d.at_or_above[i])}});
    dispersion.push_back({{"variable", d.variable}, {"centres", d.centres}, {"n", d.n}, {"mean", number(d.mean)},
                          {"sd", number(d.sd)}, {"p10", number(d.p10)}, {"p25", number(d.p25)},
                          {"p50", number(d.p50)}, {"p75", number(d.p75)}, {"p90", number(d.p90)},
                          {"at_or_above", above}, {"between_district_share", number(d.between_district_share)}});
  }
  j["dispersion"] = dispersion;
  auto matrix = nlohmann::ordered_json::array();
  for (const auto& r : s.correlations) {
    auto line = nlohmann::ordered_json::array();
    for (double x : r) line.push_back(number(x));
    matrix.push_back(line);
  }
  j["correlations"] = {{"variables", kCorrelationVariables}, {"matrix", matrix}};
  auto regions = nlohmann::ordered_json::array();
  for (const auto& r : s.regions)
    regions.push_back({{"region", r.region}, {"districts", r.districts}, {"centres", r.centres},
                       {"households", r.households}, {"district_poverty", number(r.district_poverty)},
                       {"ubn_share", number(r.ubn_share)}, {"juntos_share", number(r.juntos_share)},
                       {"market_access", number(r.market_access)}, {"water_share", number(r.water_share)},
                       {"altitude_m", number(r.altitude_m)}, {"land_ha", number(r.land_ha)}});
  j["regions"] = regions;
  auto rules = nlohmann::ordered_json::array();
  for (const auto& r : s.eligibility)
    rules.push_back({{"rule", r.rule}, {"centres", r.centres}, {"eligible_centres", r.eligible_centres},
                     {"households", r.households}, {"eligible_households", r.eligible_households},
                     {"juntos_households", r.juntos_households},
                     {"eligible_juntos_households", r.eligible_juntos_households},
                     {"juntos_share_of_eligible", number(r.juntos_share_of_eligible)},
                     {"juntos_coverage", number(r.juntos_coverage)}});
  j["eligibility"] = rules;
  auto rankings = nlohmann::ordered_json::array();
  for (const auto& r : s.rankings)
    rankings.push_back({{"order", r.order}, {"households_share", r.households_share}, {"centres", r.centres},
                        {"households", r.households}, {"juntos_households", r.juntos_households},
                        {"juntos_share", number(r.juntos_share)}, {"lift", number(r.lift)},
                        {"juntos_coverage", number(r.juntos_coverage)}, {"market_access", number(r.market_access)},
                        {"eligible_market_access", number(r.eligible_market_access)}});
  j["rankings"] = rankings;
  return j.dump(2) + "\n";
}

}  // namespace

std::string format_summary(const Summary& summary, const std::string& format) {
  if (format == "table") return format_table(summary);
  if (format == "json") return format_json(summary);
  throw std::invalid_argument("population summary format must be table or json, got '" + format + "'");
}

}  // namespace chacra::study::population
