#!/usr/bin/env bash
# Vendoring routes, each checked the way a user would take it:
#  1. the two-file amalgamation (scripts/amalgamate): compiled -ffreestanding
#     -nostdinc and linked -nostdlib with a freestanding example (no libc, no
#     libgcc), then linked hosted with examples/basic/main.c and run;
#  2. examples/subproject/consumer as its own Meson project with vtime under
#     its subprojects/ (symlink to this checkout): as written (the shared
#     library), with -Ddefault_library=static, and with static : true added
#     to its dependency(); each must link the kind asked for, run, and
#     install nothing of vtime;
#  3. meson install --destdir into a staging root, then examples/basic/main.c
#     built through pkg-config (PKG_CONFIG_LIBDIR + PKG_CONFIG_SYSROOT_DIR
#     alone, as the README says), shared and static, and run.
set -euo pipefail
t0=$(date +%s)
out=build-vendoring
rm -rf "$out"
mkdir -p "$out"
ccs="gcc"
command -v clang >/dev/null && ccs="gcc clang"

echo "-- 1. amalgamation"
scripts/amalgamate "$out/amalg"
warn=(-std=c11 -Wall -Wextra -Werror -O2)
for cc in $ccs; do
	fs=(-ffreestanding -fno-builtin -nostdinc -isystem "$($cc -print-file-name=include)")
	$cc "${warn[@]}" "${fs[@]}" -c "$out/amalg/vtime.c" -o "$out/vtime-fs-$cc.o"
	$cc "${warn[@]}" "${fs[@]}" -I"$out/amalg" -c examples/basic/freestanding.c -o "$out/guest-fs-$cc.o"
	# No libc, no libgcc, no start files: any symbol the core needs fails here.
	$cc -nostdlib -nostartfiles -static -Wl,-e,guest_entry "$out/guest-fs-$cc.o" "$out/vtime-fs-$cc.o" \
		-o "$out/guest-fs-$cc"
	undef=$(nm -u "$out/guest-fs-$cc")
	[ -z "$undef" ] || { echo "freestanding link left undefined symbols: $undef"; exit 1; }
	echo "$cc: freestanding amalgamation links with no library"
	$cc "${warn[@]}" -DVTIME_VENDORED -I"$out/amalg" examples/basic/main.c "$out/amalg/vtime.c" \
		-o "$out/basic-vendored-$cc"
	"$out/basic-vendored-$cc"
done

echo "-- 2. Meson subproject"
cp -r examples/subproject/consumer "$out/consumer"
mkdir -p "$out/consumer/subprojects"
ln -s "$PWD" "$out/consumer/subprojects/vtime"
cp -r "$out/consumer" "$out/consumer-static-kw"
sed -i "s/dependency('vtime', fallback : 'vtime',/dependency('vtime', fallback : 'vtime', static : true,/" \
	"$out/consumer-static-kw/meson.build"
grep -q 'static : true' "$out/consumer-static-kw/meson.build" || { echo "could not add static : true"; exit 1; }
subproject_route() { # name source-dir want(shared|static) meson-options...
	local name=$1 src=$2 want=$3 bdir=$out/sub-$1
	shift 3
	meson setup "$bdir" "$src" --force-fallback-for=vtime --prefix=/usr "$@" >/dev/null
	meson compile -C "$bdir" >/dev/null 2>&1 || meson compile -C "$bdir"
	meson test -C "$bdir" --print-errorlogs
	local needs=no
	grep -q 'libvtime\.so' <<<"$(readelf -d "$bdir/vtime-consumer")" && needs=yes
	if [ "$want" = shared ] && [ $needs = no ]; then echo "subproject $name: want libvtime.so, got static"; exit 1; fi
	if [ "$want" = static ] && [ $needs = yes ]; then echo "subproject $name: want libvtime.a, got libvtime.so"; exit 1; fi
	"$bdir/vtime-consumer"
	DESTDIR="$PWD/$bdir/stage" meson install -C "$bdir" --quiet >/dev/null
	local left
	left=$(cd "$bdir" && find stage -mindepth 1 2>/dev/null || true)
	[ -z "$left" ] || { echo "subproject $name installed files: $left"; exit 1; }
	echo "subproject $name: $want library, nothing installed"
}
subproject_route default "$out/consumer" shared
subproject_route default_library=static "$out/consumer" static -Ddefault_library=static
subproject_route static-kwarg "$out/consumer-static-kw" static

echo "-- 3. staged install + pkg-config"
stage="$PWD/$out/stage"
meson setup "$out/install-build" --prefix=/usr -Ddefault_library=both -Dtests=false -Dtools=false \
	-Dexamples=false >/dev/null
meson compile -C "$out/install-build" >/dev/null 2>&1
meson install -C "$out/install-build" --destdir "$stage" --quiet
pc=$(find "$stage" -name vtime.pc | head -n1)
[ -n "$pc" ] || { echo "no vtime.pc under $stage"; exit 1; }
# Only the staged vtime.pc (the README's staging-root recipe): it must need
# nothing from the build machine's own .pc files.
export PKG_CONFIG_LIBDIR="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$stage"
libdir="$stage$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=libdir vtime)"
echo "pkg-config: $(pkg-config --modversion vtime): $(pkg-config --cflags --libs vtime)"
cc "${warn[@]}" examples/basic/main.c $(pkg-config --cflags --libs vtime) -o "$out/basic-pc-shared"
LD_LIBRARY_PATH="$libdir" "$out/basic-pc-shared"
# Shared library really taken from the staging root.
# (ldd output captured first: grep -q closing the pipe early + pipefail = flaky.)
deps=$(LD_LIBRARY_PATH="$libdir" ldd "$out/basic-pc-shared")
grep -q "$libdir/libvtime.so" <<<"$deps" || { echo "basic-pc-shared does not use the staged libvtime.so"; exit 1; }
cc "${warn[@]}" examples/basic/main.c $(pkg-config --cflags vtime) \
	-Wl,-Bstatic $(pkg-config --libs --static vtime) -Wl,-Bdynamic -o "$out/basic-pc-static"
deps=$(ldd "$out/basic-pc-static")
if grep -q libvtime <<<"$deps"; then echo "static build still needs libvtime.so"; exit 1; fi
"$out/basic-pc-static"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

echo "75-vendoring: all routes passed in $(( $(date +%s) - t0 )) s"
