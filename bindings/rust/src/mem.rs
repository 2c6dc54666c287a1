// SPDX-License-Identifier: MIT
//! Memory shared with a guest, and the typed slots of the records in it.

use crate::hyperv::HvTscPageSlot;
use crate::pvclock::{PvclockSlot, WallClockSlot};
use crate::vmclock::VmclockSlot;
use crate::{ffi, Error, Result};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::any::Any;
use std::fmt;
use std::sync::Arc;

enum Owner {
    Alloc(Layout),
    Foreign(#[allow(dead_code)] Option<Box<dyn Any + Send + Sync>>),
}

struct Inner {
    ptr: *mut u8,
    len: usize,
    owner: Owner,
}

// Every access to the bytes is volatile or atomic (the library's), never a
// Rust reference: sharing the region between threads, and with a guest that
// writes it concurrently, is what it is for.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Owner::Alloc(layout) = self.owner {
            unsafe { dealloc(self.ptr, layout) };
        }
    }
}

/// A region of memory that records live in: allocated here ([`Region::new`],
/// page-aligned and zeroed), or memory someone else maps, such as a guest's
/// RAM (the host address and length of a `vm-memory` region or
/// `VolatileSlice`: [`Region::from_raw_parts`]). Cloning is cheap (shared
/// ownership); the slots taken from it and a [`crate::Vm`] publishing into it
/// keep it alive. Rust code never holds a reference into it: reads and
/// writes are volatile, records are accessed by the library's seqlock
/// readers and writers only.
#[derive(Clone)]
pub struct Region {
    inner: Arc<Inner>,
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({:p}, {} bytes)", self.inner.ptr, self.inner.len)
    }
}

pub const PAGE_SIZE: usize = 4096;

impl Region {
    /// `len` zeroed bytes, 4096-byte aligned.
    pub fn new(len: usize) -> Region {
        let layout = Layout::from_size_align(len.max(1), PAGE_SIZE).expect("region size");
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Region { inner: Arc::new(Inner { ptr, len, owner: Owner::Alloc(layout) }) }
    }

    /// A region over memory mapped by someone else (e.g. guest RAM).
    ///
    /// # Safety
    /// `ptr..ptr+len` must stay mapped, readable and writable for as long as
    /// the region, a clone, a slot taken from it or a VM using it lives, and
    /// must not be accessed through Rust references meanwhile (volatile
    /// accesses, like a guest's or `vm-memory`'s, are fine).
    pub unsafe fn from_raw_parts(ptr: *mut u8, len: usize) -> Region {
        Region { inner: Arc::new(Inner { ptr, len, owner: Owner::Foreign(None) }) }
    }

    /// As [`Region::from_raw_parts`], keeping `owner` (e.g. an `Arc` of the
    /// guest memory mapping) alive until the last user of the region is gone.
    ///
    /// # Safety
    /// As [`Region::from_raw_parts`], for as long as `owner` lives.
    pub unsafe fn from_raw_parts_with_owner<T: Any + Send + Sync>(ptr: *mut u8, len: usize, owner: T) -> Region {
        Region { inner: Arc::new(Inner { ptr, len, owner: Owner::Foreign(Some(Box::new(owner))) }) }
    }

    pub fn len(&self) -> usize {
        self.inner.len
    }

    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// The first byte (for handing the region to a guest or to C).
    pub fn as_ptr(&self) -> *mut u8 {
        self.inner.ptr
    }

    /// A pointer to `size` bytes at `offset`, `align`-aligned in memory:
    /// Error::RANGE outside the region, Error::INVAL misaligned.
    pub(crate) fn ptr_at(&self, offset: usize, size: usize, align: usize) -> Result<*mut u8> {
        let end = offset.checked_add(size).ok_or(Error::RANGE)?;
        if end > self.inner.len {
            return Err(Error::RANGE);
        }
        let p = unsafe { self.inner.ptr.add(offset) };
        if (p as usize) % align != 0 {
            return Err(Error::INVAL);
        }
        Ok(p)
    }

    /// Copies bytes out (volatile reads; may be torn while a writer is active).
    pub fn read_bytes(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        let p = self.ptr_at(offset, buf.len(), 1)?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = unsafe { std::ptr::read_volatile(p.add(i)) };
        }
        Ok(())
    }

    /// Copies bytes in (volatile writes).
    pub fn write_bytes(&self, offset: usize, data: &[u8]) -> Result<()> {
        let p = self.ptr_at(offset, data.len(), 1)?;
        for (i, b) in data.iter().enumerate() {
            unsafe { std::ptr::write_volatile(p.add(i), *b) };
        }
        Ok(())
    }

    /// The whole region's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len()];
        self.read_bytes(0, &mut v).expect("in range");
        v
    }

    /// The pvclock record at `offset` (32 bytes, 8-byte aligned).
    pub fn pvclock(&self, offset: usize) -> Result<PvclockSlot> {
        let p = self.ptr_at(offset, 32, 8)?;
        Ok(PvclockSlot::new(self.clone(), p as *mut ffi::vtime_pvclock_vcpu_time_info))
    }

    /// CPU `cpu`'s record of a per-CPU page (64-byte stride).
    pub fn pvclock_cpu(&self, cpu: usize) -> Result<PvclockSlot> {
        self.pvclock(cpu.checked_mul(ffi::VTIME_PVCLOCK_RECORD_STRIDE).ok_or(Error::RANGE)?)
    }

    /// The pvclock wall clock at `offset` (12 bytes, 4-byte aligned).
    pub fn wall_clock(&self, offset: usize) -> Result<WallClockSlot> {
        let p = self.ptr_at(offset, 12, 4)?;
        Ok(WallClockSlot::new(self.clone(), p as *mut ffi::vtime_pvclock_wall_clock))
    }

    /// A VMClock region of `size` bytes at `offset` (at least 0x70, 8-byte aligned).
    pub fn vmclock(&self, offset: usize, size: usize) -> Result<VmclockSlot> {
        if size < ffi::VTIME_VMCLOCK_ABI_SIZE as usize || size > u32::MAX as usize {
            return Err(Error::INVAL);
        }
        let p = self.ptr_at(offset, size, 8)?;
        Ok(VmclockSlot::new(self.clone(), p as *mut ffi::vtime_vmclock_abi, size))
    }

    /// The Hyper-V reference TSC page at `offset` (4096 bytes, 8-byte aligned).
    pub fn hv_tsc_page(&self, offset: usize) -> Result<HvTscPageSlot> {
        let p = self.ptr_at(offset, ffi::VTIME_HV_TSC_PAGE_SIZE, 8)?;
        Ok(HvTscPageSlot::new(self.clone(), p as *mut ffi::vtime_hv_tsc_page))
    }
}
