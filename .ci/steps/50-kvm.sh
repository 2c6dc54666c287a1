#!/usr/bin/env bash
# KVM end to end. The kvm suite already ran in the main
# `meson test`; here CI makes sure it really ran (a skip would hide it: this
# CI machine has /dev/kvm) and runs the minivmm example in both modes.
set -euo pipefail
b=build
log=$b/meson-logs/testlog.json
if [ ! -e /dev/kvm ]; then
	echo "50-kvm: /dev/kvm is missing on this CI machine; the kvm suite could not run" >&2
	exit 1
fi
check() {
python3 - "$log" <<'PY'
import json, os, sys
if not os.path.exists(sys.argv[1]):
    sys.exit("50-kvm: no test log at " + sys.argv[1])
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# names look like "vtime:kvm / kvm" (project:suite / test)
kvm = [r for r in res if r.get('name', '').split(' / ')[0].split(':')[-1].split('+')[0] == 'kvm'
       or 'kvm' in r.get('suite', [])]
if not kvm:
    sys.exit("50-kvm: the kvm suite is not registered (minivmm not built?)")
for r in kvm:
    print(f"50-kvm: {r['name']}: {r['result']} in {r['duration']:.1f} s")
    if r['result'] != 'OK':
        sys.exit("50-kvm: the kvm suite did not pass (skipped or failed)")
for line in kvm[0].get('stdout', '').splitlines():
    if 'measured:' in line:
        print(line.strip())
PY
}
# The main run's log; if it lacks the suite (another run rewrote it), run it.
if ! check; then
	echo "50-kvm: running the kvm suite here"
	meson test -C "$b" --suite kvm --print-errorlogs
	check
fi
for mode in kvm vmm; do
	echo "-- minivmm $mode"
	"$b/examples/minivmm/minivmm" "$mode"
done
