// File: study/population_summary.hpp
// What `chacra population summary` prints (docs/population.md): how the synthetic population places poverty
// in space. For each replicate's population the first month runs with Juntos on from the start, then the
// summary reports, across population centres, the dispersion of the Juntos share (affiliated households) and
// of the UBN share, the correlations between district poverty, centre UBN, Juntos share, market access, water,
// altitude and land, the same by region, and how many centres each Haku Winay targeting rule makes eligible.
#pragma once

#include "models/hw_targeting.hpp"
#include "sim/params.hpp"
#include "sim/world.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chacra::study::population {

// One population centre after the first month.
struct CentreRow {
  std::uint32_t replicate = 0;
  std::uint32_t district = 0;
  Region region = Region::southern_highlands;
  std::uint32_t households = 0;
  bool juntos_district = false;  // district poverty above juntos.district_poverty_threshold
  double district_poverty = 0.0;
  double ubn_share = 0.0;
  double juntos_share = 0.0;  // households affiliated to Juntos (enrolled or suspended) / households
  double market_access = 0.0;
  double water_share = 0.0;
  double altitude_m = 0.0;
  double land_ha = 0.0;  // mean land of the centre's households
  std::uint32_t juntos_households = 0;
  bool eligible_2017 = false;  // eligible under Haku Winay's 2017 rule (haku_winay.* thresholds)
};

// The variables of the correlation table, in its order (CentreRow fields).
inline const std::vector<std::string> kCorrelationVariables = {
    "district_poverty", "ubn_share", "juntos_share", "market_access", "water_share", "altitude_m", "land_ha"};

// Replicate `replicate`'s population under `params` (the scenario's base parameters) after month 0, with
// juntos.enabled = true and juntos.start_month = 0 (so that the Juntos share is the first month's enrolment
// whatever the scenario's base arm does): its centres and the eligibility reports of the targeting rules.
struct ReplicatePopulation {
  std::size_t districts = 0;
  std::size_t households = 0;
  std::vector<CentreRow> centres;
  std::vector<models::EligibilityReport> eligibility;
};
ReplicatePopulation observe_population(const ParamSet& params, std::uint32_t replicate);

// The distribution of one centre variable over a set of centres.
struct Dispersion {
  std::string variable;  // juntos_share or ubn_share
  std::string centres;   // "all" or "juntos_districts"
  std::size_t n = 0;
  double mean = 0.0, sd = 0.0, p10 = 0.0, p25 = 0.0, p50 = 0.0, p75 = 0.0, p90 = 0.0;
  std::vector<double> thresholds;  // the shares of centres at or above each threshold
  std::vector<double> at_or_above;
  double between_district_share = 0.0;  // 1 - within-district sum of squares / total sum of squares
};

// What ranking the centres eligible under the 2017 rule changes: the first centres in one order that hold
// `households_share` of the eligible households (a year's rollout quota), and the Juntos households among them.
// Without concentration every order reaches about the eligible centres' own Juntos share.
struct Ranking {
  std::string order;  // juntos_share (highest first, as haku_winay.rank_by_juntos_share), ubn_share, index
  double households_share = 0.25;
  std::size_t centres = 0, households = 0, juntos_households = 0;
  double juntos_share = 0.0;        // juntos_households / households
  double lift = 0.0;                // juntos_share / the Juntos share of all eligible households
  double juntos_coverage = 0.0;     // juntos_households / Juntos households of all eligible centres
  double market_access = 0.0;       // mean market access of the households reached
  double eligible_market_access = 0.0;  // the same over all eligible households
};
// The share of eligible households the summary's rankings take.
inline constexpr double kRankedHouseholdsShare = 0.25;
// Rankings of the eligible centres of `rows` (one replicate) by each order (ties by replicate and centre index).
std::vector<Ranking> rank_eligible(const std::vector<CentreRow>& rows, double households_share);

// Means over the centres (district poverty: over the districts) of one region.
struct RegionRow {
  std::string region;
  std::size_t districts = 0, centres = 0, households = 0;
  double district_poverty = 0.0, ubn_share = 0.0, juntos_share = 0.0, market_access = 0.0, water_share = 0.0,
         altitude_m = 0.0, land_ha = 0.0;
};

struct Summary {
  std::string scenario;
  std::string geography;  // population.geography
  int replicates = 0;
  std::int64_t population_seed = 0;
  std::size_t households = 0, districts = 0, centres = 0;  // summed over replicates
  std::vector<Dispersion> dispersion;
  std::vector<std::vector<double>> correlations;  // kCorrelationVariables x kCorrelationVariables, over centres
  std::vector<RegionRow> regions;
  std::vector<models::EligibilityReport> eligibility;  // counts summed over replicates
  std::vector<Ranking> rankings;                       // per replicate, then pooled (counts summed)
};

// Pools replicates 0 .. replicates-1. `progress`, when set, is told the populations built of those to build.
Summary summarise(const std::string& scenario, const ParamSet& params, int replicates,
                  const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {});
// Computes the summary of the given centres and reports (pure; `summarise` feeds it).
Summary summarise_centres(const std::string& scenario, const ParamSet& params, int replicates,
                          const std::vector<ReplicatePopulation>& populations);

// "table" (Markdown tables, as docs/population.md shows them) or "json".
std::string format_summary(const Summary& summary, const std::string& format);

}  // namespace chacra::study::population
