#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Offline fuzzing campaign: builds the fuzz preset, runs each libFuzzer target for a stated time,
# merges what it found into the in-repo corpus (tests/fuzz/corpus) and prints execs and coverage.
#
# Usage: tools/fuzz.sh [--seconds N] [--jobs J] [--max-len B] [TARGET...]
#   --seconds N   wall time per target (default 600)
#   --jobs J      libFuzzer fork-mode workers per target (default: the CPU count, at most 2)
#   --max-len B   longest input tried (default 4096), which also bounds corpus files
#   TARGET        fuzz_config, fuzz_vlan ... (default: every target in tests/fuzz/CMakeLists.txt)
# Crashes, leaks and sanitizer reports are kept in build/fuzz/campaign/TARGET/ (crash-*, and the
# worker logs) and make the script exit non-zero. Prints one table row per target:
#   target  seconds  execs  exec/s  cov  ft  corpus-files  corpus-KB  crashes
# where execs and exec/s are the campaign's (libFuzzer's fork-mode totals) and cov/ft are those
# of the merged in-repo corpus, replayed once at the end (so rows compare across runs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
jobs=$(nproc)
[ "$jobs" -gt 2 ] && jobs=2
max_len=4096
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --max-len) max_len=$2; shift 2 ;;
    -h|--help) awk 'NR > 2 && !/^#/ {exit} NR > 2 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    -*) echo "tools/fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$seconds$jobs$max_len" in
  *[!0-9]*) echo "tools/fuzz.sh: --seconds, --jobs and --max-len take numbers" >&2; exit 2 ;;
esac
known=$(sed -n 's/^uvs_fuzz_target(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
[ ${#targets[@]} -gt 0 ] || mapfile -t targets <<<"$known"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$known" ||
    { echo "tools/fuzz.sh: no fuzz target '$t' (have: $(echo $known))" >&2; exit 2; }
done

cmake --preset fuzz >/dev/null
nice cmake --build --preset fuzz -j "$jobs" --target "${targets[@]}"

# The corpus folder a target uses: its CORPUS argument in tests/fuzz/CMakeLists.txt.
corpus_of() {
  sed -n "/^uvs_fuzz_target($1 /s/.*CORPUS \([a-z0-9_]*\).*/\1/p" tests/fuzz/CMakeLists.txt
}
# "cov ft" from the last libFuzzer status line in a log.
cov_ft() {
  grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$1" | tail -1 | awk '{print $2, $4}'
}

fails=0
rows=()
for t in "${targets[@]}"; do
  bin=build/fuzz/tests/fuzz/$t
  c=$(corpus_of "$t")
  seeds=tests/fuzz/corpus/$c
  work=build/fuzz/campaign/$t
  rm -rf "$work"
  mkdir -p "$work/new"
  echo "==== $t: ${seconds}s, $jobs workers" >&2
  start=$(date +%s)
  # Fork mode: workers run in child processes, a crash is recorded and the campaign goes on;
  # the parent prints totals (execs, cov, ft) that the table reads.
  root=$PWD
  (cd "$work" && nice "$root/$bin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 \
      -ignore_ooms=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$root/$work/" \
      new "$root/$seeds") >"$work/campaign.log" 2>&1 || true
  took=$(( $(date +%s) - start ))
  execs=$(grep -aoE '^#[0-9]+: cov' "$work/campaign.log" | tail -1 | tr -dc 0-9)
  execs=${execs:-0}
  # Minimise: only inputs that add features to the in-repo corpus are copied into it.
  "$bin" -merge=1 -max_len="$max_len" "$seeds" "$work/new" >"$work/merge.log" 2>&1 || {
    echo "tools/fuzz.sh: $t: merge failed, see $work/merge.log" >&2; fails=$((fails + 1)); }
  "$bin" -runs=0 "$seeds" >"$work/replay.log" 2>&1 || {
    echo "tools/fuzz.sh: $t: the merged corpus does not replay cleanly, see $work/replay.log" >&2
    fails=$((fails + 1)); }
  read -r cov ft < <(cov_ft "$work/replay.log"; echo)
  crashes=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) | wc -l)
  [ "$crashes" -eq 0 ] || fails=$((fails + 1))
  files=$(find "$seeds" -type f | wc -l)
  kb=$(du -sk --apparent-size "$seeds" | cut -f1)
  rows+=("$(printf '%-18s %7s %12s %8s %6s %7s %6s %6s %7s' "$t" "$took" "$execs" \
            "$((execs / (took > 0 ? took : 1)))" "${cov:-?}" "${ft:-?}" "$files" "$kb" "$crashes")")
done

printf '\n%-18s %7s %12s %8s %6s %7s %6s %6s %7s\n' target seconds execs exec/s cov ft files KB \
  crashes
printf '%s\n' "${rows[@]}"
if [ "$fails" -ne 0 ]; then
  echo "tools/fuzz.sh: crashes or failures: see build/fuzz/campaign/*/" >&2
  exit 1
fi
