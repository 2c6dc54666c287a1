#!/usr/bin/env bash
# Runs the kvm suite (tests/kvm/test_kvm) N times while this machine is
# busy: one CPU-bound process per CPU (stress-ng --cpu when installed, else
# a shell busy loop) and another VM (examples/minivmm in a loop, both modes).
# Prints one line per run and the tally; exit status 1 if any run failed.
#   scripts/kvm-under-load.sh [N] [BUILD_DIR]    (defaults: 10, build)
set -uo pipefail
n=${1:-10}
b=${2:-build}
test_kvm=$b/tests/kvm/test_kvm
vmm=$b/examples/minivmm/minivmm
[ -x "$test_kvm" ] && [ -x "$vmm" ] || { echo "build $b first (tests and examples)" >&2; exit 2; }
ncpu=$(nproc)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
if command -v stress-ng >/dev/null; then
	stress-ng --cpu "$ncpu" --quiet &
	pids+=($!)
	load="stress-ng --cpu $ncpu"
else
	for _ in $(seq "$ncpu"); do
		bash -c 'while :; do :; done' &
		pids+=($!)
	done
	load="$ncpu busy loops"
fi
bash -c "while :; do '$vmm' kvm >/dev/null 2>&1; '$vmm' vmm >/dev/null 2>&1; done" &
pids+=($!)
echo "load: $load, and minivmm (kvm, vmm) in a loop as another VM"
fails=0
for i in $(seq "$n"); do
	log=$(mktemp)
	t0=$(date +%s.%N)
	"$test_kvm" >"$log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	res=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	printf 'run %2d: exit %d, %s, %.1f s, load average %s\n' "$i" "$rc" "${res:-no summary}" \
		"$(echo "$t1 - $t0" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
	if [ "$rc" != 0 ]; then
		fails=$((fails + 1))
		grep -E 'FAILED|CU_ASSERT|^    [0-9]+\.' "$log" | head -20
		cp "$log" "kvm-under-load-run$i.log"
	fi
	rm -f "$log"
done
echo "kvm suite under load: $((n - fails)) of $n runs passed"
[ "$fails" = 0 ]
