#!/usr/bin/env bash
# 1. ASan+UBSan build running the whole test suite (UBSan made fatal).
# 2. TSan builds running the concurrency suite, once per atomics backend.
#
# TSan works with both backends here: libatomic_ops 7.6 with GCC >= 4.8
# implements AO_load/AO_store and its barriers with the __atomic builtins
# (sysdeps/gcc/generic*.h), which TSan instruments, and so does our builtin
# backend. (An older libatomic_ops using plain volatile accesses would be
# invisible to TSan; the builtin run still covers the protocol then.) The
# seqlock accesses every shared field atomically, so no report depends on
# TSan's weak modelling of stand-alone fences. Checked: replacing the
# builtin vt_load64 with a plain load makes this step report a data race.
set -euo pipefail
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
b=build-asan
rm -rf "$b"
meson setup "$b" -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=undefined >/dev/null
meson compile -C "$b" -j2
meson test -C "$b" --print-errorlogs --no-suite bindings
# Suite bindings loads the instrumented libvtime into another runtime (Python
# ctypes): the ASan runtime must come first, so preload it; leak checking is
# off there since the interpreter's own exit-time allocations are not ours.
LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	meson test -C "$b" --print-errorlogs --suite bindings --logbase testlog-bindings

# TSan: its runtime needs a memory layout that high mmap randomisation
# (vm.mmap_rnd_bits > 28 on newer kernels) can break ("unexpected memory
# mapping"); run without ASLR when this machine allows it (setarch -R needs
# personality(), which some container seccomp profiles refuse).
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
wrap=""
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
	wrap="setarch $(uname -m) -R"
fi
for backend in aops builtin; do
	b=build-tsan-$backend
	rm -rf "$b"
	meson setup "$b" -Db_sanitize=thread -Db_lundef=false -Datomics=$backend \
		-Dexamples=false -Dtools=false >/dev/null
	meson compile -C "$b" -j2
	meson test -C "$b" --suite concurrency --print-errorlogs ${wrap:+--wrapper "$wrap"}
done
