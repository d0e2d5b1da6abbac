// The engine's parameters: synthetic population, calendar and replicates, and what the output records.
#include "sim/engine_params.hpp"

#include <cmath>

namespace chacra {

void register_engine_params(Registry& r) {
  // Population.
  r.integer("population.households", 20000, 1, 100'000'000, "households",
            "Number of households in the synthetic population", "Scenario choice");
  r.integer("population.districts", 40, 1, 2'000'000, "districts",
            "Number of districts; centres and households are spread over them", "Scenario choice");
  r.integer("population.seed", 20171, 0, 9'007'199'254'740'991, "",
            "Seed of the synthetic population (replicate r uses the stream of this seed and replicate r)",
            "Scenario choice");
  r.real("population.share_southern_highlands", 0.55, 0, 1, "share of districts",
         "Share of districts in the southern highlands (community-trainer tradition present)",
         "Assumption: HW's 2012-2018 coverage concentrated in the southern highlands (FONCODES)");
  r.real("population.share_northern_highlands", 0.30, 0, 1, "share of districts",
         "Share of districts in the northern highlands", "Assumption");
  r.real("population.share_amazon", 0.15, 0, 1, "share of districts", "Share of districts in the Amazon",
         "Assumption");
  r.real("population.mean_centre_households", 70, 5, 5000, "households",
         "Mean households per population centre (log-normal; many centres are under 40)",
         "Assumption: INEI 2017 census, rural centros poblados are mostly small");
  r.real("population.sd_log_centre_households", 0.75, 0, 3, "log households",
         "Dispersion of the log of centre size", "Assumption, so that about 30% of centres have under 40");
  r.real("population.mean_ubn_share", 0.62, 0, 1, "share",
         "Mean share of households with an unmet basic need in a centre", "Assumption around the 60% threshold");
  r.real("population.sd_ubn_share", 0.16, 0, 0.5, "share",
         "Spread of the centre UBN share (wide enough to place centres on both sides of 60%)", "Assumption");
  r.real("population.mean_district_poverty", 0.48, 0, 1, "share of people",
         "Mean district poverty rate", "INEI: rural highlands about 45-50% poor in 2017-2020");
  r.real("population.share_water_access", 0.35, 0, 1, "share of households",
         "Average share of households with year-round water", "Assumption");
  r.real("population.mean_land_ha", 1.6, 0.05, 50, "ha", "Mean land per household (log-normal)",
         "Assumption: subsistence farms are below 1.3 ha (MODEL.md)");
  r.real("population.mean_household_size", 4.6, 1, 10, "persons", "Mean household size",
         "Assumption: ENAHO rural households with children");
  r.real("population.share_with_children", 0.7, 0, 1, "share of households",
         "Share of households with at least one child under 19", "Assumption");
  r.real("population.sd_log_capacity", 0.45, 0, 2, "log", "Dispersion of productive capacity (log-normal, mean 1)",
         "Assumption; drives the heterogeneity of returns");
  r.integer("population.block_households", 4096, 64, 1'000'000, "households",
            "Target households per parallel block (whole centres); does not change results", "Engine tuning");
  r.constraint({"population.region_shares_sum_to_one",
                {"population.share_southern_highlands", "population.share_northern_highlands", "population.share_amazon"},
                [](const ParamSet& p) -> std::optional<std::string> {
                  double s = p.real("population.share_southern_highlands") +
                             p.real("population.share_northern_highlands") + p.real("population.share_amazon");
                  if (std::abs(s - 1.0) > 1e-6)
                    return "region shares must sum to 1 (they sum to " + format_value(s) + ")";
                  return std::nullopt;
                }});
  r.constraint({"population.districts_not_more_than_households",
                {"population.districts", "population.households"},
                [](const ParamSet& p) -> std::optional<std::string> {
                  if (p.integer("population.districts") > p.integer("population.households"))
                    return "population.districts cannot exceed population.households";
                  return std::nullopt;
                }});
  // Run.
  r.integer("run.start_year", 2017, 1990, 2100, "year", "Calendar year of the first simulated month (January)",
            "Scenario choice");
  r.integer("run.years", 8, 1, 200, "years", "Horizon of the run", "Scenario choice");
  r.integer("run.replicates", 2, 1, 100000, "replicates",
            "Independent replicates (fresh population and streams); every arm runs on each", "Scenario choice");
  r.integer("run.seed", 1, 0, 9'007'199'254'740'991, "", "Seed of the model's random streams", "Scenario choice");
  r.choice("run.reference_arm", "", {}, "Arm that comparisons are made against (empty: the first arm)",
           "Scenario choice");
  // Output.
  r.choice("output.frequency", "yearly", {"monthly", "quarterly", "yearly"},
           "How often the household panel is recorded (flows are summed over the period)", "Scenario choice");
  r.text_list("output.variables", {}, {},
              "Household variables recorded in the panel (empty: every module's default panel variables)",
              "Scenario choice");
  r.boolean("output.panel", true, "Write the household panel (aggregates are always written)", "Scenario choice");
}

}  // namespace chacra
