// The engine's own parameters, declared once (sim/param_spec.hpp): the synthetic population (population.*),
// the run (run.*) and what the output records (output.*).
#pragma once

#include "sim/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chacra {

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

  template <class V> void describe(V& v);
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
