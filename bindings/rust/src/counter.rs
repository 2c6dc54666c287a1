// SPDX-License-Identifier: MIT
//! The counter hook (counter.h) the seqlock readers call inside their window.

use crate::ffi;
use std::os::raw::c_void;

/// What a reader calls to read "the TSC": a closure (`FnMut() -> u64`) or a
/// [`MachineCounter`] (the C hook itself, no trampoline). It must be ordered
/// after the loads before it (lfence;rdtsc, isb;mrs). A closure that panics
/// aborts the process (a panic cannot unwind through C).
pub trait Counter {
    /// Calls `f` with a C hook valid for the duration of the call.
    fn with_raw<R>(&mut self, f: impl FnOnce(&ffi::vtime_counter) -> R) -> R;
}

impl<F: FnMut() -> u64> Counter for F {
    fn with_raw<R>(&mut self, f: impl FnOnce(&ffi::vtime_counter) -> R) -> R {
        unsafe extern "C" fn trampoline<F: FnMut() -> u64>(ctx: *mut c_void) -> u64 {
            let f = &mut *(ctx as *mut F);
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(v) => v,
                Err(_) => std::process::abort(),
            }
        }
        let raw = ffi::vtime_counter { read: Some(trampoline::<F>), ctx: self as *mut F as *mut c_void };
        f(&raw)
    }
}

/// A counter hook implemented in C: the library's own (`vtime_counter_get`,
/// Linux) or any `extern "C"` function with a context pointer.
#[derive(Clone, Copy, Debug)]
pub struct MachineCounter(ffi::vtime_counter);

// The library's hooks take no context (NULL) or a static one.
unsafe impl Send for MachineCounter {}
unsafe impl Sync for MachineCounter {}

impl MachineCounter {
    /// # Safety
    /// `raw.read` must be callable with `raw.ctx` from any thread for as long
    /// as the value (and its copies) live.
    pub unsafe fn from_raw(raw: ffi::vtime_counter) -> MachineCounter {
        MachineCounter(raw)
    }

    pub fn raw(&self) -> ffi::vtime_counter {
        self.0
    }

    /// Reads the counter once.
    pub fn read(&self) -> u64 {
        match self.0.read {
            Some(f) => unsafe { f(self.0.ctx) },
            None => 0,
        }
    }
}

impl Counter for MachineCounter {
    fn with_raw<R>(&mut self, f: impl FnOnce(&ffi::vtime_counter) -> R) -> R {
        f(&self.0)
    }
}
