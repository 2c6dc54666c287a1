#!/usr/bin/env bash
# vtime inside a real Linux kernel: build vtime_selftest.ko against Debian's
# kernel headers, boot Debian's kernel under qemu (TCG, 2 CPUs), check KTAP.
set -euo pipefail
# The guest boots our own initramfs: INITRD=No skips Debian's (a minute of
# update-initramfs). make and libc6-dev are what out-of-tree Kbuild needs.
INITRD=No scripts/install-deps linux-image-amd64 linux-headers-amd64 qemu-system-x86 \
	busybox-static cpio kmod make libc6-dev
# Headers must match the image that boots: take the version the image
# metapackage points at (an older image may already be installed).
kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | sed -n 's/^\(.*[ ,]\)\{0,1\}linux-image-\([^ ,(]*\).*/\2/p')
scripts/install-deps "linux-image-$kver" "linux-headers-$kver"
KVER="$kver" VTIME_KERNEL_BUILD="$PWD/build-kernel" scripts/kernel-selftest.sh
