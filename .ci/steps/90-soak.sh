#!/usr/bin/env bash
# A slice of the soak (meson test --benchmark --suite soak: the adversarial
# simulation over seeds, the clamp, calibration and seqlock stress with real
# threads, the VMM's versions across 2^30 real publishes; docs/guarantees.md
# gives the full run's counts and duration), and the VMM scaling benchmark,
# which fails if a whole-VM operation's cost per vCPU grows 3x from 1 to 4096
# vCPUs. Uses the quick start's build/.
set -euo pipefail
t0=$(date +%s)
[ -d build ] || { meson setup build >/dev/null; }
meson compile -C build >/dev/null
export VTIME_SOAK_READS="${VTIME_SOAK_READS:-4000000}" VTIME_SOAK_SEEDS="${VTIME_SOAK_SEEDS:-8}"
meson test -C build --benchmark --suite soak --print-errorlogs --verbose --logbase testlog-soak
meson test -C build --benchmark vmm-scale --print-errorlogs --verbose --logbase testlog-vmm-scale
echo "90-soak: slice of $VTIME_SOAK_READS reads per soak, $VTIME_SOAK_SEEDS+ seeds, passed in $(( $(date +%s) - t0 )) s"
