#!/usr/bin/env bash
# The long-running fuzz campaign: one libFuzzer process at a time, cycling through the native loader targets
# (the one with the fewest executions so far goes next) until each reaches FUZZ_GOAL_EXECS in total. Corpora
# persist between runs: new inputs collect in $FUZZ_DIR/campaign/<target> (ignored by git), the committed
# minimized corpus native/test/fuzz/corpus/<target> and the seeds are read on every turn. Every turn appends
# one row to native/test/fuzz/campaign.tsv (executions, exec/s, cov, ft, sanitizers); a finding stops that
# target and keeps its input under $FUZZ_DIR/campaign-artifacts/<target>/.
#   scripts/fuzz-campaign.sh [target...]          # run turns (default: every target)
#   scripts/fuzz-campaign.sh --merge [target...]  # minimize into native/test/fuzz/corpus/<target> (-merge=1)
#   scripts/fuzz-campaign.sh --report             # rewrite native/test/fuzz/CAMPAIGN.md from campaign.tsv
# Environment:
#   FUZZ_SLICE_SECONDS  longest turn (default 300)
#   FUZZ_GOAL_EXECS     executions per target in total (default 10000000)
#   FUZZ_ROUNDS         stop after this many turns per target (default: no limit)
#   FUZZ_UNTIL          start no turn after this time (`date -d` syntax, e.g. "12:55 UTC")
#   FUZZ_SANITIZE       address,undefined (default, as the smoke run), undefined, or none; each has its own build
set -euo pipefail

# The body is one function, read whole before it runs, and the call exits on the same line, so editing this file
# cannot disturb a running campaign.
main() {
  local args=("$@")
  root="$(cd "$(dirname "$0")/.." && pwd)"
  cd "$root"
  sanitize="${FUZZ_SANITIZE:-address,undefined}"
  base="${FUZZ_DIR:-$root/build}"
  case "$sanitize" in
    address,undefined) build="$base/fuzz" opt=-O1 ;;
    undefined) build="$base/fuzz-ubsan" opt=-O2 ;;
    none) build="$base/fuzz-plain" opt=-O2 ;;
    *) echo "fuzz-campaign: FUZZ_SANITIZE must be address,undefined, undefined or none" >&2; exit 2 ;;
  esac
  slice="${FUZZ_SLICE_SECONDS:-300}"
  goal="${FUZZ_GOAL_EXECS:-10000000}"
  rounds="${FUZZ_ROUNDS:-0}"
  until_epoch=""
  [ -n "${FUZZ_UNTIL:-}" ] && until_epoch="$(date -d "$FUZZ_UNTIL" +%s)"
  fuzz_root="native/test/fuzz"
  ledger="$fuzz_root/campaign.tsv"
  work="$base/fuzz/campaign"
  header=$'date_utc\ttarget\tsanitizers\tseconds\texecutions\texec_per_s\tcov\tft\tcorpus_units\tresult'

  mode="run"
  case "${1:-}" in --merge) mode=merge; args=("${args[@]:1}") ;; --report) mode=report; args=("${args[@]:1}") ;; esac

  targets=()
  if [ "${#args[@]}" -gt 0 ]; then
    targets=("${args[@]}")
  else
    for source in "$fuzz_root"/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
  fi

  # Sum of a ledger column over the rows of one target.
  total_of() { awk -F'\t' -v t="$1" -v c="$2" 'NR > 1 && $2 == t { s += $c } END { print s + 0 }' "$ledger"; }

  report() {
    local out="$fuzz_root/CAMPAIGN.md"
    {
      echo "# Native fuzz campaign"
      echo
      echo "Written by \`scripts/fuzz-campaign.sh --report\` from \`campaign.tsv\` (one row per turn of one libFuzzer"
      echo "process). Executions are summed over all turns and builds; cov/ft are the highest a turn of the"
      echo "ASan+UBSan build reached (the figures of other builds count different edges). \"corpus\" is the"
      echo "committed minimized corpus (\`corpus/<target>/\`, \`-merge=1\` with the ASan+UBSan build) and the"
      echo "cov/ft its inputs alone reach in that build (\`-runs=0\`)."
      echo
      echo "| target | executions (goal $goal) | by build (ASan+UBSan / UBSan / none) | turns | exec/s (ASan+UBSan / UBSan / none) | best cov / ft | corpus: files, bytes, cov / ft | findings |"
      echo "|---|---:|---|---:|---|---|---|---|"
      for target in "${targets[@]}"; do
        awk -F'\t' -v t="$target" -v goal="$goal" -v corpus="$(corpus_figures "$target")" '
          NR > 1 && $2 == t {
            n++; total += $5; by[$3] += $5; secs[$3] += $4
            if ($3 == "address,undefined" && $7 + 0 > cov) { cov = $7 + 0; ft = $8 }
            if ($10 != "ok") found = found " " $10
          }
          function rate(b) { return secs[b] > 0 ? sprintf("%d", by[b] / secs[b]) : "–" }
          END {
            printf "| %s | %d %s | %d / %d / %d | %d | %s / %s / %s | %s / %s | %s | %s |\n", t, total,
              (total >= goal ? "✓" : "✗"),
              by["address,undefined"], by["undefined"], by["none"], n,
              rate("address,undefined"), rate("undefined"), rate("none"), cov, ft, corpus,
              found == "" ? "none" : found
          }' "$ledger"
      done
      echo
      echo "Turns ran from $(awk -F'\t' 'NR == 2 { print $1 }' "$ledger") to $(awk -F'\t' 'END { print $1 }' "$ledger"),"
      echo "one process at a time, niced, on a shared 2-core machine. Re-run: \`scripts/fuzz-campaign.sh\`, then"
      echo "\`--merge\` and \`--report\` before committing."
    } >"$out"
    echo "fuzz-campaign: wrote $out"
  }

  # "files, bytes, cov / ft" of the committed corpus of one target, measured with the ASan+UBSan build.
  corpus_figures() {
    local dir="$fuzz_root/corpus/$1" binary="$base/fuzz/bin/$1"
    [ -d "$dir" ] || { echo "none"; return; }
    local files bytes inited
    files="$(find "$dir" -type f | wc -l)"
    bytes="$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
    inited="$("$binary" -runs=0 -malloc_limit_mb=256 "$dir" 2>&1 | grep -m1 'INITED' || true)"
    echo "$files, $bytes, $(echo "$inited" | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \/ \2/')"
  }

  merge() {
    FUZZ_DIR="$base/fuzz" FUZZ_SANITIZE=address,undefined FUZZ_OPT=-O1 scripts/fuzz-build.sh "${targets[@]}"
    for target in "${targets[@]}"; do
      local next="$work/$target.merged"
      rm -rf "$next" && mkdir -p "$next"
      local sources=()
      for d in "$fuzz_root/corpus/$target" "$work/$target" "$base/fuzz/corpus/$target" "$fuzz_root/regressions/$target"; do
        [ -d "$d" ] && sources+=("$d")
      done
      # Every input is run again under ASan+UBSan here, including those the faster builds found.
      "$base/fuzz/bin/$target" -merge=1 -timeout=10 -malloc_limit_mb=256 -rss_limit_mb=2048 "$next" "${sources[@]}" \
        >"$work/$target.merge.log" 2>&1
      if grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|deadly signal' \
        "$work/$target.merge.log"; then
        echo "fuzz-campaign: $target: an input fails under ASan+UBSan; see $work/$target.merge.log" >&2
        return 1
      fi
      rm -rf "$fuzz_root/corpus/$target"
      mkdir -p "$fuzz_root/corpus"
      mv "$next" "$fuzz_root/corpus/$target"
      echo "fuzz-campaign: $target corpus $(find "$fuzz_root/corpus/$target" -type f | wc -l) files"
    done
  }

  run_turn() {
    local target="$1" done_so_far="$2"
    local log="$work/$target.log" artifacts="$base/fuzz/campaign-artifacts/$target/"
    mkdir -p "$work/$target" "$artifacts"
    local dirs=("$work/$target")
    for d in "$fuzz_root/corpus/$target" "$build/corpus/$target" "$fuzz_root/regressions/$target"; do
      [ -d "$d" ] && dirs+=("$d")
    done
    local started rc=0
    started="$(date +%s)"
    "$build/bin/$target" -runs=$((goal - done_so_far)) -max_total_time="$slice" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="$artifacts" "${dirs[@]}" >"$log" 2>&1 || rc=$?
    local seconds=$(($(date +%s) - started))
    local execs status last
    execs="$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    last="$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)"
    [ -n "$execs" ] || execs="$(echo "$last" | sed -E 's/^#([0-9]+).*/\1/')"
    [ -n "$execs" ] || execs=0
    local cov ft corp
    cov="$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')"
    ft="$(echo "$last" | sed -nE 's/.*ft: ([0-9]+).*/\1/p')"
    corp="$(echo "$last" | sed -nE 's/.*corp: ([0-9]+).*/\1/p')"
    if [ "$rc" = 0 ]; then status=ok; else status="finding(rc=$rc)"; fi
    printf '%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$sanitize" "$seconds" "$execs" \
      "$((seconds > 0 ? execs / seconds : execs))" "${cov:-0}" "${ft:-0}" "${corp:-0}" "$status" >>"$ledger"
    echo "fuzz-campaign: $target $sanitize ${seconds}s $execs runs cov ${cov:-?} ft ${ft:-?} $status"
    [ "$rc" = 0 ] || { cp "$log" "$artifacts/"; return 1; }
  }

  [ -f "$ledger" ] || echo "$header" >"$ledger"
  case "$mode" in
    report) report; exit 0 ;;
    merge) merge; exit 0 ;;
  esac

  FUZZ_DIR="$build" FUZZ_SANITIZE="$sanitize" FUZZ_OPT="$opt" scripts/fuzz-build.sh "${targets[@]}"
  declare -A turns=() stopped=()
  while :; do
    [ -n "$until_epoch" ] && [ "$(date +%s)" -ge "$until_epoch" ] && { echo "fuzz-campaign: time is up"; break; }
    next="" fewest=""
    for target in "${targets[@]}"; do
      [ -n "${stopped[$target]:-}" ] && continue
      [ "$rounds" -gt 0 ] && [ "${turns[$target]:-0}" -ge "$rounds" ] && continue
      total="$(total_of "$target" 5)"
      [ "$total" -ge "$goal" ] && continue
      if [ -z "$fewest" ] || [ "$total" -lt "$fewest" ]; then next="$target" fewest="$total"; fi
    done
    [ -n "$next" ] || { echo "fuzz-campaign: every target is done"; break; }
    turns[$next]=$((${turns[$next]:-0} + 1))
    run_turn "$next" "$fewest" || stopped[$next]=1
  done
}

main "$@"; exit $?
