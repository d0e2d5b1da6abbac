// Experimental designs over named parameter ranges: full grids (`--vary name=a:b:n`), Latin hypercubes, Sobol
// sequences, Saltelli's scheme for Sobol indices and Morris trajectories, each point tagged with its role.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chacra::study {

// A design that cannot be built as asked (malformed --vary text, empty or inverted range, too many points).
// The message says what was given, what was expected and how to fix it; callers report it as bad input.
class DesignError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class ParameterKind { real, integer };

// One varied parameter and its inclusive range. The caller checks name and range against the parameter
// registry; here the range only has to be finite and non-empty, and integral for an integer parameter.
struct Parameter {
  std::string name;
  double min = 0.0;
  double max = 1.0;
  ParameterKind kind = ParameterKind::real;

  // The value at unit coordinate u in [0, 1]. Real: min + u (max - min), exact at both ends. Integer: each of
  // the max - min + 1 integers takes an equal share of [0, 1] (min + floor(u (max - min + 1)), max at u = 1),
  // so a uniform u gives a uniform integer.
  double value_at(double u) const;
};

// One axis of a full grid: `points` evenly spaced values from `from` to `to`, both included.
struct GridAxis {
  std::string name;
  double from = 0.0;
  double to = 0.0;
  std::size_t points = 1;
  ParameterKind kind = ParameterKind::real;

  // The axis's values, from + (to - from) j / (points - 1) for j = 0..points-1, exactly `from` and `to` at the
  // ends. Throws DesignError for an integer axis whose points are not all whole numbers.
  std::vector<double> values() const;
};

// Parses one `--vary` argument, `NAME=FROM:TO:POINTS` (juntos.transfer_pen=100:400:7 gives 100, 150, ..., 400).
// FROM <= TO, finite numbers; POINTS a whole number >= 2, or 1 when FROM == TO. The axis is real; the caller
// sets kind from the registry. Throws DesignError quoting the text, saying which part is wrong, with an example.
GridAxis parse_vary(std::string_view text);

enum class DesignKind { grid, latin_hypercube, sobol_sequence, saltelli, morris };
const char* to_string(DesignKind kind);

// The part a point plays in its design, so that outputs can be matched back to the estimator's inputs.
enum class PointRole {
  grid,         // a grid node; row = the point's index (the last axis varies fastest)
  sample,       // a Latin hypercube or Sobol sequence point; row = its index
  saltelli_a,   // row j of matrix A
  saltelli_b,   // row j of matrix B
  saltelli_ab,  // row j of A_B^(i): A with column `parameter` taken from B
  morris,       // point `step` (0..k) of trajectory `row`; `parameter` moved at this step (none at step 0)
};
const char* to_string(PointRole role);

struct PointTag {
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  PointRole role = PointRole::sample;
  std::size_t row = 0;
  std::size_t step = 0;
  std::size_t parameter = none;
};

// A list of points over `parameters`, each with its unit coordinates (in [0, 1], the space the design is
// built in), its parameter values and its tag. Stored row-major: point p's coordinates are
// unit[p * k .. p * k + k) with k = parameters.size().
struct Design {
  DesignKind kind = DesignKind::grid;
  std::vector<Parameter> parameters;
  std::vector<double> unit;
  std::vector<double> values;
  std::vector<PointTag> tags;
  // Grid: points per axis. Saltelli: base_rows = N. Morris: levels p and the unit step delta.
  std::vector<std::size_t> grid_shape;
  std::size_t base_rows = 0;
  std::size_t levels = 0;
  double delta = 0.0;
  std::uint64_t seed = 0;  // the seed it was drawn from (0 and unused for grids and unshifted sequences)

  std::size_t dimensions() const { return parameters.size(); }
  std::size_t size() const { return tags.size(); }
  std::span<const double> point(std::size_t p) const { return {values.data() + p * dimensions(), dimensions()}; }
  std::span<const double> unit_point(std::size_t p) const { return {unit.data() + p * dimensions(), dimensions()}; }
  double value(std::size_t p, std::size_t parameter) const { return values[p * dimensions() + parameter]; }
  // For a grid: the level index along each axis of point p.
  std::vector<std::size_t> grid_index(std::size_t p) const;
};

// Upper bound on the points of any design, so that a typo (100:400:70000 on four axes) fails at once.
inline constexpr std::size_t kMaxDesignPoints = 10'000'000;

// Full factorial grid over the axes (every combination; the last axis varies fastest).
Design full_grid(const std::vector<GridAxis>& axes);

// How a random design places a point inside its cell.
enum class LhsPlacement { random, centred };

// Latin hypercube of n points: along each dimension the n points fall one in each of the n strata
// [j/n, (j+1)/n), in an order drawn independently per dimension (Fisher-Yates), at a uniform position inside
// the stratum (or its centre). Deterministic from the seed (counter-based streams, sim/rng.hpp).
Design latin_hypercube(const std::vector<Parameter>& parameters, std::size_t n, std::uint64_t seed,
                       LhsPlacement placement = LhsPlacement::random);

// How a Sobol sequence is randomised.
enum class SobolScramble {
  none,           // the plain sequence: reproducible whatever the seed
  digital_shift,  // every coordinate's 32 bits XORed with a per-dimension random word drawn from the seed:
                  // keeps the sequence's stratification and gives a different, equally good design per seed
};

// The first n points of the k-dimensional Sobol sequence with Joe and Kuo's (2008) direction numbers
// (Boost.Random's sobol tables, up to 3667 dimensions), starting after `skip` points. As in Boost, the
// sequence starts at (1/2, ..., 1/2): the all-zero point is not produced. Coordinates have 32 bits.
Design sobol_sequence(const std::vector<Parameter>& parameters, std::size_t n, std::uint64_t seed = 0,
                      SobolScramble scramble = SobolScramble::none, std::size_t skip = 0);

// Saltelli's scheme for first- and total-order Sobol indices (Saltelli 2002; Saltelli et al. 2010), N(k+2)
// points. Matrices A and B are the first and last k coordinates of N points of the 2k-dimensional Sobol
// sequence (as sobol_sequence). For each base row j the design holds, in this order, A_j, then A_B^(i)_j for
// i = 1..k (A_j with coordinate i from B_j), then B_j: point j(k+2) is A_j, j(k+2)+i is A_B^(i)_j and
// j(k+2)+k+1 is B_j. This is SALib's layout without second-order points; any prefix of whole base rows is itself
// a Saltelli design. N >= 2; a power of two keeps the Sobol sequence balanced.
Design saltelli(const std::vector<Parameter>& parameters, std::size_t base_rows, std::uint64_t seed = 0,
                SobolScramble scramble = SobolScramble::none, std::size_t skip = 0);

// Morris (1991) trajectories on a p-level grid {0, 1/(p-1), ..., 1} in unit space, p even, step
// delta = p / (2 (p - 1)). Each trajectory has k+1 points: a random base point, then one parameter at a time
// (in a random order) moves by +delta or -delta, each parameter exactly once. With candidates > trajectories,
// that many trajectories are drawn and the `trajectories` most spread out are kept (Campolongo et al. 2007's
// criterion, the sum of squared distances between trajectories, maximised by greedy forward selection).
// Deterministic from the seed.
Design morris(const std::vector<Parameter>& parameters, std::size_t trajectories, std::size_t levels,
              std::uint64_t seed, std::size_t candidates = 0);

}  // namespace chacra::study
