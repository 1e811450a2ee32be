#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and runs every test: the whole suite in the release build
# (real peers: QEMU guests, dpdk-testpmd, namespaces, tshark), the unit and component suites
# under ASan+UBSan and TSan, and a bounded libFuzzer run of every fuzz target.
#
# UVS_TEST_QUICK=1 skips the sanitizer and fuzz builds (for iterating locally; CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

jobs=$(nproc)
step() { printf '\n==== %s ====\n' "$*"; }
fails=0
run_ctest() {  # run_ctest PRESET [ctest args...]
  local preset=$1; shift
  if ! ctest --test-dir "build/$preset" --output-on-failure --timeout 600 -j "$jobs" "$@"; then
    fails=$((fails + 1))
  fi
}

step "release build: every test"
# Both flavours without a build of their own: release carries the optional DPDK port (and its
# real-peer tests); the sanitizer and fuzz builds below are the default build, without DPDK.
cmake --preset release -DUVS_WITH_DPDK=ON >/dev/null
cmake --build --preset release -j "$jobs"
# Real-peer tests boot guests and start testpmd: they take the machine's cores, so they run
# one at a time (their ctest RESOURCE_LOCK) while unit suites run in parallel beside them.
# The fuzz label here is the corpus replay; real fuzzing is the last stage.
run_ctest release

if [ "${UVS_TEST_QUICK:-0}" != 1 ]; then
  # ASan runs everything but guest boots (testpmd and the daemon's script tests included);
  # TSan runs the in-process suites, where the threads are.
  step "ASan+UBSan build: all but guest tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  run_ctest asan -LE 'e2e'

  step "TSan build: unit and component tests"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$jobs" --target unit-tests
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" run_ctest tsan -LE 'e2e|script|fuzz'

  step "libFuzzer build: bounded fuzzing of every parser"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target fuzz-targets
  run_ctest fuzz -L fuzz
fi

if [ "$fails" -ne 0 ]; then
  echo "tools/test.sh: $fails test stage(s) failed" >&2
  exit 1
fi
echo "tools/test.sh: all stages passed"
