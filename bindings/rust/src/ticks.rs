// SPDX-License-Identifier: MIT
//! ticks.h: lost-tick engines for emulated periodic timers, guest tick accounting.

use crate::{check, ffi, Result, StateImage};

/// What to do now (deliver 0 or 1 interrupt, ticks dropped, when to look again).
pub type TicksResult = ffi::vtime_ticks_result;
/// due == delivered + dropped + backlog.
pub type TicksCounters = ffi::vtime_ticks_counters;
/// The engine's saved state (times relative to the save).
pub type TicksState = ffi::vtime_ticks_state;

pub const TICKS_RATE_DEFAULT: u32 = ffi::VTIME_TICKS_RATE_DEFAULT;
pub const TICKS_RATE_MAX: u32 = ffi::VTIME_TICKS_RATE_MAX;
pub const TICKS_PERIOD_MAX: u64 = ffi::VTIME_TICKS_PERIOD_MAX;

/// Lost-tick policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum TicksPolicy {
    /// Missed ticks are dropped; the timer keeps its phase.
    Discard = ffi::VTIME_TICKS_DISCARD,
    /// Missed ticks are kept and delivered at the normal rate.
    Delay = ffi::VTIME_TICKS_DELAY,
    /// Missed ticks are delivered up to `rate` times faster.
    Slew = ffi::VTIME_TICKS_SLEW,
}

/// Host-side engine of one emulated timer (struct vtime_ticks).
#[derive(Clone, Debug)]
pub struct Ticks(ffi::vtime_ticks);

impl Ticks {
    /// First tick due at now + period_ns (vtime_ticks_init).
    pub fn new(period_ns: u64, policy: TicksPolicy, now: u64) -> Result<Ticks> {
        let mut t = ffi::vtime_ticks::default();
        check(unsafe { ffi::vtime_ticks_init(&mut t, period_ns, policy as u32, now) })?;
        Ok(Ticks(t))
    }

    /// Rebuilds an engine from a saved state at host time `now` (vtime_ticks_restore).
    pub fn restore(st: &TicksState, now: u64) -> Result<Ticks> {
        let mut t = ffi::vtime_ticks::default();
        check(unsafe { ffi::vtime_ticks_restore(&mut t, st, now) })?;
        Ok(Ticks(t))
    }

    /// Slew's catch-up rate and the backlog cap (0: none) (vtime_ticks_set_catchup).
    pub fn set_catchup(&mut self, rate: u32, cap: u64) -> Result<()> {
        check(unsafe { ffi::vtime_ticks_set_catchup(&mut self.0, rate, cap) })
    }

    /// The timer fired (or the guest acknowledged) at `now` (vtime_ticks_update).
    pub fn update(&mut self, now: u64, prev_acked: bool) -> Result<TicksResult> {
        let mut r = TicksResult::default();
        check(unsafe { ffi::vtime_ticks_update(&mut self.0, now, prev_acked, &mut r) })?;
        Ok(r)
    }

    /// The guest reprogrammed the period at `now` (vtime_ticks_set_period).
    pub fn set_period(&mut self, now: u64, period_ns: u64) -> Result<()> {
        check(unsafe { ffi::vtime_ticks_set_period(&mut self.0, now, period_ns) })
    }

    /// vtime_ticks_counters.
    pub fn counters(&self) -> TicksCounters {
        let mut c = TicksCounters::default();
        check(unsafe { ffi::vtime_ticks_counters(&self.0, &mut c) }).expect("an initialised engine");
        c
    }

    /// The saved state at `now` (vtime_ticks_save; the engine is unchanged).
    pub fn save(&self, now: u64) -> Result<TicksState> {
        let mut st = TicksState::default();
        check(unsafe { ffi::vtime_ticks_save(&self.0, now, &mut st) })?;
        Ok(st)
    }

    pub fn period(&self) -> u64 {
        self.0.period
    }

    pub fn as_raw(&self) -> &ffi::vtime_ticks {
        &self.0
    }
}

impl StateImage for TicksState {
    fn image_len(&self) -> usize {
        ffi::VTIME_TICKS_STATE_BYTES
    }
    fn encode_into(&self, buf: &mut [u8]) -> Result<usize> {
        check(unsafe { ffi::vtime_ticks_state_encode(self, buf.as_mut_ptr().cast(), buf.len()) })?;
        Ok(ffi::VTIME_TICKS_STATE_BYTES)
    }
    fn decode(buf: &[u8]) -> Result<Self> {
        let mut st = TicksState::default();
        check(unsafe { ffi::vtime_ticks_state_decode(&mut st, buf.as_ptr().cast(), buf.len()) })?;
        Ok(st)
    }
}

/// Guest side: ticks counted from a clock (struct vtime_ticks_guest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TicksGuest(ffi::vtime_ticks_guest);

impl TicksGuest {
    /// vtime_ticks_guest_init.
    pub fn new(period: u64, now: u64) -> Result<TicksGuest> {
        let mut g = ffi::vtime_ticks_guest::default();
        check(unsafe { ffi::vtime_ticks_guest_init(&mut g, period, now) })?;
        Ok(TicksGuest(g))
    }

    /// Periods elapsed since the last accounted boundary, and the remainder
    /// (vtime_ticks_guest_account).
    pub fn account(&mut self, now: u64) -> (u64, u64) {
        let mut into = 0u64;
        let n = unsafe { ffi::vtime_ticks_guest_account(&mut self.0, now, &mut into) };
        (n, into)
    }

    /// vtime_ticks_guest_set_period.
    pub fn set_period(&mut self, now: u64, period: u64) -> Result<()> {
        check(unsafe { ffi::vtime_ticks_guest_set_period(&mut self.0, now, period) })
    }

    /// Periods accounted since init.
    pub fn ticks(&self) -> u64 {
        self.0.ticks
    }

    pub fn period(&self) -> u64 {
        self.0.period
    }
}
