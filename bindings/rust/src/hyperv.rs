// SPDX-License-Identifier: MIT
//! hyperv.h: the Hyper-V reference TSC page.

use crate::counter::Counter;
use crate::mem::Region;
use crate::{check, ffi, PvclockRecord, Result};

pub use ffi::{
    VTIME_HV_MSR_REFERENCE_TSC_ENABLE as MSR_REFERENCE_TSC_ENABLE,
    VTIME_HV_MSR_REFERENCE_TSC_PFN_SHIFT as MSR_REFERENCE_TSC_PFN_SHIFT, VTIME_HV_REF_HZ as REF_HZ,
    VTIME_HV_TSC_PAGE_SIZE as PAGE_SIZE, VTIME_HV_X64_MSR_REFERENCE_TSC as X64_MSR_REFERENCE_TSC,
    VTIME_HV_X64_MSR_TIME_REF_COUNT as X64_MSR_TIME_REF_COUNT, VTIME_HV_X64_MSR_TSC_FREQUENCY as X64_MSR_TSC_FREQUENCY,
};

/// One consistent reading of the page (time and tsc 0 for a snapshot).
pub type HvReading = ffi::vtime_hv_tsc_reading;

/// Reference time (100 ns units) at `tsc` (pure; vtime_hv_tsc_page_time).
pub fn page_time(tsc_scale: u64, tsc_offset: i64, tsc: u64) -> u64 {
    unsafe { ffi::vtime_hv_tsc_page_time(tsc_scale, tsc_offset, tsc) }
}

/// KVM's (scale, offset) for a pvclock record, bit for bit; Error::RANGE
/// where KVM publishes no page (vtime_hv_tsc_page_from_pvclock).
pub fn from_pvclock(rec: &PvclockRecord) -> Result<(u64, i64)> {
    let (mut s, mut o) = (0u64, 0i64);
    check(unsafe { ffi::vtime_hv_tsc_page_from_pvclock(&rec.raw(), &mut s, &mut o) })?;
    Ok((s, o))
}

/// A live reference TSC page inside a [`Region`].
#[derive(Clone, Debug)]
pub struct HvTscPageSlot {
    region: Region,
    ptr: *mut ffi::vtime_hv_tsc_page,
}

unsafe impl Send for HvTscPageSlot {}
unsafe impl Sync for HvTscPageSlot {}

impl HvTscPageSlot {
    pub(crate) fn new(region: Region, ptr: *mut ffi::vtime_hv_tsc_page) -> HvTscPageSlot {
        HvTscPageSlot { region, ptr }
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn as_ptr(&self) -> *mut ffi::vtime_hv_tsc_page {
        self.ptr
    }

    /// Reads the page with `counter` in the window; Error::NOTVALID: use
    /// HV_X64_MSR_TIME_REF_COUNT (vtime_hv_tsc_page_read).
    pub fn read<C: Counter>(&self, max_tries: u32, mut counter: C) -> Result<HvReading> {
        let mut out = HvReading::default();
        check(counter.with_raw(|ctr| unsafe { ffi::vtime_hv_tsc_page_read(self.ptr, ctr, max_tries, &mut out) }))?;
        Ok(out)
    }

    /// Scale, offset and sequence without a counter (vtime_hv_tsc_page_snapshot).
    pub fn snapshot(&self, max_tries: u32) -> Result<HvReading> {
        let mut out = HvReading::default();
        check(unsafe { ffi::vtime_hv_tsc_page_snapshot(self.ptr, max_tries, &mut out) })?;
        Ok(out)
    }

    /// Host: publishes (scale, offset) under the next sequence after `last`;
    /// returns it (keep it for the next call) (vtime_hv_tsc_page_publish).
    pub fn publish(&self, tsc_scale: u64, tsc_offset: i64, last: u32) -> u32 {
        unsafe { ffi::vtime_hv_tsc_page_publish(self.ptr, tsc_scale, tsc_offset, last) }
    }

    /// Host: marks the page invalid; returns the last valid sequence
    /// (vtime_hv_tsc_page_invalidate).
    pub fn invalidate(&self, last: u32) -> u32 {
        unsafe { ffi::vtime_hv_tsc_page_invalidate(self.ptr, last) }
    }
}
