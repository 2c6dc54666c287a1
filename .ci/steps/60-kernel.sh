#!/usr/bin/env bash
# vtime inside a real Linux kernel: build vtime_selftest.ko against Debian's
# kernel headers; build the in-tree module of docs/kernel.md's kernel-tree
# recipe (drivers/misc/vtime, CONFIG_VTIME=m) in Debian's linux-source of the
# same kernel; boot Debian's kernel under qemu (TCG, 2 CPUs), load vtime.ko
# then the self-test, check KTAP.
set -euo pipefail
t0=$(date +%s)
# The guest boots our own initramfs: INITRD=No skips Debian's (a minute of
# update-initramfs). make and libc6-dev are what out-of-tree Kbuild needs.
INITRD=No scripts/install-deps linux-image-amd64 linux-headers-amd64 qemu-system-x86 \
	busybox-static cpio kmod make libc6-dev
# Headers must match the image that boots: take the version the image
# metapackage points at (an older image may already be installed).
kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | sed -n 's/^\(.*[ ,]\)\{0,1\}linux-image-\([^ ,(]*\).*/\2/p')
scripts/install-deps "linux-image-$kver" "linux-headers-$kver"
# The in-tree build: the source of that very image, and what configuring and
# preparing a tree needs (dwarves: pahole, which the image's config was made
# with: without it Kconfig drops BTF options and struct module changes).
series=$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
image_version=$(dpkg-query -W -f='${Version}' "linux-image-$kver")
have=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null || true)
[ "$have" = "$image_version" ] || scripts/install-deps "linux-source-$series=$image_version"
scripts/install-deps bc bison flex libelf-dev libssl-dev dwarves xz-utils gcc-12
export KVER="$kver" VTIME_KERNEL_BUILD="$PWD/build-kernel"
rm -rf build-kernel/intree
scripts/kernel-intree.sh | tee build-kernel-intree.log
intree_ko=$(tail -n1 build-kernel-intree.log)
rm -f build-kernel-intree.log
VTIME_KERNEL_MODULES="$intree_ko" scripts/kernel-selftest.sh
rm -rf build-kernel/intree/linux-source-*   # 650 MB of extracted tree
echo "60-kernel: passed in $(( $(date +%s) - t0 )) s"
