// Paths of chacra's HDF5 layout (see sim/output/layout.hpp).
#include "sim/output/layout.hpp"

#include <charconv>

namespace chacra::output::layout {

namespace {
constexpr std::string_view kReplicatePrefix = "replicate_";
std::string replicate_group(std::uint32_t replicate) {
  return std::string(kReplicatePrefix) + std::to_string(replicate);
}
}  // namespace

const char* table_name(Table table) {
  switch (table) {
    case Table::districts: return "districts";
    case Table::centres: return "centres";
    case Table::households: return "households";
  }
  return "households";
}

std::string arm(const std::string& arm) { return std::string(kArms) + "/" + arm; }

std::string unit(const std::string& arm_name, std::uint32_t replicate) {
  return arm(arm_name) + "/" + replicate_group(replicate);
}

std::string panel(const std::string& arm, std::uint32_t replicate) { return unit(arm, replicate) + "/panel"; }

std::string aggregates(const std::string& arm, std::uint32_t replicate) {
  return unit(arm, replicate) + "/aggregates";
}

std::string centres(const std::string& arm, std::uint32_t replicate) { return unit(arm, replicate) + "/centres"; }

std::string reach(const std::string& arm, std::uint32_t replicate) { return unit(arm, replicate) + "/reach"; }

std::string unit_table(const std::string& arm, std::uint32_t replicate, const std::string& name) {
  return unit(arm, replicate) + "/" + name;
}

std::string population(std::uint32_t replicate) { return std::string(kPopulation) + "/" + replicate_group(replicate); }

std::string population(std::uint32_t replicate, Table table) {
  return population(replicate) + "/" + table_name(table);
}

std::string sweep(const std::string& name) { return std::string(kSweep) + "/" + name; }

std::string member(const std::string& group, const std::string& name) { return group + "/" + name; }

std::optional<std::uint32_t> replicate_of(std::string_view name) {
  if (name.substr(0, kReplicatePrefix.size()) != kReplicatePrefix) return std::nullopt;
  const char* b = name.data() + kReplicatePrefix.size();
  const char* e = name.data() + name.size();
  std::uint32_t r = 0;
  const auto [p, ec] = std::from_chars(b, e, r);
  if (ec != std::errc() || p != e || b == e) return std::nullopt;
  return r;
}

}  // namespace chacra::output::layout
