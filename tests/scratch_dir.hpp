// A scratch directory for each test process: created empty and removed when the process exits.
//
// Test files used to go to /tmp/chacra_<kind>_<pid>, which nothing removed: with process ids reused
// (pid_max is 32,768 on many systems) a later test process could find an earlier one's files, and a test that
// checks that a file does not exist then failed by chance. mkdtemp gives a name no other process holds.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace chacra::test {

class ScratchDir {
 public:
  // The process's directory, created on first use.
  static const std::filesystem::path& path() {
    static const ScratchDir dir;
    return dir.path_;
  }

  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

 private:
  ScratchDir() {
    std::string name = (std::filesystem::temp_directory_path() / "chacra_test_XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr)
      throw std::runtime_error("cannot create a scratch directory in " + std::filesystem::temp_directory_path().string());
    path_ = name;
  }
  ~ScratchDir() {
    std::error_code ignored;  // a test that left a file open must not turn the exit into a crash
    std::filesystem::remove_all(path_, ignored);
  }
  std::filesystem::path path_;
};

// A path for file `name` in the process's scratch directory.
inline std::string scratch_path(const std::string& name) { return (ScratchDir::path() / name).string(); }

}  // namespace chacra::test
