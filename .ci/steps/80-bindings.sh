#!/usr/bin/env bash
# Bindings: the Python binding's unittest suite and the Rust crate's
# tests (cargo test --offline, no crates), both against a fresh Meson build of
# libvtime; the Rust crate is also built once through pkg-config (Meson's
# uninstalled vtime.pc) to check that route of its build.rs.
set -euo pipefail
t0=$(date +%s)
b=build-bindings
rm -rf "$b"
meson setup "$b" -Dtools=false -Dexamples=false >/dev/null
meson compile -C "$b" vtime:shared_library bindings/python/vtime_py_layout_probe >/dev/null

echo "-- Python (meson test --suite bindings)"
meson test -C "$b" --no-rebuild --suite bindings --print-errorlogs
grep -E '^(Ran|OK|FAILED)' "$b/meson-logs/testlog.txt" || true

echo "-- Rust"
# rustup's cargo when present (developer machines), else Debian's.
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || scripts/install-deps cargo
echo "$(cargo --version), $(rustc --version)"
export CARGO_TARGET_DIR="$PWD/$b/cargo-target"
# On Linux the userspace clock is in the library: its Rust test must not take the NOTSUP path.
export VTIME_REQUIRE_CLOCK=1
VTIME_BUILD_DIR="$PWD/$b" cargo test --offline --manifest-path bindings/rust/Cargo.toml
VTIME_BUILD_DIR="$PWD/$b" cargo run --offline --quiet --manifest-path bindings/rust/Cargo.toml --example now
# pkg-config route: build.rs runs the pkg-config binary on Meson's uninstalled .pc.
PKG_CONFIG_PATH="$PWD/$b/meson-uninstalled" cargo test --offline --manifest-path bindings/rust/Cargo.toml \
	--test binding -- version_and_errors
echo "80-bindings: passed in $(( $(date +%s) - t0 )) s"
