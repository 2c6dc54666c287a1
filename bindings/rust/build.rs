// SPDX-License-Identifier: MIT
//! Finds libvtime: $VTIME_BUILD_DIR (a Meson build directory: the library is
//! in its src/ folder) or else `pkg-config --libs vtime` (the binary, no crate).
//! Library directories outside the system's are added as an rpath so that
//! `cargo test` runs without LD_LIBRARY_PATH.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn link_dir(dir: &str) {
    println!("cargo:rustc-link-search=native={}", dir);
    if !dir.starts_with("/usr/lib") && !dir.starts_with("/lib") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for v in ["VTIME_BUILD_DIR", "PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"] {
        println!("cargo:rerun-if-env-changed={}", v);
    }

    if let Some(dir) = env::var_os("VTIME_BUILD_DIR") {
        let mut lib = PathBuf::from(dir);
        lib.push("src");
        let lib = lib.canonicalize().unwrap_or_else(|e| {
            panic!("VTIME_BUILD_DIR: no src/ folder in the Meson build directory ({})", e)
        });
        if !lib.join("libvtime.so").exists() {
            panic!("VTIME_BUILD_DIR: {} has no libvtime.so (run meson compile first)", lib.display());
        }
        link_dir(lib.to_str().expect("UTF-8 path"));
        println!("cargo:rustc-link-lib=dylib=vtime");
        return;
    }

    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(&pkg_config).args(["--libs", "vtime"]).output();
    match out {
        Ok(o) if o.status.success() => {
            let libs = String::from_utf8(o.stdout).expect("pkg-config output is UTF-8");
            for flag in libs.split_whitespace() {
                if let Some(dir) = flag.strip_prefix("-L") {
                    link_dir(dir);
                } else if let Some(name) = flag.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib={}", name);
                }
            }
        }
        Ok(o) => panic!(
            "pkg-config could not find vtime ({}); set VTIME_BUILD_DIR to a Meson build directory \
             or PKG_CONFIG_PATH to the folder holding vtime.pc",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run {} ({}); set VTIME_BUILD_DIR to a Meson build directory", pkg_config, e),
    }
}
