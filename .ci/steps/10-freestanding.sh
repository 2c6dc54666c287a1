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
