#!/usr/bin/env bash
# Debian packages: dpkg-buildpackage -us -uc -b of debian/ (libvtime0,
# libvtime-dev, vtime, python3-vtime; dpkg-gensymbols checks
# debian/libvtime0.symbols), lintian (fails on any error, lists warnings),
# the project URL the same in meson.build and debian/; then a clean Debian
# root made by mmdebstrap (essential packages plus what the tests need),
# the packages installed into it with dpkg -i, and debian/tests/ (the tool,
# a pkg-config consumer shared and static, the Python binding) run inside.
# The test suite itself runs elsewhere in CI: the package build uses
# DEB_BUILD_OPTIONS=nocheck.
set -euo pipefail
t0=$(date +%s)
out=build-deb
rm -rf "$out"
mkdir -p "$out/src"
scripts/install-deps debhelper dh-python dpkg-dev fakeroot lintian mmdebstrap python3
fail() { echo "debian: $*" >&2; exit 1; }

url=$(sed -n "s/^vtime_url = '\(.*\)'$/\1/p" meson.build)
[ -n "$url" ] || fail "no vtime_url in meson.build"
grep -qx "Homepage: $url" debian/control || fail "debian/control Homepage is not $url"
grep -qx "Source: $url" debian/copyright || fail "debian/copyright Source is not $url"

# Build from a copy of the tree (dpkg-buildpackage writes into the source
# folder and puts the packages beside it): tracked and new files, no builds.
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$out/src"
missing=$(cd "$out/src" && dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' |
	sed 's/([^)]*)//g; s/<[^>]*>//g')
[ -z "$missing" ] || scripts/install-deps $missing
t=$(date +%s)
if ! (cd "$out/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -60 "$out/build.log"
	fail "dpkg-buildpackage failed"
fi
if grep -E 'dpkg-gensymbols: (warning|error)' "$out/build.log"; then
	grep -A30 'dpkg-gensymbols' "$out/build.log" | head -60
	fail "libvtime0's symbols differ from debian/libvtime0.symbols (scripts/abi-baseline writes it)"
fi
echo "debian: built $(cd "$out" && ls *.deb | tr '\n' ' ')in $(( $(date +%s) - t )) s"

lintian --display-info --pedantic "$out"/*.changes >"$out/lintian.txt" 2>&1 || true
grep -E '^[EWIPX]: ' "$out/lintian.txt" || echo "lintian: no tags"
! grep -q '^E: ' "$out/lintian.txt" || fail "lintian reported errors"

# A clean root: Debian's essential set, the tests' dependencies, then ours.
t=$(date +%s)
debs=()
for p in libvtime0 libvtime-dev vtime python3-vtime; do
	debs+=("$(ls "$out"/${p}_*.deb)")
done
tests_deps=$(sed -n 's/^Depends: //p' debian/tests/control | tr ',' '\n' | tr -d ' ' |
	grep -vxE 'libvtime0|libvtime-dev|vtime|python3-vtime' | sort -u | paste -sd, -)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
mirror=()
[ -f /etc/apt/sources.list.d/debian.sources ] && mirror=(/etc/apt/sources.list.d/debian.sources)
if ! mmdebstrap --variant=essential --include="$tests_deps" --format=null \
	--customize-hook='mkdir -p "$1/tmp/vtime-debs"' \
	--customize-hook="copy-in ${debs[*]} debian/tests /tmp/vtime-debs" \
	--customize-hook='chroot "$1" sh -c "dpkg -i /tmp/vtime-debs/*.deb"' \
	--customize-hook='chroot "$1" dpkg-query -W libvtime0 libvtime-dev vtime python3-vtime' \
	--customize-hook='for t in tool consumer python; do echo "-- debian/tests/$t"; chroot "$1" env -i PATH=/usr/bin:/bin /tmp/vtime-debs/tests/$t || exit 1; done' \
	"$suite" /dev/null "${mirror[@]}" >"$out/root.log" 2>&1; then
	grep -v '^I: ' "$out/root.log" | tail -60
	fail "the clean-root install or its tests failed (log: $out/root.log)"
fi
grep -v '^I: ' "$out/root.log" | grep -vE '^(Selecting|Preparing|Unpacking|Setting up|\(Reading|Processing)' || true
echo "debian: clean root done in $(( $(date +%s) - t )) s"
echo "77-debian: passed in $(( $(date +%s) - t0 )) s"
