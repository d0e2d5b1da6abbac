// The engine's own parameters, declared once (sim/param_spec.hpp): the synthetic population (population.*),
// the run (run.*) and what the output records (output.*).
#pragma once

#include "sim/param_spec.hpp"
#include "sim/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chacra {

// How the generator places poverty in space (population.geography): independent draws per district, centre
// and household (the generator before the correlated geography, kept bit for bit), or the correlated one of
// docs/population.md (district and centre effects shared by poverty, UBN, wealth, remoteness, market access,
// altitude, water and land).
enum class PopulationGeography : std::uint8_t { independent = 0, correlated = 1 };
inline constexpr Choice<PopulationGeography> kPopulationGeographyChoices[] = {
    {"independent", PopulationGeography::independent}, {"correlated", PopulationGeography::correlated}};

// The synthetic population's parameters (sim/population.cpp). Each field's name, range, unit, description
// and source are in describe() (sim/engine_params.cpp); its default is its initial value here.
struct PopulationParams {
  std::int64_t households = 20000;
  std::int64_t districts = 40;
  std::int64_t seed = 20171;
  double share_southern_highlands = 0.55;
  double share_northern_highlands = 0.30;
  double share_amazon = 0.15;
  double mean_centre_households = 70.0;
  double sd_log_centre_households = 0.75;
  double mean_ubn_share = 0.62;
  double sd_ubn_share = 0.16;
  double mean_district_poverty = 0.48;
  double share_water_access = 0.35;
  double mean_land_ha = 1.6;
  double mean_household_size = 4.6;
  double share_with_children = 0.7;
  double sd_log_capacity = 0.45;
  std::int64_t block_households = 4096;
  // The correlated geography (population.geography = correlated; the independent generator ignores these).
  PopulationGeography geography = PopulationGeography::independent;
  double sd_district_poverty = 0.14;
  double poverty_offset_northern_highlands = 0.02;
  double poverty_offset_amazon = -0.07;
  double district_share_of_deprivation = 0.5;
  double remoteness_deprivation_correlation = 0.5;
  double ubn_deprivation_correlation = 0.7;
  double sd_centre_wealth = 0.5;
  double altitude_remoteness_correlation = 0.4;
  double water_altitude_slope_per_km = -0.15;
  double water_offset_northern_highlands = 0.05;
  double water_offset_amazon = 0.10;
  double sd_log_centre_land = 0.35;
  double land_remoteness_correlation = 0.3;
  double children_deprivation_slope = 0.1;

  template <class V> void describe(V& v);
  template <class V> void describe_geography(V& v);
  static PopulationParams from(const ParamSet& params);
};

// The run's calendar, replicates and seed.
struct RunParams {
  int start_year = 2017;
  int years = 8;
  std::int64_t replicates = 2;
  std::int64_t seed = 1;
  std::string reference_arm;  // empty: the first arm

  template <class V> void describe(V& v);
  static RunParams from(const ParamSet& params);
};

// What the output records.
struct OutputParams {
  std::string frequency = "yearly";  // monthly, quarterly or yearly
  std::vector<std::string> variables;  // empty: every module's default panel variables
  bool panel = true;

  template <class V> void describe(V& v);
  static OutputParams from(const ParamSet& params);
};

void register_engine_params(Registry& registry);

}  // namespace chacra
