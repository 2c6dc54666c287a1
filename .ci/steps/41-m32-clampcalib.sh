#!/usr/bin/env bash
# -m32 (i686) run of the clamp and calibration tests and the simulation:
# 64-bit clamp values and the engine's seqlock on a 32-bit target (builtin
# atomics: cmpxchg8b), its wide arithmetic without __int128 or libgcc
# division. Sets up i386 itself when step 40 has not.
set -euo pipefail
export VTIME_TEST_ITERS=${VTIME_M32_ITERS:-8000}
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo dpkg --add-architecture i386
	$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq || echo "m32: apt-get update reported errors; continuing"
fi
scripts/install-deps gcc-multilib libcunit1-dev:i386
b=build-m32-clampcalib
rm -rf "$b"
mkdir -p "$b"
cross=$PWD/$b/i686.cross
cat > "$cross" <<'INI'
[binaries]
c = ['gcc', '-m32']
strip = 'strip'
pkgconfig = 'pkg-config'

[properties]
pkg_config_libdir = ['/usr/lib/i386-linux-gnu/pkgconfig', '/usr/share/pkgconfig']
needs_exe_wrapper = false

[host_machine]
system = 'linux'
cpu_family = 'x86'
cpu = 'i686'
endian = 'little'
INI
meson setup "$b" --cross-file "$cross" -Datomics=builtin -Dtools=false -Dexamples=false >/dev/null
tests="tests/clamp/test_clamp tests/clamp/test_clamp_stress tests/calib/test_calib tests/calib/test_calib_stress tests/sim/test_sim"
meson compile -C "$b" -j2 $tests
for t in $tests; do
	grep -q 'Class:.*ELF32' <<<"$(readelf -h "$b/$t")" || { echo "m32: $t is not a 32-bit binary" >&2; exit 1; }
done
meson test -C "$b" --no-rebuild --print-errorlogs clamp clamp-stress calib calib-stress sim
