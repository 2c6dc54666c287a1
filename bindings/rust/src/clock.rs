// SPDX-License-Identifier: MIT
//! clock.h: the Linux userspace fast clocks.

use crate::{c_array_str, check, ffi, static_str, Result};

/// CLOCK_MONOTONIC in ns through vtime's fast clock (vtime_now_ns).
pub fn now_ns() -> u64 {
    unsafe { ffi::vtime_now_ns() }
}

/// CLOCK_REALTIME in ns through vtime's fast clock (vtime_realtime_ns).
pub fn realtime_ns() -> u64 {
    unsafe { ffi::vtime_realtime_ns() }
}

/// The raw counter, for timestamps converted later (vtime_counter_now).
pub fn counter_now() -> u64 {
    unsafe { ffi::vtime_counter_now() }
}

/// A [`counter_now`] value as CLOCK_MONOTONIC ns (vtime_counter_to_ns).
pub fn counter_to_ns(counter: u64) -> u64 {
    unsafe { ffi::vtime_counter_to_ns(counter) }
}

// The bounded-time API (an interval guaranteed to hold true time) will be
// wrapped here when it lands in <vtime/clock.h>.

/// Which source the fast clock uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    None,
    Tsc,
    Pvclock,
    ClockGettime,
    Other(u32),
}

/// State of vtime's clock (vtime_clock_info).
#[derive(Clone, Debug, PartialEq)]
pub struct ClockInfo {
    pub source: Source,
    pub source_name: String,
    pub forced: bool,
    pub why: String,
    pub freq_source: String,
    pub nominal_hz: u64,
    pub freq_hz: f64,
    pub freq_ppm: f64,
    pub tracking_error_ns: i64,
    pub recal_interval_ns: u64,
    pub recalibrations: u64,
    pub steps: u64,
    pub fallbacks: u64,
    pub fallback_reason: String,
    pub init_ns: u64,
    pub page_stable: bool,
    pub counter: String,
    pub kernel_rate_known: bool,
    pub kernel_rate_ppm: f64,
    pub rate_changes: u64,
    pub probe_interval_ns: u64,
    pub realtime_unc_ns: u64,
    pub realtime_steps: u64,
}

/// A snapshot of the clock's state (initialises it if needed).
pub fn clock_info() -> Result<ClockInfo> {
    let mut i: ffi::vtime_clock_info = unsafe { std::mem::zeroed() };
    check(unsafe { ffi::vtime_clock_info(&mut i) })?;
    Ok(ClockInfo {
        source: match i.source {
            ffi::VTIME_SOURCE_NONE => Source::None,
            ffi::VTIME_SOURCE_TSC => Source::Tsc,
            ffi::VTIME_SOURCE_PVCLOCK => Source::Pvclock,
            ffi::VTIME_SOURCE_CLOCK_GETTIME => Source::ClockGettime,
            o => Source::Other(o),
        },
        source_name: static_str(i.source_name).to_string(),
        forced: i.forced,
        why: c_array_str(&i.why),
        freq_source: static_str(i.freq_source).to_string(),
        nominal_hz: i.nominal_hz,
        freq_hz: i.freq_hz,
        freq_ppm: i.freq_ppm,
        tracking_error_ns: i.tracking_error_ns,
        recal_interval_ns: i.recal_interval_ns,
        recalibrations: i.recalibrations,
        steps: i.steps,
        fallbacks: i.fallbacks,
        fallback_reason: c_array_str(&i.fallback_reason),
        init_ns: i.init_ns,
        page_stable: i.page_stable,
        counter: static_str(i.counter).to_string(),
        kernel_rate_known: i.kernel_rate_known,
        kernel_rate_ppm: i.kernel_rate_ppm,
        rate_changes: i.rate_changes,
        probe_interval_ns: i.probe_interval_ns,
        realtime_unc_ns: i.realtime_unc_ns,
        realtime_steps: i.realtime_steps,
    })
}
