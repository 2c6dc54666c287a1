#!/usr/bin/env bash
# -m32 (i686) build and run of every core suite: the core's wide arithmetic
# without __int128 or libgcc division, 64-bit atomics (clamp, seqlocks) on a
# 32-bit target through cmpxchg8b, the oracle's limb arithmetic, the tick
# engines' u64 wraparound, the simulation, the fuzz harnesses' replays.
# Builtin atomics (the libatomic_ops backend needs a 64-bit AO_t); CUnit from
# libcunit1-dev:i386.
set -euo pipefail
export VTIME_TEST_ITERS=${VTIME_M32_ITERS:-8000}
if ! grep -qx i386 <<<"$(dpkg --print-foreign-architectures)"; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo dpkg --add-architecture i386
fi
# install-deps runs apt-get update when something is missing and carries on
# if one stale foreign index makes it report an error: the install decides.
scripts/install-deps gcc-multilib libcunit1-dev:i386

b=build-m32
rm -rf "$b"
meson setup "$b" --cross-file cross/i686-multilib.txt -Datomics=builtin -Dtools=false >/dev/null
suites=(core concurrency clamp calib sim ticks vmm fuzz-replay)
meson compile -C "$b" -j2
for t in tests/core/test_pvclock tests/clamp/test_clamp tests/calib/test_calib tests/ticks/test_ticks tests/sim/test_sim; do
	grep -q 'Class:.*ELF32' <<<"$(readelf -h "$b/$t")" || { echo "m32: $t is not a 32-bit binary" >&2; exit 1; }
done
args=()
for s in "${suites[@]}"; do args+=(--suite "$s"); done
meson test -C "$b" --no-rebuild --print-errorlogs "${args[@]}"
echo "m32: suites ${suites[*]} passed on i686"
