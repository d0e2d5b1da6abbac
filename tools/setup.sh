#!/usr/bin/env bash
# One-step set-up on Debian 12: installs missing packages with apt-get, then configures and builds chacra
# in Release (build/). Extra arguments are passed to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config libtbb-dev libyaml-cpp-dev libhdf5-dev hdf5-tools libboost-dev
          libboost-random-dev librandom123-dev libcli11-dev nlohmann-json3-dev libgtest-dev
          libgmock-dev libbenchmark-dev libreadstat-dev libdeflate-dev libxxhash-dev
          libopenmpi-dev openmpi-bin valgrind clang-14 libclang-rt-14-dev
          python3-h5py python3-numpy python3-pandas python3-matplotlib python3-statsmodels python3-pytest
          chromium chromium-driver python3-selenium r-base-core r-cran-hdf5r
          pybind11-dev python3-dev python3-flask jupyter-nbconvert python3-nbformat python3-ipykernel
          python3-scipy python3-yaml python3-sklearn python3-emcee python3-mpi4py)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" ||
    { "${sudo_cmd[@]}" apt-get update -q && "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"; }
fi

# Built with the MPI scale-out: chacra runs serially unless started by mpirun/srun (docs/cluster.md); the
# ctest label mpi checks that any number of ranks gives the serial output.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCHACRA_WITH_MPI=ON "$@"
cmake --build build -j2
