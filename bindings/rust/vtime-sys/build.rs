// SPDX-License-Identifier: MIT
//! Builds libvtime for the crate, with no crate and no environment variable.
//!
//! Default: compiles the C sources of the vtime tree this crate ships with
//! (`../../..` from here: `src/core`, `src/version.c`, and on Linux the
//! userspace shim, on x86-64 Linux the KVM shim, the same selection as
//! `src/meson.build`) with the system C compiler into a static `libvtime.a`
//! in OUT_DIR, with the compiler-builtin atomics backend (no libatomic_ops).
//! `<vtime/version.h>` is generated from `include/vtime/version.h.in` and the
//! version in `meson.build`.
//!
//! Feature `system`: links the installed library that `pkg-config vtime`
//! names (shared; an rpath for a library outside /usr/lib and /lib reaches
//! only this crate's own tests: cargo passes link arguments to no dependent).
//!
//! Either way a tiny C file (csrc/layout.c) is compiled into its own archive:
//! the sizes and offsets of the C structs, for the layout test.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn env_tool(names: &[String], default: &str) -> Vec<String> {
    for n in names {
        println!("cargo:rerun-if-env-changed={}", n);
        if let Ok(v) = env::var(n) {
            let words: Vec<String> = v.split_whitespace().map(String::from).collect();
            if !words.is_empty() {
                return words;
            }
        }
    }
    vec![default.to_string()]
}

fn target_vars(base: &str) -> Vec<String> {
    let target = env::var("TARGET").unwrap_or_default();
    vec![
        format!("{}_{}", base, target),
        format!("{}_{}", base, target.replace('-', "_")),
        format!("TARGET_{}", base),
        base.to_string(),
    ]
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("vtime-sys: cannot run {:?} ({}): {}", cmd, what, e));
    if !out.status.success() {
        panic!(
            "vtime-sys: {} failed: {:?}\n{}{}",
            what,
            cmd,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

struct Cc {
    cc: Vec<String>,
    ar: Vec<String>,
    flags: Vec<String>,
    out: PathBuf,
}

impl Cc {
    fn new(out: &Path) -> Cc {
        let cc = env_tool(&target_vars("CC"), "cc");
        let ar = env_tool(&target_vars("AR"), "ar");
        let opt = env::var("OPT_LEVEL").unwrap_or_else(|_| "2".into());
        let opt = match opt.as_str() {
            "0" | "1" | "2" | "3" | "s" | "z" => opt,
            _ => "2".into(),
        };
        let mut flags = vec![format!("-O{}", opt), "-std=c11".into(), "-fPIC".into()];
        if env::var("DEBUG").map(|d| d != "false" && d != "0").unwrap_or(false) {
            flags.push("-g".into());
        }
        for v in target_vars("CFLAGS") {
            println!("cargo:rerun-if-env-changed={}", v);
            if let Ok(extra) = env::var(&v) {
                flags.extend(extra.split_whitespace().map(String::from));
                break;
            }
        }
        Cc { cc, ar, flags, out: out.to_path_buf() }
    }

    /// Compiles sources in parallel and archives them as lib<name>.a.
    fn archive(&self, name: &str, sources: &[PathBuf], args: &[String]) {
        let objdir = self.out.join(format!("obj-{}", name));
        fs::create_dir_all(&objdir).expect("OUT_DIR is writable");
        let objs: Vec<PathBuf> = sources
            .iter()
            .enumerate()
            .map(|(i, s)| objdir.join(format!("{}-{}.o", i, s.file_stem().unwrap().to_string_lossy())))
            .collect();
        let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(1);
        let work: Vec<(&PathBuf, &PathBuf)> = sources.iter().zip(objs.iter()).collect();
        std::thread::scope(|scope| {
            let per = (work.len() + jobs - 1) / jobs;
            for chunk in work.chunks(per.max(1)) {
                scope.spawn(move || {
                    for (src, obj) in chunk {
                        let mut c = Command::new(&self.cc[0]);
                        c.args(&self.cc[1..]).args(&self.flags).args(args).arg("-c").arg(src).arg("-o").arg(obj);
                        run(&mut c, &format!("compiling {}", src.display()));
                    }
                });
            }
        });
        let lib = self.out.join(format!("lib{}.a", name));
        let _ = fs::remove_file(&lib);
        let mut a = Command::new(&self.ar[0]);
        a.args(&self.ar[1..]).arg("crs").arg(&lib).args(&objs);
        run(&mut a, &format!("archiving lib{}.a", name));
        println!("cargo:rustc-link-search=native={}", self.out.display());
        println!("cargo:rustc-link-lib=static={}", name);
    }
}

fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("vtime-sys: cannot list {}: {}", dir.display(), e))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map_or(false, |x| x == "c"))
        .collect();
    v.sort();
    println!("cargo:rerun-if-changed={}", dir.display());
    v
}

/// The tree the crate ships with: bindings/rust/vtime-sys -> the vtime root.
fn source_root(manifest: &Path) -> PathBuf {
    let root = manifest.join("../../..");
    if !root.join("src/core/pvclock.c").exists() || !root.join("include/vtime/pvclock.h").exists() {
        panic!(
            "vtime-sys: the vtime C sources are not at {} (the crate builds the library from the \
             vtime tree it lives in); use the `system` feature to link an installed libvtime",
            root.display()
        );
    }
    root.canonicalize().expect("source root")
}

fn meson_version(root: &Path) -> String {
    let text = fs::read_to_string(root.join("meson.build")).expect("meson.build");
    println!("cargo:rerun-if-changed={}", root.join("meson.build").display());
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("version") {
            let rest = rest.trim_start();
            if let Some(rest) = rest.strip_prefix(':') {
                let v = rest.trim().trim_end_matches(',').trim().trim_matches('\'');
                if v.split('.').count() == 3 {
                    return v.to_string();
                }
            }
        }
    }
    panic!("vtime-sys: no version : 'X.Y.Z' in meson.build");
}

fn generate_version_h(root: &Path, out: &Path) -> PathBuf {
    let ver = meson_version(root);
    let cargo_ver = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    if ver != cargo_ver {
        println!("cargo:warning=vtime-sys {} builds vtime {} (meson.build)", cargo_ver, ver);
    }
    let parts: Vec<&str> = ver.split('.').collect();
    let tmpl_path = root.join("include/vtime/version.h.in");
    println!("cargo:rerun-if-changed={}", tmpl_path.display());
    let text = fs::read_to_string(&tmpl_path)
        .expect("version.h.in")
        .replace("@VTIME_MAJOR@", parts[0])
        .replace("@VTIME_MINOR@", parts[1])
        .replace("@VTIME_PATCH@", parts[2])
        .replace("@VTIME_VERSION@", &ver);
    let inc = out.join("include");
    fs::create_dir_all(inc.join("vtime")).expect("OUT_DIR");
    fs::write(inc.join("vtime/version.h"), text).expect("version.h");
    inc
}

fn bundled(manifest: &Path, out: &Path, cc: &Cc) -> Vec<String> {
    let root = source_root(manifest);
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let gen_inc = generate_version_h(&root, out);

    let mut sources = c_files(&root.join("src/core"));
    sources.push(root.join("src/version.c"));
    let mut inc = vec![gen_inc, root.join("include"), root.join("src/core"), root.join("src")];
    if os == "linux" {
        sources.extend(c_files(&root.join("src/platform/linux-user")));
        inc.push(root.join("src/platform/linux-user"));
        if arch == "x86_64" {
            sources.extend(c_files(&root.join("src/platform/kvm")));
            inc.push(root.join("src/platform/kvm"));
        }
    }
    for d in ["include/vtime", "src", "src/core/atomic"] {
        println!("cargo:rerun-if-changed={}", root.join(d).display());
    }
    let mut args = vec![
        "-D_GNU_SOURCE".to_string(),
        "-DVTIME_BUILDING".to_string(),
        "-DVT_ATOMIC_BACKEND_H=\"atomic/builtin.h\"".to_string(),
        "-fvisibility=hidden".to_string(),
    ];
    args.extend(inc.iter().map(|p| format!("-I{}", p.display())));
    cc.archive("vtime", &sources, &args);
    println!("cargo:include={}", root.join("include").display());
    println!("cargo:root={}", out.display());
    // What dependents need to compile against the same headers.
    vec![format!("-I{}", inc[0].display()), format!("-I{}", inc[1].display())]
}

fn link_dir(dir: &str) {
    println!("cargo:rustc-link-search=native={}", dir);
    if !dir.starts_with("/usr/lib") && !dir.starts_with("/lib") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
}

fn system() -> Vec<String> {
    for v in ["PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"] {
        println!("cargo:rerun-if-env-changed={}", v);
    }
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let query = |what: &str| -> String {
        match Command::new(&pkg_config).args([what, "vtime"]).output() {
            Ok(o) if o.status.success() => String::from_utf8(o.stdout).expect("pkg-config output is UTF-8"),
            Ok(o) => panic!(
                "vtime-sys (feature system): pkg-config could not find vtime ({}); install libvtime \
                 (meson install, or the libvtime-dev package), or build without the feature to use the \
                 bundled sources",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!("vtime-sys (feature system): cannot run {} ({})", pkg_config, e),
        }
    };
    for flag in query("--libs").split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            link_dir(dir);
        } else if let Some(name) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={}", name);
        }
    }
    query("--cflags").split_whitespace().map(String::from).collect()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/layout.c");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let cc = Cc::new(&out);
    let cflags = if env::var_os("CARGO_FEATURE_SYSTEM").is_some() { system() } else { bundled(&manifest, &out, &cc) };
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let mut args = cflags;
    if os == "linux" {
        args.push("-DVT_LAYOUT_LINUX".into());
        if arch == "x86_64" {
            args.push("-DVT_LAYOUT_KVM".into());
        }
    }
    cc.archive("vtime_sys_layout", &[manifest.join("csrc/layout.c")], &args);
}
