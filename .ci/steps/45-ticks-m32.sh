#!/usr/bin/env bash
# The lost-tick engines on i686: their u64 time arithmetic, wraparound and
# 128-bit helpers (no __int128, no libgcc division) run for real on a 32-bit
# target. Builds only the ticks test and demo (-m32, builtin atomics) and
# runs the 'ticks' suite; checks that ticks.c calls no division helper on
# i686, ARMv7 and RISC-V without M.
set -euo pipefail
if ! grep -qx i386 <<<"$(dpkg --print-foreign-architectures)"; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo dpkg --add-architecture i386
	$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq || echo "ticks-m32: apt-get update reported errors; continuing"
fi
scripts/install-deps gcc-multilib libcunit1-dev:i386 clang

b=build-ticks-m32
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
meson setup "$b" --cross-file "$cross" -Datomics=builtin -Dtools=false >/dev/null
meson compile -C "$b" -j2 tests/ticks/test_ticks examples/ticks/ticks_demo
grep -q 'Class: *ELF32' <<<"$(readelf -h "$b/tests/ticks/test_ticks")" || { echo "ticks-m32: not a 32-bit binary" >&2; exit 1; }
# No libgcc 64-bit division helper may sneak into the engine on 32 bits.
gcc -m32 -std=c11 -ffreestanding -O2 -Iinclude -Isrc/core -c src/core/ticks.c -o "$b/ticks32.o"
helpers=$(nm -u "$b/ticks32.o" | awk '{print $2}' | grep -E '^__(u?(div|mod)di3|udivmoddi4)$' || true)
[ -z "$helpers" ] || { echo "ticks-m32: src/core/ticks.c needs libgcc: $helpers" >&2; exit 1; }
# ARMv7 without hardware divide turns even a 32-bit divide into a helper
# call; RISC-V without M a 64-bit one: the engine must need none of them.
for t in arm-linux-gnueabihf:-march=armv7-a riscv64-linux-gnu:-march=rv64iac; do
	clang --target="${t%%:*}" "${t#*:}" -std=c11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin \
		-nostdinc -isystem "$(clang -print-file-name=include)" -Iinclude -Isrc/core \
		-c src/core/ticks.c -o "$b/ticks-${t%%-*}.o"
	helpers=$(nm -u "$b/ticks-${t%%-*}.o" | awk '{print $2}' | grep -E 'div|mod' || true)
	[ -z "$helpers" ] || { echo "ticks-m32: ticks.c needs division helpers on ${t%%:*}: $helpers" >&2; exit 1; }
done
meson test -C "$b" --no-rebuild --suite ticks --print-errorlogs
echo "ticks-m32: ticks suite passed on i686"
