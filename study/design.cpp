// Experimental designs: grid, Latin hypercube, Sobol sequence, Saltelli scheme and Morris trajectories.
#include "study/design.hpp"

#include "sim/rng.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

namespace chacra::study {
namespace {

constexpr const char* kVaryExample = "juntos.transfer_pen=100:400:7";

std::string format_number(double v) {
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

[[noreturn]] void vary_error(std::string_view text, const std::string& problem) {
  throw DesignError("--vary " + std::string(text) + ": " + problem + " (expected NAME=FROM:TO:POINTS, e.g. " +
                    kVaryExample + ")");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

double parse_bound(std::string_view text, std::string_view part, const char* which) {
  part = trim(part);
  double v = 0.0;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
  if (part.empty() || ec != std::errc() || end != part.data() + part.size())
    vary_error(text, std::string(which) + " '" + std::string(part) + "' is not a number");
  if (!std::isfinite(v)) vary_error(text, std::string(which) + " '" + std::string(part) + "' is not finite");
  return v;
}

std::size_t parse_points(std::string_view text, std::string_view part) {
  part = trim(part);
  unsigned long long v = 0;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
  if (part.empty() || ec == std::errc::invalid_argument || end != part.data() + part.size())
    vary_error(text, "POINTS '" + std::string(part) + "' is not a whole number");
  if (ec == std::errc::result_out_of_range || v > kMaxDesignPoints)
    vary_error(text, "POINTS " + std::string(part) + " is more than " + std::to_string(kMaxDesignPoints));
  if (v == 0) vary_error(text, "POINTS must be at least 1");
  return static_cast<std::size_t>(v);
}

bool is_whole(double v) { return std::floor(v) == v; }

// Checks a random design's parameters: non-empty, unique names, finite min < max, integral integer bounds.
void check_parameters(const std::vector<Parameter>& parameters, const char* design) {
  if (parameters.empty()) throw DesignError(std::string(design) + ": no parameters to vary");
  std::set<std::string> seen;
  for (const Parameter& p : parameters) {
    if (p.name.empty()) throw DesignError(std::string(design) + ": a parameter has an empty name");
    if (!seen.insert(p.name).second)
      throw DesignError(std::string(design) + ": parameter " + p.name + " is varied twice; give each once");
    if (!std::isfinite(p.min) || !std::isfinite(p.max) || !(p.min < p.max))
      throw DesignError(std::string(design) + ": parameter " + p.name + " has range [" + format_number(p.min) +
                        ", " + format_number(p.max) + "]; expected finite bounds with min < max");
    if (p.kind == ParameterKind::integer && (!is_whole(p.min) || !is_whole(p.max)))
      throw DesignError(std::string(design) + ": integer parameter " + p.name + " has range [" +
                        format_number(p.min) + ", " + format_number(p.max) + "]; expected whole-number bounds");
  }
}

void check_size(std::size_t points, const char* design) {
  if (points > kMaxDesignPoints)
    throw DesignError(std::string(design) + ": " + std::to_string(points) + " points is more than the limit of " +
                      std::to_string(kMaxDesignPoints) + "; use fewer points or parameters");
}

// A design with its parameters set and room for `points` points.
Design start(DesignKind kind, const std::vector<Parameter>& parameters, std::size_t points) {
  Design d;
  d.kind = kind;
  d.parameters = parameters;
  d.unit.reserve(points * parameters.size());
  d.values.reserve(points * parameters.size());
  d.tags.reserve(points);
  return d;
}

void add_point(Design& d, std::span<const double> unit, PointTag tag) {
  for (std::size_t i = 0; i < unit.size(); ++i) {
    d.unit.push_back(unit[i]);
    d.values.push_back(d.parameters[i].value_at(unit[i]));
  }
  d.tags.push_back(tag);
}

// Random streams of the designs, one domain each, so that one design's draws never depend on another's.
constexpr std::uint32_t kLhsOrder = rng::domain_id("study.lhs.order");
constexpr std::uint32_t kLhsJitter = rng::domain_id("study.lhs.jitter");
constexpr std::uint32_t kSobolShift = rng::domain_id("study.sobol.shift");
constexpr std::uint32_t kMorris = rng::domain_id("study.morris");

// A uniformly random permutation of 0..n-1 (Fisher-Yates) from the stream.
std::vector<std::size_t> permutation(std::size_t n, rng::Stream& s) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[s.below(i)]);
  return p;
}

constexpr double kTwoTo32 = 4294967296.0;

// n points of the d-dimensional Sobol sequence after `skip`, as 32-bit words (row-major), XORed with the shift.
std::vector<std::uint32_t> sobol_words(std::size_t d, std::size_t n, std::size_t skip,
                                       const std::vector<std::uint32_t>& shift, const char* design) {
  if (d > boost::random::default_sobol_table::max_dimension)
    throw DesignError(std::string(design) + ": " + std::to_string(d) + " Sobol dimensions is more than the " +
                      std::to_string(boost::random::default_sobol_table::max_dimension) + " available");
  // 32-bit coordinates: the sequence has 2^32 - 1 points before it would repeat.
  if (static_cast<unsigned long long>(n) + skip >= (1ull << 32))
    throw DesignError(std::string(design) + ": skip + points must be below 2^32");
  boost::random::sobol_engine<std::uint32_t, 32> engine(d);
  engine.discard(static_cast<boost::uintmax_t>(skip) * d);
  std::vector<std::uint32_t> words(n * d);
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t j = 0; j < d; ++j) words[p * d + j] = engine() ^ shift[j];
  return words;
}

std::vector<std::uint32_t> sobol_shift(std::size_t d, std::uint64_t seed, SobolScramble scramble) {
  std::vector<std::uint32_t> shift(d, 0);
  if (scramble == SobolScramble::digital_shift)
    for (std::size_t j = 0; j < d; ++j) shift[j] = static_cast<std::uint32_t>(rng::Stream(seed, 0, kSobolShift, 0, j)() >> 32);
  return shift;
}

}  // namespace

double Parameter::value_at(double u) const {
  if (kind == ParameterKind::integer) {
    const double count = max - min + 1.0;
    return std::min(max, min + std::floor(u * count));
  }
  return std::lerp(min, max, u);
}

std::vector<double> GridAxis::values() const {
  std::vector<double> v(points);
  for (std::size_t j = 0; j < points; ++j)
    v[j] = points == 1 ? from : std::lerp(from, to, static_cast<double>(j) / static_cast<double>(points - 1));
  if (kind == ParameterKind::integer) {
    for (double& x : v) {
      const double r = std::round(x);
      if (std::abs(x - r) > 1e-9 * std::max(1.0, std::abs(r))) {
        std::string hint;
        if (is_whole(from) && is_whole(to) && to > from)
          hint = "; choose POINTS so that POINTS - 1 divides " + format_number(to - from) + ", e.g. " + name + "=" +
                 format_number(from) + ":" + format_number(to) + ":" + format_number(to - from + 1);
        throw DesignError("--vary " + name + "=" + format_number(from) + ":" + format_number(to) + ":" +
                          std::to_string(points) + ": integer parameter, but point " + format_number(x) +
                          " is not a whole number" + hint);
      }
      x = r;
    }
  }
  return v;
}

GridAxis parse_vary(std::string_view text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) vary_error(text, "no '=' between the parameter name and its range");
  GridAxis a;
  a.name = std::string(trim(text.substr(0, eq)));
  if (a.name.empty()) vary_error(text, "the parameter name before '=' is empty");
  const std::string_view range = text.substr(eq + 1);
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= range.size(); ++i) {
    if (i == range.size() || range[i] == ':') {
      parts.push_back(range.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  if (parts.size() != 3)
    vary_error(text, "the range '" + std::string(range) + "' has " + std::to_string(parts.size()) +
                         (parts.size() == 1 ? " part" : " parts") + ", not 3");
  a.from = parse_bound(text, parts[0], "FROM");
  a.to = parse_bound(text, parts[1], "TO");
  a.points = parse_points(text, parts[2]);
  if (a.from > a.to)
    vary_error(text, "FROM " + format_number(a.from) + " is above TO " + format_number(a.to) + "; write " + a.name +
                         "=" + format_number(a.to) + ":" + format_number(a.from) + ":" + std::to_string(a.points));
  if (a.points == 1 && a.from != a.to)
    vary_error(text, "1 point cannot span " + format_number(a.from) + " to " + format_number(a.to) +
                         "; use at least 2 points, or FROM == TO for a single value");
  if (a.points > 1 && a.from == a.to)
    vary_error(text, std::to_string(a.points) + " points between equal bounds repeat one value; use POINTS 1");
  return a;
}

const char* to_string(DesignKind kind) {
  switch (kind) {
    case DesignKind::grid: return "grid";
    case DesignKind::latin_hypercube: return "latin_hypercube";
    case DesignKind::sobol_sequence: return "sobol_sequence";
    case DesignKind::saltelli: return "saltelli";
    case DesignKind::morris: return "morris";
  }
  return "?";
}

const char* to_string(PointRole role) {
  switch (role) {
    case PointRole::grid: return "grid";
    case PointRole::sample: return "sample";
    case PointRole::saltelli_a: return "A";
    case PointRole::saltelli_b: return "B";
    case PointRole::saltelli_ab: return "AB";
    case PointRole::morris: return "morris";
  }
  return "?";
}

std::vector<std::size_t> Design::grid_index(std::size_t p) const {
  std::vector<std::size_t> index(grid_shape.size());
  for (std::size_t i = grid_shape.size(); i-- > 0;) {
    index[i] = p % grid_shape[i];
    p /= grid_shape[i];
  }
  return index;
}

Design full_grid(const std::vector<GridAxis>& axes) {
  if (axes.empty()) throw DesignError("grid: no parameters to vary");
  std::vector<Parameter> parameters;
  std::vector<std::vector<double>> levels;
  std::set<std::string> seen;
  std::size_t total = 1;
  for (const GridAxis& a : axes) {
    if (!seen.insert(a.name).second)
      throw DesignError("grid: parameter " + a.name + " is varied twice; give each --vary once");
    if (!std::isfinite(a.from) || !std::isfinite(a.to) || a.from > a.to || a.points == 0 ||
        (a.points == 1) != (a.from == a.to))
      throw DesignError("grid: axis " + a.name + " needs finite FROM <= TO and POINTS >= 1 (1 exactly when FROM == TO)");
    if (a.points > kMaxDesignPoints / total) check_size(kMaxDesignPoints + 1, "grid");
    total *= a.points;
    parameters.push_back({a.name, a.from, a.to, a.kind});
    levels.push_back(a.values());
  }
  Design d = start(DesignKind::grid, parameters, total);
  for (const GridAxis& a : axes) d.grid_shape.push_back(a.points);
  const std::size_t k = axes.size();
  std::vector<std::size_t> index(k, 0);
  for (std::size_t p = 0; p < total; ++p) {
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t n = axes[i].points;
      d.unit.push_back(n == 1 ? 0.0 : static_cast<double>(index[i]) / static_cast<double>(n - 1));
      d.values.push_back(levels[i][index[i]]);
    }
    d.tags.push_back({PointRole::grid, p, 0, PointTag::none});
    for (std::size_t i = k; i-- > 0;) {  // odometer: the last axis fastest
      if (++index[i] < axes[i].points) break;
      index[i] = 0;
    }
  }
  return d;
}

Design latin_hypercube(const std::vector<Parameter>& parameters, std::size_t n, std::uint64_t seed,
                       LhsPlacement placement) {
  check_parameters(parameters, "latin hypercube");
  if (n == 0) throw DesignError("latin hypercube: needs at least 1 point");
  check_size(n, "latin hypercube");
  const std::size_t k = parameters.size();
  std::vector<double> unit(n * k);
  for (std::size_t j = 0; j < k; ++j) {
    rng::Stream order(seed, 0, kLhsOrder, 0, j);
    rng::Stream jitter(seed, 0, kLhsJitter, 0, j);
    const std::vector<std::size_t> stratum = permutation(n, order);
    for (std::size_t p = 0; p < n; ++p) {
      const double offset = placement == LhsPlacement::centred ? 0.5 : jitter.uniform();
      unit[p * k + j] = (static_cast<double>(stratum[p]) + offset) / static_cast<double>(n);
    }
  }
  Design d = start(DesignKind::latin_hypercube, parameters, n);
  d.seed = seed;
  for (std::size_t p = 0; p < n; ++p)
    add_point(d, std::span<const double>(unit.data() + p * k, k), {PointRole::sample, p, 0, PointTag::none});
  return d;
}

Design sobol_sequence(const std::vector<Parameter>& parameters, std::size_t n, std::uint64_t seed,
                      SobolScramble scramble, std::size_t skip) {
  check_parameters(parameters, "sobol sequence");
  if (n == 0) throw DesignError("sobol sequence: needs at least 1 point");
  check_size(n, "sobol sequence");
  const std::size_t k = parameters.size();
  const std::vector<std::uint32_t> words = sobol_words(k, n, skip, sobol_shift(k, seed, scramble), "sobol sequence");
  Design d = start(DesignKind::sobol_sequence, parameters, n);
  d.seed = scramble == SobolScramble::none ? 0 : seed;
  std::vector<double> u(k);
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t j = 0; j < k; ++j) u[j] = words[p * k + j] / kTwoTo32;
    add_point(d, u, {PointRole::sample, p, 0, PointTag::none});
  }
  return d;
}

Design saltelli(const std::vector<Parameter>& parameters, std::size_t base_rows, std::uint64_t seed,
                SobolScramble scramble, std::size_t skip) {
  check_parameters(parameters, "saltelli");
  if (base_rows < 2) throw DesignError("saltelli: needs at least 2 base rows (N), ideally a power of two");
  const std::size_t k = parameters.size();
  if (base_rows > kMaxDesignPoints / (k + 2)) check_size(kMaxDesignPoints + 1, "saltelli");
  const std::vector<std::uint32_t> words =
      sobol_words(2 * k, base_rows, skip, sobol_shift(2 * k, seed, scramble), "saltelli");
  Design d = start(DesignKind::saltelli, parameters, base_rows * (k + 2));
  d.base_rows = base_rows;
  d.seed = scramble == SobolScramble::none ? 0 : seed;
  std::vector<double> a(k), b(k), ab(k);
  for (std::size_t row = 0; row < base_rows; ++row) {
    for (std::size_t j = 0; j < k; ++j) {
      a[j] = words[row * 2 * k + j] / kTwoTo32;
      b[j] = words[row * 2 * k + k + j] / kTwoTo32;
    }
    add_point(d, a, {PointRole::saltelli_a, row, 0, PointTag::none});
    for (std::size_t i = 0; i < k; ++i) {
      ab = a;
      ab[i] = b[i];
      add_point(d, ab, {PointRole::saltelli_ab, row, 0, i});
    }
    add_point(d, b, {PointRole::saltelli_b, row, 0, PointTag::none});
  }
  return d;
}

namespace {

struct Trajectory {
  std::vector<double> unit;  // (k+1) x k, row-major
  std::vector<std::size_t> moved;  // the parameter moved at step s (s = 1..k), index s-1
};

// One trajectory (Morris 1991): base x* on the levels {0, ..., 1 - delta}, a random direction per parameter
// and a random order. A parameter moving up starts at x*_i, one moving down starts at x*_i + delta, so every
// point stays on the grid inside [0, 1].
Trajectory draw_trajectory(std::size_t k, std::size_t levels, std::size_t jump, std::uint64_t seed,
                           std::size_t index) {
  rng::Stream s(seed, 0, kMorris, 0, index);
  // Grid positions are kept as level indices and divided once, so coordinates are as exact as l / (p - 1).
  const double last = static_cast<double>(levels - 1);
  std::vector<std::size_t> level(k);
  std::vector<bool> up(k);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t base = s.below(levels - jump);
    up[i] = s.bernoulli(0.5);
    level[i] = base + (up[i] ? 0 : jump);
  }
  Trajectory t;
  t.moved = permutation(k, s);
  t.unit.reserve((k + 1) * k);
  const auto append = [&] {
    for (std::size_t l : level) t.unit.push_back(static_cast<double>(l) / last);
  };
  append();
  for (std::size_t i : t.moved) {
    level[i] = up[i] ? level[i] + jump : level[i] - jump;
    append();
  }
  return t;
}

// Campolongo et al. (2007)'s distance between two trajectories: the sum of Euclidean distances between every
// point of one and every point of the other.
double trajectory_distance(const Trajectory& a, const Trajectory& b, std::size_t k) {
  double total = 0.0;
  for (std::size_t p = 0; p <= k; ++p)
    for (std::size_t q = 0; q <= k; ++q) {
      double s = 0.0;
      for (std::size_t i = 0; i < k; ++i) {
        const double diff = a.unit[p * k + i] - b.unit[q * k + i];
        s += diff * diff;
      }
      total += std::sqrt(s);
    }
  return total;
}

// Greedy forward selection of `r` of the candidates maximising the sum of squared pairwise distances: the most
// distant pair first, then each time the candidate adding the most. Ties go to the lower index.
std::vector<std::size_t> most_spread(const std::vector<Trajectory>& candidates, std::size_t r, std::size_t k) {
  const std::size_t m = candidates.size();
  std::vector<double> d2(m * m, 0.0);
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = a + 1; b < m; ++b) {
      const double d = trajectory_distance(candidates[a], candidates[b], k);
      d2[a * m + b] = d2[b * m + a] = d * d;
    }
  std::size_t best_a = 0, best_b = 1;
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = a + 1; b < m; ++b)
      if (d2[a * m + b] > d2[best_a * m + best_b]) best_a = a, best_b = b;
  std::vector<std::size_t> chosen{best_a, best_b};
  std::vector<bool> taken(m, false);
  taken[best_a] = taken[best_b] = true;
  std::vector<double> gain(m, 0.0);
  for (std::size_t c = 0; c < m; ++c) gain[c] = d2[c * m + best_a] + d2[c * m + best_b];
  while (chosen.size() < r) {
    std::size_t best = m;
    for (std::size_t c = 0; c < m; ++c)
      if (!taken[c] && (best == m || gain[c] > gain[best])) best = c;
    chosen.push_back(best);
    taken[best] = true;
    for (std::size_t c = 0; c < m; ++c) gain[c] += d2[c * m + best];
  }
  std::sort(chosen.begin(), chosen.end());  // keep the candidates' own order
  return chosen;
}

}  // namespace

Design morris(const std::vector<Parameter>& parameters, std::size_t trajectories, std::size_t levels,
              std::uint64_t seed, std::size_t candidates) {
  check_parameters(parameters, "morris");
  if (trajectories < 2) throw DesignError("morris: needs at least 2 trajectories (r) for a standard deviation");
  if (levels < 2 || levels % 2 != 0)
    throw DesignError("morris: levels (p) = " + std::to_string(levels) +
                      "; expected an even number >= 2 (4 is usual), so that delta = p/(2(p-1)) lands on the grid");
  if (candidates != 0 && candidates < trajectories)
    throw DesignError("morris: " + std::to_string(candidates) + " candidate trajectories cannot yield " +
                      std::to_string(trajectories) + "; give at least as many candidates (or 0 for none)");
  const std::size_t k = parameters.size();
  const std::size_t pool = std::max(candidates, trajectories);
  if (trajectories > kMaxDesignPoints / (k + 1)) check_size(kMaxDesignPoints + 1, "morris");
  if (pool > 5000 && pool > trajectories)
    throw DesignError("morris: " + std::to_string(pool) +
                      " candidate trajectories is more than 5000 (the selection compares every pair)");
  const std::size_t jump = levels / 2;
  std::vector<Trajectory> drawn;
  drawn.reserve(pool);
  for (std::size_t c = 0; c < pool; ++c) drawn.push_back(draw_trajectory(k, levels, jump, seed, c));
  std::vector<std::size_t> keep(pool);
  std::iota(keep.begin(), keep.end(), std::size_t{0});
  if (pool > trajectories) keep = most_spread(drawn, trajectories, k);

  Design d = start(DesignKind::morris, parameters, trajectories * (k + 1));
  d.levels = levels;
  d.delta = static_cast<double>(jump) / static_cast<double>(levels - 1);
  d.seed = seed;
  for (std::size_t t = 0; t < keep.size(); ++t) {
    const Trajectory& tr = drawn[keep[t]];
    for (std::size_t s = 0; s <= k; ++s)
      add_point(d, std::span<const double>(tr.unit.data() + s * k, k),
                {PointRole::morris, t, s, s == 0 ? PointTag::none : tr.moved[s - 1]});
  }
  return d;
}

}  // namespace chacra::study
