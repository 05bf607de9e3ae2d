#!/usr/bin/env bash
# Builds the libFuzzer targets of native/test/fuzz with clang into $FUZZ_DIR/bin and writes their seed corpora
# (valid objects, scripts/fuzz-corpus.ts) to $FUZZ_DIR/corpus. Shared by fuzz-smoke.sh and fuzz-campaign.sh.
#   FUZZ_SANITIZE   sanitizers besides `fuzzer` (default address,undefined; the campaign's fast builds use
#                   `undefined` or `none`)
#   FUZZ_OPT        optimization level (default -O1)
#   FUZZ_JOBS       parallel compiles (default 2)
# Arguments: the targets to link (default: every native/test/fuzz/fuzz_*.cpp).
# Installs clang from Debian when it is missing and we are root (CI runs on a clean root machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jobs="${FUZZ_JOBS:-2}"
dir="${FUZZ_DIR:-$root/build/fuzz}"
node="${NODE:-$root/node_modules/.bin/node}"
[ -x "$node" ] || node=node
cxx="${FUZZ_CXX:-clang++}"
sanitize="${FUZZ_SANITIZE:-address,undefined}"
opt="${FUZZ_OPT:--O1}"

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

flags=(-std=c++17 "$opt" -g -fno-omit-frame-pointer -Wno-unknown-warning-option -I"$root/native")
if [ "$sanitize" != none ]; then
  flags+=(-fsanitize="$sanitize")
  case "$sanitize" in *undefined*) flags+=(-fno-sanitize-recover=undefined) ;; esac
fi
mkdir -p "$dir/obj" "$dir/bin" "$dir/corpus"

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
  echo "fuzz: compiling ${#stale[@]} core sources ($sanitize, $opt)"
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
  # Sources only: the committed corpora under native/test/fuzz change without needing a relink.
  if [ ! -f "$binary" ] || [ -n "$(find "${objects[@]}" native/test/fuzz -maxdepth 1 \( -name '*.o' -o -name '*.cpp' -o -name '*.h' \) \
    -newer "$binary" -print -quit)" ]; then
    stale+=("$target")
  fi
done
if [ "${#stale[@]}" -gt 0 ]; then
  echo "fuzz: linking ${stale[*]}"
  printf '%s\n' "${stale[@]}" | xargs -P "$jobs" -I{} "$cxx" "${flags[@]}" -fsanitize=fuzzer "native/test/fuzz/{}.cpp" \
    "${objects[@]}" -pthread -o "$dir/bin/{}"
fi

"$node" scripts/fuzz-corpus.ts "$dir/corpus" >/dev/null
