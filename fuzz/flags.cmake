# Included from the top-level CMakeLists.txt, before add_subdirectory(sim), when CHACRA_FUZZ is ON: the whole
# project (chacra_sim, chacra_models, the CLI) is compiled with libFuzzer's coverage instrumentation and
# ASan + UBSan, so that the fuzz targets see into the code they exercise. Clang only; use a build dir of its
# own (see docs/reliability.md):
#   cmake -S . -B build-fuzz -DCHACRA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 \
#         -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHACRA_BUILD_TESTS=OFF -DCHACRA_BUILD_BENCHMARKS=OFF
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CHACRA_FUZZ needs clang (libFuzzer): configure a separate build dir with "
                      "-DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14")
endif()
if(CHACRA_SANITIZE OR CHACRA_TSAN)
  message(FATAL_ERROR "CHACRA_FUZZ already builds with ASan + UBSan; leave CHACRA_SANITIZE and CHACRA_TSAN OFF")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
# The fuzz targets are ctest tests (label fuzz) even when the GoogleTest suite is not built.
enable_testing()
set(CHACRA_FUZZ_SECONDS 60 CACHE STRING "Seconds each fuzz target runs under ctest (label fuzz)")
