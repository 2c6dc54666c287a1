// SPDX-License-Identifier: MIT
//! vmclock.h: the VMClock page (Linux's struct vmclock_abi): the guest's
//! reader and pure conversions, the host's writer.

use crate::counter::Counter;
use crate::mem::Region;
use crate::{check, ffi, Result};
use std::ops::{Deref, DerefMut};

pub use ffi::{
    VTIME_VMCLOCK_ABI_SIZE as ABI_SIZE, VTIME_VMCLOCK_COUNTER_ARM_VCNT as COUNTER_ARM_VCNT,
    VTIME_VMCLOCK_COUNTER_INVALID as COUNTER_INVALID, VTIME_VMCLOCK_COUNTER_X86_TSC as COUNTER_X86_TSC,
    VTIME_VMCLOCK_EV_DISRUPTED as EV_DISRUPTED, VTIME_VMCLOCK_EV_NEW_GENERATION as EV_NEW_GENERATION,
    VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT as FLAG_DISRUPTION_IMMINENT,
    VTIME_VMCLOCK_FLAG_DISRUPTION_SOON as FLAG_DISRUPTION_SOON,
    VTIME_VMCLOCK_FLAG_NOTIFICATION_PRESENT as FLAG_NOTIFICATION_PRESENT,
    VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID as FLAG_PERIOD_ESTERROR_VALID,
    VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID as FLAG_PERIOD_MAXERROR_VALID,
    VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID as FLAG_TAI_OFFSET_VALID,
    VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID as FLAG_TIME_ESTERROR_VALID,
    VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID as FLAG_TIME_MAXERROR_VALID,
    VTIME_VMCLOCK_FLAG_TIME_MONOTONIC as FLAG_TIME_MONOTONIC,
    VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT as FLAG_VM_GEN_COUNTER_PRESENT, VTIME_VMCLOCK_HAVE_TAI as HAVE_TAI,
    VTIME_VMCLOCK_HAVE_UTC as HAVE_UTC, VTIME_VMCLOCK_LEAP_NONE as LEAP_NONE, VTIME_VMCLOCK_LEAP_POS as LEAP_POS,
    VTIME_VMCLOCK_LEAP_POST_NEG as LEAP_POST_NEG, VTIME_VMCLOCK_LEAP_POST_POS as LEAP_POST_POS,
    VTIME_VMCLOCK_LEAP_PRE_NEG as LEAP_PRE_NEG, VTIME_VMCLOCK_LEAP_PRE_POS as LEAP_PRE_POS,
    VTIME_VMCLOCK_MAGIC as MAGIC, VTIME_VMCLOCK_STATUS_FREERUNNING as STATUS_FREERUNNING,
    VTIME_VMCLOCK_STATUS_INITIALIZING as STATUS_INITIALIZING, VTIME_VMCLOCK_STATUS_SYNCHRONIZED as STATUS_SYNCHRONIZED,
    VTIME_VMCLOCK_STATUS_UNKNOWN as STATUS_UNKNOWN, VTIME_VMCLOCK_STATUS_UNRELIABLE as STATUS_UNRELIABLE,
    VTIME_VMCLOCK_TIME_MONOTONIC as TIME_MONOTONIC, VTIME_VMCLOCK_TIME_TAI as TIME_TAI,
    VTIME_VMCLOCK_TIME_UTC as TIME_UTC, VTIME_VMCLOCK_UNKNOWN as UNKNOWN, VTIME_VMCLOCK_VERSION as VERSION,
};

/// One reading: the time at a counter value and what the page said about it.
pub type VmclockReading = ffi::vtime_vmclock_reading;

/// A VMClock structure in host byte order: a snapshot of a page, or the body
/// a host publishes. Derefs to the C struct's fields.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VmclockAbi(pub ffi::vtime_vmclock_abi);

impl Deref for VmclockAbi {
    type Target = ffi::vtime_vmclock_abi;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for VmclockAbi {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl VmclockAbi {
    /// Whether the time can be used: Ok, NOCOUNTER (marker-only page),
    /// UNRELIABLE, NOTSUP (vtime_vmclock_usable).
    pub fn usable(&self) -> Result<()> {
        check(unsafe { ffi::vtime_vmclock_usable(&self.0) })
    }

    /// (sec, nsec) at `counter` (pure; vtime_vmclock_time).
    pub fn time(&self, counter: u64) -> Result<(u64, u32)> {
        let (mut s, mut n) = (0u64, 0u32);
        check(unsafe { ffi::vtime_vmclock_time(&self.0, counter, &mut s, &mut n) })?;
        Ok((s, n))
    }

    /// Maximum error in ns at `counter` ([`UNKNOWN`]: no bound).
    pub fn maxerror(&self, counter: u64) -> u64 {
        unsafe { ffi::vtime_vmclock_maxerror(&self.0, counter) }
    }

    /// Estimated error in ns at `counter` ([`UNKNOWN`]: none).
    pub fn esterror(&self, counter: u64) -> u64 {
        unsafe { ffi::vtime_vmclock_esterror(&self.0, counter) }
    }

    /// The whole reading at `counter` (vtime_vmclock_convert).
    pub fn convert(&self, counter: u64) -> Result<VmclockReading> {
        let mut out = VmclockReading::default();
        check(unsafe { ffi::vtime_vmclock_convert(&self.0, counter, &mut out) })?;
        Ok(out)
    }

    /// Host: the counter line for `hz`, with period error rates in ppb
    /// ([`UNKNOWN`] clears one) (vtime_vmclock_set_period).
    pub fn set_period(&mut self, hz: u64, maxerror_ppb: u64, esterror_ppb: u64) -> Result<()> {
        check(unsafe { ffi::vtime_vmclock_set_period(&mut self.0, hz, maxerror_ppb, esterror_ppb) })
    }

    /// Host: the reference point (vtime_vmclock_set_time).
    pub fn set_time(&mut self, counter: u64, sec: u64, nsec: u32, maxerror_ns: u64, esterror_ns: u64) -> Result<()> {
        check(unsafe { ffi::vtime_vmclock_set_time(&mut self.0, counter, sec, nsec, maxerror_ns, esterror_ns) })
    }
}

/// A live VMClock region inside a [`Region`] (the page a VMM shares, or a
/// guest's mapping of it).
#[derive(Clone, Debug)]
pub struct VmclockSlot {
    region: Region,
    ptr: *mut ffi::vtime_vmclock_abi,
    size: usize,
}

unsafe impl Send for VmclockSlot {}
unsafe impl Sync for VmclockSlot {}

impl VmclockSlot {
    pub(crate) fn new(region: Region, ptr: *mut ffi::vtime_vmclock_abi, size: usize) -> VmclockSlot {
        VmclockSlot { region, ptr, size }
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn as_ptr(&self) -> *mut ffi::vtime_vmclock_abi {
        self.ptr
    }

    /// Bytes of the region the structure sits in.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The constant header: Ok if vtime can read this page (vtime_vmclock_check
    /// with this slot's size).
    pub fn check(&self) -> Result<()> {
        check(unsafe { ffi::vtime_vmclock_check(self.ptr, self.size) })
    }

    /// A consistent copy, host byte order (vtime_vmclock_snapshot).
    pub fn snapshot(&self, max_tries: u32) -> Result<VmclockAbi> {
        let mut out = ffi::vtime_vmclock_abi::default();
        check(unsafe { ffi::vtime_vmclock_snapshot(self.ptr, max_tries, &mut out) })?;
        Ok(VmclockAbi(out))
    }

    /// Reads the page with `counter` inside the window (vtime_vmclock_read).
    pub fn read<C: Counter>(&self, max_tries: u32, mut counter: C) -> Result<VmclockReading> {
        let mut out = VmclockReading::default();
        check(counter.with_raw(|ctr| unsafe { ffi::vtime_vmclock_read(self.ptr, ctr, max_tries, &mut out) }))?;
        Ok(out)
    }

    /// Host: lays out a new page (vtime_vmclock_init; never on a page the
    /// guest has seen: publish on top of it instead).
    pub fn init(&self, counter_id: u8, time_type: u8) -> Result<()> {
        check(unsafe { ffi::vtime_vmclock_init(self.ptr, self.size as u32, counter_id, time_type) })
    }

    /// Host: publishes `body` with `events` (EV_*); returns the new even
    /// seq_count (vtime_vmclock_publish). The page must have been laid out
    /// (`check()` passes): Error::NODEV etc. otherwise.
    pub fn publish(&self, body: &VmclockAbi, events: u32) -> Result<u32> {
        self.check()?;
        Ok(unsafe { ffi::vtime_vmclock_publish(self.ptr, &body.0, events) })
    }
}
