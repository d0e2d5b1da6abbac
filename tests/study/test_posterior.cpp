// The posterior ensemble of chacra calibrate as chacra reads it: checks and refusals, the row each replicate
// draws (pairs share one, frequencies follow the weights), applying a row, and the split of the replicate
// spread into parameter and sampling parts.
#include "study/posterior.hpp"

#include "sim/errors.hpp"
#include "sim/output/h5.hpp"
#include "study/registry.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

namespace po = chacra::study::posterior;
namespace h5 = chacra::h5;

namespace {

struct File {
  std::vector<std::string> names = {"welfare.animal_value_pen", "juntos.compliance_base"};
  std::vector<double> draws = {1500, 0.90, 2000, 0.92, 2500, 0.95};  // 3 rows
  std::vector<double> weight = {0.2, 0.3, 0.5};
  std::string format = "chacra-posterior";
};

std::string write(const File& f, const std::string& name) {
  const std::string path = (std::filesystem::temp_directory_path() / ("chacra_test_posterior_" + name + ".h5")).string();
  const h5::Handle file = h5::create_file(path);
  h5::write_attr(file.id(), "format", f.format);
  h5::write_attr(file.id(), "format_version", 1LL);
  h5::write_attr(file.id(), "problem_name", std::string("test"));
  const h5::Handle g = h5::create_group(file.id(), "posterior");
  h5::write_strings(g.id(), "parameter", f.names);
  const hsize_t k = f.names.size(), n = f.draws.size() / std::max<hsize_t>(k, 1);
  h5::write_dataset(g.id(), "draws", chacra::ColumnType::f64, {n, k}, f.draws.data());
  h5::write_dataset(g.id(), "weight", chacra::ColumnType::f64, {f.weight.size()}, f.weight.data());
  std::vector<double> central(k, 0.0);
  for (hsize_t j = 0; j < k; ++j) central[j] = f.draws[k + j];
  h5::write_dataset(g.id(), "central", chacra::ColumnType::f64, {k}, central.data());
  const h5::Handle t = h5::create_group(file.id(), "targets");
  h5::write_strings(t.id(), "name", {"control_mean_income", "income_itt"});
  h5::write_strings(t.id(), "role", {"calibration", "validation"});
  h5::write_strings(t.id(), "statistic", {R"({"kind": "evaluate", "outcome": "control_mean_income"})",
                                          R"({"kind": "evaluate", "outcome": "income"})"});
  return path;
}

void expect_refused(const File& f, const std::string& name, const std::string& needle) {
  const std::string path = write(f, name);
  try {
    po::read(path, chacra::study::registry());
    FAIL() << "expected a refusal naming " << needle;
  } catch (const chacra::BadInput& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Posterior, ReadsAValidEnsemble) {
  const po::Ensemble e = po::read(write(File{}, "valid"), chacra::study::registry());
  ASSERT_EQ(e.parameters.size(), 2u);
  ASSERT_EQ(e.draws.size(), 3u);
  EXPECT_DOUBLE_EQ(e.draws[2][0], 2500);
  EXPECT_EQ(e.problem_name, "test");
  ASSERT_EQ(e.targets.size(), 2u);
  EXPECT_EQ(po::Ensemble::evaluate_outcome(e.targets[1]), "income");
  EXPECT_EQ(e.targets[0].role, "calibration");
}

TEST(Posterior, RefusesDamagedFiles) {
  File bad_format;
  bad_format.format = "something-else";
  expect_refused(bad_format, "format", "format");
  File unknown;
  unknown.names[1] = "juntos.nope";
  expect_refused(unknown, "unknown", "juntos.nope");
  File out_of_range;
  out_of_range.draws[1] = 1.5;  // a probability
  expect_refused(out_of_range, "range", "outside its range");
  File weights;
  weights.weight = {0.2, 0.3, 0.4};
  expect_refused(weights, "weights", "sum to 1");
  File twice;
  twice.names[1] = twice.names[0];
  twice.draws = {1500, 1600, 2000, 2100, 2500, 2600};
  expect_refused(twice, "twice", "twice");
  EXPECT_THROW(po::read("/nonexistent/posterior.h5", chacra::study::registry()), chacra::BadInput);
}

TEST(Posterior, PairsOfReplicatesShareARowDrawnByWeight) {
  const po::Ensemble e = po::read(write(File{}, "draws"), chacra::study::registry());
  std::map<std::size_t, int> count;
  for (std::uint32_t r = 0; r < 4000; r += 2) {
    const std::size_t row = po::row_for_replicate(e, 7, r);
    EXPECT_EQ(row, po::row_for_replicate(e, 7, r + 1)) << r;
    ++count[row];
  }
  EXPECT_NEAR(count[0] / 2000.0, 0.2, 0.03);
  EXPECT_NEAR(count[2] / 2000.0, 0.5, 0.03);
  EXPECT_EQ(po::row_for_replicate(e, 7, 10), po::row_for_replicate(e, 7, 10));  // deterministic
  chacra::ParamSet p(chacra::study::registry());
  po::apply(e, 1, p, {"juntos.compliance_base"});
  EXPECT_DOUBLE_EQ(p.real("welfare.animal_value_pen"), 2000);
  EXPECT_DOUBLE_EQ(p.real("juntos.compliance_base"), chacra::ParamSet(chacra::study::registry()).real("juntos.compliance_base"));
}

TEST(Posterior, SplitsTheReplicateSpreadIntoParameterAndSampling) {
  // Pair k shares a parameter effect theta_k (sd 3); each replicate adds sampling noise (sd 1).
  chacra::rng::Stream s(3, 0, 1, 0, 0);
  auto normal = [&] {
    const double u1 = s.uniform(), u2 = s.uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  std::vector<double> x;
  for (int k = 0; k < 4000; ++k) {
    const double theta = 3.0 * normal();
    x.push_back(theta + normal());
    x.push_back(theta + normal());
  }
  const auto v = po::split_variance(x);
  EXPECT_EQ(v.pairs, 4000u);
  EXPECT_NEAR(v.sd_parameter, 3.0, 0.15);
  EXPECT_NEAR(v.sd_sampling, 1.0, 0.05);
  EXPECT_TRUE(std::isnan(po::split_variance({1.0, 2.0}).sd_parameter));
}
