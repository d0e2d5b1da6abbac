// The simulated world: district, centre and household tables, the centre-ordered household layout, and the
// blocks of whole centres that the parallel stepper hands to threads.
#pragma once

#include "sim/collective.hpp"
#include "sim/table.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
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
// The district column "region" as codes (value labels in the exports).
inline constexpr Code kRegionCodes[] = {{static_cast<int>(Region::southern_highlands), "southern_highlands"},
                                        {static_cast<int>(Region::northern_highlands), "northern_highlands"},
                                        {static_cast<int>(Region::amazon), "amazon"}};

// Maximum members per household; empty member slots hold age -1.
inline constexpr int kMaxMembers = 10;

// The share of a population that one process holds when a world is split by blocks of whole districts
// across processes (MPI ranks; docs/cluster.md): districts [district_begin, district_end), their centres
// and their households, all numbered as in the whole population.
struct WorldPart {
  std::uint32_t district_begin = 0, district_end = 0;
  std::uint32_t centre_begin = 0, centre_end = 0;
  std::uint32_t household_begin = 0, household_end = 0;
  std::uint64_t total_households = 0;  // of the whole population
};

struct World {
  Table districts;
  Table centres;
  Table households;
  // Households are sorted by centre: centre c owns households [centre_first[c], centre_first[c+1]).
  std::vector<std::uint32_t> centre_first;
  // Centres are sorted by district: district d owns centres [district_first[d], district_first[d+1]).
  std::vector<std::uint32_t> district_first;
  std::vector<Block> blocks;
  std::size_t block_households = 0;  // the target size make_blocks was last given (0: never called)
  Calendar calendar;

  // A world split by districts (`split()`): the district and centre tables, centre_first and district_first
  // hold the whole population (rows of other processes' districts and centres hold what the generator
  // draws without their households and are not maintained by the model), the household table only this
  // process's households (households.first_row() == part.household_begin; columns are indexed by global
  // household index), and the blocks cover only this process's centres. Anything that reads more than
  // this process's districts goes through `comm()`. A world that is not split holds everything (part is
  // unused) and comm() is the identity.
  WorldPart part;
  const Collective* collective = nullptr;  // null: not split

  bool split() const { return collective != nullptr; }
  const Collective& comm() const { return collective != nullptr ? *collective : Collective::serial(); }
  // Households held here, by global index: [household_begin(), household_end()).
  std::size_t household_begin() const { return households.first_row(); }
  std::size_t household_end() const { return households.first_row() + households.rows(); }
  // Centres and districts whose households are held here.
  std::uint32_t centre_begin() const { return split() ? part.centre_begin : 0; }
  std::uint32_t centre_end() const { return split() ? part.centre_end : static_cast<std::uint32_t>(centre_count()); }
  std::uint32_t district_begin() const { return split() ? part.district_begin : 0; }
  std::uint32_t district_end() const {
    return split() ? part.district_end : static_cast<std::uint32_t>(district_count());
  }
  // Whether this process holds the centre's (district's) households: always in a world that is not split.
  bool holds_centre(std::size_t c) const { return !split() || (c >= part.centre_begin && c < part.centre_end); }
  bool holds_district(std::size_t d) const {
    return !split() || (d >= part.district_begin && d < part.district_end);
  }
  // Households of the whole population (household_count() is those held here).
  std::uint64_t total_households() const { return split() ? part.total_households : household_count(); }

  // One value per centre of the whole population, each computed by the process that holds the centre (from
  // its households): every process fills the entries of its own centres, [centre_begin(), centre_end()),
  // and afterwards holds every centre's entry (a collective step; nothing to do in a world that is not
  // split). For national decisions that read household-derived facts of every centre.
  template <class T>
  void share_by_centre(std::span<T> per_centre) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!split()) return;
    const std::vector<T> mine(per_centre.begin() + centre_begin(), per_centre.begin() + centre_end());
    const std::vector<T> all = comm().all_gather(mine);
    check_shared_centres(all.size(), per_centre.size());
    std::copy(all.begin(), all.end(), per_centre.begin());
  }
  template <class T>
  void share_by_centre(std::vector<T>& per_centre) const {
    share_by_centre(std::span<T>(per_centre));
  }

  std::size_t household_count() const { return households.rows(); }
  std::size_t centre_count() const { return centres.rows(); }
  std::size_t district_count() const { return districts.rows(); }
  // Rebuilds `blocks` so each holds whole centres (of those held here) and about `target_households`
  // households.
  void make_blocks(std::size_t target_households);
  // The same, but a block ends only after a centre c where `may_end_after(c)` (and after the last centre held
  // here), so that groups of consecutive centres (a module's local economies) never span two blocks; a block then
  // holds at least `target_households` households unless it is the last, and may exceed it by one group.
  void make_blocks(std::size_t target_households, const std::function<bool(std::uint32_t)>& may_end_after);

 private:
  void check_shared_centres(std::size_t gathered, std::size_t expected) const;
};

}  // namespace chacra
