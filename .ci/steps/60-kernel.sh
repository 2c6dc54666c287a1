#!/usr/bin/env bash
# vtime inside a real Linux kernel: build vtime_selftest.ko against Debian's
# kernel headers, boot Debian's kernel under qemu (TCG, 2 CPUs), check KTAP.
set -euo pipefail
# linux-image-amd64 and linux-headers-amd64 are metapackages of the same
# version, so the headers match the kernel that boots. make/libc6-dev/bc are
# what out-of-tree Kbuild needs besides gcc.
scripts/install-deps linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static \
	cpio kmod make libc6-dev bc
VTIME_KERNEL_BUILD="$PWD/build-kernel" scripts/kernel-selftest.sh
