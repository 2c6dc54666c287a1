// SPDX-License-Identifier: MIT
//! Prints vtime's monotonic and realtime clocks and the source in use.
//! `cargo run --offline --example now`
fn main() {
    #[cfg(target_os = "linux")]
    {
        let (m, r) = (vtime::now_ns(), vtime::realtime_ns());
        let src = vtime::clock_info().map(|i| i.source_name).unwrap_or_else(|e| e.to_string());
        println!("monotonic {} ns, realtime {} ns, source {} (libvtime {})", m, r, src, vtime::version());
    }
    #[cfg(not(target_os = "linux"))]
    println!("no userspace clock on this OS (libvtime {})", vtime::version());
}
