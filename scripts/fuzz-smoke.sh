#!/usr/bin/env bash
# Builds the libFuzzer targets of native/test/fuzz with scripts/fuzz-build.sh (clang, -fsanitize=fuzzer,address,
# undefined; seed corpora of valid objects from scripts/fuzz-corpus.ts) and runs every target for FUZZ_SECONDS
# (default 30), FUZZ_JOBS at a time (default 2), starting from the seeds, the campaign's committed minimized
# corpus (native/test/fuzz/corpus/<target>, scripts/fuzz-campaign.sh) and past findings. Exits non-zero when a
# target finds a crash, leak, sanitizer report, timeout or oversized allocation; the input is kept under
# $FUZZ_DIR/artifacts/<target>/.
#   scripts/fuzz-smoke.sh                      # every target
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh fuzz_kswitch_keys   # a longer run of one target
# Inputs of past findings (native/test/fuzz/regressions/<target>/) run first, under the same sanitizers.
# The long campaign (corpora kept between runs, executions and coverage recorded): scripts/fuzz-campaign.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-2}"
dir="${FUZZ_DIR:-$root/build/fuzz}"
node="${NODE:-$root/node_modules/.bin/node}"
[ -x "$node" ] || node=node

FUZZ_DIR="$dir" FUZZ_JOBS="$jobs" NODE="$node" scripts/fuzz-build.sh "$@"

targets=()
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  for source in native/test/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
mkdir -p "$dir/work" "$dir/artifacts"

run_one() {
  local target="$1"
  mkdir -p "$dir/work/$target" "$dir/artifacts/$target"
  if "$dir/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target/" \
    "$dir/work/$target" "$dir/corpus/$target" $(ls -d "native/test/fuzz/corpus/$target" 2>/dev/null) \
    $(ls -d "native/test/fuzz/regressions/$target" 2>/dev/null) \
    >"$dir/$target.log" 2>&1; then
    echo "fuzz: $target ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$dir/$target.log" | grep -o '[0-9]*$') runs in ${seconds} s)"
  else
    echo "fuzz: $target FAILED; log $dir/$target.log, inputs in $dir/artifacts/$target/" >&2
    tail -40 "$dir/$target.log" >&2
    return 1
  fi
}
export -f run_one
export dir seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
