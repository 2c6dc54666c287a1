#!/usr/bin/env bash
# libFuzzer: every harness in tests/fuzz (clang, -fsanitize=fuzzer,address,
# undefined) fuzzes for VTIME_FUZZ_SECONDS (default 60) seconds, two at a
# time, after replaying its seed corpus and its regression cases; prints the
# executions of each. A broken invariant fails the step and names the input
# to keep in tests/fuzz/regressions/NAME/. (The normal test suite already
# replayed every corpus without libFuzzer: suite fuzz-replay.)
set -euo pipefail
t0=$(date +%s)
need=""
for p in clang libclang-rt-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	echo "85-fuzz: installing$need"
	$sudo apt-get -o DPkg::Lock::Timeout=900 update -qq || echo "85-fuzz: apt-get update reported errors; continuing"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $need
fi
b=build-fuzz
rm -rf "$b"
CC=clang meson setup "$b" -Dfuzz=true -Dtools=false -Dexamples=false >/dev/null
# only the libFuzzer binaries (not the rest of the tree again)
targets=$(meson introspect --targets "$b" | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz_") and not t["name"].startswith("fuzz_replay_"):
        print(t["filename"][0].split("/'"$b"'/", 1)[1])')
ninja -C "$b" -j2 $targets >/dev/null
echo "85-fuzz: $(echo "$targets" | wc -w) harnesses built after $(( $(date +%s) - t0 )) s"
export VTIME_FUZZ_SECONDS="${VTIME_FUZZ_SECONDS:-60}"
meson test -C "$b" --no-rebuild --suite fuzz --num-processes 2 --print-errorlogs
grep -h '^fuzz ' "$b/meson-logs/testlog.txt"
echo "85-fuzz: passed in $(( $(date +%s) - t0 )) s"
