// `chacra export OUT.h5 --csv DIR`: the output file as plain CSV tables with a codebook, for Stata and R.
#pragma once

#include <string>
#include <vector>

namespace chacra::cli {

// chacra export OUT.h5 --csv DIR [--no-panel] [--force] [--quiet]. Writes panel.csv, aggregates.csv,
// comparison.csv (if the file has /comparison), households.csv, centres.csv, districts.csv, provenance.csv,
// scenario.yaml and codebook.csv into DIR (layout: docs/analysis.md). The tables are written to DIR.partial
// and renamed into place at the end, so DIR is either complete or untouched. Exit status: 0; 1 for a
// missing, truncated or foreign file or a write failure; 2 for usage errors and an existing non-empty DIR
// without --force (or, with --force, a non-empty DIR that is not a chacra export).
int cmd_export(const std::vector<std::string>& args);

}  // namespace chacra::cli
