#!/usr/bin/env bash
# The other atomics backend: the default build (.ci/run's build/) uses
# libatomic_ops (atomics=auto picks aops on 64-bit when pkg-config finds it);
# this step builds and tests with the compiler __atomic builtins, the backend
# that freestanding, 32-bit and TSan builds use. It also checks that each
# build really compiled against the backend it claims.
set -euo pipefail
b=build-atomics-builtin
rm -rf "$b"
meson setup "$b" -Datomics=builtin -Dexamples=false >/dev/null
grep -q 'atomic/builtin.h' "$b/compile_commands.json" || { echo "atomics: builtin build does not use atomic/builtin.h" >&2; exit 1; }
! grep -q 'atomic/aops.h' "$b/compile_commands.json" || { echo "atomics: builtin build still uses aops.h" >&2; exit 1; }
if [ -f build/compile_commands.json ] && [ "$(getconf LONG_BIT)" = 64 ]; then
	grep -q 'atomic/aops.h' build/compile_commands.json ||
		{ echo "atomics: the default build (build/) is not on libatomic_ops" >&2; exit 1; }
fi
meson compile -C "$b" -j2
meson test -C "$b" --print-errorlogs
