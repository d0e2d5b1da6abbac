// The simulated world: district, centre and household tables, the centre-ordered household layout, and the
// blocks of whole centres that the parallel stepper hands to threads.
#pragma once

#include "sim/table.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chacra {

// A contiguous range of whole population centres and their households. Phases that need centre-level
// aggregates (peer adoption, committees) compute them inside a block, so no reduction crosses threads.
struct Block {
  std::uint32_t centre_begin = 0, centre_end = 0;
  std::uint32_t household_begin = 0, household_end = 0;
};

// Calendar of the run: month 0 is January of `start_year`.
struct Calendar {
  int start_year = 2017;
  int months = 0;
  int year(int month) const { return start_year + month / 12; }
  int month_of_year(int month) const { return month % 12 + 1; }  // 1..12
};

enum class Region : std::uint8_t { southern_highlands = 0, northern_highlands = 1, amazon = 2 };
const char* region_name(Region r);

// Maximum members per household; empty member slots hold age -1.
inline constexpr int kMaxMembers = 10;

struct World {
  Table districts;
  Table centres;
  Table households;
  // Households are sorted by centre: centre c owns households [centre_first[c], centre_first[c+1]).
  std::vector<std::uint32_t> centre_first;
  // Centres are sorted by district: district d owns centres [district_first[d], district_first[d+1]).
  std::vector<std::uint32_t> district_first;
  std::vector<Block> blocks;
  Calendar calendar;

  std::size_t household_count() const { return households.rows(); }
  std::size_t centre_count() const { return centres.rows(); }
  std::size_t district_count() const { return districts.rows(); }
  // Rebuilds `blocks` so each holds whole centres and about `target_households` households.
  void make_blocks(std::size_t target_households);
};

}  // namespace chacra
