// Entry point of the chacra executable; everything lives in the cli namespace.
#include "app/cli.hpp"

int main(int argc, char** argv) { return chacra::cli::main(argc, argv); }
