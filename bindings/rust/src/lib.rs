// SPDX-License-Identifier: MIT
//! Safe Rust bindings to libvtime (no dependencies; links the library built by
//! Meson through `VTIME_BUILD_DIR`, or the one pkg-config finds).
//!
//! - [`Scale`]: KVM-exact fixed-point frequency scaling.
//! - [`PvclockRecord`]: a pvclock record as values, parsed from / written to
//!   its little-endian bytes (guest memory dumps), with [`PvclockRecord::time`].
//! - [`SharedRecord`]: a live record in memory, with the library's seqlock
//!   writer ([`SharedRecord::publish`]) and reader ([`SharedRecord::read`]).
//! - [`tsc_ratio`]: guest TSC scaling ratios (VMX / SVM).

use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_void;

pub mod ffi;

pub const NSEC_PER_SEC: u64 = 1_000_000_000;
/// Flag bits of a record.
pub const TSC_STABLE: u8 = 0x01;
pub const GUEST_STOPPED: u8 = 0x02;
pub const COUNTS_FROM_ZERO: u8 = 0x04;
/// Per-CPU records in a shared page are this many bytes apart.
pub const RECORD_STRIDE: usize = 64;
/// Range of tsc_shift the reader accepts.
pub const SHIFT_MIN: i8 = -12;
pub const SHIFT_MAX: i8 = 20;
/// Counter rates whose TSC-to-ns shift is in that range (what a VMM can publish).
pub const HZ_MIN: u64 = 954;
pub const HZ_MAX: u64 = 8_192_000_008_191;

/// A negative `VTIME_E*` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(i32);

impl Error {
    pub const INVAL: Error = Error(-1);
    pub const AGAIN: Error = Error(-2);
    pub const RANGE: Error = Error(-3);
    pub const NOTSUP: Error = Error(-4);
    pub const NODEV: Error = Error(-5);
    pub const PROTO: Error = Error(-6);
    pub const NODATA: Error = Error(-7);
    pub const IO: Error = Error(-8);

    pub fn code(self) -> i32 {
        self.0
    }

    pub fn message(self) -> &'static str {
        strerror(self.0)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(code: i32) -> Result<()> {
    if code < 0 {
        Err(Error(code))
    } else {
        Ok(())
    }
}

fn static_str(p: *const std::os::raw::c_char) -> &'static str {
    // The library returns static ASCII strings, never NULL.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?")
}

/// English description of a `VTIME_E*` code (also for unknown codes).
pub fn strerror(code: i32) -> &'static str {
    static_str(unsafe { ffi::vtime_strerror(code) })
}

/// Version of the linked library.
pub fn version() -> &'static str {
    static_str(unsafe { ffi::vtime_version_string() })
}

/// to_ticks = ((from_ticks shifted by `shift`) * `mul`) >> 32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scale {
    pub mul: u32,
    pub shift: i8,
}

impl Scale {
    /// The scale converting `from_hz` ticks into `to_hz` ticks, bit-exact with
    /// KVM's `kvm_get_time_scale(to_hz, from_hz)`.
    pub fn new(from_hz: u64, to_hz: u64) -> Result<Scale> {
        let mut s = ffi::vtime_scale::default();
        check(unsafe { ffi::vtime_scale_init(&mut s, from_hz, to_hz) })?;
        Ok(Scale { mul: s.mul, shift: s.shift })
    }

    /// Counter at `hz` to nanoseconds.
    pub fn to_ns(hz: u64) -> Result<Scale> {
        Scale::new(hz, NSEC_PER_SEC)
    }

    fn raw(self) -> ffi::vtime_scale {
        ffi::vtime_scale { mul: self.mul, shift: self.shift }
    }

    /// Exact for every 64-bit delta (96-bit product).
    pub fn apply(self, delta: u64) -> u64 {
        unsafe { ffi::vtime_scale_apply(&self.raw(), delta) }
    }

    /// Source frequency in Hz of a to-ns scale (0 for mul 0).
    pub fn source_hz(self) -> u64 {
        unsafe { ffi::vtime_scale_source_hz(&self.raw()) }
    }
}

/// Guest TSC ratio: floor(2^frac_bits * guest_khz / host_khz), frac_bits 48 (VMX) or 32 (SVM).
pub fn tsc_ratio(guest_khz: u64, host_khz: u64, frac_bits: u32) -> Result<u64> {
    let mut r = 0u64;
    check(unsafe { ffi::vtime_tsc_ratio_init(&mut r, guest_khz, host_khz, frac_bits) })?;
    Ok(r)
}

/// (tsc * ratio) >> frac_bits, truncated to 64 bits as hardware does.
pub fn tsc_ratio_apply(tsc: u64, ratio: u64, frac_bits: u32) -> u64 {
    unsafe { ffi::vtime_tsc_ratio_apply(tsc, ratio, frac_bits) }
}

/// A pvclock record as plain values (host byte order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PvclockRecord {
    pub version: u32,
    pub tsc_timestamp: u64,
    pub system_time: u64,
    pub tsc_to_system_mul: u32,
    pub tsc_shift: i8,
    pub flags: u8,
}

impl PvclockRecord {
    pub const SIZE: usize = 32;

    /// Parses the ABI's little-endian bytes (any host).
    pub fn from_le_bytes(b: &[u8; 32]) -> PvclockRecord {
        let u32le = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64le = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(a)
        };
        PvclockRecord {
            version: u32le(0),
            tsc_timestamp: u64le(8),
            system_time: u64le(16),
            tsc_to_system_mul: u32le(24),
            tsc_shift: b[28] as i8,
            flags: b[29],
        }
    }

    /// Parses record `cpu` of a page dump (64-byte stride); None if it does not fit.
    pub fn from_page(page: &[u8], cpu: usize) -> Option<PvclockRecord> {
        let off = cpu.checked_mul(RECORD_STRIDE)?;
        let bytes = page.get(off..off.checked_add(Self::SIZE)?)?;
        let mut a = [0u8; 32];
        a.copy_from_slice(bytes);
        Some(PvclockRecord::from_le_bytes(&a))
    }

    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[0..4].copy_from_slice(&self.version.to_le_bytes());
        b[8..16].copy_from_slice(&self.tsc_timestamp.to_le_bytes());
        b[16..24].copy_from_slice(&self.system_time.to_le_bytes());
        b[24..28].copy_from_slice(&self.tsc_to_system_mul.to_le_bytes());
        b[28] = self.tsc_shift as u8;
        b[29] = self.flags;
        b
    }

    fn raw(&self) -> ffi::vtime_pvclock_vcpu_time_info {
        ffi::vtime_pvclock_vcpu_time_info {
            version: self.version,
            tsc_timestamp: self.tsc_timestamp,
            system_time: self.system_time,
            tsc_to_system_mul: self.tsc_to_system_mul,
            tsc_shift: self.tsc_shift,
            flags: self.flags,
            ..Default::default()
        }
    }

    fn from_raw(r: &ffi::vtime_pvclock_vcpu_time_info) -> PvclockRecord {
        PvclockRecord {
            version: r.version,
            tsc_timestamp: r.tsc_timestamp,
            system_time: r.system_time,
            tsc_to_system_mul: r.tsc_to_system_mul,
            tsc_shift: r.tsc_shift,
            flags: r.flags,
        }
    }

    /// kvmclock ns at counter value `tsc` (behind the record: back by the
    /// scaled gap, saturating at 0).
    pub fn time(&self, tsc: u64) -> u64 {
        unsafe { ffi::vtime_pvclock_time(&self.raw(), tsc) }
    }

    pub fn scale(&self) -> Scale {
        Scale { mul: self.tsc_to_system_mul, shift: self.tsc_shift }
    }

    /// Odd version: the writer was mid-update.
    pub fn in_progress(&self) -> bool {
        self.version & 1 != 0
    }
    pub fn stable(&self) -> bool {
        self.flags & TSC_STABLE != 0
    }
    pub fn guest_stopped(&self) -> bool {
        self.flags & GUEST_STOPPED != 0
    }

    /// The library's verdict on these bytes: Ok, or AGAIN (odd version),
    /// NODATA (never published), PROTO (mul 0 or shift out of range).
    pub fn check(&self) -> Result<()> {
        let shared = SharedRecord::from_le_bytes(&self.to_le_bytes());
        shared.snapshot(1).map(|_| ())
    }
}

/// One consistent reading of a live record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub ns: u64,
    pub tsc: u64,
    pub version: u32,
    pub flags: u8,
}

/// A live pvclock record in this process's memory (little-endian, 64-byte
/// aligned), shared between one writer and any number of readers. All
/// accesses go through the library's atomics, so sharing it across threads is
/// sound; the protocol wants one writer at a time.
#[repr(C, align(64))]
pub struct SharedRecord {
    raw: UnsafeCell<ffi::vtime_pvclock_vcpu_time_info>,
}

unsafe impl Sync for SharedRecord {}
unsafe impl Send for SharedRecord {}

impl Default for SharedRecord {
    fn default() -> Self {
        SharedRecord::new()
    }
}

impl SharedRecord {
    /// An all-zero (never published) record.
    pub fn new() -> SharedRecord {
        SharedRecord { raw: UnsafeCell::new(Default::default()) }
    }

    /// A record holding exactly these little-endian bytes.
    pub fn from_le_bytes(b: &[u8; 32]) -> SharedRecord {
        let r = SharedRecord::new();
        // Not shared yet: a plain byte copy.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), r.raw.get() as *mut u8, 32) };
        r
    }

    /// The bytes as they sit in memory (little-endian ABI), read without the
    /// seqlock: may be torn while a writer is active.
    pub fn raw_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        let p = self.raw.get() as *const u8;
        for (i, x) in b.iter_mut().enumerate() {
            *x = unsafe { std::ptr::read_volatile(p.add(i)) };
        }
        b
    }

    /// Host side: publishes `body` (version ignored) with the seqlock writer;
    /// keeps an unconsumed GUEST_STOPPED. Returns the new even version.
    pub fn publish(&self, body: &PvclockRecord) -> u32 {
        unsafe { ffi::vtime_pvclock_publish(self.raw.get(), &body.raw()) }
    }

    /// Guest side: clears GUEST_STOPPED atomically; true if it was set.
    pub fn consume_stopped(&self) -> bool {
        unsafe { ffi::vtime_pvclock_consume_stopped(self.raw.get()) }
    }

    /// A consistent copy of the record (host byte order). max_tries 0 = default.
    pub fn snapshot(&self, max_tries: u32) -> Result<PvclockRecord> {
        let mut out = ffi::vtime_pvclock_vcpu_time_info::default();
        check(unsafe { ffi::vtime_pvclock_snapshot(self.raw.get(), max_tries, &mut out) })?;
        Ok(PvclockRecord::from_raw(&out))
    }

    /// Reads the record, calling `counter` inside the seqlock window (it must
    /// be ordered after earlier loads, like lfence;rdtsc). A panic in
    /// `counter` aborts the process (it cannot unwind through C).
    pub fn read<F: FnMut() -> u64>(&self, max_tries: u32, mut counter: F) -> Result<Reading> {
        unsafe extern "C" fn trampoline<F: FnMut() -> u64>(ctx: *mut c_void) -> u64 {
            let f = &mut *(ctx as *mut F);
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(v) => v,
                Err(_) => std::process::abort(),
            }
        }
        let ctr = ffi::vtime_counter {
            read: Some(trampoline::<F>),
            ctx: &mut counter as *mut F as *mut c_void,
        };
        let mut out = ffi::vtime_pvclock_reading::default();
        check(unsafe { ffi::vtime_pvclock_read(self.raw.get(), &ctr, max_tries, &mut out) })?;
        Ok(Reading { ns: out.ns, tsc: out.tsc, version: out.version, flags: out.flags })
    }
}

/// The 12-byte pvclock wall clock: host wall time at kvmclock 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WallClock {
    pub version: u32,
    pub sec: u32,
    pub nsec: u32,
}

impl WallClock {
    pub fn from_le_bytes(b: &[u8; 12]) -> WallClock {
        let u = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        WallClock { version: u(0), sec: u(4), nsec: u(8) }
    }

    /// Wall time in ns since the Unix epoch at kvmclock time `kvmclock_ns`.
    pub fn ns(&self, kvmclock_ns: u64) -> u64 {
        unsafe { ffi::vtime_pvclock_wall_ns(self.sec, self.nsec, kvmclock_ns) }
    }

    /// Reads a live little-endian wall-clock record with the seqlock.
    pub fn read_le(bytes: &[u8; 12]) -> Result<WallClock> {
        let mut raw = ffi::vtime_pvclock_wall_clock::default();
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), &mut raw as *mut _ as *mut u8, 12) };
        let (mut sec, mut nsec) = (0u32, 0u32);
        check(unsafe { ffi::vtime_pvclock_wall_read(&raw, 1, &mut sec, &mut nsec) })?;
        Ok(WallClock { version: u32::from_le(raw.version), sec, nsec })
    }
}

/// The userspace clock of include/vtime/clock.h, looked up at run time so the
/// crate also works with a libvtime built without it (`Error::NOTSUP`).
mod clock {
    use std::os::raw::{c_char, c_void};

    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();

    // A real reference into libvtime, so that --as-needed keeps it loaded even
    // in a program that only calls the looked-up functions.
    static KEEP: unsafe extern "C" fn() -> *const c_char = crate::ffi::vtime_version_string;

    pub fn lookup(name: &'static [u8]) -> Option<*mut c_void> {
        debug_assert_eq!(name.last(), Some(&0));
        let _ = unsafe { std::ptr::read_volatile(&KEEP) };
        let p = unsafe { dlsym(RTLD_DEFAULT, name.as_ptr() as *const c_char) };
        if p.is_null() {
            None
        } else {
            Some(p)
        }
    }
}

fn clock_u64(name: &'static [u8]) -> Result<u64> {
    let p = clock::lookup(name).ok_or(Error::NOTSUP)?;
    // Safety: the library declares these as uint64_t f(void).
    let f: unsafe extern "C" fn() -> u64 = unsafe { std::mem::transmute(p) };
    Ok(unsafe { f() })
}

/// CLOCK_MONOTONIC in ns through vtime's fast clock (Linux builds).
pub fn now_ns() -> Result<u64> {
    clock_u64(b"vtime_now_ns\0")
}

/// CLOCK_REALTIME in ns through vtime's fast clock (Linux builds).
pub fn realtime_ns() -> Result<u64> {
    clock_u64(b"vtime_realtime_ns\0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_abi() {
        assert_eq!(std::mem::size_of::<ffi::vtime_pvclock_vcpu_time_info>(), 32);
        assert_eq!(std::mem::size_of::<ffi::vtime_pvclock_wall_clock>(), 12);
        assert_eq!(std::mem::align_of::<SharedRecord>(), 64);
        let r = ffi::vtime_pvclock_vcpu_time_info::default();
        let base = &r as *const _ as usize;
        assert_eq!(&r.tsc_timestamp as *const _ as usize - base, 8);
        assert_eq!(&r.system_time as *const _ as usize - base, 16);
        assert_eq!(&r.tsc_to_system_mul as *const _ as usize - base, 24);
        assert_eq!(&r.tsc_shift as *const _ as usize - base, 28);
        assert_eq!(&r.flags as *const _ as usize - base, 29);
    }
}
