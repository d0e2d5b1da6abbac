// Designs: the --vary parser and its errors, grid sizes and endpoints, Latin hypercube strata, Sobol points
// and their stratification, the Saltelli layout, Morris trajectories, and reproducibility from the seed.
#include "study/design.hpp"

#include "tests/study/parameters.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace {

using namespace chacra::study;

// The message of the DesignError that `f` throws ("" if none).
template <class F>
std::string design_error(F f) {
  try {
    f();
  } catch (const DesignError& e) {
    return e.what();
  }
  return "";
}

using test::unit_cube;

TEST(Vary, ParsesNameRangeAndPoints) {
  const GridAxis a = parse_vary("juntos.transfer_pen=100:400:7");
  EXPECT_EQ(a.name, "juntos.transfer_pen");
  EXPECT_EQ(a.from, 100.0);
  EXPECT_EQ(a.to, 400.0);
  EXPECT_EQ(a.points, 7u);
  EXPECT_EQ(a.values(), (std::vector<double>{100, 150, 200, 250, 300, 350, 400}));
  const GridAxis b = parse_vary("haku_winay.takeup_rate=0.5:0.9:5");
  const std::vector<double> v = b.values();
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v.front(), 0.5);
  EXPECT_EQ(v.back(), 0.9);  // exactly the bound given, not 0.5 + 4 * 0.1
  EXPECT_NEAR(v[2], 0.7, 1e-15);
  EXPECT_EQ(parse_vary("x=-1e-3:2.5e1:2").to, 25.0);
  EXPECT_EQ(parse_vary("x=3:3:1").values(), std::vector<double>{3.0});
}

TEST(Vary, MalformedSpecsSayWhatIsWrong) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"juntos.transfer_pen", "no '=' between the parameter name and its range"},
      {"=100:400:7", "the parameter name before '=' is empty"},
      {"x=100:400", "has 2 parts, not 3"},
      {"x=100", "has 1 part, not 3"},
      {"x=1:2:3:4", "has 4 parts, not 3"},
      {"x=abc:400:7", "FROM 'abc' is not a number"},
      {"x=100:4OO:7", "TO '4OO' is not a number"},
      {"x=:400:7", "FROM '' is not a number"},
      {"x=inf:400:7", "FROM 'inf' is not finite"},
      {"x=100:nan:7", "TO 'nan' is not finite"},
      {"x=100:400:seven", "POINTS 'seven' is not a whole number"},
      {"x=100:400:2.5", "POINTS '2.5' is not a whole number"},
      {"x=100:400:-3", "POINTS '-3' is not a whole number"},
      {"x=100:400:0", "POINTS must be at least 1"},
      {"x=100:400:99999999999999999999", "is more than 10000000"},
      {"x=400:100:7", "FROM 400 is above TO 100; write x=100:400:7"},
      {"x=100:400:1", "1 point cannot span 100 to 400"},
      {"x=100:100:3", "3 points between equal bounds repeat one value; use POINTS 1"},
  };
  for (const Case& c : cases) {
    const std::string msg = design_error([&] { parse_vary(c.text); });
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.text << " gave: " << msg;
    // Every message quotes the argument and shows the expected form.
    EXPECT_NE(msg.find(std::string("--vary ") + c.text), std::string::npos) << msg;
    EXPECT_NE(msg.find("NAME=FROM:TO:POINTS, e.g. juntos.transfer_pen=100:400:7"), std::string::npos) << msg;
  }
}

TEST(Grid, SizeEndpointsAndOrder) {
  GridAxis a = parse_vary("juntos.transfer_pen=100:400:7");
  GridAxis b = parse_vary("haku_winay.takeup_rate=0.5:0.9:5");
  const Design d = full_grid({a, b});
  EXPECT_EQ(d.kind, DesignKind::grid);
  ASSERT_EQ(d.size(), 35u);
  EXPECT_EQ(d.grid_shape, (std::vector<std::size_t>{7, 5}));
  // The last axis varies fastest; the corners are the bounds given.
  EXPECT_EQ(d.value(0, 0), 100.0);
  EXPECT_EQ(d.value(0, 1), 0.5);
  EXPECT_EQ(d.value(4, 0), 100.0);
  EXPECT_EQ(d.value(4, 1), 0.9);
  EXPECT_EQ(d.value(5, 0), 150.0);
  EXPECT_EQ(d.value(5, 1), 0.5);
  EXPECT_EQ(d.value(34, 0), 400.0);
  EXPECT_EQ(d.value(34, 1), 0.9);
  std::set<std::pair<double, double>> distinct;
  for (std::size_t p = 0; p < d.size(); ++p) {
    distinct.insert({d.value(p, 0), d.value(p, 1)});
    EXPECT_EQ(d.tags[p].role, PointRole::grid);
    EXPECT_EQ(d.tags[p].row, p);
    const std::vector<std::size_t> idx = d.grid_index(p);
    EXPECT_EQ(idx[0] * 5 + idx[1], p);
    EXPECT_EQ(d.value(p, 0), a.values()[idx[0]]);
    EXPECT_EQ(d.unit_point(p)[1], idx[1] / 4.0);
  }
  EXPECT_EQ(distinct.size(), 35u);
  // A single-valued axis multiplies nothing.
  EXPECT_EQ(full_grid({a, parse_vary("y=2:2:1")}).size(), 7u);
}

TEST(Grid, IntegerAxesAndErrors) {
  GridAxis years = parse_vary("haku_winay.cohort_years=1:10:4");
  years.kind = ParameterKind::integer;
  EXPECT_EQ(full_grid({years}).values, (std::vector<double>{1, 4, 7, 10}));
  years.points = 3;  // 1, 5.5, 10
  const std::string msg = design_error([&] { full_grid({years}); });
  EXPECT_NE(msg.find("integer parameter, but point 5.5 is not a whole number"), std::string::npos) << msg;
  EXPECT_NE(msg.find("choose POINTS so that POINTS - 1 divides 9"), std::string::npos) << msg;

  const GridAxis a = parse_vary("x=0:1:2");
  EXPECT_NE(design_error([&] { full_grid({a, a}); }).find("x is varied twice"), std::string::npos);
  EXPECT_NE(design_error([&] { full_grid({}); }).find("no parameters"), std::string::npos);
  // 1000^3 points is over the limit: refused before anything is allocated.
  const GridAxis big = parse_vary("x=0:1:1000");
  GridAxis big_y = big, big_z = big;
  big_y.name = "y";
  big_z.name = "z";
  EXPECT_NE(design_error([&] { full_grid({big, big_y, big_z}); }).find("more than the limit"), std::string::npos);
}

TEST(LatinHypercube, OnePointPerStratumInEveryDimension) {
  std::vector<Parameter> ps = {{"a", -2.0, 3.0, ParameterKind::real},
                               {"b", 100.0, 400.0, ParameterKind::real},
                               {"c", 0.0, 1.0, ParameterKind::real}};
  for (LhsPlacement placement : {LhsPlacement::random, LhsPlacement::centred}) {
    const std::size_t n = 37;
    const Design d = latin_hypercube(ps, n, 12345, placement);
    ASSERT_EQ(d.size(), n);
    for (std::size_t j = 0; j < ps.size(); ++j) {
      std::vector<std::size_t> strata;
      for (std::size_t p = 0; p < n; ++p) {
        const double u = d.unit_point(p)[j];
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        strata.push_back(static_cast<std::size_t>(std::floor(u * n)));
        if (placement == LhsPlacement::centred) {
          EXPECT_NEAR(u * n - std::floor(u * n), 0.5, 1e-9);
        }
        EXPECT_GE(d.value(p, j), ps[j].min);
        EXPECT_LE(d.value(p, j), ps[j].max);
        EXPECT_NEAR(d.value(p, j), ps[j].min + u * (ps[j].max - ps[j].min), 1e-12 * (ps[j].max - ps[j].min));
      }
      std::sort(strata.begin(), strata.end());
      for (std::size_t s = 0; s < n; ++s) EXPECT_EQ(strata[s], s) << "dimension " << j;
    }
  }
}

TEST(LatinHypercube, ReproducibleFromTheSeed) {
  const std::vector<Parameter> ps = unit_cube(4);
  const Design a = latin_hypercube(ps, 50, 7), b = latin_hypercube(ps, 50, 7), c = latin_hypercube(ps, 50, 8);
  EXPECT_EQ(a.unit, b.unit);
  EXPECT_EQ(a.seed, 7u);
  EXPECT_NE(a.unit, c.unit);
  // The dimensions are ordered independently (not one permutation shared by all).
  std::size_t same = 0;
  for (std::size_t p = 0; p < 50; ++p)
    same += std::floor(a.unit_point(p)[0] * 50) == std::floor(a.unit_point(p)[1] * 50);
  EXPECT_LT(same, 10u);
}

TEST(LatinHypercube, IntegerParametersAreWholeAndEvenlyCovered) {
  // 60 points over the 6 integers 1..6: each stratum of 10 points maps to one integer, 10 points each.
  const Design d = latin_hypercube({{"n", 1.0, 6.0, ParameterKind::integer}}, 60, 3);
  std::vector<int> count(7, 0);
  for (double v : d.values) {
    ASSERT_EQ(v, std::floor(v));
    ++count.at(static_cast<std::size_t>(v));
  }
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(count[i], 10) << i;
}

TEST(LatinHypercube, RejectsBadParameters) {
  EXPECT_NE(design_error([] { latin_hypercube({}, 10, 1); }).find("no parameters"), std::string::npos);
  EXPECT_NE(design_error([] { latin_hypercube({{"a", 1.0, 1.0, ParameterKind::real}}, 10, 1); })
                .find("parameter a has range [1, 1]; expected finite bounds with min < max"),
            std::string::npos);
  EXPECT_NE(design_error([] { latin_hypercube({{"a", 0.5, 3.0, ParameterKind::integer}}, 10, 1); })
                .find("expected whole-number bounds"),
            std::string::npos);
  EXPECT_NE(design_error([] { latin_hypercube(unit_cube(2), 0, 1); }).find("at least 1 point"), std::string::npos);
  EXPECT_NE(design_error([] {
              latin_hypercube({{"a", 0, 1, ParameterKind::real}, {"a", 0, 2, ParameterKind::real}}, 10, 1);
            }).find("a is varied twice"),
            std::string::npos);
}

TEST(Sobol, FirstPointsAreJoeKuos) {
  // The Joe-Kuo (2008) sequence after its all-zero point (scipy.stats.qmc.Sobol(d=3, scramble=False) rows 1-6).
  const std::vector<std::vector<double>> expected = {{0.5, 0.5, 0.5},       {0.75, 0.25, 0.25},
                                                     {0.25, 0.75, 0.75},    {0.375, 0.375, 0.625},
                                                     {0.875, 0.875, 0.125}, {0.625, 0.125, 0.875}};
  const Design d = sobol_sequence(unit_cube(3), 6);
  for (std::size_t p = 0; p < 6; ++p)
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(d.unit_point(p)[j], expected[p][j]) << p << "," << j;
  // Skipping starts further along the same sequence.
  const Design s = sobol_sequence(unit_cube(3), 2, 0, SobolScramble::none, 3);
  EXPECT_EQ(std::vector<double>(s.unit.begin(), s.unit.begin() + 3), expected[3]);
  // Values scale to the ranges.
  const Design v = sobol_sequence({{"a", 100.0, 400.0, ParameterKind::real}}, 2);
  EXPECT_EQ(v.values, (std::vector<double>{250.0, 325.0}));
}

TEST(Sobol, PointsInTheUnitCubeAndStratified) {
  const std::size_t m = 10, n = (1u << m) - 1;  // with the skipped zero point, the first 2^m form a net
  const Design d = sobol_sequence(unit_cube(5), n);
  for (double u : d.unit) {
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  // Every one-dimensional projection puts one point in each interval [j/2^m, (j+1)/2^m) except [0, 2^-m).
  for (std::size_t j = 0; j < 5; ++j) {
    std::set<std::size_t> cells;
    for (std::size_t p = 0; p < n; ++p) cells.insert(static_cast<std::size_t>(d.unit_point(p)[j] * (n + 1)));
    EXPECT_EQ(cells.size(), n);
    EXPECT_EQ(cells.count(0), 0u);
  }
  // The first two dimensions form a (0, m, 2)-net: every 2^a x 2^(m-a) box holds one point (the zero point's box
  // at the origin is the one left empty).
  for (std::size_t a = 0; a <= m; ++a) {
    std::set<std::pair<std::size_t, std::size_t>> boxes;
    for (std::size_t p = 0; p < n; ++p)
      boxes.insert({static_cast<std::size_t>(d.unit_point(p)[0] * (1u << a)),
                    static_cast<std::size_t>(d.unit_point(p)[1] * (1u << (m - a)))});
    EXPECT_EQ(boxes.size(), n) << a;
    EXPECT_EQ(boxes.count({0, 0}), 0u) << a;
  }
}

TEST(Sobol, DigitalShiftIsReproducibleAndKeepsStrata) {
  const std::vector<Parameter> ps = unit_cube(3);
  const Design plain = sobol_sequence(ps, 255);
  const Design a = sobol_sequence(ps, 255, 42, SobolScramble::digital_shift);
  const Design b = sobol_sequence(ps, 255, 42, SobolScramble::digital_shift);
  const Design c = sobol_sequence(ps, 255, 43, SobolScramble::digital_shift);
  EXPECT_EQ(a.unit, b.unit);
  EXPECT_NE(a.unit, c.unit);
  EXPECT_NE(a.unit, plain.unit);
  EXPECT_EQ(plain.unit, sobol_sequence(ps, 255, 99).unit);  // unshifted: the seed plays no part
  for (std::size_t j = 0; j < 3; ++j) {
    std::set<std::size_t> cells;
    for (std::size_t p = 0; p < 255; ++p) {
      ASSERT_LT(a.unit_point(p)[j], 1.0);
      cells.insert(static_cast<std::size_t>(a.unit_point(p)[j] * 256));
    }
    EXPECT_EQ(cells.size(), 255u);
  }
}

TEST(Saltelli, LayoutOfAAbAndB) {
  const std::vector<Parameter> ps = {{"a", 0.0, 1.0, ParameterKind::real},
                                     {"b", -1.0, 1.0, ParameterKind::real},
                                     {"c", 10.0, 20.0, ParameterKind::real}};
  const std::size_t n = 16, k = 3;
  const Design d = saltelli(ps, n);
  ASSERT_EQ(d.size(), n * (k + 2));
  EXPECT_EQ(d.base_rows, n);
  // A and B are the first and last k columns of the 2k-dimensional sequence.
  const Design base = sobol_sequence(unit_cube(2 * k), n);
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t first = j * (k + 2);
    EXPECT_EQ(d.tags[first].role, PointRole::saltelli_a);
    EXPECT_EQ(d.tags[first + k + 1].role, PointRole::saltelli_b);
    for (std::size_t c = 0; c < k; ++c) {
      EXPECT_EQ(d.unit_point(first)[c], base.unit_point(j)[c]);
      EXPECT_EQ(d.unit_point(first + k + 1)[c], base.unit_point(j)[k + c]);
    }
    for (std::size_t i = 0; i < k; ++i) {
      const PointTag& t = d.tags[first + 1 + i];
      EXPECT_EQ(t.role, PointRole::saltelli_ab);
      EXPECT_EQ(t.row, j);
      EXPECT_EQ(t.parameter, i);
      for (std::size_t c = 0; c < k; ++c)
        EXPECT_EQ(d.value(first + 1 + i, c), c == i ? d.value(first + k + 1, c) : d.value(first, c));
    }
  }
  EXPECT_NE(design_error([&] { saltelli(ps, 1); }).find("at least 2 base rows"), std::string::npos);
  EXPECT_EQ(saltelli(ps, 8, 5, SobolScramble::digital_shift).unit,
            saltelli(ps, 8, 5, SobolScramble::digital_shift).unit);
  EXPECT_NE(saltelli(ps, 8, 5, SobolScramble::digital_shift).unit,
            saltelli(ps, 8, 6, SobolScramble::digital_shift).unit);
}

// Campolongo et al. (2007)'s spread of a design's trajectories: sum over pairs of the squared sum of distances.
double spread(const Design& d) {
  const std::size_t k = d.dimensions(), r = d.size() / (k + 1);
  double total = 0.0;
  for (std::size_t a = 0; a < r; ++a)
    for (std::size_t b = a + 1; b < r; ++b) {
      double dist = 0.0;
      for (std::size_t p = 0; p <= k; ++p)
        for (std::size_t q = 0; q <= k; ++q) {
          double s = 0.0;
          for (std::size_t i = 0; i < k; ++i) {
            const double x = d.unit_point(a * (k + 1) + p)[i] - d.unit_point(b * (k + 1) + q)[i];
            s += x * x;
          }
          dist += std::sqrt(s);
        }
      total += dist * dist;
    }
  return total;
}

TEST(Morris, TrajectoriesMoveEachParameterOnceByDelta) {
  const std::vector<Parameter> ps = {{"a", 0.0, 1.0, ParameterKind::real},
                                     {"b", 100.0, 400.0, ParameterKind::real},
                                     {"c", -1.0, 1.0, ParameterKind::real},
                                     {"d", 1.0, 10.0, ParameterKind::integer}};
  const std::size_t k = 4, r = 30, p = 6;
  const Design d = morris(ps, r, p, 2024);
  ASSERT_EQ(d.size(), r * (k + 1));
  EXPECT_EQ(d.levels, p);
  EXPECT_DOUBLE_EQ(d.delta, 0.6);  // p / (2 (p - 1))
  std::size_t ups = 0, downs = 0;
  for (std::size_t t = 0; t < r; ++t) {
    std::set<std::size_t> moved;
    for (std::size_t s = 0; s <= k; ++s) {
      const std::size_t at = t * (k + 1) + s;
      EXPECT_EQ(d.tags[at].role, PointRole::morris);
      EXPECT_EQ(d.tags[at].row, t);
      EXPECT_EQ(d.tags[at].step, s);
      for (std::size_t i = 0; i < k; ++i) {
        const double level = d.unit_point(at)[i] * (p - 1);
        EXPECT_NEAR(level, std::round(level), 1e-12) << "off the grid";
        EXPECT_GE(d.unit_point(at)[i], 0.0);
        EXPECT_LE(d.unit_point(at)[i], 1.0);
        EXPECT_GE(d.value(at, i), ps[i].min);
        EXPECT_LE(d.value(at, i), ps[i].max);
      }
      if (s == 0) {
        EXPECT_EQ(d.tags[at].parameter, PointTag::none);
        continue;
      }
      const std::size_t i = d.tags[at].parameter;
      ASSERT_LT(i, k);
      EXPECT_TRUE(moved.insert(i).second) << "parameter moved twice";
      for (std::size_t c = 0; c < k; ++c) {
        const double step = d.unit_point(at)[c] - d.unit_point(at - 1)[c];
        if (c == i) {
          EXPECT_NEAR(std::abs(step), d.delta, 1e-12);
          (step > 0 ? ups : downs) += 1;
        } else {
          EXPECT_EQ(step, 0.0);
        }
      }
    }
    EXPECT_EQ(moved.size(), k);
  }
  // Both directions occur (about half each).
  EXPECT_GT(ups, r * k / 4);
  EXPECT_GT(downs, r * k / 4);
}

TEST(Morris, ReproducibleAndSpreadByCandidateSelection) {
  const std::vector<Parameter> ps = unit_cube(5);
  EXPECT_EQ(morris(ps, 10, 4, 1).unit, morris(ps, 10, 4, 1).unit);
  EXPECT_NE(morris(ps, 10, 4, 1).unit, morris(ps, 10, 4, 2).unit);
  // Choosing 10 of 100 candidates spreads the trajectories more than taking 10 at random, for every seed tried.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const Design plain = morris(ps, 10, 4, seed);
    const Design chosen = morris(ps, 10, 4, seed, 100);
    ASSERT_EQ(chosen.size(), plain.size());
    EXPECT_GT(spread(chosen), spread(plain)) << seed;
  }
}

TEST(Morris, RejectsBadOptions) {
  const std::vector<Parameter> ps = unit_cube(2);
  EXPECT_NE(design_error([&] { morris(ps, 10, 5, 1); }).find("expected an even number >= 2"), std::string::npos);
  EXPECT_NE(design_error([&] { morris(ps, 10, 0, 1); }).find("levels (p) = 0"), std::string::npos);
  EXPECT_NE(design_error([&] { morris(ps, 1, 4, 1); }).find("at least 2 trajectories"), std::string::npos);
  EXPECT_NE(design_error([&] { morris(ps, 10, 4, 1, 5); }).find("5 candidate trajectories cannot yield 10"),
            std::string::npos);
}

}  // namespace
