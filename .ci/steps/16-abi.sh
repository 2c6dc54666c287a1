#!/usr/bin/env bash
# ABI of libvtime.so.0 against the committed baseline (abi/, docs/abi.md):
# abidiff (abigail-tools) through scripts/abi-baseline --check, which fails
# on any removed or changed function or type; every VTIME_API function of
# the public headers must be exported, each in a VTIME_0.N node; and a
# negative control: the same objects relinked with one export hidden must
# make the check fail, so a check that stopped seeing changes cannot pass.
set -euo pipefail
t0=$(date +%s)
scripts/install-deps abigail-tools
b=build-abi
rm -rf "$b"
VTIME_ABI_BUILD="$PWD/$b" scripts/abi-baseline --check

so=$(ls "$b"/src/libvtime.so.*.*.* | head -n1)
declared=$(grep -h '^VTIME_API' include/vtime/*.h "$b"/include/vtime/version.h |
	grep -o 'vtime_[a-z0-9_]*(' | tr -d '(' | LC_ALL=C sort -u)
exported=$(nm -D --defined-only --with-symbol-versions "$so" | awk '$2 != "A" {print $3}')
names=$(sed 's/@.*//' <<<"$exported" | LC_ALL=C sort -u)
missing=$(LC_ALL=C comm -23 <(echo "$declared") <(echo "$names"))
extra=$(LC_ALL=C comm -13 <(echo "$declared") <(echo "$names"))
[ -z "$missing" ] || { echo "abi: declared VTIME_API but not exported: $(echo $missing)"; exit 1; }
[ -z "$extra" ] || { echo "abi: exported but declared in no public header: $(echo $extra)"; exit 1; }
bad=$(grep -vE '@@?VTIME_0\.[0-9]+$' <<<"$exported" || true)
[ -z "$bad" ] || { echo "abi: exports outside a VTIME_0.N node: $(echo $bad)"; exit 1; }
echo "abi: $(wc -l <<<"$names") VTIME_API functions, all exported and versioned"

# Negative control: hide vtime_strerror, relink the same objects, expect failure.
sed 's/^\tlocal:$/\tlocal:\n\t\tvtime_strerror;/' src/vtime.map >"$b/hidden.map"
cc -shared -o "$b/libvtime-control.so" -Wl,-soname,libvtime.so.0 -Wl,--version-script="$b/hidden.map" \
	-Wl,--whole-archive "$b/src/libvtime_objects.a" -Wl,--no-whole-archive
if nm -D --defined-only "$b/libvtime-control.so" | grep -q ' vtime_strerror@'; then
	echo "abi: control library still exports vtime_strerror"; exit 1
fi
if VTIME_ABI_LIB="$b/libvtime-control.so" scripts/abi-baseline --check >"$b/control.log" 2>&1; then
	cat "$b/control.log"; echo "abi: the check passed a library missing vtime_strerror"; exit 1
fi
grep -q "vtime_strerror" "$b/control.log" || { cat "$b/control.log"; echo "abi: control failed for another reason"; exit 1; }
echo "abi: negative control (vtime_strerror hidden) fails the check as it must"
echo "16-abi: passed in $(( $(date +%s) - t0 )) s"
