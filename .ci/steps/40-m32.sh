#!/usr/bin/env bash
# -m32 (i686) build of the core tests: the core's wide arithmetic without
# __int128 or libgcc division, 64-bit atomics on a 32-bit target, and the
# oracle's limb arithmetic all run for real. Uses the builtin atomics (the
# libatomic_ops backend needs a 64-bit AO_t) and a Meson cross file with the
# i386 pkg-config directory so CUnit comes from libcunit1-dev:i386.
set -euo pipefail
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
mkdir -p "$b"
cross=$PWD/$b/i686.cross
cat > "$cross" <<'INI'
[binaries]
c = ['gcc', '-m32']
strip = 'strip'
pkgconfig = 'pkg-config'  # 'pkg-config' only from Meson 1.3 on

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
tests="tests/core/test_scale tests/core/test_tsc tests/core/test_pvclock tests/core/test_endian_swap tests/core/test_concurrency"
meson compile -C "$b" -j2 $tests
for t in $tests; do
	grep -q 'Class:.*ELF32' <<<"$(readelf -h "$b/$t")" || { echo "m32: $t is not a 32-bit binary" >&2; exit 1; }
done
meson test -C "$b" --no-rebuild --print-errorlogs scale tsc pvclock endian-swap seqlock-concurrency
