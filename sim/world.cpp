// World layout helpers: partition of whole centres into blocks for the parallel stepper.
#include "sim/world.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace chacra {

const char* region_name(Region r) {
  switch (r) {
    case Region::southern_highlands: return "southern_highlands";
    case Region::northern_highlands: return "northern_highlands";
    case Region::amazon: return "amazon";
  }
  return "?";
}

void World::make_blocks(std::size_t target_households) {
  make_blocks(target_households, [](std::uint32_t) { return true; });
}

void World::make_blocks(std::size_t target_households, const std::function<bool(std::uint32_t)>& may_end_after) {
  blocks.clear();
  block_households = target_households;
  const auto n_centres = static_cast<std::uint32_t>(centre_first.empty() ? 0 : centre_first.size() - 1);
  const std::uint32_t first = split() ? std::min(part.centre_begin, n_centres) : 0;
  const std::uint32_t last = split() ? std::min(part.centre_end, n_centres) : n_centres;
  Block b;
  b.centre_begin = b.centre_end = first;
  b.household_begin = b.household_end = centre_first.empty() ? 0 : centre_first[first];
  for (std::uint32_t c = first; c < last; ++c) {
    b.centre_end = c + 1;
    b.household_end = centre_first[c + 1];
    if (b.household_end - b.household_begin >= target_households && may_end_after(c)) {
      blocks.push_back(b);
      b.centre_begin = b.centre_end;
      b.household_begin = b.household_end;
    }
  }
  if (b.centre_end > b.centre_begin) blocks.push_back(b);
}

void World::check_shared_centres(std::size_t gathered, std::size_t expected) const {
  // The processes' centre ranges tile the population in rank order, so the concatenation is in centre order.
  if (gathered != expected || expected != centre_count())
    throw std::logic_error("share_by_centre: gathered " + std::to_string(gathered) + " entries for " +
                           std::to_string(centre_count()) + " centres");
}

}  // namespace chacra
