// The engine's parameters: synthetic population, calendar and replicates, and what the output records.
#include "sim/engine_params.hpp"

#include "sim/param_spec.hpp"

#include <cmath>

namespace chacra {

template <class V>
void PopulationParams::describe(V& v) {
  v.integer("population.households", households, {1, 100'000'000}, "households",
            "Number of households in the synthetic population", "Scenario choice");
  v.integer("population.districts", districts, {1, 2'000'000}, "districts",
            "Number of districts; centres and households are spread over them", "Scenario choice");
  v.integer("population.seed", seed, {0, 9'007'199'254'740'991}, "",
            "Seed of the synthetic population (replicate r uses the stream of this seed and replicate r)",
            "Scenario choice");
  v.real("population.share_southern_highlands", share_southern_highlands, {0, 1}, "share of districts",
         "Share of districts in the southern highlands (community-trainer tradition present)",
         "Assumption: HW's 2012-2018 coverage concentrated in the southern highlands (FONCODES)");
  v.real("population.share_northern_highlands", share_northern_highlands, {0, 1}, "share of districts",
         "Share of districts in the northern highlands", "Assumption");
  v.real("population.share_amazon", share_amazon, {0, 1}, "share of districts", "Share of districts in the Amazon",
         "Assumption");
  v.real("population.mean_centre_households", mean_centre_households, {5, 5000}, "households",
         "Mean households per population centre (log-normal; many centres are under 40)",
         "Assumption: INEI 2017 census, rural centros poblados are mostly small");
  v.real("population.sd_log_centre_households", sd_log_centre_households, {0, 3}, "log households",
         "Dispersion of the log of centre size", "Assumption, so that about 30% of centres have under 40");
  v.real("population.mean_ubn_share", mean_ubn_share, {0, 1}, "share",
         "Mean share of households with an unmet basic need in a centre", "Assumption around the 60% threshold");
  v.real("population.sd_ubn_share", sd_ubn_share, {0, 0.5}, "share",
         "Spread of the centre UBN share (wide enough to place centres on both sides of 60%)", "Assumption");
  v.real("population.mean_district_poverty", mean_district_poverty, {0, 1}, "share of people",
         "Mean district poverty rate", "INEI: rural highlands about 45-50% poor in 2017-2020");
  v.real("population.share_water_access", share_water_access, {0, 1}, "share of households",
         "Average share of households with year-round water", "Assumption");
  v.real("population.mean_land_ha", mean_land_ha, {0.05, 50}, "ha", "Mean land per household (log-normal)",
         "Assumption: many farms fall below the 1.3 ha that FONCODES's 2017 rule counts as subsistence");
  v.real("population.mean_household_size", mean_household_size, {1, 10}, "persons", "Mean household size",
         "Assumption: ENAHO rural households with children");
  v.real("population.share_with_children", share_with_children, {0, 1}, "share of households",
         "Share of households with at least one child under 19", "Assumption");
  v.real("population.sd_log_capacity", sd_log_capacity, {0, 2}, "log",
         "Dispersion of productive capacity (log-normal, mean 1)", "Assumption; drives the heterogeneity of returns");
  v.integer("population.block_households", block_households, {64, 1'000'000}, "households",
            "Target households per parallel block (whole centres); does not change results", "Engine tuning");
  v.constraint(
      "population.region_shares_sum_to_one",
      [](const PopulationParams& p) -> std::optional<std::string> {
        const double s = p.share_southern_highlands + p.share_northern_highlands + p.share_amazon;
        if (std::abs(s - 1.0) > 1e-6) return "region shares must sum to 1 (they sum to " + format_value(s) + ")";
        return std::nullopt;
      },
      share_southern_highlands, share_northern_highlands, share_amazon);
  v.constraint(
      "population.districts_not_more_than_households",
      [](const PopulationParams& p) -> std::optional<std::string> {
        if (p.districts > p.households) return "population.districts cannot exceed population.households";
        return std::nullopt;
      },
      districts, households);
}

template <class V>
void RunParams::describe(V& v) {
  v.integer("run.start_year", start_year, {1990, 2100}, "year", "Calendar year of the first simulated month (January)",
            "Scenario choice");
  v.integer("run.years", years, {1, 200}, "years", "Horizon of the run", "Scenario choice");
  v.integer("run.replicates", replicates, {1, 100000}, "replicates",
            "Independent replicates (fresh population and streams); every arm runs on each", "Scenario choice");
  v.integer("run.seed", seed, {0, 9'007'199'254'740'991}, "", "Seed of the model's random streams", "Scenario choice");
  v.choice("run.reference_arm", reference_arm, {}, "Arm that comparisons are made against (empty: the first arm)",
           "Scenario choice");
}

template <class V>
void OutputParams::describe(V& v) {
  v.choice("output.frequency", frequency, {"monthly", "quarterly", "yearly"},
           "How often the household panel is recorded (flows are summed over the period)", "Scenario choice");
  v.text_list("output.variables", variables, {},
              "Household variables recorded in the panel (empty: every module's default panel variables)",
              "Scenario choice");
  v.boolean("output.panel", panel, "Write the household panel (aggregates are always written)", "Scenario choice");
}

PopulationParams PopulationParams::from(const ParamSet& params) { return read_params<PopulationParams>(params); }
RunParams RunParams::from(const ParamSet& params) { return read_params<RunParams>(params); }
OutputParams OutputParams::from(const ParamSet& params) { return read_params<OutputParams>(params); }

void register_engine_params(Registry& r) {
  declare_params<PopulationParams>(r);
  declare_params<RunParams>(r);
  declare_params<OutputParams>(r);
}

}  // namespace chacra
