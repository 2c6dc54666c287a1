#!/usr/bin/env bash
# Cross-architecture builds: the core and its CUnit suites built for
# aarch64, armhf, i686 and s390x (big-endian) and run under qemu-user; riscv64
# (no CUnit in Debian 12) builds the library and the freestanding core and runs
# the basic example. Every target also links the two-file amalgamation with
# -ffreestanding -nostdlib. Compiler: clang --target with Debian's cross
# sysroots, because Debian's gcc-<triplet> packages conflict with gcc-multilib,
# which the 32-bit step uses (see docs/portability.md).
set -euo pipefail
t0=$(date +%s)
export VTIME_TEST_ITERS="${VTIME_TEST_ITERS:-20000}"
# The core's suites on every target. Of the userspace suite only user_probe
# (the counter read forward and at its stated rate: i686 rdtsc, aarch64
# cntvct_el0 at CNTFRQ_EL0, s390x the TOD clock at 4096 per us; armhf: qemu-arm
# gives no user access to CNTVCT, so the shim must find that out without
# executing it and read its stand-in, or the probe dies of SIGILL): its clock tests
# time against CLOCK_MONOTONIC, skip on targets without a counter and
# are flaky under qemu's emulation (the counter line's logic is tested on the
# host with a simulated kernel, and on arm64 in the guests suite). vmm is the VMM core against a
# simulated hypervisor; kvm (drives /dev/kvm, x86 only) is left out, and so is
# sim (100-170 s under qemu-aarch64/s390x). VTIME_CROSS_SUITES overrides the list.
core_suites="core portability concurrency clamp calib ticks vmm"

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
for a in arm64 armhf i386 s390x; do
	grep -qx "$a" <<<"$(dpkg --print-foreign-architectures)" || $sudo dpkg --add-architecture "$a"
done
pkgs="clang qemu-user"
for t in arm64:aarch64-linux-gnu armhf:arm-linux-gnueabihf i386:i686-linux-gnu s390x:s390x-linux-gnu riscv64:riscv64-linux-gnu; do
	d=${t%%:*} tr=${t#*:}
	pkgs="$pkgs binutils-$tr libc6-dev-$d-cross libgcc-12-dev-$d-cross"
	[ "$d" = riscv64 ] || pkgs="$pkgs libcunit1-dev:$d"
done
# install-deps tolerates a stale foreign-architecture index from apt-get update.
scripts/install-deps $pkgs
echo "70-cross: packages ready after $(( $(date +%s) - t0 )) s"

amalg=build-cross-amalg
rm -rf "$amalg"
scripts/amalgamate "$amalg" >/dev/null
fs_check() { # triplet [extra cflags...]: freestanding amalgamation, linked with no library
	local tr=$1; shift
	local fl=(--target="$tr" "$@" -std=c11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin
		-nostdinc -isystem "$(clang -print-file-name=include)" -I"$amalg")
	clang "${fl[@]}" -c "$amalg/vtime.c" -o "$amalg/vtime-$tr.o"
	clang "${fl[@]}" -c examples/basic/freestanding.c -o "$amalg/guest-$tr.o"
	# The core may need mem* and nothing else: a libgcc helper here is usually a
	# 64-bit division on a 32-bit target (__udivdi3, __aeabi_uldivmod): use vt_div64.
	local undef
	undef=$("$tr-nm" -u "$amalg/vtime-$tr.o" | awk '{print $NF}' \
		| grep -Ev '^(memcpy|memset|memmove|memcmp|_GLOBAL_OFFSET_TABLE_)$' || true)
	[ -z "$undef" ] || { echo "70-cross: $tr: the freestanding core needs: $undef" >&2; return 1; }
	clang --target="$tr" -nostdlib -nostartfiles -static -Wl,-e,guest_entry \
		"$amalg/guest-$tr.o" "$amalg/vtime-$tr.o" -o "$amalg/guest-$tr"
}

for arch in aarch64 armhf i686 s390x; do
	s=$(date +%s)
	suites="${VTIME_CROSS_SUITES:-$core_suites}"
	skip=userspace # also when a userspace test is in another suite too
	b=build-cross-$arch
	rm -rf "$b"
	meson setup "$b" --cross-file "cross/$arch.txt" -Datomics=builtin -Ddefault_library=static -Dtools=false \
		-Dexamples=false >/dev/null
	# Build the library and only the test programs of the selected suites.
	targets=$(meson introspect --tests "$b" | python3 -c '
import json, os, sys
b, skip, want = sys.argv[1], set(sys.argv[2].split()), set(sys.argv[3:])
for t in json.load(sys.stdin):
    suites = {s.split(":")[-1] for s in t["suite"]}
    if want & suites and not skip & suites:
        print(os.path.relpath(t["cmd"][0], b))' "$b" "$skip" $suites | sort -u)
	probe=""
	case $arch in aarch64 | armhf | i686 | s390x) probe=tests/userspace/test_user_probe ;; esac
	ninja -C "$b" -j2 src/libvtime.a $targets $probe >/dev/null
	args=()
	for su in $suites; do args+=(--suite "$su"); done
	for su in $skip; do args+=(--no-suite "$su"); done
	meson test -C "$b" --no-rebuild "${args[@]}" --print-errorlogs --num-processes 2 >"$b/test-summary.txt" \
		|| { cat "$b/test-summary.txt"; exit 1; }
	grep -E '^ *[0-9]+/[0-9]+ ' "$b/test-summary.txt"
	# The byte-order test must really have run on the big-endian host (the
	# log of the run above: the probe's run below writes its own).
	if [ "$arch" = s390x ]; then
		grep -q "host is big-endian" "$b/meson-logs/testlog.txt" \
			|| { echo "s390x: the endian test did not run on a big-endian host"; exit 1; }
	fi
	# The userspace counter (rdtsc, cntvct_el0, the TOD clock; armhf: the
	# stand-in where CNTVCT may not be read) read forward
	# through the shim, at the rate the platform states.
	if [ -n "$probe" ]; then
		meson test -C "$b" --no-rebuild user_probe --print-errorlogs --logbase testlog-probe \
			>"$b/probe-summary.txt" || { cat "$b/probe-summary.txt"; exit 1; }
		grep -E '^ *[0-9]+/[0-9]+ ' "$b/probe-summary.txt"
		grep -h -E "counter .* says|CNTVCT not read" "$b/meson-logs/testlog-probe.txt" || true
	fi
	# aarch64: atomics inline, not libgcc's outline-atomics helpers (as kernels build).
	case $arch in
	aarch64) fs_check aarch64-linux-gnu -mno-outline-atomics ;;
	armhf) fs_check arm-linux-gnueabihf ;;
	i686) fs_check i686-linux-gnu ;;
	s390x) fs_check s390x-linux-gnu ;;
	esac
	echo "70-cross: $arch passed in $(( $(date +%s) - s )) s"
done

# riscv64: library and freestanding core build; the basic example runs under qemu.
s=$(date +%s)
b=build-cross-riscv64
rm -rf "$b"
meson setup "$b" --cross-file cross/riscv64.txt -Datomics=builtin -Ddefault_library=static -Dtests=false -Dtools=false \
	-Dexamples=false >/dev/null
ninja -C "$b" -j2 >/dev/null
ls "$b"/src/core/libvtime_core_freestanding.a >/dev/null
clang --target=riscv64-linux-gnu -std=c11 -Wall -Wextra -Werror -Iinclude -I"$b/include" -DVTIME_STATIC \
	examples/basic/main.c "$b/src/libvtime.a" -pthread -o "$b/example_basic"
qemu-riscv64 -L /usr/riscv64-linux-gnu "$b/example_basic"
# The riscv64 userspace counter (rdtime) through the Linux shim.
clang --target=riscv64-linux-gnu -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -I"$b/include" -DVTIME_STATIC \
	examples/basic/counter.c "$b/src/libvtime.a" -pthread -o "$b/example_counter"
qemu-riscv64 -L /usr/riscv64-linux-gnu "$b/example_counter" --require
fs_check riscv64-linux-gnu
echo "70-cross: riscv64 passed in $(( $(date +%s) - s )) s"
# ARMv7 without hardware divide makes even a 32-bit '/' a helper call, and
# RISC-V without M a 64-bit one: no core file may need either (kernels and
# bare-metal guests have no libgcc).
for t in arm-linux-gnueabihf:-march=armv7-a riscv64-linux-gnu:-march=rv64iac; do
	for f in src/core/*.c; do
		o="$amalg/divcheck-${t%%-*}-$(basename "$f" .c).o"
		clang --target="${t%%:*}" "${t#*:}" -std=c11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin \
			-nostdinc -isystem "$(clang -print-file-name=include)" -Iinclude -Isrc/core -c "$f" -o "$o"
		helpers=$(nm -u "$o" | awk '{print $2}' | grep -E 'div|mod' || true)
		[ -z "$helpers" ] || { echo "70-cross: $f needs division helpers on ${t%%:*}: $helpers" >&2; exit 1; }
	done
done
echo "70-cross: no core file needs a division helper on ARMv7 (no hardware divide) or rv64 without M"
echo "70-cross: all targets passed in $(( $(date +%s) - t0 )) s"
