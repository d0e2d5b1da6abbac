// The chacra command line: every command on one CLI11 command line (app/commands.hpp), and the one place where
// an error becomes a message and an exit status (sim/errors.hpp).
#pragma once

namespace chacra::cli {

int main(int argc, char** argv);

}  // namespace chacra::cli
