// SPDX-License-Identifier: MIT
//! scale.h and tsc.h.

use crate::{check, ffi, Result, NSEC_PER_SEC};

pub const TSC_FRAC_BITS_VMX: u32 = ffi::VTIME_TSC_FRAC_BITS_VMX;
pub const TSC_FRAC_BITS_SVM: u32 = ffi::VTIME_TSC_FRAC_BITS_SVM;

/// to_ticks = ((from_ticks shifted by `shift`) * `mul`) >> 32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scale {
    pub mul: u32,
    pub shift: i8,
}

impl Scale {
    /// The scale converting `from_hz` ticks into `to_hz` ticks, bit-exact with
    /// KVM's `kvm_get_time_scale(to_hz, from_hz)` (vtime_scale_init).
    pub fn new(from_hz: u64, to_hz: u64) -> Result<Scale> {
        let mut s = ffi::vtime_scale::default();
        check(unsafe { ffi::vtime_scale_init(&mut s, from_hz, to_hz) })?;
        Ok(Scale::from_raw(s))
    }

    /// Counter at `hz` to nanoseconds.
    pub fn to_ns(hz: u64) -> Result<Scale> {
        Scale::new(hz, NSEC_PER_SEC)
    }

    pub fn raw(self) -> ffi::vtime_scale {
        ffi::vtime_scale { mul: self.mul, shift: self.shift }
    }

    pub fn from_raw(s: ffi::vtime_scale) -> Scale {
        Scale { mul: s.mul, shift: s.shift }
    }

    /// Exact for every 64-bit delta (96-bit product; vtime_scale_apply).
    pub fn apply(self, delta: u64) -> u64 {
        unsafe { ffi::vtime_scale_apply(&self.raw(), delta) }
    }

    /// Source frequency in Hz of a to-ns scale, 0 for mul 0 (vtime_scale_source_hz).
    pub fn source_hz(self) -> u64 {
        unsafe { ffi::vtime_scale_source_hz(&self.raw()) }
    }
}

/// Guest TSC ratio: floor(2^frac_bits * guest_khz / host_khz), frac_bits 48
/// (VMX) or 32 (SVM) (vtime_tsc_ratio_init).
pub fn tsc_ratio(guest_khz: u64, host_khz: u64, frac_bits: u32) -> Result<u64> {
    let mut r = 0u64;
    check(unsafe { ffi::vtime_tsc_ratio_init(&mut r, guest_khz, host_khz, frac_bits) })?;
    Ok(r)
}

/// (tsc * ratio) >> frac_bits, truncated to 64 bits as hardware does
/// (vtime_tsc_ratio_apply).
pub fn tsc_ratio_apply(tsc: u64, ratio: u64, frac_bits: u32) -> u64 {
    unsafe { ffi::vtime_tsc_ratio_apply(tsc, ratio, frac_bits) }
}

/// The ratio meaning "no scaling" (the header's inline vtime_tsc_ratio_default).
pub fn tsc_ratio_default(frac_bits: u32) -> u64 {
    1u64 << (frac_bits & 63)
}
