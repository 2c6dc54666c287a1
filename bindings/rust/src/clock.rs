// SPDX-License-Identifier: MIT
//! clock.h: the Linux userspace fast clocks and bounded time.

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

/// How far a [`Bounded`] interval can be trusted (enum vtime_bound_status,
/// AWS ClockBound's numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundStatus {
    /// Nothing justifies a bound: earliest 0, latest u64::MAX.
    Unknown,
    /// The source is synchronised; the interval holds true time.
    Synchronized,
    /// The source lost its reference (VMClock FREERUNNING); the interval
    /// still holds, growing with time.
    FreeRunning,
    /// The VM was disrupted and the kernel has not re-synchronised since.
    Disrupted,
    /// A status this version does not know.
    Other(u32),
}

impl BoundStatus {
    fn from_raw(v: u32) -> BoundStatus {
        match v {
            ffi::VTIME_BOUND_UNKNOWN => BoundStatus::Unknown,
            ffi::VTIME_BOUND_SYNCHRONIZED => BoundStatus::Synchronized,
            ffi::VTIME_BOUND_FREE_RUNNING => BoundStatus::FreeRunning,
            ffi::VTIME_BOUND_DISRUPTED => BoundStatus::Disrupted,
            o => BoundStatus::Other(o),
        }
    }

    /// The C value.
    pub fn raw(self) -> u32 {
        match self {
            BoundStatus::Unknown => ffi::VTIME_BOUND_UNKNOWN,
            BoundStatus::Synchronized => ffi::VTIME_BOUND_SYNCHRONIZED,
            BoundStatus::FreeRunning => ffi::VTIME_BOUND_FREE_RUNNING,
            BoundStatus::Disrupted => ffi::VTIME_BOUND_DISRUPTED,
            BoundStatus::Other(o) => o,
        }
    }
}

/// What a bound rests on (enum vtime_bound_source).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundSource {
    /// Nothing (no VMClock, adjtimex refused).
    None,
    /// The host's VMClock page.
    Vmclock,
    /// CLOCK_REALTIME and the kernel's maxerror, plus vtime's tracking.
    Kernel,
    /// A source this version does not know.
    Other(u32),
}

impl BoundSource {
    fn from_raw(v: u32) -> BoundSource {
        match v {
            ffi::VTIME_BOUND_SOURCE_NONE => BoundSource::None,
            ffi::VTIME_BOUND_SOURCE_VMCLOCK => BoundSource::Vmclock,
            ffi::VTIME_BOUND_SOURCE_KERNEL => BoundSource::Kernel,
            o => BoundSource::Other(o),
        }
    }

    /// The C value.
    pub fn raw(self) -> u32 {
        match self {
            BoundSource::None => ffi::VTIME_BOUND_SOURCE_NONE,
            BoundSource::Vmclock => ffi::VTIME_BOUND_SOURCE_VMCLOCK,
            BoundSource::Kernel => ffi::VTIME_BOUND_SOURCE_KERNEL,
            BoundSource::Other(o) => o,
        }
    }
}

/// An interval `[earliest, latest]` (ns since 1970, UTC or TAI) that holds
/// true time at the moment it was taken, and how far to trust it (struct
/// vtime_bounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounded {
    /// True time is at or after this.
    pub earliest_ns: u64,
    /// ... and at or before this.
    pub latest_ns: u64,
    pub status: BoundStatus,
    pub source: BoundSource,
}

impl Bounded {
    fn from_raw(b: ffi::vtime_bounded) -> Bounded {
        Bounded {
            earliest_ns: b.earliest_ns,
            latest_ns: b.latest_ns,
            status: BoundStatus::from_raw(b.status),
            source: BoundSource::from_raw(b.source),
        }
    }

    /// The C struct.
    pub fn raw(&self) -> ffi::vtime_bounded {
        ffi::vtime_bounded {
            earliest_ns: self.earliest_ns,
            latest_ns: self.latest_ns,
            status: self.status.raw(),
            source: self.source.raw(),
        }
    }

    /// TrueTime's after(t): `t_ns` has certainly passed (t < earliest);
    /// always false unless the status is Synchronized or FreeRunning
    /// (vtime_bounded_after).
    pub fn after(&self, t_ns: u64) -> bool {
        let b = self.raw();
        unsafe { ffi::vtime_bounded_after(&b, t_ns) }
    }

    /// TrueTime's before(t): `t_ns` has certainly not come yet (t > latest);
    /// always false unless the status is Synchronized or FreeRunning
    /// (vtime_bounded_before).
    pub fn before(&self, t_ns: u64) -> bool {
        let b = self.raw();
        unsafe { ffi::vtime_bounded_before(&b, t_ns) }
    }

    /// Half the interval's width, None when there is no bound (Unknown or
    /// Disrupted).
    pub fn half_width_ns(&self) -> Option<u64> {
        match self.status {
            BoundStatus::Synchronized | BoundStatus::FreeRunning => Some((self.latest_ns - self.earliest_ns) / 2),
            _ => None,
        }
    }
}

/// The interval holding true time now, UTC (vtime_bounded_now: lock-free,
/// async-signal-safe, no failure).
pub fn bounded_now() -> Bounded {
    Bounded::from_raw(unsafe { ffi::vtime_bounded_now() })
}

/// The same interval in TAI; Unknown where neither VMClock nor the kernel
/// gives TAI - UTC (vtime_bounded_tai_now).
pub fn bounded_tai_now() -> Bounded {
    Bounded::from_raw(unsafe { ffi::vtime_bounded_tai_now() })
}

/// The interval of [`bounded_now`] without its source, as the fast form
/// [`interval_now`] returns it (struct vtime_interval plus the status the C
/// call writes through its pointer). after/before/half_width_ns answer as
/// [`Bounded`]'s do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    /// True time is at or after this.
    pub earliest_ns: u64,
    /// ... and at or before this.
    pub latest_ns: u64,
    pub status: BoundStatus,
}

impl Interval {
    fn from_raw(i: ffi::vtime_interval, status: u32) -> Interval {
        Interval { earliest_ns: i.earliest_ns, latest_ns: i.latest_ns, status: BoundStatus::from_raw(status) }
    }

    /// The C struct (without the status, which C returns apart).
    pub fn raw(&self) -> ffi::vtime_interval {
        ffi::vtime_interval { earliest_ns: self.earliest_ns, latest_ns: self.latest_ns }
    }

    fn holds_time(&self) -> bool {
        matches!(self.status, BoundStatus::Synchronized | BoundStatus::FreeRunning)
    }

    /// TrueTime's after(t): `t_ns` has certainly passed (t < earliest);
    /// always false unless the status is Synchronized or FreeRunning
    /// (vtime_bounded_after's rule, computed here).
    pub fn after(&self, t_ns: u64) -> bool {
        self.holds_time() && t_ns < self.earliest_ns
    }

    /// TrueTime's before(t): `t_ns` has certainly not come yet (t > latest);
    /// always false unless the status is Synchronized or FreeRunning
    /// (vtime_bounded_before's rule, computed here).
    pub fn before(&self, t_ns: u64) -> bool {
        self.holds_time() && t_ns > self.latest_ns
    }

    /// Half the interval's width, None when there is no bound (Unknown or
    /// Disrupted).
    pub fn half_width_ns(&self) -> Option<u64> {
        if self.holds_time() {
            Some((self.latest_ns - self.earliest_ns) / 2)
        } else {
            None
        }
    }
}

/// The fast form of [`bounded_now`]: the same interval, UTC, returned in two
/// registers instead of through memory, and without the source
/// ([`bounded_info`] has it) (vtime_interval_now: lock-free,
/// async-signal-safe, no failure). Unknown or Disrupted comes with
/// `[0, u64::MAX]`.
pub fn interval_now() -> Interval {
    let mut status = 0u32;
    let i = unsafe { ffi::vtime_interval_now(&mut status) };
    Interval::from_raw(i, status)
}

/// The fast form of [`bounded_tai_now`]: the same interval in TAI, Unknown
/// where neither VMClock nor the kernel gives TAI - UTC
/// (vtime_interval_tai_now).
pub fn interval_tai_now() -> Interval {
    let mut status = 0u32;
    let i = unsafe { ffi::vtime_interval_tai_now(&mut status) };
    Interval::from_raw(i, status)
}

/// What the bound rests on (vtime_bounded_info), for tools and logs.
/// Values the library gives as u64::MAX ("never read", "no bound") are None.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundedInfo {
    pub source: BoundSource,
    /// The status at the last maintenance.
    pub status: BoundStatus,
    /// Why that source and status, one sentence.
    pub why: String,
    /// The VMClock page: "/dev/vmclock0", "test page", "" if none.
    pub vmclock: String,
    /// The host word the fast paths watch: "pvclock", "hyperv", "vmclock", "none".
    pub page_watch: String,
    pub half_width_ns: Option<u64>,
    pub kernel_maxerror_ns: Option<u64>,
    pub kernel_esterror_ns: Option<u64>,
    pub kernel_age_ns: u64,
    /// adjtimex status (STA_* bits), None if never read.
    pub kernel_status: Option<i64>,
    /// TAI - UTC in use, 0 if unknown.
    pub tai_offset_s: i64,
    pub track_ns: u64,
    pub vmclock_maxerror_ns: Option<u64>,
    pub disruptions: u64,
    pub generations: u64,
    pub realtime_steps: u64,
}

fn known(v: u64) -> Option<u64> {
    if v == u64::MAX {
        None
    } else {
        Some(v)
    }
}

/// Brings the bound up to date and describes it (vtime_bounded_info; may
/// take the maintenance lock for a moment).
pub fn bounded_info() -> Result<BoundedInfo> {
    let mut i: ffi::vtime_bounded_info = unsafe { std::mem::zeroed() };
    check(unsafe { ffi::vtime_bounded_info(&mut i) })?;
    Ok(BoundedInfo {
        source: BoundSource::from_raw(i.source),
        status: BoundStatus::from_raw(i.status),
        why: c_array_str(&i.why),
        vmclock: static_str(i.vmclock).to_string(),
        page_watch: static_str(i.page_watch).to_string(),
        half_width_ns: known(i.half_width_ns),
        kernel_maxerror_ns: known(i.kernel_maxerror_ns),
        kernel_esterror_ns: known(i.kernel_esterror_ns),
        kernel_age_ns: i.kernel_age_ns,
        kernel_status: if i.kernel_status < 0 { None } else { Some(i.kernel_status) },
        tai_offset_s: i.tai_offset_s,
        track_ns: i.track_ns,
        vmclock_maxerror_ns: known(i.vmclock_maxerror_ns),
        disruptions: i.disruptions,
        generations: i.generations,
        realtime_steps: i.realtime_steps,
    })
}

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
