#!/usr/bin/env bash
# Fuzzes the protocol decoder and the name and text rules with libFuzzer for a bounded time
# (FUZZ_SECONDS, default 60), starting from the kept inputs in Tests/Fuzz/corpus. An input
# that fails is copied into Tests/Fuzz/corpus (commit it: it becomes a regression case that
# every `Tests/run-all.sh` replays) and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
scratch=.build-fuzz

swift build --scratch-path "$scratch" --product wschat-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp Tests/Fuzz/corpus/* "$work/corpus/"
status=0
"$scratch/debug/wschat-fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -dict=Tests/Fuzz/json.dict -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
    "$work/corpus" > "$work/fuzz.log" 2>&1 || status=$?
tail -n 15 "$work/fuzz.log"
if [ "$status" != 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
    for artifact in "$work"/artifacts/*; do
        [ -e "$artifact" ] || continue
        cp "$artifact" "Tests/Fuzz/corpus/regression-$(basename "$artifact")"
        echo "kept $(basename "$artifact") in Tests/Fuzz/corpus: commit it" >&2
    done
    echo "fuzz: 0 passed, 1 failed (libFuzzer exited with $status; the log is above)" >&2
    exit 1
fi
runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/fuzz.log" | grep -oE '[0-9]+$' || echo "?")
echo "fuzz: $runs inputs in ${seconds} s, no failure"
