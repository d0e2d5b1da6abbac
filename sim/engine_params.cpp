// The engine's parameters: synthetic population, calendar and replicates, and what the output records.
#include "sim/engine_params.hpp"

#include "sim/param_spec.hpp"

#include <cmath>

namespace chacra {

// The correlated geography's parameters (docs/population.md): a district deprivation z_d (which sets district
// poverty) and remoteness q_d, and per centre u_c = sqrt(k) z_d + sqrt(1-k) e_c and r_c = sqrt(k) q_d +
// sqrt(1-k) f_c with corr(z_d, q_d) = corr(e_c, f_c) = rho, from which UBN, wealth, market access, altitude,
// water and land are drawn. Each variable keeps the mean and spread of the independent generator.
template <class V>
void PopulationParams::describe_geography(V& v) {
  const std::string only = " (correlated geography only)";
  const std::string map = "INEI, Mapa de pobreza monetaria provincial y distrital 2018 (2020)";
  v.choice("population.geography", geography, kPopulationGeographyChoices,
           "How poverty is placed in space: independent (each centre and household drawn on its own around its "
           "district's poverty, as before the correlated geography; the default, so existing scenarios keep their "
           "populations bit for bit) or correlated (district and centre effects shared by district poverty, centre "
           "UBN share, household wealth and so Juntos affiliation, remoteness, market access, altitude, water and "
           "land; docs/population.md)",
           "Scenario choice; correlated follows the spatial concentration of poverty and unmet basic needs of the " +
               map + " and the 2017 census");
  v.real("population.sd_district_poverty", sd_district_poverty, {0, 0.5}, "share of people",
         "Standard deviation of district poverty around its region's mean" + only +
             "; the independent generator uses 0.12",
         "Assumption (range 0.10-0.18): in the " + map +
             " the rural districts of the highlands and the Amazon spread from under 20% to over 70% poor");
  v.real("population.poverty_offset_northern_highlands", poverty_offset_northern_highlands, {-0.5, 0.5},
         "share of people",
         "District poverty of the northern highlands minus that of the southern highlands" + only +
             "; the offsets are centred so that population.mean_district_poverty stays the mean",
         "Assumption (range 0-0.05): in the " + map +
             " the poorest districts moved from the southern to the northern highlands (Cajamarca the poorest "
             "department in INEI's 2018 poverty groups)");
  v.real("population.poverty_offset_amazon", poverty_offset_amazon, {-0.5, 0.5}, "share of people",
         "District poverty of the Amazon minus that of the southern highlands" + only,
         "Assumption (range -0.12 to -0.03): INEI, Evolucion de la pobreza monetaria 2007-2018 (2019): rural "
         "poverty is lower in the Amazon (selva) than in the highlands (sierra)");
  v.real("population.district_share_of_deprivation", district_share_of_deprivation, {0, 1}, "share of variance",
         "Share of the variance of a centre's deprivation (and remoteness) that its district shares with its other "
         "centres: the correlation between two centres of a district" + only,
         "Assumption (range 0.3-0.7): district averages in the " + map +
             " hide large differences between a district's capital and its outlying communities");
  v.real("population.remoteness_deprivation_correlation", remoteness_deprivation_correlation, {-1, 1}, "correlation",
         "Correlation between deprivation and remoteness, for districts and for centres within a district (remote "
         "centres have worse market access, are higher in the highlands, and are poorer)" + only,
         "Assumption (range 0.3-0.7): Escobal and Torero, Adverse geography and differences in welfare in Peru "
         "(2005): the welfare gaps of high and remote areas follow their lack of infrastructure and market access");
  v.real("population.ubn_deprivation_correlation", ubn_deprivation_correlation, {-1, 1}, "correlation",
         "Correlation between a centre's target UBN share and its deprivation (the rest is the centre's own UBN "
         "noise); the target's mean and spread are population.mean_ubn_share and population.sd_ubn_share" + only,
         "Assumption (range 0.5-0.9): unmet basic needs (housing, services, schooling, dependency) and monetary "
         "poverty concentrate in the same districts of INEI's maps, but are different measures");
  v.real("population.sd_centre_wealth", sd_centre_wealth, {0, 0.8}, "wealth z-score",
         "Standard deviation across centres of the mean household wealth index (the proxy-means-test input that "
         "drives Juntos affiliation), set by the centre's deprivation; the households' own spread shrinks so that "
         "the total stays 0.85 as in the independent generator" + only,
         "Assumption (range 0.3-0.7): asset indices cluster strongly by community (housing and services are shared); "
         "at 0.5 about a quarter of the wealth variance lies between centres");
  v.real("population.altitude_remoteness_correlation", altitude_remoteness_correlation, {-1, 1}, "correlation",
         "Correlation between a highland centre's altitude (mean 3,300 m, sd 450 m) and its remoteness; Amazon "
         "centres keep 800 +- 300 m" + only,
         "Assumption (range 0.2-0.6): in the Andes the remotest communities lie highest (puna), the market towns "
         "in the valleys");
  v.real("population.water_altitude_slope_per_km", water_altitude_slope_per_km, {-1, 1}, "share per 1,000 m",
         "Change of a highland centre's share of households with year-round water per 1,000 m above 3,300 m (the "
         "centre's own noise shrinks so that the spread stays 0.15)" + only,
         "Assumption (range -0.3 to 0): irrigation concentrates in the inter-Andean valleys; farming at high "
         "altitude is mostly rain-fed (INEI, IV Censo Nacional Agropecuario 2012: most farmland is rain-fed)");
  v.real("population.water_offset_northern_highlands", water_offset_northern_highlands, {-0.5, 0.5},
         "share of households",
         "Share with year-round water in the northern highlands minus that in the southern highlands (offsets "
         "centred so that population.share_water_access stays the mean)" + only,
         "Assumption (range 0-0.15): the northern highlands are wetter, with a shorter dry season");
  v.real("population.water_offset_amazon", water_offset_amazon, {-0.5, 0.5}, "share of households",
         "Share with year-round water in the Amazon minus that in the southern highlands" + only,
         "Assumption (range 0-0.3): rain and rivers all year round");
  v.real("population.children_deprivation_slope", children_deprivation_slope, {-0.3, 0.3}, "share per sd",
         "Change of a centre's share of households with children under 19 (population.share_with_children on "
         "average) per standard deviation of its deprivation: poorer, remoter centres have more families with "
         "children, and so more households a conditional transfer can enrol" + only,
         "Assumption (range 0-0.12): fertility is higher in rural and poorer households (INEI, Encuesta "
         "Demografica y de Salud Familiar ENDES 2018: about one child per woman more in rural than in urban "
         "areas)");
  v.real("population.sd_log_centre_land", sd_log_centre_land, {0, 0.79}, "log ha",
         "Standard deviation across centres of the mean log land per household; the households' own spread shrinks "
         "so that the total stays 0.8 (log) and the mean population.mean_land_ha" + only,
         "Assumption (range 0.2-0.5): holdings differ more between communities (valley floor, slopes, puna "
         "pasture) than the independent generator allows (INEI, IV Censo Nacional Agropecuario 2012)");
  v.real("population.land_remoteness_correlation", land_remoteness_correlation, {-1, 1}, "correlation",
         "Correlation between a centre's mean log land and its remoteness (remote high centres farm more, poorer, "
         "land)" + only,
         "Assumption (range 0-0.5): larger holdings of natural pasture in the high, remote communities (IV Censo "
         "Nacional Agropecuario 2012)");
}

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
  describe_geography(v);
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
