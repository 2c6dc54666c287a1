#!/usr/bin/env bash
# vtime inside a real Linux kernel: builds vtime_selftest.ko against Debian's
# linux-headers-amd64, packs it with busybox-static into an initramfs, boots
# Debian's linux-image-amd64 under qemu-system-x86_64 (TCG, 2 CPUs), loads the
# module and checks the KTAP it prints on the serial console. Fails on any
# "not ok", a missing or short plan, a kernel oops/warning, or a timeout.
#
# Needs: linux-image-amd64 linux-headers-amd64 (same version) qemu-system-x86
# busybox-static cpio kmod make gcc (.ci/steps/60-kernel.sh installs them).
# Environment (all optional):
#   KVER                      kernel version (default: the one linux-image-amd64 depends on)
#   VTIME_KERNEL_BUILD        output directory (default: build-kernel)
#   VTIME_KERNEL_TIMEOUT      seconds qemu may run (default: 240)
#   VTIME_KERNEL_STRESS_MS    writer/reader stress duration in the guest (default: 400)
#   VTIME_KERNEL_ACCEL        qemu -accel value (default: tcg,thread=multi)
#   VTIME_KERNEL_MODULES      more modules (.ko paths) to load before the
#                             self-test, e.g. the in-tree vtime.ko that
#                             scripts/kernel-intree.sh builds; each must load
#                             with no taint but O (out of tree) and E (unsigned)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${VTIME_KERNEL_BUILD:-$repo/build-kernel}
timeout_s=${VTIME_KERNEL_TIMEOUT:-240}
stress_ms=${VTIME_KERNEL_STRESS_MS:-400}
accel=${VTIME_KERNEL_ACCEL:-tcg,thread=multi}
start=$(date +%s)

die() { echo "kernel-selftest: $*" >&2; exit 1; }

if [ -z "${KVER:-}" ]; then
	KVER=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^\(.*[ ,]\)\{0,1\}linux-image-\([^ ,(]*\).*/\2/p')
	[ -n "$KVER" ] || die "linux-image-amd64 is not installed (or set KVER)"
fi
kimg=/boot/vmlinuz-$KVER
kdir=/lib/modules/$KVER/build
[ -r "$kimg" ] || die "$kimg missing: install linux-image-$KVER"
[ -e "$kdir/Makefile" ] || die "$kdir missing: install linux-headers-$KVER (must match the image)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox missing: install busybox-static"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked: install busybox-static"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: install qemu-system-x86"
command -v cpio >/dev/null || die "cpio missing"

echo "kernel-selftest: kernel $KVER, headers $kdir, accel $accel"

# 1. The module, built in $out/module from symlinks so the tree stays clean.
mdir=$out/module
rm -rf "$mdir"
mkdir -p "$mdir/core"
ln -s "$repo"/src/core/*.c "$mdir/core/"
ln -s "$repo"/src/platform/linux-kernel/*.c "$mdir/"
echo "include $repo/src/platform/linux-kernel/Kbuild" >"$mdir/Kbuild"
if ! make -C "$kdir" M="$mdir" VTIME_SRC="$repo" -j2 modules >"$out/build.log" 2>&1; then
	cat "$out/build.log"
	die "module build failed"
fi
if grep -E ': (warning|error):' "$out/build.log"; then
	die "module build printed warnings (see $out/build.log)"
fi
ko=$mdir/vtime_selftest.ko
[ -f "$ko" ] || die "no $ko"
echo "kernel-selftest: built $(basename "$ko") ($(stat -c %s "$ko") bytes) from $(ls "$mdir"/core/*.c | wc -l) core files"

# 2. The initramfs root: the module and an init that loads it and powers off
# (scripts/boot-initramfs adds busybox and the mount points, and packs it).
ird=$out/initramfs
rm -rf "$ird"
mkdir -p "$ird"
cp "$ko" "$ird/"
extra=""
for m in ${VTIME_KERNEL_MODULES:-}; do
	[ -f "$m" ] || die "VTIME_KERNEL_MODULES: no $m"
	mkdir -p "$ird/extra"
	cp "$m" "$ird/extra/"
	extra="$extra $(basename "$m" .ko)"
done
cat >"$ird/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev 2>/dev/null
exec >/dev/console 2>&1 </dev/console
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo 8 >/proc/sys/kernel/printk
echo "vtime-selftest: kernel \$(uname -r), \$(nproc) CPUs, clocksource \$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
for m in $extra; do
	insmod /extra/\$m.ko
	echo "vtime-selftest: insmod \$m.ko rc=\$? taint=\$(cat /sys/module/\$m/taint 2>/dev/null) exports=\$(grep -c ' __ksymtab_vtime_' /proc/kallsyms)"
done
t0=\$(cut -d' ' -f1 /proc/uptime)
insmod /vtime_selftest.ko stress_ms=$stress_ms
rc=\$?
echo "vtime-selftest: insmod rc=\$rc (booted in \$t0 s, done at \$(cut -d' ' -f1 /proc/uptime) s of guest uptime)"
poweroff -f
EOF
chmod +x "$ird/init"

# 3. Boot (TCG, 2 CPUs). oops=panic and panic=-1 with -no-reboot turn any
# crash into a quick exit; scripts/boot-initramfs writes the console without CRs.
log=$out/console.log
boot_start=$(date +%s)
set +e
"$repo/scripts/boot-initramfs" -k "$kimg" -b "$busybox" -t "$timeout_s" -x "$accel" -A "printk.time=0" \
	"$ird" "$log.txt"
qrc=$?
set -e
boot_s=$(( $(date +%s) - boot_start ))
[ -f "$log.txt" ] || die "qemu wrote no console log (exit $qrc)"
if [ "$qrc" = 124 ]; then
	tail -40 "$log.txt"
	die "qemu timed out after ${timeout_s}s"
fi

# 4. Check the KTAP.
ktap=$out/ktap.txt
sed -n '/^KTAP version 1$/,$p' "$log.txt" | grep -E '^( *)(KTAP version|[0-9]+\.\.[0-9]+|ok |not ok |#)' >"$ktap" || true
cat "$ktap"
fail=""
grep -q '^KTAP version 1$' "$ktap" || fail="$fail no-KTAP-header"
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$ktap" | head -1)
[ -n "$plan" ] || fail="$fail no-plan"
results=$(grep -cE '^(ok|not ok) [0-9]+ ' "$ktap" || true)
[ -n "$plan" ] && [ "$results" != "$plan" ] && fail="$fail plan-$plan-but-$results-results"
grep -qE '^ *not ok ' "$ktap" && fail="$fail not-ok"
grep -q '^vtime-selftest: insmod rc=0 ' "$log.txt" || fail="$fail insmod-failed"
for m in $extra; do
	line=$(grep "^vtime-selftest: insmod $m.ko " "$log.txt" || true)
	case $line in
	*" rc=0 taint="*) ;;
	*) fail="$fail insmod-$m-failed"; continue ;;
	esac
	taint=$(sed -n 's/.* taint=\([^ ]*\) .*/\1/p' <<<"$line")
	[ -z "$(tr -d 'OE' <<<"$taint")" ] || fail="$fail $m-tainted-$taint"
	grep -q "missing MODULE_LICENSE\|module license .* taints kernel" "$log.txt" && fail="$fail $m-license"
done
if grep -nE 'Oops|BUG:|WARNING:|Call Trace|Kernel panic|watchdog: BUG|RCU stall|rcu_.*detected stalls' "$log.txt"; then
	fail="$fail kernel-complained"
fi
grep '^vtime-selftest: ' "$log.txt" || true
echo "kernel-selftest: qemu exit $qrc, boot+test ${boot_s}s, total $(( $(date +%s) - start ))s"
if [ -n "$fail" ]; then
	echo "---- console (last 60 lines) ----" >&2
	tail -60 "$log.txt" >&2
	die "FAILED:$fail"
fi
echo "kernel-selftest: PASS ($(grep '^# Totals' "$ktap"))"
