// SPDX-License-Identifier: MIT
//! kvm.h (x86-64 Linux): helpers over /dev/kvm file descriptors the caller
//! owns, the clock snapshot and its byte image, guest records in guest memory.

use crate::mem::Region;
use crate::pvclock::PvclockSlot;
use crate::{check, ffi, Error, PvclockRecord, ResumePolicy, Result, StateImage};
use std::os::unix::io::{AsRawFd, RawFd};

pub use ffi::{
    VTIME_KVM_CLOCK_HOST_TSC as CLOCK_HOST_TSC, VTIME_KVM_CLOCK_REALTIME as CLOCK_REALTIME,
    VTIME_KVM_CLOCK_TSC_STABLE as CLOCK_TSC_STABLE, VTIME_KVM_MSR_SYSTEM_TIME_NEW as MSR_SYSTEM_TIME_NEW,
    VTIME_KVM_MSR_WALL_CLOCK_NEW as MSR_WALL_CLOCK_NEW, VTIME_KVM_SAVE_MAX_VCPUS as SAVE_MAX_VCPUS,
    VTIME_KVM_SYSTEM_TIME_ENABLE as SYSTEM_TIME_ENABLE, VTIME_MSR_IA32_TSC as MSR_IA32_TSC,
};

/// The VM's kvmclock as KVM_GET_CLOCK returns it.
pub type KvmClock = ffi::vtime_kvm_clock;
/// The clock state of a stopped VM (vtime_kvm_save), with its byte image.
pub type KvmSave = ffi::vtime_kvm_save;
pub type KvmSaveVcpu = ffi::vtime_kvm_save_vcpu;

/// vtime_kvm_clock_get (Error::IO: errno is kept).
pub fn clock_get(vm: &impl AsRawFd) -> Result<KvmClock> {
    let mut c = KvmClock::default();
    check(unsafe { ffi::vtime_kvm_clock_get(vm.as_raw_fd(), &mut c) })?;
    Ok(c)
}

/// vtime_kvm_clock_set (realtime_ns != 0: the advance restore).
pub fn clock_set(vm: &impl AsRawFd, clock_ns: u64, realtime_ns: u64) -> Result<()> {
    check(unsafe { ffi::vtime_kvm_clock_set(vm.as_raw_fd(), clock_ns, realtime_ns) })
}

/// KVM_KVMCLOCK_CTRL (vtime_kvm_clock_ctrl).
pub fn clock_ctrl(vcpu: &impl AsRawFd) -> Result<()> {
    check(unsafe { ffi::vtime_kvm_clock_ctrl(vcpu.as_raw_fd()) })
}

/// vtime_kvm_tsc_khz_get.
pub fn tsc_khz_get(vcpu: &impl AsRawFd) -> Result<u32> {
    let mut k = 0u32;
    check(unsafe { ffi::vtime_kvm_tsc_khz_get(vcpu.as_raw_fd(), &mut k) })?;
    Ok(k)
}

/// vtime_kvm_tsc_khz_set.
pub fn tsc_khz_set(vcpu: &impl AsRawFd, khz: u32) -> Result<()> {
    check(unsafe { ffi::vtime_kvm_tsc_khz_set(vcpu.as_raw_fd(), khz) })
}

/// vtime_kvm_tsc_offset_get (Error::NOTSUP before Linux 5.16).
pub fn tsc_offset_get(vcpu: &impl AsRawFd) -> Result<u64> {
    let mut o = 0u64;
    check(unsafe { ffi::vtime_kvm_tsc_offset_get(vcpu.as_raw_fd(), &mut o) })?;
    Ok(o)
}

/// vtime_kvm_tsc_offset_set.
pub fn tsc_offset_set(vcpu: &impl AsRawFd, offset: u64) -> Result<()> {
    check(unsafe { ffi::vtime_kvm_tsc_offset_set(vcpu.as_raw_fd(), offset) })
}

/// One MSR (vtime_kvm_msr_get).
pub fn msr_get(vcpu: &impl AsRawFd, index: u32) -> Result<u64> {
    let mut v = 0u64;
    check(unsafe { ffi::vtime_kvm_msr_get(vcpu.as_raw_fd(), index, &mut v) })?;
    Ok(v)
}

/// vtime_kvm_msr_set.
pub fn msr_set(vcpu: &impl AsRawFd, index: u32, value: u64) -> Result<()> {
    check(unsafe { ffi::vtime_kvm_msr_set(vcpu.as_raw_fd(), index, value) })
}

fn fds(vcpus: &[RawFd]) -> Result<u32> {
    u32::try_from(vcpus.len()).map_err(|_| Error::INVAL)
}

/// Saves the clock state of a stopped VM; `mem` (guest-physical 0..len)
/// lets it record each vCPU's record version (vtime_kvm_save_clock).
pub fn save_clock(vm: &impl AsRawFd, vcpus: &[RawFd], mem: Option<&Region>) -> Result<Box<KvmSave>> {
    let mut out = Box::<KvmSave>::default();
    let (p, len) = mem.map_or((std::ptr::null(), 0), |m| (m.as_ptr() as *const _, m.len()));
    check(unsafe { ffi::vtime_kvm_save_clock(vm.as_raw_fd(), vcpus.as_ptr(), fds(vcpus)?, p, len, &mut *out) })?;
    Ok(out)
}

/// Restores into a new VM whose guest memory is in place (vtime_kvm_restore_clock).
pub fn restore_clock(
    vm: &impl AsRawFd,
    vcpus: &[RawFd],
    mem: Option<&Region>,
    save: &KvmSave,
    policy: ResumePolicy,
) -> Result<()> {
    let (p, len) = mem.map_or((std::ptr::null_mut(), 0), |m| (m.as_ptr() as *mut _, m.len()));
    check(unsafe {
        ffi::vtime_kvm_restore_clock(vm.as_raw_fd(), vcpus.as_ptr(), fds(vcpus)?, p, len, save, policy as u32)
    })
}

/// The record at guest-physical `gpa` inside `mem` (guest-physical 0..len),
/// as a slot a [`crate::Vm`] can publish into (vtime_kvm_guest_record).
pub fn guest_record(mem: &Region, gpa: u64) -> Result<PvclockSlot> {
    let mut rec: *mut ffi::vtime_pvclock_vcpu_time_info = std::ptr::null_mut();
    check(unsafe { ffi::vtime_kvm_guest_record(mem.as_ptr().cast(), mem.len(), gpa, &mut rec) })?;
    let off = rec as usize - mem.as_ptr() as usize;
    mem.pvclock(off)
}

/// A consistent copy of the record the system-time MSR value `msr` points
/// at (vtime_kvm_guest_record_read; Error::NODEV: the MSR is disabled).
pub fn guest_record_read(mem: &Region, msr: u64) -> Result<PvclockRecord> {
    let mut out = ffi::vtime_pvclock_vcpu_time_info::default();
    check(unsafe { ffi::vtime_kvm_guest_record_read(mem.as_ptr().cast(), mem.len(), msr, &mut out) })?;
    Ok(PvclockRecord::from_raw(&out))
}

impl StateImage for KvmSave {
    fn image_len(&self) -> usize {
        ffi::vtime_kvm_save_bytes((self.nr_vcpus as usize).min(SAVE_MAX_VCPUS))
    }
    fn encode_into(&self, buf: &mut [u8]) -> Result<usize> {
        let mut used = 0usize;
        check(unsafe { ffi::vtime_kvm_save_encode(self, buf.as_mut_ptr().cast(), buf.len(), &mut used) })?;
        Ok(used)
    }
    fn decode(buf: &[u8]) -> Result<Self> {
        let mut s = KvmSave::default();
        check(unsafe { ffi::vtime_kvm_save_decode(&mut s, buf.as_ptr().cast(), buf.len()) })?;
        Ok(s)
    }
}
