#!/usr/bin/env bash
# The core is freestanding: every src/core/*.c compiles with no libc headers
# at all, and the freestanding core library needs no symbol but mem*.
set -euo pipefail
gccinc=$(gcc -print-file-name=include)
for f in src/core/*.c; do
	gcc -std=c11 -ffreestanding -nostdinc -isystem "$gccinc" -Iinclude -Isrc/core -Isrc \
		-fsyntax-only -Wall -Wextra -Werror "$f"
done
lib=build/src/core/libvtime_core_freestanding.a
# Undefined in some object and defined in none: what the archive needs from outside.
nm -u "$lib" | awk 'NF==2 {print $2}' | sort -u > /tmp/vt-undef.$$
nm --defined-only "$lib" | awk 'NF==3 {print $3}' | sort -u > /tmp/vt-def.$$
undef=$(comm -23 /tmp/vt-undef.$$ /tmp/vt-def.$$ | grep -Ev '^(memcpy|memset|memmove|memcmp|_GLOBAL_OFFSET_TABLE_)$' || true)
rm -f /tmp/vt-undef.$$ /tmp/vt-def.$$
if [ -n "$undef" ]; then
	echo "freestanding core needs symbols beyond mem*: $undef" >&2
	exit 1
fi
echo "freestanding: $(ls src/core/*.c | wc -l) core files compile with -ffreestanding -nostdinc; nm: no libc symbols"

# The core keeps no state of its own: every object is caller-allocated, so
# the archive defines no data or bss symbol (docs/architecture.md).
state=$(nm --defined-only "$lib" | awk 'NF==3 && $2 ~ /^[BbDdCcGgSsVv]$/ {print $3}' | sort -u)
if [ -n "$state" ]; then
	echo "freestanding core has global state (data/bss symbols): $state" >&2
	exit 1
fi
# Barriers are written only in the seqlock primitives and the atomics
# backends (vt_seq.h's rule): no vt_rmb/vt_wmb/vt_mb call elsewhere in the
# library, its shims or the tool.
stray=$(grep -rn -E '\bvt_(rmb|wmb|mb)\(' src tools | grep -v -E '^src/core/(vt_seq\.h|vt_atomic\.h|atomic/)|^src/platform/linux-kernel/vt_atomic_kernel\.h' || true)
if [ -n "$stray" ]; then
	echo "barriers outside vt_seq.h and the atomics backends:" >&2
	echo "$stray" >&2
	exit 1
fi
echo "freestanding: no global state in the core; barriers only in vt_seq.h and the atomics backends"

# 32-bit targets: 64-bit '/' or '%' by a runtime value becomes a libgcc call
# (__udivdi3, __aeabi_uldivmod) that kernels and bare-metal guests lack. The
# core uses vt_div64()/vt_div128() instead; compile it for i386 to prove it.
bad=""
for f in src/core/*.c; do
	gcc -m32 -O2 -std=c11 -ffreestanding -nostdinc -isystem "$gccinc" -Iinclude -Isrc/core \
		-c "$f" -o /tmp/vt-m32.$$.o
	syms=$(nm -u /tmp/vt-m32.$$.o | awk '{print $2}' | grep -E '^__(u?(div|mod)di3|udivmoddi4|aeabi_u?ldivmod)$' || true)
	[ -z "$syms" ] || bad="$bad $f:$syms"
done
rm -f /tmp/vt-m32.$$.o
if [ -n "$bad" ]; then
	echo "core calls libgcc 64-bit division on 32-bit targets (use vt_div64):$bad" >&2
	exit 1
fi
echo "freestanding: no libgcc 64-bit division helpers in the i386 build of the core"
