#!/usr/bin/env bash
# 1. ASan+UBSan build running the whole test suite (UBSan made fatal).
# 2. TSan build running the concurrency suite.
#
# TSan uses -Datomics=builtin: libatomic_ops implements AO_load/AO_store on
# x86 as plain volatile accesses and its barriers as compiler barriers, which
# TSan cannot see, so it would report the seqlock's intentional races as data
# races. The __atomic builtins are instrumented by TSan. (TSan does not model
# stand-alone fences either; the builtin reader and writer access every
# shared field atomically, so no report depends on a fence.)
set -euo pipefail
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
b=build-asan
rm -rf "$b"
meson setup "$b" -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=undefined >/dev/null
meson compile -C "$b" -j2
meson test -C "$b" --print-errorlogs

# TSan: its runtime needs a memory layout that high mmap randomisation
# (vm.mmap_rnd_bits > 28 on newer kernels) can break ("unexpected memory
# mapping"); run without ASLR when setarch is there.
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
b=build-tsan
rm -rf "$b"
meson setup "$b" -Db_sanitize=thread -Db_lundef=false -Datomics=builtin \
	-Dexamples=false -Dtools=false >/dev/null
meson compile -C "$b" -j2
wrap=""
command -v setarch >/dev/null && wrap="setarch $(uname -m) -R"
meson test -C "$b" --suite concurrency --print-errorlogs ${wrap:+--wrapper "$wrap"}
