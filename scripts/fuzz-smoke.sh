#!/usr/bin/env bash
# Builds the libFuzzer targets of native/test/fuzz (clang, -fsanitize=fuzzer,address,undefined), makes their seed
# corpora from valid objects (scripts/fuzz-corpus.ts) and runs every target for FUZZ_SECONDS (default 30),
# FUZZ_JOBS at a time (default 2). Exits non-zero when a target finds a crash, leak, sanitizer report, timeout
# or oversized allocation; the input is kept under $FUZZ_DIR/artifacts/<target>/.
#   scripts/fuzz-smoke.sh                      # every target
#   FUZZ_SECONDS=3600 scripts/fuzz-smoke.sh fuzz_kswitch_keys   # a longer campaign on one target
# Inputs of past findings (native/test/fuzz/regressions/<target>/) run first, under the same sanitizers.
# Installs clang from Debian when it is missing and we are root (CI runs on a clean root machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-2}"
dir="${FUZZ_DIR:-$root/build/fuzz}"
node="${NODE:-$root/node_modules/.bin/node}"
[ -x "$node" ] || node=node
cxx="${FUZZ_CXX:-clang++}"

if ! command -v "$cxx" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fuzz: installing clang (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
  else
    echo "fuzz: $cxx not found (install clang: apt-get install -y clang)" >&2
    exit 3
  fi
fi

flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -Wno-unknown-warning-option -fsanitize=address,undefined -fno-sanitize-recover=undefined -I"$root/native")
mkdir -p "$dir/obj" "$dir/bin" "$dir/corpus" "$dir/work" "$dir/artifacts"

# Core objects, rebuilt when their source or any native header is newer (headers are few and shared).
newest_header="$(find native -name '*.h' -printf '%T@\n' | sort -n | tail -1)"
objects=()
stale=()
while IFS= read -r source; do
  object="$dir/obj/$(echo "$source" | tr '/' '_').o"
  objects+=("$object")
  if [ ! -f "$object" ] || [ "$source" -nt "$object" ] ||
    [ "$(stat -c %Y "$object")" -lt "${newest_header%.*}" ]; then
    stale+=("$source")
  fi
done < <("$node" scripts/native-sources.mjs core)
if [ "${#stale[@]}" -gt 0 ]; then
  echo "fuzz: compiling ${#stale[@]} core sources"
  printf '%s\n' "${stale[@]}" | xargs -P "$jobs" -I{} sh -c \
    'src="$1"; shift; "$@" -fsanitize=fuzzer-no-link -c "$src" -o "'"$dir"'/obj/$(echo "$src" | tr / _).o"' _ {} "$cxx" "${flags[@]}"
fi

targets=()
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  for source in native/test/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
stale=()
for target in "${targets[@]}"; do
  binary="$dir/bin/$target"
  if [ ! -f "$binary" ] || [ -n "$(find "${objects[@]}" native/test/fuzz -newer "$binary" -print -quit)" ]; then
    stale+=("$target")
  fi
done
if [ "${#stale[@]}" -gt 0 ]; then
  echo "fuzz: linking ${stale[*]}"
  printf '%s\n' "${stale[@]}" | xargs -P "$jobs" -I{} "$cxx" "${flags[@]}" -fsanitize=fuzzer "native/test/fuzz/{}.cpp" \
    "${objects[@]}" -pthread -o "$dir/bin/{}"
fi

"$node" scripts/fuzz-corpus.ts "$dir/corpus" >/dev/null

run_one() {
  local target="$1"
  mkdir -p "$dir/work/$target" "$dir/artifacts/$target"
  if "$dir/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target/" \
    "$dir/work/$target" "$dir/corpus/$target" $(ls -d "native/test/fuzz/regressions/$target" 2>/dev/null) \
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
