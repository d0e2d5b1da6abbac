// The contract between modules: technologies and the household/centre columns that more than one module
// reads or writes. add_shared_columns() creates the programme inputs before any module's setup, so setup
// order never matters and every arm has the same columns.
#pragma once

#include "sim/population.hpp"
#include "sim/world.hpp"

#include <array>
#include <cstdint>

namespace chacra::models {

// The Haku Wiñay menu of technologies and home improvements (World Bank Haku Winay case study).
enum class Tech : std::uint8_t {
  vegetable_garden = 0,
  organic_fertiliser_prep,
  organic_fertiliser_use,
  sprinkler_irrigation,
  cultivated_pasture,
  small_animal_shed,
  improved_andean_crops,
  improved_stove,
  safe_water,
  waste_pit,
};
inline constexpr int kTechCount = 10;
inline constexpr std::array<const char*, kTechCount> kTechNames = {
    "vegetable_garden", "organic_fertiliser_prep", "organic_fertiliser_use", "sprinkler_irrigation",
    "cultivated_pasture", "small_animal_shed", "improved_andean_crops", "improved_stove", "safe_water",
    "waste_pit"};
constexpr int tech_index(Tech t) { return static_cast<int>(t); }

// State of one technology in one household.
enum class TechState : std::uint8_t { never = 0, adopted = 1, dropped = 2 };
inline constexpr Code kTechStateCodes[] = {{static_cast<int>(TechState::never), "never"},
                                           {static_cast<int>(TechState::adopted), "adopted"},
                                           {static_cast<int>(TechState::dropped), "dropped"}};

// Juntos status of a household (panel column "juntos_status").
enum class JuntosStatus : std::uint8_t { not_eligible = 0, eligible = 1, enrolled = 2, suspended = 3, exited = 4 };
inline constexpr Code kJuntosStatusCodes[] = {{static_cast<int>(JuntosStatus::not_eligible), "not_eligible"},
                                              {static_cast<int>(JuntosStatus::eligible), "eligible"},
                                              {static_cast<int>(JuntosStatus::enrolled), "enrolled"},
                                              {static_cast<int>(JuntosStatus::suspended), "suspended"},
                                              {static_cast<int>(JuntosStatus::exited), "exited"}};

// The columns shared between modules, each declared once here (its creator in the comment of its group);
// the engine's census columns (sim/population.hpp: centre, district, member_age_months, land_ha, ...) are
// in this namespace too. Household columns unless named centre_* or district_*.
namespace col {
using namespace ::chacra::col;

// Demography (models/demography.cpp).
inline constexpr Col<std::uint8_t> member_secondary_done{
    .name = "member_secondary_done", .unit = "0/1",
    .description = "Member slot has finished secondary school",
    .width = kMaxMembers};
inline constexpr Col<std::uint8_t> pregnancy_month{
    .name = "pregnancy_month", .unit = "month of pregnancy",
    .description = "Month of the household's current pregnancy (0 none, 1..9)"};
inline constexpr Col<std::uint8_t> household_size{
    .name = "household_size", .unit = "persons", .description = "Members of the household", .panel = true};

// Livelihoods: income, consumption and welfare (models/livelihood.cpp); technology states (models/adoption.cpp).
inline constexpr Col<float> income_crops_pen{
    .name = "income_crops_pen", .unit = "PEN",
    .description = "Crop sales",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> income_animals_pen{
    .name = "income_animals_pen", .unit = "PEN",
    .description = "Sales of small animals, animal products and dairy",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> income_wage_pen{
    .name = "income_wage_pen", .unit = "PEN",
    .description = "Wage income",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> income_business_pen{
    .name = "income_business_pen", .unit = "PEN",
    .description = "Non-farm business profit (baseline business and HW business)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> income_transfers_pen{
    .name = "income_transfers_pen", .unit = "PEN",
    .description = "Transfers received (Juntos)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> income_monetary_pen{
    .name = "income_monetary_pen", .unit = "PEN",
    .description = "Monetary income: crops + animals + wage + business + transfers (gross of technology upkeep)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> own_production_pen{
    .name = "own_production_pen", .unit = "PEN",
    .description = "Value of own crop, animal and garden produce consumed at home",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> consumption_pen{
    .name = "consumption_pen", .unit = "PEN",
    .description = "Household consumption: monetary spending + own production + other consumption",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> cash_pen{
    .name = "cash_pen", .unit = "PEN",
    .description = "Liquid savings at the end of the month (never negative)",
    .panel = true};
inline constexpr Col<std::uint8_t> poor{
    .name = "poor", .unit = "0/1",
    .description = "Per-capita consumption over the last 12 months below the poverty line of the year",
    .panel = true};
inline constexpr Col<std::uint8_t> extreme_poor{
    .name = "extreme_poor", .unit = "0/1",
    .description = "Per-capita consumption over the last 12 months below the extreme poverty line",
    .panel = true};
inline constexpr Col<float> poverty_gap{
    .name = "poverty_gap", .unit = "share of the line",
    .description = "(line - per-capita consumption) / line if poor, else 0",
    .panel = true};
inline constexpr Col<float> baseline_income_pen{
    .name = "baseline_income_pen", .unit = "PEN per year",
    .description = "Expected annual monetary income at setup, without Juntos or HW (fixed)"};
inline constexpr Col<std::uint8_t> tech_state{
    .name = "tech_state", .unit = "0 never, 1 adopted, 2 dropped",
    .description = "State of each technology in the household",
    .width = kTechCount, .panel = true, .labels = kTechNames, .category = true, .codes = kTechStateCodes};
inline constexpr Col<float> pasture_ha{
    .name = "pasture_ha", .unit = "ha", .description = "Area under cultivated pasture", .panel = true};

// Inputs that programme modules write and the livelihood modules read (created by add_shared_columns).
inline constexpr Col<std::uint8_t> centre_hw_active{
    .name = "hw_active", .unit = "0/1",
    .description = "Haku Winay operating in the centre this month",
    .panel = true};
inline constexpr Col<float> adoption_push{
    .name = "adoption_push", .unit = "probability per month",
    .description = "Extra monthly adoption hazard from programme exposure this month, per technology",
    .width = kTechCount, .labels = kTechNames};
inline constexpr Col<std::uint8_t> asset_delivered{
    .name = "asset_delivered", .unit = "0/1",
    .description = "Programme asset for the technology delivered to the household (persists)",
    .width = kTechCount, .labels = kTechNames};
inline constexpr Col<std::uint8_t> support_active{
    .name = "support_active", .unit = "0/1", .description = "Household under Haku Winay support this month"};
inline constexpr Col<float> juntos_transfer_pen{
    .name = "juntos_transfer_pen", .unit = "PEN",
    .description = "Juntos transfer paid to the household",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> business_profit_pen{
    .name = "business_profit_pen", .unit = "PEN",
    .description = "Profit of the household's share in an HW business",
    .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> saving_boost{
    .name = "saving_boost", .unit = "share of income",
    .description = "Increase in saving rate from financial education"};
inline constexpr Col<std::uint8_t> juntos_enrolled{
    .name = "juntos_enrolled", .unit = "0/1",
    .description = "Household affiliated to Juntos (enrolled or suspended)",
    .panel = true};
}  // namespace col

// Creates the columns of the "programme inputs" and centre hw_active sections above.
void add_shared_columns(World& world);

}  // namespace chacra::models
