#!/usr/bin/env bash
# Userspace clock on this CI machine, beyond the unit tests .ci/run already
# ran: the benchmark with the targets (figures in the log; speed is
# judged by reading them, not by failing CI on a shared runner), and a 10 s
# `vtime check`: threads pinned to every CPU, exit status 1 on any backward
# step. Uses the quick start's build/ (built by .ci/run).
set -euo pipefail
[ -x build/tools/vtime ] || { meson setup build >/dev/null; meson compile -C build; }
build/tools/vtime status
meson test -C build --benchmark --suite userspace --verbose
build/tools/vtime check --seconds 10
# every command's JSON parses (the unit test checks the contents)
for cmd in status now pvclock vmclock hv "scale 2599999000" "check --seconds 1" "bench --seconds 0.1"; do
	# shellcheck disable=SC2086
	build/tools/vtime $cmd --json | python3 -c 'import json,sys; json.load(sys.stdin)'
done
echo "userspace: ok"
