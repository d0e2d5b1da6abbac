#!/usr/bin/env bash
# Builds oneTBB with ThreadSanitizer (the version of Debian 12's libtbb-dev) for tools/sanitize.sh tsan.
#
#   tools/build_tbb_tsan.sh [PREFIX]     installs into PREFIX (default $CHACRA_TBB_TSAN_PREFIX, else $HOME/tbb-tsan)
#
# Debian's libtbb.so.12 is not instrumented, so ThreadSanitizer cannot see how oneTBB hands tasks between
# threads and reports every parallel loop as a race (docs/reliability.md). This script, on Debian 12:
#   1. takes the version of the installed libtbb-dev (2021.8.0-2+deb12u1 on Debian 12; tools/setup.sh installs
#      it), so the instrumented library and headers are exactly the ones chacra is otherwise built with;
#   2. adds a deb-src entry for bookworm (/etc/apt/sources.list.d/chacra-deb-src.sources) and runs
#      apt-get update, unless apt already knows that source version; installs dpkg-dev if dpkg-source is missing;
#   3. apt-get source onetbb=VERSION (Debian's source, its patches applied) into the work directory
#      ($CHACRA_TBB_TSAN_WORK, default ${XDG_CACHE_HOME:-$HOME/.cache}/chacra/tbb-tsan);
#   4. configures it with -DTBB_SANITIZE=thread -DTBB_TEST=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo, builds with
#      -j$CHACRA_JOBS (default 2) and installs it to PREFIX (lib/ libtbb.so.12, lib/cmake/TBB/TBBConfig.cmake).
# Nothing is downloaded while chacra itself is built. Steps 2 and 3 need apt (root, or sudo); about 1 minute
# of building on 2 cores. When PREFIX already holds a build of that version it does nothing (to rebuild,
# delete PREFIX). The last line printed is the directory to pass as CHACRA_TSAN_TBB_DIR (or TBB_DIR).
set -euo pipefail

prefix=${1:-${CHACRA_TBB_TSAN_PREFIX:-$HOME/tbb-tsan}}
work=${CHACRA_TBB_TSAN_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/chacra/tbb-tsan}
jobs=${CHACRA_JOBS:-2}
say() { echo "build_tbb_tsan.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "needs root (or sudo) for: $*"; fi
}

version=$(dpkg-query -W -f='${Version}' libtbb-dev 2>/dev/null || true)
[[ -n "$version" ]] || die "libtbb-dev is not installed (run tools/setup.sh, or apt-get install libtbb-dev)"
stamp="$prefix/share/chacra-tbb-tsan.stamp"
if [[ -f "$prefix/lib/cmake/TBB/TBBConfig.cmake" && -f "$stamp" && "$(cat "$stamp")" == "onetbb $version TBB_SANITIZE=thread" ]]; then
  say "ThreadSanitizer oneTBB $version already installed in $prefix"
  echo "$prefix/lib/cmake/TBB"
  exit 0
fi

# 2. Source packages.
if ! apt-cache showsrc onetbb 2>/dev/null | grep -qx "Version: $version"; then
  say "adding deb-src entries for bookworm and running apt-get update"
  as_root tee /etc/apt/sources.list.d/chacra-deb-src.sources >/dev/null <<'EOF'
# Added by chacra's tools/build_tbb_tsan.sh: Debian source packages (apt-get source onetbb).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  as_root apt-get update -qq
  apt-cache showsrc onetbb 2>/dev/null | grep -qx "Version: $version" ||
    die "apt knows no source package onetbb $version (is this Debian 12 with the deb-src entries above?)"
fi
missing=()
command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
if [[ ${#missing[@]} -gt 0 ]]; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# 3. Debian's source of that version (upstream tarball + Debian patches).
upstream=${version#*:}
upstream=${upstream%-*}
src="$work/onetbb-$upstream"
rm -rf "$src" "$work/build" "$work"/onetbb_*
mkdir -p "$work"
(cd "$work" && apt-get source -q "onetbb=$version") || die "apt-get source onetbb=$version failed"
[[ -f "$src/CMakeLists.txt" ]] || die "no oneTBB source in $src"

# 4. Build with ThreadSanitizer and install. TBB_STRICT=OFF: warnings are not errors (as in Debian's build).
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTBB_SANITIZE=thread -DTBB_TEST=OFF \
      -DTBB_EXAMPLES=OFF -DTBB4PY_BUILD=OFF -DTBB_STRICT=OFF \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib
cmake --build "$work/build" -j"$jobs"
cmake --install "$work/build"
# (grep -c reads all of nm's output: grep -q would exit early and, under pipefail, fail the pipeline.)
[[ $(nm -D "$prefix/lib/libtbb.so.12" | grep -c ' U __tsan_func_entry') -gt 0 ]] ||
  die "$prefix/lib/libtbb.so.12 is not instrumented"
mkdir -p "$(dirname "$stamp")"
echo "onetbb $version TBB_SANITIZE=thread" > "$stamp"
say "installed ThreadSanitizer oneTBB $version in $prefix"
echo "$prefix/lib/cmake/TBB"
