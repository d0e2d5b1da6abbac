// File: study/attribution.hpp
// Attribution of the programmes' interaction to the household-economy channels (`chacra compare --by-channel`):
// the four arms of the interaction (both, juntos_only, hw_only, no_programme) are run again from the file's
// stored scenario, with the same seeds, once for each channel that was on with that channel switched off; per
// replicate, the interaction of the file minus the interaction without the channel is what the channel carries,
// summarised by its mean and 95% t interval over replicates. Definitions: docs/policy_arms.md.
#pragma once

#include "sim/engine.hpp"
#include "sim/errors.hpp"
#include "study/comparison.hpp"

#include <hdf5.h>

#include <ostream>
#include <string>
#include <vector>

namespace chacra::study {

// One outcome without one channel.
struct AttributionRow {
  std::string channel, outcome, statistic, unit, interval;
  double interaction = 0.0;  // mean interaction in the file (every channel as run)
  double without = 0.0;      // mean interaction with `channel` off
  // Mean over replicates of (interaction - interaction without the channel) and its 95% t interval; NaN when
  // no replicate defines both.
  double removed = 0.0, ci_low = 0.0, ci_high = 0.0;
  double share_removed = 0.0;  // removed / interaction (NaN when the interaction is 0 or undefined)
  int n_replicates = 0;
};

struct AttributionTable {
  std::vector<std::string> channels;  // the channels switched off in turn, in registry order
  int replicates = 0;
  std::vector<AttributionRow> rows;   // channel-major, outcomes in the interaction table's order
};

// Reruns and attributes. Throws BadInput when the file lacks one of the four arms or when no channel was on (nothing
// to attribute), ComparisonError when the file cannot be compared. `threads` as RunOptions::threads; `log` (may be
// null) gets one line per rerun. Temporary outputs go to the system's temporary directory and are removed.
AttributionTable attribute_interaction(hid_t file, const Registry& registry, const ModelBuilder& build, int threads,
                                       std::ostream* log);

// The same rows computed from the file's table and the tables of the reruns (one per channel, same order): the
// arithmetic of attribute_interaction, apart so that it can be checked on hand-made tables.
AttributionTable combine_attribution(const InteractionTable& full, const std::vector<std::string>& channels,
                                     const std::vector<InteractionTable>& without);

// format "table", "csv" or "json"; throws std::invalid_argument for another.
std::string format_attribution(const AttributionTable& table, const std::string& format);

}  // namespace chacra::study
