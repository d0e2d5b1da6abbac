// Deterministic synthetic population: districts, population centres (with proposed executing nuclei) and
// households with members, land, water, productive capacity and locus of control.
#pragma once

#include "sim/params.hpp"
#include "sim/world.hpp"

#include <cstdint>

namespace chacra {

// The columns the generator creates: the census facts every module reads.
namespace col {
// District columns.
inline constexpr Col<float> district_poverty_rate{
    .name = "poverty_rate", .unit = "share of people", .description = "District poverty rate"};
inline constexpr Col<std::uint8_t> district_malnutrition_priority{
    .name = "malnutrition_priority", .unit = "0/1", .description = "Chronic child malnutrition priority district"};
inline constexpr Col<float> district_market_dynamism{
    .name = "market_dynamism", .unit = "0..1", .description = "How well-connected the district's markets are"};
inline constexpr Col<std::uint8_t> district_region{.name = "region",
                                                   .unit = "0 south highlands, 1 north highlands, 2 amazon",
                                                   .description = "Natural region (HW works less well in 1 and 2)",
                                                   .codes = kRegionCodes};
// The five departments of the evaluation (IEP/UC Davis 2017 cohort) and "other".
inline constexpr Code kDepartmentCodes[] = {{0, "Ayacucho"}, {1, "Cajamarca"}, {2, "Cusco"},
                                            {3, "Huanuco"},  {4, "Ancash"},    {5, "other"}};
inline constexpr Col<std::uint8_t> district_department{
    .name = "department", .unit = "0 Ayacucho, 1 Cajamarca, 2 Cusco, 3 Huanuco, 4 Ancash, 5 other",
    .description = "Department", .codes = kDepartmentCodes};
// Centre columns.
inline constexpr Col<std::uint32_t> centre_district{
    .name = "district", .unit = "index", .description = "District of the centre"};
inline constexpr Col<std::uint32_t> centre_households{
    .name = "households", .unit = "households", .description = "Households in the centre"};
inline constexpr Col<float> centre_ubn_share{
    .name = "ubn_share", .unit = "share of households",
    .description = "Share of households with at least one unmet basic need (the evaluation's running variable; "
                   "the realised share of the centre's households)"};
inline constexpr Col<float> centre_market_access{
    .name = "market_access", .unit = "0..1", .description = "Market access of the centre"};
inline constexpr Col<float> centre_water_share{
    .name = "water_share", .unit = "share of households", .description = "Share with year-round water"};
inline constexpr Col<float> centre_altitude_m{.name = "altitude_m", .unit = "m", .description = "Altitude of the centre"};
inline constexpr Col<std::uint8_t> centre_border_area{
    .name = "border_area", .unit = "0/1", .description = "Centre in a border area (targeting exception)"};
inline constexpr Col<std::uint32_t> centre_nucleus{
    .name = "nucleus", .unit = "index",
    .description = "Proposed executing nucleus: neighbouring centres of a district grouped to ~130 households"};
// Household columns.
inline constexpr Col<std::uint32_t> centre{
    .name = "centre", .unit = "index", .description = "Population centre of the household"};
inline constexpr Col<std::uint32_t> district{
    .name = "district", .unit = "index", .description = "District of the household"};
inline constexpr Col<std::int16_t> member_age_months{
    .name = "member_age_months", .unit = "months",
    .description = "Age of each member slot in months (-1: empty slot); slot 0 is the household head",
    .width = kMaxMembers};
inline constexpr Col<std::uint8_t> member_female{
    .name = "member_female", .unit = "0/1", .description = "Member slot is a woman", .width = kMaxMembers};
inline constexpr Col<float> land_ha{.name = "land_ha", .unit = "ha", .description = "Land farmed by the household"};
inline constexpr Col<std::uint8_t> water_access{
    .name = "water_access", .unit = "0/1", .description = "Year-round water access (sprinklers need it)"};
inline constexpr Col<float> productive_capacity{
    .name = "productive_capacity", .unit = "multiplier, mean 1",
    .description = "Household productive capacity; scales the returns to land and technology"};
inline constexpr Col<float> locus_of_control{
    .name = "locus_of_control", .unit = "z-score", .description = "Locus of control (coaching can raise it)"};
inline constexpr Col<float> baseline_locus_of_control{
    .name = "baseline_locus_of_control", .unit = "z-score", .description = "Locus of control at baseline"};
inline constexpr Col<float> farm_labour_share{
    .name = "farm_labour_share", .unit = "share", .description = "Share of household labour spent in farming"};
inline constexpr Col<std::uint8_t> has_ubn{
    .name = "has_ubn", .unit = "0/1", .description = "Household has at least one unmet basic need"};
inline constexpr Col<float> wealth_index{
    .name = "wealth_index", .unit = "z-score", .description = "Baseline asset index (proxy-means-test input)"};
}  // namespace col

// Builds the world for one replicate from the population.* parameters. The same (population.seed,
// replicate) always gives the same world, bit for bit, whatever the thread count.
World generate_population(const ParamSet& params, std::uint32_t replicate);

// The same population split by blocks of whole districts across the processes of `collective` (MPI ranks;
// docs/cluster.md): this process's block only (World::split()). Districts and centres are drawn for the
// whole population (a few bytes per centre); households only for the block, each exactly as the whole
// generator draws it (same global index, same stream). Centre columns derived from households (ubn_share)
// are filled only for the block's centres. `collective` must outlive the world.
World generate_population(const ParamSet& params, std::uint32_t replicate, const Collective& collective);

// Rank `rank` of `ranks`'s block: contiguous districts holding about households/ranks households (the
// boundaries nearest to k/ranks of the households; blocks may be empty when ranks exceed districts).
WorldPart district_block(const std::vector<std::uint32_t>& centre_first, const std::vector<std::uint32_t>& district_first,
                         int rank, int ranks);

// Names of the five departments of the evaluation plus "other" (district column "department").
const char* department_name(std::uint8_t department);

}  // namespace chacra
