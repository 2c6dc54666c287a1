// SPDX-License-Identifier: MIT
//! clamp.h: the monotonic clamp (global, per thread, skip-while-stable).

use crate::{check, ffi, Result};
use std::cell::UnsafeCell;

/// Honour the source's "stable" claim in [`Clamp::apply_stable`].
pub const CLAMP_TRUST_STABLE: u32 = ffi::VTIME_CLAMP_TRUST_STABLE;

/// Global scope: shared by every thread (lock-free CAS), one cache line.
#[repr(C, align(64))]
pub struct Clamp(UnsafeCell<ffi::vtime_clamp>);

// The library updates the line atomically.
unsafe impl Send for Clamp {}
unsafe impl Sync for Clamp {}

impl std::fmt::Debug for Clamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clamp(last {})", self.last())
    }
}

impl Clamp {
    /// `start`: no later than the first value it will see; `flags`:
    /// [`CLAMP_TRUST_STABLE`] or 0 (vtime_clamp_init).
    pub fn new(start: u64, flags: u32) -> Result<Clamp> {
        let c = Clamp(UnsafeCell::new(ffi::vtime_clamp::default()));
        check(unsafe { ffi::vtime_clamp_init(c.0.get(), start, flags) })?;
        Ok(c)
    }

    /// max(t, every value returned before) (vtime_clamp_apply).
    pub fn apply(&self, t: u64) -> u64 {
        unsafe { ffi::vtime_clamp_apply(self.0.get(), t) }
    }

    /// vtime_clamp_apply_stable.
    pub fn apply_stable(&self, t: u64, source_stable: bool) -> u64 {
        unsafe { ffi::vtime_clamp_apply_stable(self.0.get(), t, source_stable) }
    }

    /// Latest value handed out (vtime_clamp_last).
    pub fn last(&self) -> u64 {
        unsafe { ffi::vtime_clamp_last(self.0.get()) }
    }

    /// Resume/restore: start again from `start` (vtime_clamp_reset).
    pub fn reset(&self, start: u64) {
        unsafe { ffi::vtime_clamp_reset(self.0.get(), start) }
    }
}

/// Per-thread scope: plain memory, no atomics (not Sync).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClampLocal(ffi::vtime_clamp_local);

impl ClampLocal {
    /// vtime_clamp_local_init.
    pub fn new(start: u64) -> ClampLocal {
        let mut l = ffi::vtime_clamp_local::default();
        check(unsafe { ffi::vtime_clamp_local_init(&mut l, start) }).expect("a valid pointer");
        ClampLocal(l)
    }

    /// vtime_clamp_local_apply.
    pub fn apply(&mut self, t: u64) -> u64 {
        unsafe { ffi::vtime_clamp_local_apply(&mut self.0, t) }
    }

    pub fn last(&self) -> u64 {
        self.0.last
    }
}
