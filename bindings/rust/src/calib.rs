// SPDX-License-Identifier: MIT
//! calib.h: the recalibration engine (feeders serialise themselves with a
//! try-lock, readers are lock-free: the engine is Sync).

use crate::counter::{Counter, MachineCounter};
use crate::{check, ffi, Result};
use std::cell::UnsafeCell;

/// One (counter, reference ns, cost) sample.
pub type CalibSample = ffi::vtime_calib_sample;
/// A published counter-to-ns line.
pub type CalibLine = ffi::vtime_calib_line;
/// Quality counters.
pub type CalibStats = ffi::vtime_calib_stats;

/// The VTIME_CALIB_EV_* bits a feed reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CalibEvents(pub u32);

impl CalibEvents {
    pub const USED: u32 = ffi::VTIME_CALIB_EV_USED;
    pub const REJECTED: u32 = ffi::VTIME_CALIB_EV_REJECTED;
    pub const REFIT: u32 = ffi::VTIME_CALIB_EV_REFIT;
    pub const STEP: u32 = ffi::VTIME_CALIB_EV_STEP;
    pub const DISCONT: u32 = ffi::VTIME_CALIB_EV_DISCONT;
    pub const FIRST: u32 = ffi::VTIME_CALIB_EV_FIRST;

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

/// Engine configuration (vtime_calib_config; defaults from
/// vtime_calib_config_default).
#[derive(Clone, Copy, Debug)]
pub struct CalibConfig {
    pub hz_hint: u64,
    pub hint_ppm: u32,
    pub max_slew_ppm: u32,
    pub step_ns: u64,
    pub discont_ns: u64,
    pub slew_tc_ns: u64,
    pub window_ns: u64,
    /// Read inside the publish window to pick the switch point (a C hook:
    /// the engine keeps it); None: the sample's counter.
    pub counter: Option<MachineCounter>,
}

impl Default for CalibConfig {
    fn default() -> Self {
        let mut c = ffi::vtime_calib_config::default();
        check(unsafe { ffi::vtime_calib_config_default(&mut c) }).expect("a valid pointer");
        CalibConfig {
            hz_hint: c.hz_hint,
            hint_ppm: c.hint_ppm,
            max_slew_ppm: c.max_slew_ppm,
            step_ns: c.step_ns,
            discont_ns: c.discont_ns,
            slew_tc_ns: c.slew_tc_ns,
            window_ns: c.window_ns,
            counter: None,
        }
    }
}

impl CalibConfig {
    fn raw(&self) -> ffi::vtime_calib_config {
        ffi::vtime_calib_config {
            hz_hint: self.hz_hint,
            hint_ppm: self.hint_ppm,
            max_slew_ppm: self.max_slew_ppm,
            step_ns: self.step_ns,
            discont_ns: self.discont_ns,
            slew_tc_ns: self.slew_tc_ns,
            window_ns: self.window_ns,
            counter: self.counter.map(|c| c.raw()).unwrap_or_default(),
            reserved: [0; 4],
        }
    }
}

/// The engine (boxed: about 1 KiB).
pub struct Calib(Box<UnsafeCell<ffi::vtime_calib>>);

unsafe impl Send for Calib {}
unsafe impl Sync for Calib {}

impl std::fmt::Debug for Calib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calib").field("stats", &self.stats()).finish()
    }
}

impl Calib {
    /// vtime_calib_init (None: defaults).
    pub fn new(cfg: Option<&CalibConfig>) -> Result<Calib> {
        let e: Box<UnsafeCell<ffi::vtime_calib>> = Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }));
        let raw = cfg.map(|c| c.raw());
        let p = raw.as_ref().map_or(std::ptr::null(), |r| r as *const _);
        check(unsafe { ffi::vtime_calib_init(e.get(), p) })?;
        Ok(Calib(e))
    }

    /// Feeds a sample: the events, or Error::BUSY when another feeder is
    /// inside (vtime_calib_feed).
    pub fn feed(&self, s: &CalibSample) -> Result<CalibEvents> {
        let mut ev = 0u32;
        check(unsafe { ffi::vtime_calib_feed(self.0.get(), s, &mut ev) })?;
        Ok(CalibEvents(ev))
    }

    /// ns now, the counter read inside the window (vtime_calib_read).
    pub fn read<C: Counter>(&self, mut counter: C) -> Result<u64> {
        let mut ns = 0u64;
        check(counter.with_raw(|ctr| unsafe { ffi::vtime_calib_read(self.0.get(), ctr, &mut ns) }))?;
        Ok(ns)
    }

    /// A consistent copy of the line (vtime_calib_line_get).
    pub fn line(&self) -> Result<CalibLine> {
        let mut l = CalibLine::default();
        check(unsafe { ffi::vtime_calib_line_get(self.0.get(), &mut l) })?;
        Ok(l)
    }

    /// vtime_calib_stats_get.
    pub fn stats(&self) -> CalibStats {
        let mut s = CalibStats::default();
        check(unsafe { ffi::vtime_calib_stats_get(self.0.get(), &mut s) }).expect("an initialised engine");
        s
    }
}

/// The line's time at `counter` (pure; vtime_calib_line_apply).
pub fn calib_line_apply(line: &CalibLine, counter: u64) -> u64 {
    unsafe { ffi::vtime_calib_line_apply(line, counter) }
}

/// Extension: `line.apply(counter)`.
pub trait CalibLineExt {
    fn apply(&self, counter: u64) -> u64;
}

impl CalibLineExt for CalibLine {
    fn apply(&self, counter: u64) -> u64 {
        calib_line_apply(self, counter)
    }
}
