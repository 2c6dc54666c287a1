#!/usr/bin/env bash
# The guests suite: vtime inside Debian's kernel under qemu
# TCG, x86-64 (clocksource tsc/hpet/acpi_pm, CPU models with and without
# rdtscp and invariant TSC) and aarch64, with the kernel's clock adjusted on a
# schedule; asserts the bounds of scripts/guests/run (tests/guests/README.md).
# Also armv7 (armhf, qemu-system-arm -M virt -cpu cortex-a15).
# Runs in its own build directory, so its Meson test log stays apart.
set -euo pipefail
t0=$(date +%s)
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
# Another job may hold the dpkg lock on a shared machine: wait for it.
aptconf=$(mktemp)
echo 'DPkg::Lock::Timeout "900";' >"$aptconf"
export APT_CONFIG="$aptconf"
trap 'rm -f "$aptconf"' EXIT
# arm64 and armhf: the kernels (linux-image-arm64, linux-image-armmp-lpae) and
# busybox-static are fetched with apt-get download (scripts/guests/run unpacks
# them, nothing of those architectures is installed); the cross builds use
# clang with Debian's sysroots, as .ci/steps/70-cross.sh.
for a in arm64 armhf; do
	grep -qx "$a" <<<"$(dpkg --print-foreign-architectures)" || $sudo dpkg --add-architecture "$a"
done
# INITRD=No: the guests boot our initramfs, Debian's would cost a minute.
INITRD=No scripts/install-deps qemu-system-x86 qemu-system-arm linux-image-amd64 busybox-static cpio \
	libc6-dev clang binutils-aarch64-linux-gnu libc6-dev-arm64-cross \
	binutils-arm-linux-gnueabihf libc6-dev-armhf-cross libgcc-12-dev-armhf-cross python3
# The foreign package lists (apt-get download needs them) may be missing when
# nothing above had to be installed.
if ! apt-cache show linux-image-arm64:arm64 >/dev/null 2>&1 ||
	! apt-cache show linux-image-armmp-lpae:armhf >/dev/null 2>&1; then
	$sudo apt-get update -qq || echo "65-guests: apt-get update reported errors; continuing"
fi
echo "65-guests: packages ready after $(( $(date +%s) - t0 )) s"
b=build-guests
[ -e "$b/build.ninja" ] || meson setup "$b" >/dev/null
# The qemu tests run the driver, which builds its own static vtime; only
# guests_host needs the two programs of this build.
ninja -C "$b" tests/guests/vtg_compare tests/guests/vtg_inversion >/dev/null
VTIME_GUESTS=1 meson test -C "$b" --no-rebuild --suite guests --verbose --num-processes 1
# Every configuration must have run here: a skip would hide a missing package.
python3 - "$b/meson-logs/testlog.json" <<'PY'
import json, sys
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# names look like "vtime:guests / guests_x86_tsc" (project:suite / test)
g = [r for r in res if r.get('name', '').split(' / ')[0].split(':')[-1] == 'guests' or 'guests' in r.get('suite', [])]
if not g:
    sys.exit("65-guests: no guests test ran")
bad = [r['name'] for r in g if r['result'] not in ('OK',)]
for r in g:
    print(f"65-guests: {r['name']}: {r['result']} in {r['duration']:.0f} s")
if bad:
    sys.exit("65-guests: not passed (skipped or failed): " + ", ".join(bad))
PY
echo "65-guests: results"
scripts/guests/run --report --out "$b/tests/guests/work"
echo "65-guests: done in $(( $(date +%s) - t0 )) s"
