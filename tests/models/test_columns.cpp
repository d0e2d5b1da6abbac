// Each module's header is the full list of the columns it touches: its own declarations (Col<T>) and a list
// of the engine's and the shared columns it reads or writes. This test keeps that list true: it must name
// exactly the other columns that the module's sources look up (col::NAME), no more and no fewer.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read(const std::string& relative) {
  std::ifstream in(std::string(CHACRA_SOURCE_DIR) + "/" + relative);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> matches(const std::string& text, const std::regex& re) {
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

// The names listed after "reads or writes" (and an optional "it owns none:") up to the full stop, in the
// header's comment.
std::set<std::string> listed(const std::string& header) {
  const auto at = header.find("that this module reads or writes");
  if (at == std::string::npos) return {};
  std::string list;
  for (std::size_t i = header.find(':', at) + 1; i < header.size() && header[i] != '.'; ++i)
    list += header[i] == '/' ? ' ' : header[i];
  return matches(list, std::regex(R"(([a-z][a-z0-9_]*))"));
}

struct Module {
  std::string header;
  std::vector<std::string> sources;
};

TEST(ModuleColumns, EachHeaderListsTheOtherColumnsItsModuleTouches) {
  const std::vector<Module> modules = {
      {"models/demography.hpp", {"models/demography.cpp"}},
      {"models/adoption.hpp", {"models/adoption.cpp", "models/adoption_rules.hpp"}},
      {"models/livestock.hpp", {"models/livestock.cpp", "models/livestock_rules.hpp"}},
      {"models/livelihood.hpp", {"models/livelihood.cpp", "models/livelihood_rules.hpp"}},
      {"models/finance.hpp", {"models/finance.cpp", "models/finance_rules.hpp"}},
      {"models/juntos.hpp", {"models/juntos.cpp", "models/juntos_rules.hpp"}},
      {"models/haku_winay.hpp",
       {"models/haku_winay.cpp", "models/haku_winay_rules.hpp", "models/hw_targeting.cpp", "models/hw_business.cpp"}},
      {"models/portfolio.hpp", {"models/portfolio.cpp", "models/portfolio_rules.hpp"}},
  };
  const std::regex used_re(R"(col::([a-z][a-z0-9_]*))"), own_re(R"(Col<[^>]*>\s+([a-z][a-z0-9_]*)\{)");
  for (const auto& m : modules) {
    const std::string header = read(m.header);
    ASSERT_FALSE(header.empty()) << m.header;
    const std::set<std::string> own = matches(header, own_re);
    std::set<std::string> others;
    for (const auto& source : m.sources)
      for (const auto& name : matches(read(source), used_re))
        if (!own.count(name)) others.insert(name);
    const std::set<std::string> list = listed(header);
    for (const auto& name : others) EXPECT_TRUE(list.count(name)) << m.header << " does not list col::" << name;
    for (const auto& name : list) EXPECT_TRUE(others.count(name)) << m.header << " lists " << name << ", never used";
  }
}

}  // namespace
