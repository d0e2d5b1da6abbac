// The panel recorder of one arm x replicate unit: accumulates flows over each output period, keeps the
// per-period household means, and hands each period's panel row to the writer (sim/output/writer.hpp).
#pragma once

#include "sim/output/writer.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chacra {

// Per-period household means of the panel variables for one arm and replicate.
struct UnitResult {
  std::string arm;
  std::uint32_t replicate = 0;
  std::vector<std::string> variables;
  std::vector<int> widths;
  std::vector<std::vector<double>> means;  // [variable][period * width + k]
  std::vector<output::ReachRow> reach;     // what the modules report at the end of the unit
  double mean(const std::string& variable, std::size_t period, int k = 0) const;
  bool has(const std::string& variable) const;
};

}  // namespace chacra

namespace chacra::output {

// Records one arm x replicate: flows (columns aggregated as sums) are summed over each period, states taken at
// its end; means are computed in household order, so they do not depend on the thread count (codes, columns
// marked category, get no mean). Centre columns marked panel are written at the end of every period to the
// unit's centre table. A world split by districts (World::split()) records collectively: each period's values
// of every process are gathered on rank 0, which computes the means over the whole population and writes the
// panel and the centre table, exactly as for a whole world.
class Recorder {
 public:
  // `unit` (null: record the means only) receives the panel and the aggregates; in a split world it is used on
  // rank 0 only.
  Recorder(World& world, const std::vector<std::string>& variables, int months_per_period, std::size_t periods,
           UnitWriter* unit);
  // Called after each month's phases.
  void after_month(int month);
  // After the last month: in a split world, rank 0's means go to every process (a collective step after every
  // process has recorded every period).
  void finish();
  // The means as aggregates/<variable>.
  void write_aggregates();
  UnitResult result(const std::string& arm, std::uint32_t replicate) const;

 private:
  struct Var {
    std::size_t index = 0;
    ColumnInfo info;
    bool sum = false;
    bool mean = true;  // false for codes (ColumnInfo::category)
    std::vector<float> accumulated;
    std::vector<double> means;
    h5::Handle dataset;
    ColumnType stored() const { return sum ? ColumnType::f32 : info.type; }
  };
  const void* period_values(const Var& v) const;
  void period_means(Var& v, std::size_t period) const;
  void gather_period(std::size_t period);
  void write_period(std::size_t period);
  void write_centres(std::size_t period);

  World& world_;
  int months_;
  std::size_t periods_;
  UnitWriter* unit_;
  std::vector<Var> vars_;
  struct CentreVar {
    std::size_t index = 0;
    ColumnInfo info;
    h5::Handle dataset;
  };
  std::vector<CentreVar> centre_vars_;
  GatherBuffers buffers_;  // split world: kept across periods
};

// Reads back the per-period means of a finished unit from an output file (a resumed or joined unit).
UnitResult read_unit_means(hid_t file, const std::string& arm, std::uint32_t replicate,
                           const std::vector<std::string>& variables);

}  // namespace chacra::output
