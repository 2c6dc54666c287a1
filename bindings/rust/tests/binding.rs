// SPDX-License-Identifier: MIT
//! The safe wrapper against the real libvtime (`cargo test --offline`): scale,
//! records, the writer and readers, the wall clock, the userspace clock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use vtime::*;

const MUL: u32 = 3_303_822_267;
const SHIFT: i8 = -1;
const HZ: u64 = 2_599_999_000;

/// Reference formula with u128 (Rust has it; the C core must not use it).
fn ref_time(r: &PvclockRecord, tsc: u64) -> u64 {
    let d = tsc.wrapping_sub(r.tsc_timestamp);
    let d = if r.tsc_shift < 0 { d >> -r.tsc_shift } else { d << r.tsc_shift };
    r.system_time.wrapping_add(((d as u128 * r.tsc_to_system_mul as u128) >> 32) as u64)
}

#[test]
fn scale_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/time-scale-vectors.tsv");
    let text = std::fs::read_to_string(path).expect("vectors file");
    let mut rows = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let s = Scale::new(f[1].parse().unwrap(), f[2].parse().unwrap()).unwrap();
        assert_eq!((s.shift as i32, s.mul as u64), (f[3].parse().unwrap(), f[4].parse().unwrap()), "{}", line);
        rows += 1;
    }
    assert!(rows >= 18);
}

#[test]
fn scale_apply_and_source_hz() {
    let s = Scale::to_ns(HZ).unwrap();
    assert_eq!((s.mul, s.shift), (MUL, SHIFT));
    assert_eq!(s.source_hz(), HZ);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for d in [0, 1, HZ, u32::MAX as u64, 1 << 32, 1 << 63, u64::MAX - 1, u64::MAX] {
        assert_eq!(s.apply(d), (((d >> 1) as u128 * MUL as u128) >> 32) as u64);
    }
    for _ in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert_eq!(s.apply(x), (((x >> 1) as u128 * MUL as u128) >> 32) as u64);
    }
    assert_eq!(Scale::new(0, NSEC_PER_SEC), Err(Error::INVAL));
    assert_eq!(Scale::new(0, 1).unwrap_err().to_string(), "invalid argument (-1)");
}

#[test]
fn tsc_ratios() {
    let r = tsc_ratio(1_500_000, 3_000_000, 48).unwrap();
    assert_eq!(r, 1u64 << 47);
    assert_eq!(tsc_ratio_apply(1000, r, 48), 500);
    assert_eq!(tsc_ratio(1, 1, 40), Err(Error::INVAL));
    assert_eq!(tsc_ratio(u64::MAX, 1, 32), Err(Error::RANGE));
}

#[test]
fn record_bytes_and_time_from_zero_and_wrap() {
    let known: [u8; 32] = [
        0x06, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0xca, 0x9a, 0x3b, 0, 0, 0,
        0, 0xbb, 0x53, 0xec, 0xc4, 0xff, 0x01, 0, 0,
    ];
    let mut r = PvclockRecord::from_le_bytes(&known);
    assert_eq!(r.version, 6);
    assert_eq!(r.tsc_timestamp, 0x0123_4567_89ab_cdef);
    assert_eq!(r.system_time, NSEC_PER_SEC);
    assert_eq!((r.tsc_to_system_mul, r.tsc_shift), (MUL, SHIFT));
    assert!(r.stable() && !r.guest_stopped() && !r.in_progress());
    assert_eq!(r.to_le_bytes(), known);
    assert_eq!(r.scale().source_hz(), HZ);
    assert_eq!(r.check(), Ok(()));
    assert_eq!(r.time(r.tsc_timestamp + 2 * HZ), NSEC_PER_SEC + 1_999_999_999);
    for (ts, st) in [(0u64, 0u64), (u64::MAX - 999, 5 * NSEC_PER_SEC), (u64::MAX, 1 << 40)] {
        r.tsc_timestamp = ts;
        r.system_time = st;
        for step in [0u64, 1, HZ, 3 * HZ, (1 << 40) + 7] {
            let tsc = ts.wrapping_add(step);
            assert_eq!(r.time(tsc), ref_time(&r, tsc), "ts {} step {}", ts, step);
        }
    }
    r.version = 7;
    assert_eq!(r.check(), Err(Error::AGAIN));
    r.version = 8;
    r.tsc_to_system_mul = 0;
    assert_eq!(r.check(), Err(Error::PROTO));
    assert_eq!(PvclockRecord::default().check(), Err(Error::NODATA));

    let mut page = vec![0u8; 4096];
    page[128..160].copy_from_slice(&known);
    assert_eq!(PvclockRecord::from_page(&page, 2).unwrap().version, 6);
    assert_eq!(PvclockRecord::from_page(&page, 1).unwrap(), PvclockRecord::default());
    assert!(PvclockRecord::from_page(&page, 64).is_none());
}

#[test]
fn publish_writes_little_endian_and_keeps_stopped() {
    let shared = SharedRecord::new();
    assert_eq!(shared.snapshot(1), Err(Error::NODATA));
    let mut body = PvclockRecord {
        tsc_timestamp: 1000,
        system_time: 5 * NSEC_PER_SEC,
        tsc_to_system_mul: MUL,
        tsc_shift: SHIFT,
        flags: TSC_STABLE | GUEST_STOPPED,
        ..Default::default()
    };
    assert_eq!(shared.publish(&body), 2);
    body.flags = TSC_STABLE;
    assert_eq!(shared.publish(&body), 4);
    let bytes = shared.raw_bytes();
    assert_eq!(&bytes[0..4], &4u32.to_le_bytes());
    assert_eq!(&bytes[16..24], &(5 * NSEC_PER_SEC).to_le_bytes());
    assert_eq!(bytes[29], TSC_STABLE | GUEST_STOPPED);
    assert!(shared.consume_stopped());
    assert!(!shared.consume_stopped());

    let mut tsc = 1000 + HZ + HZ / 2;
    let r = shared.read(0, || { tsc += 1; tsc }).unwrap();
    assert_eq!(r.version, 4);
    assert_eq!(r.flags, TSC_STABLE);
    assert_eq!(r.ns, ref_time(&shared.snapshot(1).unwrap(), r.tsc));
}

#[test]
fn readers_never_see_a_torn_record_while_a_writer_publishes() {
    // Writer keeps tsc_timestamp == system_time == i; any mix of two versions breaks that.
    let shared = Arc::new(SharedRecord::new());
    let stop = Arc::new(AtomicBool::new(false));
    let body = |i: u64| PvclockRecord {
        tsc_timestamp: i,
        system_time: i,
        tsc_to_system_mul: 1 << 31,
        tsc_shift: 1,
        ..Default::default()
    };
    shared.publish(&body(1));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (shared, stop, reads) = (shared.clone(), stop.clone(), reads.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(r) = shared.snapshot(0) {
                        assert_eq!(r.tsc_timestamp, r.system_time);
                        assert_eq!(r.version & 1, 0);
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for i in 2..200_000u64 {
        shared.publish(&body(i));
    }
    stop.store(true, Ordering::Relaxed);
    for t in readers {
        t.join().unwrap();
    }
    assert!(reads.load(Ordering::Relaxed) > 0);
}

#[test]
fn wall_clock() {
    let mut b = [0u8; 12];
    b[0..4].copy_from_slice(&4u32.to_le_bytes());
    b[4..8].copy_from_slice(&0xffff_fffeu32.to_le_bytes());
    b[8..12].copy_from_slice(&999_999_999u32.to_le_bytes());
    let wc = WallClock::read_le(&b).unwrap();
    assert_eq!(wc, WallClock::from_le_bytes(&b));
    assert_eq!(wc.ns(NSEC_PER_SEC), 0xffff_ffffu64 * NSEC_PER_SEC + 999_999_999);
    b[0] = 5;
    assert_eq!(WallClock::read_le(&b), Err(Error::AGAIN));
}

#[test]
fn version_and_errors() {
    assert!(version().split('.').count() >= 3);
    assert_eq!(strerror(0), "success");
    assert_eq!(Error::NODATA.message(), "record never published");
}

#[cfg(target_os = "linux")]
fn clock_gettime_ns(clock: i32) -> u64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { sec: 0, nsec: 0 };
    assert_eq!(unsafe { clock_gettime(clock, &mut ts) }, 0);
    ts.sec as u64 * NSEC_PER_SEC + ts.nsec as u64
}

#[cfg(target_os = "linux")]
#[test]
fn userspace_clock() {
    const MONOTONIC: i32 = 1;
    const REALTIME: i32 = 0;
    let a = clock_gettime_ns(MONOTONIC);
    let v = now_ns();
    let b = clock_gettime_ns(MONOTONIC);
    assert!(v.abs_diff((a + b) / 2) < 20_000_000, "now_ns {} vs CLOCK_MONOTONIC {}", v, a);
    let mut last = v;
    for _ in 0..10_000 {
        let n = now_ns();
        assert!(n >= last);
        last = n;
    }
    let r = realtime_ns();
    assert!(r.abs_diff(clock_gettime_ns(REALTIME)) < 50_000_000);
    let t = counter_now();
    assert!(counter_to_ns(t).abs_diff(clock_gettime_ns(MONOTONIC)) < 20_000_000);
    let info = clock_info().unwrap();
    assert!(["tsc", "pvclock", "clock_gettime"].contains(&info.source_name.as_str()), "{:?}", info);
    assert!(!info.why.is_empty());
}
