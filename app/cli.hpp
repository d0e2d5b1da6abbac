// The chacra command line: subcommand dispatch, option parsing and exit statuses.
#pragma once

#include <string>
#include <vector>

namespace chacra::cli {

// Exit statuses shared by every subcommand.
inline constexpr int kOk = 0;
inline constexpr int kRuntimeError = 1;
inline constexpr int kBadInput = 2;

int main(int argc, char** argv);

}  // namespace chacra::cli
