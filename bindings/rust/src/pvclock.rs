// SPDX-License-Identifier: MIT
//! pvclock.h: records as values, live records (owned or in a [`Region`]).

use crate::counter::Counter;
use crate::mem::Region;
use crate::{check, ffi, Result, Scale};
use std::cell::UnsafeCell;

/// Flag bits of a record.
pub const TSC_STABLE: u8 = ffi::VTIME_PVCLOCK_TSC_STABLE;
pub const GUEST_STOPPED: u8 = ffi::VTIME_PVCLOCK_GUEST_STOPPED;
pub const COUNTS_FROM_ZERO: u8 = ffi::VTIME_PVCLOCK_COUNTS_FROM_ZERO;
/// Per-CPU records in a shared page are this many bytes apart.
pub const RECORD_STRIDE: usize = ffi::VTIME_PVCLOCK_RECORD_STRIDE;
/// Range of tsc_shift the reader accepts.
pub const SHIFT_MIN: i8 = ffi::VTIME_PVCLOCK_SHIFT_MIN;
pub const SHIFT_MAX: i8 = ffi::VTIME_PVCLOCK_SHIFT_MAX;
/// Counter rates whose TSC-to-ns shift is in that range (what a VMM can publish).
pub const HZ_MIN: u64 = ffi::VTIME_PVCLOCK_HZ_MIN;
pub const HZ_MAX: u64 = ffi::VTIME_PVCLOCK_HZ_MAX;

/// A pvclock record as plain values (host byte order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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

    pub fn raw(&self) -> ffi::vtime_pvclock_vcpu_time_info {
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

    pub fn from_raw(r: &ffi::vtime_pvclock_vcpu_time_info) -> PvclockRecord {
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
    /// scaled gap, saturating at 0; vtime_pvclock_time).
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reading {
    pub ns: u64,
    pub tsc: u64,
    pub version: u32,
    pub flags: u8,
}

unsafe fn read_raw<C: Counter + ?Sized>(
    rec: *const ffi::vtime_pvclock_vcpu_time_info,
    max_tries: u32,
    counter: &mut C,
) -> Result<Reading> {
    let mut out = ffi::vtime_pvclock_reading::default();
    check(counter.with_raw(|ctr| ffi::vtime_pvclock_read(rec, ctr, max_tries, &mut out)))?;
    Ok(Reading { ns: out.ns, tsc: out.tsc, version: out.version, flags: out.flags })
}

unsafe fn snapshot_raw(rec: *const ffi::vtime_pvclock_vcpu_time_info, max_tries: u32) -> Result<PvclockRecord> {
    let mut out = ffi::vtime_pvclock_vcpu_time_info::default();
    check(ffi::vtime_pvclock_snapshot(rec, max_tries, &mut out))?;
    Ok(PvclockRecord::from_raw(&out))
}

/// A live pvclock record owned by this process (little-endian, 64-byte
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

    /// The record's address (e.g. for a guest-physical mapping).
    pub fn as_ptr(&self) -> *mut ffi::vtime_pvclock_vcpu_time_info {
        self.raw.get()
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
        unsafe { snapshot_raw(self.raw.get(), max_tries) }
    }

    /// Reads the record, calling `counter` inside the seqlock window (it must
    /// be ordered after earlier loads, like lfence;rdtsc).
    pub fn read<C: Counter>(&self, max_tries: u32, mut counter: C) -> Result<Reading> {
        unsafe { read_raw(self.raw.get(), max_tries, &mut counter) }
    }
}

/// A live pvclock record inside a [`Region`] (guest memory, a host page):
/// the same reader and writer as [`SharedRecord`]. Keeps the region alive.
#[derive(Clone, Debug)]
pub struct PvclockSlot {
    region: Region,
    ptr: *mut ffi::vtime_pvclock_vcpu_time_info,
}

unsafe impl Send for PvclockSlot {}
unsafe impl Sync for PvclockSlot {}

impl PvclockSlot {
    pub(crate) fn new(region: Region, ptr: *mut ffi::vtime_pvclock_vcpu_time_info) -> PvclockSlot {
        PvclockSlot { region, ptr }
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn as_ptr(&self) -> *mut ffi::vtime_pvclock_vcpu_time_info {
        self.ptr
    }

    /// The 32 bytes as they are (volatile reads, maybe torn).
    pub fn raw_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        let off = self.ptr as usize - self.region.as_ptr() as usize;
        self.region.read_bytes(off, &mut b).expect("slot in its region");
        b
    }

    pub fn publish(&self, body: &PvclockRecord) -> u32 {
        unsafe { ffi::vtime_pvclock_publish(self.ptr, &body.raw()) }
    }

    pub fn consume_stopped(&self) -> bool {
        unsafe { ffi::vtime_pvclock_consume_stopped(self.ptr) }
    }

    pub fn snapshot(&self, max_tries: u32) -> Result<PvclockRecord> {
        unsafe { snapshot_raw(self.ptr, max_tries) }
    }

    pub fn read<C: Counter>(&self, max_tries: u32, mut counter: C) -> Result<Reading> {
        unsafe { read_raw(self.ptr, max_tries, &mut counter) }
    }
}

/// The 12-byte pvclock wall clock: host wall time at kvmclock 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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

    pub fn to_le_bytes(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&self.version.to_le_bytes());
        b[4..8].copy_from_slice(&self.sec.to_le_bytes());
        b[8..12].copy_from_slice(&self.nsec.to_le_bytes());
        b
    }

    /// Wall time in ns since the Unix epoch at kvmclock time `kvmclock_ns`
    /// (vtime_pvclock_wall_ns).
    pub fn ns(&self, kvmclock_ns: u64) -> u64 {
        unsafe { ffi::vtime_pvclock_wall_ns(self.sec, self.nsec, kvmclock_ns) }
    }

    /// Reads little-endian wall-clock bytes with the seqlock (one try).
    pub fn read_le(bytes: &[u8; 12]) -> Result<WallClock> {
        let mut raw = ffi::vtime_pvclock_wall_clock::default();
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), &mut raw as *mut _ as *mut u8, 12) };
        let (mut sec, mut nsec) = (0u32, 0u32);
        check(unsafe { ffi::vtime_pvclock_wall_read(&raw, 1, &mut sec, &mut nsec) })?;
        Ok(WallClock { version: u32::from_le(raw.version), sec, nsec })
    }
}

/// A live wall-clock record inside a [`Region`].
#[derive(Clone, Debug)]
pub struct WallClockSlot {
    region: Region,
    ptr: *mut ffi::vtime_pvclock_wall_clock,
}

unsafe impl Send for WallClockSlot {}
unsafe impl Sync for WallClockSlot {}

impl WallClockSlot {
    pub(crate) fn new(region: Region, ptr: *mut ffi::vtime_pvclock_wall_clock) -> WallClockSlot {
        WallClockSlot { region, ptr }
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn as_ptr(&self) -> *mut ffi::vtime_pvclock_wall_clock {
        self.ptr
    }

    /// Writer (vtime_pvclock_wall_publish): returns the new even version.
    pub fn publish(&self, sec: u32, nsec: u32) -> u32 {
        unsafe { ffi::vtime_pvclock_wall_publish(self.ptr, sec, nsec) }
    }

    /// Reader: a consistent (version, sec, nsec); max_tries 0 = default.
    pub fn read(&self, max_tries: u32) -> Result<WallClock> {
        let (mut sec, mut nsec) = (0u32, 0u32);
        check(unsafe { ffi::vtime_pvclock_wall_read(self.ptr, max_tries, &mut sec, &mut nsec) })?;
        let mut v = [0u8; 4];
        let off = self.ptr as usize - self.region.as_ptr() as usize;
        self.region.read_bytes(off, &mut v)?;
        Ok(WallClock { version: u32::from_le_bytes(v), sec, nsec })
    }
}
