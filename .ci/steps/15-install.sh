#!/usr/bin/env bash
# Install into a DESTDIR staging tree and check what a distribution package
# would ship: the public headers, vtime.pc, a shared library with a soname
# that exports only vtime_* symbols, the static library, and that vtime.pc
# names as private dependencies exactly what the library links; then build
# and run a consumer against the staged tree through pkg-config alone, shared
# and static, with the README's commands, and examples/cmake through the
# installed CMake package (vtime::vtime and vtime::vtime_static).
set -euo pipefail
b=build-install
stage=$PWD/$b/stage
rm -rf "$b"
meson setup "$b" --prefix=/usr -Ddefault_library=both -Dtests=false -Dexamples=false >/dev/null
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
# The man page, versioned, and the documentation it points at.
man=$stage/usr/share/man/man1/vtime.1
[ -f "$man" ] || fail "missing the man page"
grep -q '^\.TH VTIME 1 .*"vtime '"$(meson introspect "$b" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"'"' "$man" ||
	fail "man page without the project's version: $(grep '^\.TH' "$man")"
grep -qx '\.I /usr/share/doc/vtime' "$man" || fail "man page does not point at /usr/share/doc/vtime"
for d in docs/*.md README.md; do
	[ -f "$stage/usr/share/doc/vtime/$(basename "$d")" ] || fail "$d not installed into /usr/share/doc/vtime"
done
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
grep -q ' A VTIME_0.2$' <<<"$(nm -D --defined-only "$so")" || fail "no version node VTIME_0.2"
unversioned=$(nm -D --defined-only --with-symbol-versions "$so" | awk '$2 != "A" && $3 !~ /@@?VTIME_0\.[0-9]+$/ {print $3}')
[ -z "$unversioned" ] || fail "exports outside a VTIME_0.N node: $unversioned"

# vtime.pc's private dependencies are what the library links: libc only as
# NEEDED, and libatomic_ops exactly when libvtime.a leaves AO_* symbols for it
# (its operations are inline on the supported targets).
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ "$needed" = "libc.so.6 " ] || fail "libvtime.so needs more than libc: $needed"
ao=$(nm -u "$stage$libdir/libvtime.a" | grep -c ' AO_' || true)
if [ "$ao" -gt 0 ]; then
	grep -q '^Requires.private:.*atomic_ops' "$pc" || fail "libvtime.a needs libatomic_ops but vtime.pc does not say so"
elif grep -q '^Requires' "$pc" || grep -q '^Libs.private' "$pc"; then
	fail "vtime.pc names private dependencies the library does not link: $(grep -E '^(Requires|Libs.private)' "$pc")"
fi

# A consumer that knows only pkg-config and the staged tree (README, "Use it
# from ...": PKG_CONFIG_LIBDIR and PKG_CONFIG_SYSROOT_DIR, nothing else).
export PKG_CONFIG_LIBDIR="$stage$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
cat > "$b/consumer.c" <<'C'
#include <stdio.h>
#include <vtime/vtime.h>
#include <vtime/version.h>
int main(void)
{
	struct vtime_scale s;
	if (vtime_scale_init(&s, 2599999000ull, VTIME_NSEC_PER_SEC) || s.mul != 3303822267u || s.shift != -1)
		return 1;
	printf("consumer: vtime %s, scale (%d, %u), %s\n", vtime_version_string(), s.shift, s.mul, vtime_strerror(0));
	return 0;
}
C
cd "$b"
# The README's shared and static commands, with app.c = consumer.c.
cc consumer.c $(pkg-config --cflags --libs vtime) -o consumer
cc consumer.c $(pkg-config --cflags vtime) -Wl,-Bstatic $(pkg-config --libs --static vtime) -Wl,-Bdynamic \
	-o consumer-static
cd - >/dev/null
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
grep -q 'libvtime\.so\.0' <<<"$(readelf -d "$b/consumer")" || fail "consumer does not link libvtime.so.0"
! grep -q libvtime <<<"$(readelf -d "$b/consumer-static")" || fail "the static recipe still links libvtime.so"
LD_LIBRARY_PATH="$stage$libdir" "$b/consumer"
"$b/consumer-static"
# CMake: find_package(vtime CONFIG) from the staging root, both targets.
for f in vtimeConfig.cmake vtimeConfigVersion.cmake; do
	[ -f "$stage$libdir/cmake/vtime/$f" ] || fail "missing $libdir/cmake/vtime/$f"
done
command -v cmake >/dev/null || scripts/install-deps cmake
cmake -S examples/cmake -B "$b/cmake" -DCMAKE_PREFIX_PATH="$stage/usr" >"$b/cmake.log" || { cat "$b/cmake.log"; fail "cmake configure"; }
grep -q "^-- vtime .* from $stage$libdir/cmake/vtime\$" "$b/cmake.log" ||
	fail "CMake did not take the staged package: $(grep 'vtime .* from' "$b/cmake.log")"
cmake --build "$b/cmake" >/dev/null || cmake --build "$b/cmake" || fail "cmake build"
grep -q 'libvtime\.so\.0' <<<"$(readelf -d "$b/cmake/consumer_shared")" || fail "vtime::vtime does not link libvtime.so.0"
! grep -q libvtime <<<"$(readelf -d "$b/cmake/consumer_static")" || fail "vtime::vtime_static links libvtime.so"
(cd "$b/cmake" && ctest --output-on-failure)
echo "install: headers, vtime.pc, CMake package, $soname (exports $(echo "$syms" | wc -l) vtime_* symbols), static lib OK"
