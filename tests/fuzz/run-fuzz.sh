#!/usr/bin/env bash
# Runs one libFuzzer harness (suite fuzz):
#   run-fuzz.sh EXE NAME SEEDS REGRESSIONS WORKDIR [DEFAULT_SECONDS]
#  1. every seed and every regression case once (a regression fails at once);
#  2. fuzzing for VTIME_FUZZ_SECONDS (default 60) from a working corpus in
#     WORKDIR (the tree's corpora are read, never written);
#  3. prints "fuzz NAME: N executions in S s, corpus M inputs".
# A broken invariant aborts the harness: the input lands in WORKDIR/artifacts
# and the message says where it goes (tests/fuzz/regressions/NAME/, kept
# for good: the normal test suite replays it without libFuzzer).
set -euo pipefail
exe=$1 name=$2 seeds=$3 regress=$4 work=$5
secs=${VTIME_FUZZ_SECONDS:-${6:-60}}
mkdir -p "$work/corpus" "$work/artifacts"
dirs=("$seeds")
[ -d "$regress" ] && dirs+=("$regress")
log="$work/fuzz.log"
fail() {
	tail -n 40 "$log" >&2 || true
	art=$(ls -t "$work/artifacts" 2>/dev/null | head -n1 || true)
	echo "fuzz $name: FAILED${art:+ on $work/artifacts/$art}" >&2
	[ -n "$art" ] && echo "  keep it: cp '$work/artifacts/$art' tests/fuzz/regressions/$name/ (and fix the code)" >&2
	exit 1
}
"$exe" -runs=0 -artifact_prefix="$work/artifacts/" "${dirs[@]}" >"$log" 2>&1 || fail
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" "${dirs[@]}" >"$log" 2>&1 || fail
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
size=$(ls "$work/corpus" | wc -l)
tree=$(find "${dirs[@]}" -type f | wc -l)
echo "fuzz $name: ${runs:-?} executions in ${took:-$secs} s, corpus $size inputs (from $tree in the tree)"
