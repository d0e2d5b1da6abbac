// Test helpers that run the chacra executable and capture its exit status and output.
#pragma once

#include "tests/scratch_dir.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace clitest {

struct Result {
  int status = -1;
  std::string out;  // stdout and stderr together
};

inline std::string chacra() { return std::string(CHACRA_BINARY_DIR) + "/chacra"; }

// Runs `chacra ARGS` through the shell (ARGS must be shell-quoted by the caller) in `cwd`.
inline Result run(const std::string& args, const std::string& cwd = "") {
  std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + chacra() + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

inline std::string temp_dir(const std::string& name) {
  const auto dir = chacra::test::ScratchDir::path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A scenario small enough to run in a second or two.
inline const char* kSmallSet =
    "--set population.households=1500 --set population.districts=6 --set run.years=3 --set run.replicates=1";

}  // namespace clitest
