// SPDX-License-Identifier: MIT
//! Safe Rust API of libvtime, over the raw [`vtime_sys`] declarations (the C
//! library is built from the vtime tree and linked statically by default).
//!
//! - [`Scale`], [`tsc_ratio`]: KVM-exact fixed-point scaling, guest TSC ratios.
//! - [`Region`]: memory shared with a guest (owned, or a raw region such as
//!   the host address of guest memory from rust-vmm's `vm-memory`), with
//!   typed slots for the records that live in it: [`PvclockSlot`],
//!   [`WallClockSlot`], [`VmclockSlot`], [`HvTscPageSlot`].
//! - pvclock: [`PvclockRecord`] (values, parsed from little-endian bytes),
//!   [`SharedRecord`] (an owned live record), readers and writers.
//! - VMClock ([`VmclockAbi`], [`vmclock`]) and the Hyper-V reference TSC page
//!   ([`hyperv`]): readers, pure conversions, writers.
//! - [`Vm`]: the VMM core, owning its vCPUs (addressed by [`VcpuId`]) and
//!   keeping the guest memory it publishes into alive.
//! - [`Ticks`], [`TicksGuest`]: lost-tick engines and their saved state.
//! - [`Clamp`], [`ClampLocal`], [`Calib`]: monotonic clamp, recalibration.
//! - Linux: [`now_ns`] and the fast clocks, [`clock_info`], bounded time
//!   ([`bounded_now`], [`Bounded`] with TrueTime's after/before, its fast
//!   form [`interval_now`] / [`Interval`], [`bounded_info`]), counter hooks,
//!   the host pvclock and Hyper-V pages ([`HostPage`], [`HvHostPage`]), the
//!   VMClock device ([`VmclockDevice`], closed on drop), [`machine_probe`];
//!   on x86-64 the [`kvm`] helpers.
//! - Saved state: the [`StateImage`] trait encodes and decodes the byte images.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int};

pub use vtime_sys as ffi;

mod calib;
mod clamp;
mod counter;
pub mod hyperv;
mod mem;
mod pvclock;
mod scale;
mod ticks;
pub mod vmclock;
mod vmm;

#[cfg(target_os = "linux")]
mod clock;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod kvm;
#[cfg(target_os = "linux")]
mod linux;

pub use calib::{calib_line_apply, Calib, CalibConfig, CalibEvents, CalibLine, CalibLineExt, CalibSample, CalibStats};
pub use clamp::{Clamp, ClampLocal, CLAMP_TRUST_STABLE};
pub use counter::{Counter, MachineCounter};
pub use hyperv::{HvReading, HvTscPageSlot};
pub use mem::Region;
pub use pvclock::*;
pub use scale::{tsc_ratio, tsc_ratio_apply, tsc_ratio_default, Scale, TSC_FRAC_BITS_SVM, TSC_FRAC_BITS_VMX};
pub use ticks::{Ticks, TicksCounters, TicksGuest, TicksPolicy, TicksResult, TicksState, TICKS_PERIOD_MAX, TICKS_RATE_DEFAULT, TICKS_RATE_MAX};
pub use vmclock::{VmclockAbi, VmclockReading, VmclockSlot};
pub use vmm::*;

#[cfg(target_os = "linux")]
pub use clock::*;
#[cfg(target_os = "linux")]
pub use linux::*;

pub const NSEC_PER_SEC: u64 = ffi::VTIME_NSEC_PER_SEC;
/// Bounded retries of every seqlock reader when 0 is passed as max_tries.
pub const MAX_TRIES: u32 = ffi::VTIME_MAX_TRIES;

/// A negative `VTIME_E*` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Error(i32);

impl Error {
    pub const INVAL: Error = Error(ffi::VTIME_EINVAL);
    pub const AGAIN: Error = Error(ffi::VTIME_EAGAIN);
    pub const RANGE: Error = Error(ffi::VTIME_ERANGE);
    pub const NOTSUP: Error = Error(ffi::VTIME_ENOTSUP);
    pub const NODEV: Error = Error(ffi::VTIME_ENODEV);
    pub const PROTO: Error = Error(ffi::VTIME_EPROTO);
    pub const NODATA: Error = Error(ffi::VTIME_ENODATA);
    pub const IO: Error = Error(ffi::VTIME_EIO);
    pub const BUSY: Error = Error(ffi::VTIME_EBUSY);
    pub const NOMEM: Error = Error(ffi::VTIME_ENOMEM);
    pub const STATE: Error = Error(ffi::VTIME_ESTATE);
    pub const NOCOUNTER: Error = Error(ffi::VTIME_ENOCOUNTER);
    pub const UNRELIABLE: Error = Error(ffi::VTIME_EUNRELIABLE);
    pub const NOTVALID: Error = Error(ffi::VTIME_ENOTVALID);

    /// The error for a code (any negative value; codes this version does not
    /// know are kept as they are).
    pub fn from_code(code: i32) -> Error {
        Error(code)
    }

    pub fn code(self) -> i32 {
        self.0
    }

    pub fn message(self) -> &'static str {
        strerror(self.0)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn check(code: c_int) -> Result<()> {
    if code < 0 {
        Err(Error(code))
    } else {
        Ok(())
    }
}

pub(crate) fn static_str(p: *const c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    // The library returns static ASCII strings.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?")
}

pub(crate) fn c_array_str(a: &[c_char]) -> String {
    let bytes: Vec<u8> = a.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// English description of a `VTIME_E*` code (also for unknown codes).
pub fn strerror(code: i32) -> &'static str {
    static_str(unsafe { ffi::vtime_strerror(code) })
}

/// Version of the linked library.
pub fn version() -> &'static str {
    static_str(unsafe { ffi::vtime_version_string() })
}

/// The versioned little-endian byte image of a saved state (vtime's one
/// saved-state pattern: magic, version, size, then the fields): encode
/// writes the current version, decode reads every version up to it.
pub trait StateImage: Sized {
    /// Bytes of the current version's image.
    fn image_len(&self) -> usize;
    /// Writes the image into `buf` (at least [`StateImage::image_len`] bytes),
    /// returning the bytes written.
    fn encode_into(&self, buf: &mut [u8]) -> Result<usize>;
    /// Reads an image (`Error::PROTO` malformed or truncated, `Error::NOTSUP`
    /// a later version).
    fn decode(buf: &[u8]) -> Result<Self>;
    /// The image as a new vector.
    fn encode(&self) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.image_len()];
        let n = self.encode_into(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
}
