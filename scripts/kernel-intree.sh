#!/usr/bin/env bash
# vtime built in a kernel tree as docs/kernel.md says ("Vendoring into a
# kernel tree"): takes Debian's linux-source tarball of the booted kernel's
# version (or KSRC, a tree of your own), runs the doc's copy block as
# written, configures the tree with /boot/config-$KVER plus CONFIG_VTIME=m,
# builds drivers/misc/vtime/vtime.ko through Kbuild and checks it: built
# from Kconfig (CONFIG_VTIME=m in .config and auto.conf), no compiler or
# modpost warning, license "Dual MIT/GPL", the booted kernel's vermagic, every
# VTIME_API function of <vtime/vtime.h> exported. Prints the module's path
# last (scripts/kernel-selftest.sh loads it with VTIME_KERNEL_MODULES).
#
# Needs: linux-source-<major.minor> (same version as linux-image-$KVER),
# linux-headers-$KVER (its Module.symvers), make gcc bc flex bison
# libelf-dev libssl-dev kmod xz-utils (.ci/steps/60-kernel.sh installs them).
# Environment: KVER (default: the one linux-image-amd64 depends on),
# VTIME_KERNEL_BUILD (output dir, default build-kernel), KSRC (use this tree
# instead of extracting one: it is modified).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${VTIME_KERNEL_BUILD:-$repo/build-kernel}/intree
start=$(date +%s)
die() { echo "kernel-intree: $*" >&2; exit 1; }

if [ -z "${KVER:-}" ]; then
	KVER=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^\(.*[ ,]\)\{0,1\}linux-image-\([^ ,(]*\).*/\2/p')
	[ -n "$KVER" ] || die "linux-image-amd64 is not installed (or set KVER)"
fi
config=/boot/config-$KVER
hdr=/lib/modules/$KVER/build
[ -r "$config" ] || die "$config missing: install linux-image-$KVER"
[ -r "$hdr/Module.symvers" ] || die "$hdr/Module.symvers missing: install linux-headers-$KVER"
mkdir -p "$out"

# 1. The tree. Debian's tarball holds the source of every 6.1 image; only
# what configuring and building one module reads is extracted (Kconfig and
# Makefiles everywhere, headers, scripts, tools, x86): a fifth of the tree.
if [ -z "${KSRC:-}" ]; then
	series=$(echo "$KVER" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
	tarball=/usr/src/linux-source-$series.tar.xz
	[ -r "$tarball" ] || die "$tarball missing: install linux-source-$series"
	want=$(dpkg-query -W -f='${Version}' "linux-image-$KVER")
	have=$(dpkg-query -W -f='${Version}' "linux-source-$series")
	[ "$want" = "$have" ] || die "linux-source-$series is $have, linux-image-$KVER is $want: versions must match"
	KSRC=$out/linux-source-$series
	rm -rf "$KSRC"
	t=$(date +%s)
	top=linux-source-$series
	# Everything but the C and assembly sources and the docs of the parts no
	# module build reads (headers stay: host tools in scripts/ include some).
	excl=()
	for e in rst txt yaml svg png; do excl+=(--exclude="$top/Documentation/*.$e"); done
	for d in drivers fs net sound mm lib crypto block security virt ipc init io_uring \
		certs usr rust firmware samples; do
		excl+=(--exclude="$top/$d/*.c" --exclude="$top/$d/*.S")
	done
	for a in alpha arc arm arm64 csky hexagon ia64 loongarch m68k microblaze mips nios2 openrisc \
		parisc powerpc riscv s390 sh sparc um xtensa; do
		# (their Kconfig files stay: crypto/Kconfig sources them)
		excl+=(--exclude="$top/arch/$a/*.[chS]" --exclude="$top/arch/$a/*.dts*" --exclude="$top/arch/$a/configs")
	done
	excl+=(--exclude="$top/tools/testing" --exclude="$top/tools/perf")
	tar -xJf "$tarball" -C "$out" "${excl[@]}"
	echo "kernel-intree: extracted $top ($(du -sm "$KSRC" | cut -f1) MB) in $(( $(date +%s) - t )) s"
fi
[ -f "$KSRC/Makefile" ] && [ -f "$KSRC/drivers/misc/Kconfig" ] || die "$KSRC is not a kernel tree"

# 2. The recipe, exactly as docs/kernel.md writes it.
recipe=$(awk '/^<!-- snippet: kernel-tree -->$/ { getline; if ($0 == "```sh") on = 1; next }
	on && /^```$/ { exit } on { print }' "$repo/docs/kernel.md")
[ -n "$recipe" ] || die "no kernel-tree block in docs/kernel.md"
(cd "$repo" && KSRC="$KSRC" bash -euo pipefail -c "$recipe")
grep -q 'source "drivers/misc/vtime/Kconfig"' "$KSRC/drivers/misc/Kconfig" || die "Kconfig not hooked"

# 3. Configure as the booted kernel, plus CONFIG_VTIME=m.
cp "$config" "$KSRC/.config"
"$KSRC/scripts/config" --file "$KSRC/.config" --module VTIME
mk=(make -C "$KSRC" -j2 CC=gcc-12 KERNELRELEASE="$KVER")
"${mk[@]}" olddefconfig >"$out/config.log" 2>&1 || { cat "$out/config.log"; die "olddefconfig failed"; }
grep -qx 'CONFIG_VTIME=m' "$KSRC/.config" || die "CONFIG_VTIME=m did not survive olddefconfig: $(grep VTIME "$KSRC/.config")"
# The module must see the booted kernel's configuration (struct layouts,
# struct module itself): any option olddefconfig changed means another
# toolchain (gcc, pahole...) than Debian's. Debian's shipped config leaves out
# four options that only concern signing and vmlinux; their defaults are fine.
changed=$(diff <(grep '^CONFIG_' "$config" | sort) <(grep '^CONFIG_' "$KSRC/.config" | sort) | grep '^[<>]' |
	grep -vE '^> CONFIG_(VTIME=m|MODULE_SIG_ALL=y|MODULE_SIG_KEY=|SYSTEM_TRUSTED_KEYS=|BUILD_SALT=)' || true)
[ -z "$changed" ] || die "olddefconfig changed the booted kernel's options (toolchain differs?): $(echo $changed)"

# 4. Build the module through Kbuild, against the booted kernel's symbol CRCs.
# `make drivers/misc/vtime/vtime.ko` would link against vmlinux, which means
# building the whole kernel (an hour on this machine); `make M=` builds the
# tree's own folder from the same Kconfig result (include/config/auto.conf:
# obj-$(CONFIG_VTIME) is obj-m only because CONFIG_VTIME=m) and takes the
# booted kernel's exports from Module.symvers. The module is then flagged
# out-of-tree (modinfo has no intree: Y): the one difference.
cp "$hdr/Module.symvers" "$KSRC/Module.symvers"
t=$(date +%s)
if ! "${mk[@]}" modules_prepare >"$out/prepare.log" 2>&1; then
	tail -40 "$out/prepare.log"; die "modules_prepare failed"
fi
echo "kernel-intree: modules_prepare in $(( $(date +%s) - t )) s"
t=$(date +%s)
grep -qx 'CONFIG_VTIME=m' "$KSRC/include/config/auto.conf" || die "CONFIG_VTIME=m not in include/config/auto.conf"
if ! "${mk[@]}" M=drivers/misc/vtime modules >"$out/build.log" 2>&1; then
	cat "$out/build.log"; die "building drivers/misc/vtime/vtime.ko failed"
fi
if grep -E ': (warning|error):|WARNING: modpost|MODULE_LICENSE' "$out/build.log"; then
	die "the in-tree build printed warnings (see $out/build.log)"
fi
ko=$KSRC/drivers/misc/vtime/vtime.ko
[ -f "$ko" ] || die "no $ko"
echo "kernel-intree: built drivers/misc/vtime/vtime.ko ($(stat -c %s "$ko") bytes) in $(( $(date +%s) - t )) s"

# 5. What the module says about itself.
[ "$(modinfo -F license "$ko")" = "Dual MIT/GPL" ] || die "license: $(modinfo -F license "$ko")"
vermagic=$(modinfo -F vermagic "$ko")
case $vermagic in "$KVER "*) ;; *) die "vermagic '$vermagic' is not the booted kernel's ($KVER)" ;; esac
declared=$(grep -h '^VTIME_API' "$repo/include/vtime/vtime.h" $(sed -n 's@^#include <\(vtime/.*\)>$@'"$repo"'/include/\1@p' \
	"$repo/include/vtime/vtime.h") | grep -o 'vtime_[a-z0-9_]*(' | tr -d '(' | LC_ALL=C sort -u)
exported=$(nm "$ko" | sed -n 's/.* __ksymtab_\(vtime_[a-z0-9_]*\)$/\1/p' | LC_ALL=C sort -u)
missing=$(LC_ALL=C comm -23 <(echo "$declared") <(echo "$exported"))
[ -z "$missing" ] || die "not exported: $(echo $missing)"
cp "$ko" "$out/vtime.ko"
echo "kernel-intree: $(wc -l <<<"$exported") vtime_* exports, license $(modinfo -F license "$ko"), vermagic $vermagic; $(( $(date +%s) - start )) s in all"
echo "$out/vtime.ko"
