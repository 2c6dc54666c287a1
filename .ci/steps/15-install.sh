#!/usr/bin/env bash
# Install into a DESTDIR staging tree and check what a distribution package
# would ship: the public headers, vtime.pc, a shared library with a soname
# that exports only vtime_* symbols, the static library; then build and run
# a consumer against the staged tree through pkg-config alone.
set -euo pipefail
b=build-install
stage=$PWD/$b/stage
rm -rf "$b"
meson setup "$b" --prefix=/usr -Dtests=false -Dexamples=false >/dev/null
meson compile -C "$b"
DESTDIR="$stage" meson install -C "$b" --quiet

libdir=$(meson introspect "$b" --buildoptions | python3 -c \
	'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"))')
case "$libdir" in /*) ;; *) libdir=/usr/$libdir ;; esac
fail() { echo "install: $*" >&2; exit 1; }

for h in vtime.h pvclock.h scale.h tsc.h counter.h error.h export.h version.h; do
	[ -f "$stage/usr/include/vtime/$h" ] || fail "missing header include/vtime/$h"
done
[ ! -e "$stage/usr/include/vtime/meson.build" ] || fail "meson.build installed with the headers"
pc="$stage$libdir/pkgconfig/vtime.pc"
[ -f "$pc" ] || fail "missing $libdir/pkgconfig/vtime.pc"
[ -f "$stage$libdir/libvtime.a" ] || fail "missing static library"

so=$(ls "$stage$libdir"/libvtime.so.*.*.* | head -n1)
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libvtime.so.0" ] || fail "soname is '$soname', want libvtime.so.0"
[ -L "$stage$libdir/libvtime.so.0" ] || fail "no libvtime.so.0 symlink"
[ -L "$stage$libdir/libvtime.so" ] || fail "no libvtime.so development symlink"

# Only vtime_* may be exported (hidden visibility + src/vtime.map); the
# version node itself shows up as an absolute symbol.
syms=$(nm -D --defined-only "$so" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}')
[ -n "$syms" ] || fail "no exported symbols"
bad=$(echo "$syms" | grep -v '^vtime_' || true)
[ -z "$bad" ] || fail "exports beyond vtime_*: $(echo $bad)"
for s in vtime_pvclock_read vtime_pvclock_publish vtime_pvclock_time vtime_scale_init \
	vtime_scale_apply vtime_scale_source_hz vtime_tsc_ratio_init vtime_tsc_ratio_apply vtime_strerror; do
	grep -qx "$s" <<<"$syms" || fail "$s not exported"
done
grep -q ' A VTIME_0$' <<<"$(nm -D --defined-only "$so")" || fail "symbols not versioned VTIME_0"

# A consumer that knows only pkg-config and the staged tree.
export PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$stage$libdir/pkgconfig"
cat > "$b/consumer.c" <<'C'
#include <stdio.h>
#include <vtime/vtime.h>
#include <vtime/version.h>
int main(void)
{
	struct vtime_scale s;
	if (vtime_scale_init(&s, 2599999000ull, VTIME_NSEC_PER_SEC) || s.mul != 3303822267u || s.shift != -1)
		return 1;
	printf("consumer: vtime %s, scale (%d, %u), %s\n", VTIME_VERSION_STRING, s.shift, s.mul, vtime_strerror(0));
	return 0;
}
C
cc -std=c11 -Wall -Wextra -Werror "$b/consumer.c" -o "$b/consumer" $(pkg-config --cflags --libs vtime)
LD_LIBRARY_PATH="$stage$libdir" "$b/consumer"
cc -std=c11 -Wall -Wextra -Werror -DVTIME_STATIC "$b/consumer.c" -o "$b/consumer-static" \
	$(pkg-config --cflags vtime) "$stage$libdir/libvtime.a" $(pkg-config --libs-only-l --static vtime | sed 's/-lvtime//')
"$b/consumer-static"
echo "install: headers, vtime.pc, $soname (exports $(echo "$syms" | wc -l) vtime_* symbols), static lib OK"
