#!/usr/bin/env bash
# TSan build running the clamp and calibration stress tests (real threads:
# readers on every CPU, lazy and dedicated feeders) with few iterations.
# -Datomics=builtin: TSan instruments the __atomic builtins, not
# libatomic_ops' plain volatile accesses. The engine accesses every shared
# field atomically and unlocks its feeder lock with a CAS, so no report
# depends on a stand-alone fence (which TSan does not model).
set -euo pipefail
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
export VTIME_TEST_ITERS=${VTIME_TSAN_ITERS:-100000}
b=build-tsan-clampcalib
rm -rf "$b"
meson setup "$b" -Db_sanitize=thread -Db_lundef=false -Datomics=builtin \
	-Dexamples=false -Dtools=false >/dev/null
meson compile -C "$b" -j2 tests/clamp/test_clamp_stress tests/calib/test_calib_stress
# TSan needs a memory layout high mmap randomisation can break: no ASLR.
wrap=""
command -v setarch >/dev/null && wrap="setarch $(uname -m) -R"
meson test -C "$b" --no-rebuild --print-errorlogs ${wrap:+--wrapper "$wrap"} clamp-stress calib-stress
