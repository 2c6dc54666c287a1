// SPDX-License-Identifier: MIT
//! Prints vtime's monotonic and realtime clocks (or why there are none).
//! `VTIME_BUILD_DIR=$PWD/build cargo run --offline --example now`
fn main() {
    match (vtime::now_ns(), vtime::realtime_ns()) {
        (Ok(m), Ok(r)) => println!("monotonic {} ns, realtime {} ns (libvtime {})", m, r, vtime::version()),
        (Err(e), _) | (_, Err(e)) => println!("no userspace clock in this libvtime: {}", e),
    }
}
