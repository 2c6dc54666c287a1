#!/usr/bin/env bash
# Bindings, every route as its docs say it, with no project environment
# variable: scripts/check-bindings (each binding's coverage of the exported
# functions, generated mirrors fresh); the Python unittest suite against a
# Meson build (meson test --suite bindings); Rust: cargo test --offline of
# the workspace (vtime-sys builds the bundled C sources statically), the
# example, a scratch downstream crate depending on bindings/rust by path
# built and run with an empty environment, also as a static (crt-static)
# binary, and the system feature against a staged install through
# pkg-config; Python: pip install --no-build-isolation --no-index of
# bindings/python into a venv, and meson install into a staging root seen
# at /usr/local (a private mount namespace), the unittest suite run from
# outside the source tree against each installed package.
set -euo pipefail
t0=$(date +%s)
b=build-bindings
src=$PWD
rm -rf "$b"
mkdir -p "$b"
fail() { echo "80-bindings: $*" >&2; exit 1; }

echo "-- scripts/check-bindings"
scripts/check-bindings

meson setup "$b/meson" -Dtools=false -Dexamples=false >/dev/null
meson compile -C "$b/meson" vtime:shared_library bindings/python/vtime_py_layout_probe >/dev/null
echo "-- Python in the build tree (meson test --suite bindings)"
meson test -C "$b/meson" --no-rebuild --suite bindings --print-errorlogs
grep -E '^(Ran|OK|FAILED)' "$b/meson/meson-logs/testlog.txt" || true

echo "-- Rust"
# rustup's cargo when present (developer machines), else Debian's.
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || scripts/install-deps cargo
echo "$(cargo --version), $(rustc --version)"
target=$PWD/$b/cargo-target
cargo test --offline --manifest-path bindings/rust/Cargo.toml --workspace --target-dir "$target"
cargo run --offline --quiet --manifest-path bindings/rust/Cargo.toml --target-dir "$target" --example now

echo "-- Rust: a downstream crate depending on bindings/rust by path"
d=$b/downstream
mkdir -p "$d/src"
cat >"$d/Cargo.toml" <<TOML
[package]
name = "vtime-downstream"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
vtime = { path = "$src/bindings/rust" }

[workspace]
TOML
cat >"$d/src/main.rs" <<'RS'
// A VMM's use: guest memory, a VM with one vCPU publishing its record, the
// guest's read of it; and this machine's fast clock.
use vtime::{Region, Vm, VmmConfig, VmmNow};

fn main() {
    let hz = 2_599_999_000;
    let mem = Region::new(4096);
    let now = VmmNow { host_tsc: 0, host_ns: 0, realtime_ns: 1 };
    let mut vm = Vm::new(&VmmConfig { host_hz: hz, ..Default::default() }, &now).expect("vm");
    let cpu = vm.add_vcpu().expect("vcpu");
    vm.vcpu_set_record(cpu, Some(mem.pvclock(0).expect("slot"))).expect("record");
    vm.vcpu_write_tsc(cpu, 0, &now, true).expect("tsc");
    let later = VmmNow { host_tsc: hz, host_ns: 1_000_000_000, realtime_ns: 1_000_000_001 };
    vm.publish_all(&later).expect("publish");
    let r = mem.pvclock(0).unwrap().read(0, || hz).expect("read");
    assert_eq!(r.ns, vm.clock(hz));
    println!("downstream: libvtime {}, kvmclock {} ns after 1 s, now_ns {}", vtime::version(), r.ns, vtime::now_ns());
}
RS
(cd "$d" && cargo build --offline --quiet --target-dir "$target/downstream")
bin=$target/downstream/debug/vtime-downstream
env -i "$bin"
if ldd "$bin" | grep -q libvtime; then fail "the downstream binary needs libvtime.so: $(ldd "$bin")"; fi
(cd "$d" && cargo build --offline --quiet --release --target-dir "$target/downstream-static" \
	--config 'build.rustflags = ["-C", "target-feature=+crt-static"]')
sbin=$target/downstream-static/release/vtime-downstream
env -i "$sbin"
file "$sbin" | grep -qE 'statically linked|static-pie linked' || fail "not a static binary: $(file "$sbin")"
echo "downstream: dynamic (libc only) and static ($(file -b "$sbin" | cut -d, -f1-2)) binaries ran"

echo "-- Rust: feature system (pkg-config) against a staged install"
# pkg-config's staging-root variables find the .pc; at run time a staged
# library (not where the dynamic linker looks) needs LD_LIBRARY_PATH, as any
# program linked against it would: an installed one (libvtime-dev) does not.
meson setup "$b/stage-build" --prefix=/usr -Dtests=false -Dtools=false -Dexamples=false -Dpython=disabled >/dev/null
DESTDIR=$PWD/$b/stage meson install -C "$b/stage-build" --quiet >/dev/null
pc=$(dirname "$(find "$b/stage" -name vtime.pc | head -1)")
PKG_CONFIG_LIBDIR=$PWD/$pc PKG_CONFIG_SYSROOT_DIR=$PWD/$b/stage LD_LIBRARY_PATH=$PWD/$(dirname "$pc") \
	cargo test --offline --manifest-path bindings/rust/Cargo.toml --target-dir "$target/system" --features system \
	--test binding --test api

echo "-- Python: pip install --no-build-isolation --no-index bindings/python (a venv)"
scripts/install-deps python3 python3-venv python3-setuptools python3-wheel python3-pip file
py=/usr/bin/python3
"$py" -m venv --system-site-packages "$b/venv"
"$b/venv/bin/pip" install --quiet --no-build-isolation --no-index bindings/python
rm -rf bindings/python/build bindings/python/*.egg-info
loaded=$(cd /tmp && env -i "$src/$b/venv/bin/python" -c 'import vtime; print(vtime._lib.LOADED_HOW, vtime.__file__)')
echo "pip: $loaded"
case $loaded in "built by pip into the package $src/$b/venv/"*) ;; *) fail "pip's package: $loaded";; esac
(cd /tmp && env -i PATH=/usr/bin:/bin "$src/$b/venv/bin/python" -m unittest discover -s "$src/bindings/python/tests")

echo "-- Python: meson install (prefix /usr/local, staged, seen at /usr/local in a mount namespace)"
meson setup "$b/install-build" -Dtests=false -Dtools=false -Dexamples=false -Dpython=enabled >/dev/null
DESTDIR=$PWD/$b/install meson install -C "$b/install-build" --quiet >/dev/null
mpy=$(cat "$b/install-build/bindings/python/python-path.txt")
find "$b/install" -name __init__.py -path '*vtime*' | grep -q . || fail "meson install installed no Python package"
unshare --mount --propagation private sh -c '
	set -e
	mount --bind "$1/usr/local" /usr/local
	cd /tmp
	got=$(env -i "$2" -c "import vtime; print(vtime._lib.LOADED_HOW, vtime._lib.LOADED_FROM, vtime.__file__)")
	echo "meson: $got"
	case $got in "installed by meson install /usr/local/"*) ;; *) echo "meson: not the installed library" >&2; exit 1;; esac
	env -i PATH=/usr/bin:/bin "$2" -m unittest discover -s "$3/bindings/python/tests"
' sh "$PWD/$b/install" "$mpy" "$src"
echo "80-bindings: passed in $(( $(date +%s) - t0 )) s"
