#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds the release preset, and starts uvswitch (default config
# unless flags are given: `tools/run.sh --port ...` passes them through).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --runtime
cmake --preset release >/dev/null
cmake --build --preset release --target uvswitch uvswitchctl
exec build/release/tools/uvswitch/uvswitch "$@"
