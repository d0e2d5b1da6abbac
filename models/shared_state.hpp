// The contract between modules: technologies and the household/centre columns that more than one module
// reads or writes. add_shared_columns() creates them all before any module's setup, so setup order
// never matters and every arm has the same columns.
#pragma once

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

// Juntos status of a household (panel column "juntos_status").
enum class JuntosStatus : std::uint8_t { not_eligible = 0, eligible = 1, enrolled = 2, suspended = 3, exited = 4 };

// Column names shared between modules. Household columns unless marked (centre).
namespace col {
// Created by the engine's population generator (sim/population.cpp).
inline constexpr const char* centre = "centre";                       // u32
inline constexpr const char* district = "district";                   // u32
inline constexpr const char* member_age_months = "member_age_months";  // i16 x kMaxMembers, -1 empty slot
inline constexpr const char* member_female = "member_female";          // u8 x kMaxMembers
inline constexpr const char* land_ha = "land_ha";                      // f32
inline constexpr const char* water_access = "water_access";            // u8, year-round water
inline constexpr const char* productive_capacity = "productive_capacity";  // f32, mean 1
inline constexpr const char* locus_of_control = "locus_of_control";        // f32, z-score; coaching raises it
inline constexpr const char* baseline_locus_of_control = "baseline_locus_of_control";  // f32, fixed
inline constexpr const char* farm_labour_share = "farm_labour_share";  // f32, share of labour in farming
inline constexpr const char* has_ubn = "has_ubn";                      // u8, at least one unmet basic need
inline constexpr const char* wealth_index = "wealth_index";            // f32, z-score of baseline assets

// Demography (models/demography.cpp).
inline constexpr const char* member_secondary_done = "member_secondary_done";  // u8 x kMaxMembers
inline constexpr const char* pregnancy_month = "pregnancy_month";  // u8, 0 = not pregnant, 1..9
inline constexpr const char* household_size = "household_size";    // u8

// Livelihoods (models/livelihood.cpp, models/adoption.cpp).
inline constexpr const char* cash_pen = "cash_pen";  // f32 liquid savings, snapshot
inline constexpr const char* income_crops_pen = "income_crops_pen";
inline constexpr const char* income_animals_pen = "income_animals_pen";
inline constexpr const char* income_wage_pen = "income_wage_pen";
inline constexpr const char* income_business_pen = "income_business_pen";
inline constexpr const char* income_transfers_pen = "income_transfers_pen";
inline constexpr const char* income_monetary_pen = "income_monetary_pen";  // sum of the five above
inline constexpr const char* own_production_pen = "own_production_pen";    // value of own produce consumed
inline constexpr const char* consumption_pen = "consumption_pen";
inline constexpr const char* poor = "poor";                  // u8
inline constexpr const char* extreme_poor = "extreme_poor";  // u8
inline constexpr const char* poverty_gap = "poverty_gap";    // f32, (line - pc consumption)/line if poor
inline constexpr const char* tech_state = "tech_state";      // u8 x kTechCount (TechState)
inline constexpr const char* pasture_ha = "pasture_ha";      // f32
inline constexpr const char* baseline_income_pen = "baseline_income_pen";  // f32, expected annual, fixed

// Inputs that programme modules write and the livelihoods modules read (created here, owned by no one).
inline constexpr const char* adoption_push = "adoption_push";  // f32 x kTechCount: extra monthly hazard;
                                                               // programmes add, adoption resets to 0
inline constexpr const char* asset_delivered = "asset_delivered";  // u8 x kTechCount, persistent
inline constexpr const char* support_active = "support_active";    // u8: under programme support this month
inline constexpr const char* juntos_transfer_pen = "juntos_transfer_pen";  // f32 flow paid this month
inline constexpr const char* business_profit_pen = "business_profit_pen";  // f32 flow this month
inline constexpr const char* saving_boost = "saving_boost";  // f32, added to the saving rate (fin. education)
inline constexpr const char* juntos_enrolled = "juntos_enrolled";  // u8, mirror of status in {enrolled, suspended}

// Centre columns.
inline constexpr const char* centre_households = "households";      // u32 (engine)
inline constexpr const char* centre_ubn_share = "ubn_share";        // f32 (engine)
inline constexpr const char* centre_market_access = "market_access";  // f32 0..1 (engine)
inline constexpr const char* centre_water_share = "water_share";    // f32 (engine)
inline constexpr const char* centre_altitude_m = "altitude_m";      // f32 (engine)
inline constexpr const char* centre_border_area = "border_area";    // u8 (engine)
inline constexpr const char* centre_nucleus = "nucleus";            // u32 (engine), proposed executing nucleus
inline constexpr const char* centre_hw_active = "hw_active";        // u8 (shared): HW operating this month

// District columns (engine).
inline constexpr const char* district_poverty_rate = "poverty_rate";  // f32
inline constexpr const char* district_malnutrition_priority = "malnutrition_priority";  // u8
inline constexpr const char* district_market_dynamism = "market_dynamism";  // f32 0..1
inline constexpr const char* district_region = "region";                    // u8 (Region)
inline constexpr const char* district_department = "department";            // u8
}  // namespace col

// Creates the columns of the "programme inputs" and centre hw_active sections above.
void add_shared_columns(World& world);

}  // namespace chacra::models
