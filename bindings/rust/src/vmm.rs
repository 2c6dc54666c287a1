// SPDX-License-Identifier: MIT
//! vmm.h: the VMM side of kvmclock. [`Vm`] owns the C VM and its vCPUs on
//! the heap (the C structs point at each other: they never move), and keeps
//! every guest record and page it publishes into alive.

use crate::hyperv::HvTscPageSlot;
use crate::pvclock::{PvclockSlot, WallClockSlot};
use crate::vmclock::VmclockSlot;
use crate::{check, ffi, Error, PvclockRecord, Result, StateImage};
use std::cell::UnsafeCell;
use std::fmt;

/// One host reading (host counter, host monotonic ns, host realtime ns).
pub type VmmNow = ffi::vtime_vmm_now;
/// What the VMM knows about its realtime at a VMClock sync.
pub type VmclockStatus = ffi::vtime_vmm_vmclock_status;
/// The VM part of a saved state.
pub type VmmState = ffi::vtime_vmm_state;
/// A vCPU's part of a saved state.
pub type VcpuState = ffi::vtime_vmm_vcpu_state;

pub const VMM_STATE_VMCLOCK: u32 = ffi::VTIME_VMM_STATE_VMCLOCK;
pub const VMM_STATE_HV: u32 = ffi::VTIME_VMM_STATE_HV;
pub const VMM_VCPU_STATE_RECORD: u32 = ffi::VTIME_VMM_VCPU_STATE_RECORD;

/// How the guest TSC relates to the host counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum TscMode {
    #[default]
    Auto = ffi::VTIME_VMM_TSC_AUTO,
    Native = ffi::VTIME_VMM_TSC_NATIVE,
    Scaled = ffi::VTIME_VMM_TSC_SCALED,
    Catchup = ffi::VTIME_VMM_TSC_CATCHUP,
    Emulated = ffi::VTIME_VMM_TSC_EMULATED,
}

impl TscMode {
    fn from_raw(v: u32) -> TscMode {
        match v {
            ffi::VTIME_VMM_TSC_NATIVE => TscMode::Native,
            ffi::VTIME_VMM_TSC_SCALED => TscMode::Scaled,
            ffi::VTIME_VMM_TSC_CATCHUP => TscMode::Catchup,
            ffi::VTIME_VMM_TSC_EMULATED => TscMode::Emulated,
            _ => TscMode::Auto,
        }
    }
}

/// What guest time does over a pause or a save/restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ResumePolicy {
    /// Continues from the value at pause/save.
    Freeze = ffi::VTIME_RESUME_FREEZE,
    /// Includes the real time that passed.
    Advance = ffi::VTIME_RESUME_ADVANCE,
}

/// What a restore is, for the VMClock page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum RestoreKind {
    /// Loaded from a snapshot, or a clone: generation counter and marker change.
    Snapshot = ffi::VTIME_VMM_RESTORE_SNAPSHOT,
    /// Live migration: only the marker changes.
    Migration = ffi::VTIME_VMM_RESTORE_MIGRATION,
}

/// A VM's clock configuration (vtime_vmm_config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct VmmConfig {
    /// Host counter rate.
    pub host_hz: u64,
    /// Virtual TSC rate; 0 = host_hz.
    pub guest_hz: u64,
    pub mode: TscMode,
    /// The CPU can scale the TSC (Auto may pick Scaled).
    pub hw_scaling: bool,
    /// 48 (VMX) or 32 (SVM) for Scaled; 0 = 48.
    pub frac_bits: u32,
    /// Rates this close count as equal; 0 = 250 (KVM).
    pub tolerance_ppm: u32,
}

impl VmmConfig {
    fn raw(&self) -> ffi::vtime_vmm_config {
        ffi::vtime_vmm_config {
            host_hz: self.host_hz,
            guest_hz: self.guest_hz,
            mode: self.mode as u32,
            hw_scaling: self.hw_scaling,
            frac_bits: self.frac_bits,
            tolerance_ppm: self.tolerance_ppm,
            reserved: [0; 4],
        }
    }
}

/// A vCPU of a [`Vm`] (an index, in the order of [`Vm::add_vcpu`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VcpuId(pub usize);

struct Vcpu {
    raw: Box<UnsafeCell<ffi::vtime_vmm_vcpu>>,
    record: Option<PvclockSlot>,
}

/// A VM's clock state and its vCPUs. Methods taking `&mut self` are the
/// calls the C API wants serialised (the VMM's lock); `&self` methods are
/// pure or, like [`Vm::vcpu_rdtsc`], thread-safe.
pub struct Vm {
    raw: Box<UnsafeCell<ffi::vtime_vmm>>,
    vcpus: Vec<Vcpu>,
    vmclock: Option<VmclockSlot>,
    hv: Option<HvTscPageSlot>,
}

// The C structs are owned here and only reached through this type; the
// pages they point at are kept alive by the slots (whose memory is only
// accessed atomically).
unsafe impl Send for Vm {}
unsafe impl Sync for Vm {}

impl fmt::Debug for Vm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vm")
            .field("mode", &self.mode())
            .field("vcpus", &self.vcpus.len())
            .field("vmclock", &self.vmclock.is_some())
            .field("hv", &self.hv.is_some())
            .finish()
    }
}

fn zeroed<T>() -> Box<UnsafeCell<T>> {
    // Every field of the VMM structs is an integer, a bool, a struct of those
    // or a raw pointer: all zeros is a valid value.
    Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }))
}

impl Vm {
    /// vtime_vmm_init: a VM whose kvmclock reads 0 at `now`.
    pub fn new(cfg: &VmmConfig, now: &VmmNow) -> Result<Vm> {
        let raw = zeroed::<ffi::vtime_vmm>();
        check(unsafe { ffi::vtime_vmm_init(raw.get(), &cfg.raw(), now) })?;
        Ok(Vm { raw, vcpus: Vec::new(), vmclock: None, hv: None })
    }

    fn vm(&self) -> *mut ffi::vtime_vmm {
        self.raw.get()
    }

    fn vcpu(&self, id: VcpuId) -> Result<*mut ffi::vtime_vmm_vcpu> {
        self.vcpus.get(id.0).map(|v| v.raw.get()).ok_or(Error::INVAL)
    }

    fn vcpu_panicking(&self, id: VcpuId) -> *mut ffi::vtime_vmm_vcpu {
        self.vcpu(id).unwrap_or_else(|_| panic!("vtime: no vCPU {} in this VM", id.0))
    }

    /// The TSC mode in use (after Auto's choice).
    pub fn mode(&self) -> TscMode {
        TscMode::from_raw(unsafe { (*self.vm()).mode })
    }

    /// The rate the records carry.
    pub fn guest_hz(&self) -> u64 {
        unsafe { (*self.vm()).guest_hz }
    }

    /// The scaling ratio (Scaled mode).
    pub fn ratio(&self) -> u64 {
        unsafe { (*self.vm()).ratio }
    }

    pub fn paused(&self) -> bool {
        unsafe { (*self.vm()).paused }
    }

    /// The raw C struct (read-only).
    pub fn as_raw(&self) -> *const ffi::vtime_vmm {
        self.vm()
    }

    pub fn vcpu_count(&self) -> usize {
        self.vcpus.len()
    }

    /// kvmclock at host counter value `host_tsc` (vtime_vmm_clock).
    pub fn clock(&self, host_tsc: u64) -> u64 {
        unsafe { ffi::vtime_vmm_clock(self.vm(), host_tsc) }
    }

    /// KVM_SET_CLOCK: kvmclock reads `ns` at `now` (vtime_vmm_set_clock).
    pub fn set_clock(&mut self, now: &VmmNow, ns: u64) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_set_clock(self.vm(), now, ns) })
    }

    /// Re-anchors the master reference without a step (vtime_vmm_update_master).
    pub fn update_master(&mut self, now: &VmmNow) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_update_master(self.vm(), now) })
    }

    /// Adds a vCPU (no record yet, TSC unwritten) (vtime_vmm_vcpu_init).
    pub fn add_vcpu(&mut self) -> Result<VcpuId> {
        let raw = zeroed::<ffi::vtime_vmm_vcpu>();
        check(unsafe { ffi::vtime_vmm_vcpu_init(self.vm(), raw.get()) })?;
        self.vcpus.push(Vcpu { raw, record: None });
        Ok(VcpuId(self.vcpus.len() - 1))
    }

    /// Where the guest registered the vCPU's record (None: off). The VM keeps
    /// the slot (and its region) alive until it is replaced
    /// (vtime_vmm_vcpu_set_record).
    pub fn vcpu_set_record(&mut self, id: VcpuId, record: Option<PvclockSlot>) -> Result<()> {
        let v = self.vcpu(id)?;
        let p = record.as_ref().map_or(std::ptr::null_mut(), |s| s.as_ptr());
        check(unsafe { ffi::vtime_vmm_vcpu_set_record(v, p) })?;
        self.vcpus[id.0].record = record;
        Ok(())
    }

    /// The vCPU's registered record.
    pub fn vcpu_record(&self, id: VcpuId) -> Option<&PvclockSlot> {
        self.vcpus.get(id.0).and_then(|v| v.record.as_ref())
    }

    /// A write of the guest TSC; Ok(true) if it synchronised with the other
    /// vCPUs (KVM's 1-second rule) (vtime_vmm_vcpu_write_tsc).
    pub fn vcpu_write_tsc(&mut self, id: VcpuId, value: u64, now: &VmmNow, host_initiated: bool) -> Result<bool> {
        let v = self.vcpu(id)?;
        let mut synced = false;
        check(unsafe { ffi::vtime_vmm_vcpu_write_tsc(v, value, now, host_initiated, &mut synced) })?;
        Ok(synced)
    }

    /// Adopts an offset the hypervisor chose; Ok(true) if it joined the
    /// current generation (vtime_vmm_vcpu_adopt_offset).
    pub fn vcpu_adopt_offset(&mut self, id: VcpuId, offset: u64, now: &VmmNow) -> Result<bool> {
        let v = self.vcpu(id)?;
        let mut synced = false;
        check(unsafe { ffi::vtime_vmm_vcpu_adopt_offset(v, offset, now, &mut synced) })?;
        Ok(synced)
    }

    /// Guest TSC at `host_tsc` (vtime_vmm_vcpu_tsc). Panics on an unknown id.
    pub fn vcpu_tsc(&self, id: VcpuId, host_tsc: u64) -> u64 {
        unsafe { ffi::vtime_vmm_vcpu_tsc(self.vcpu_panicking(id), host_tsc) }
    }

    /// What a trapped RDTSC returns (never below an earlier one of the VM in
    /// emulated mode); thread-safe (vtime_vmm_vcpu_rdtsc). Panics on an
    /// unknown id.
    pub fn vcpu_rdtsc(&self, id: VcpuId, host_tsc: u64) -> u64 {
        unsafe { ffi::vtime_vmm_vcpu_rdtsc(self.vcpu_panicking(id), host_tsc) }
    }

    /// Every vCPU shares one TSC generation: records carry TSC_STABLE
    /// (vtime_vmm_stable).
    pub fn stable(&self) -> bool {
        unsafe { ffi::vtime_vmm_stable(self.vm()) }
    }

    /// The vCPU's record body for `now` (vtime_vmm_vcpu_compute).
    pub fn vcpu_compute(&mut self, id: VcpuId, now: &VmmNow) -> Result<PvclockRecord> {
        let v = self.vcpu(id)?;
        let mut body = ffi::vtime_pvclock_vcpu_time_info::default();
        check(unsafe { ffi::vtime_vmm_vcpu_compute(v, now, &mut body) })?;
        Ok(PvclockRecord::from_raw(&body))
    }

    /// Computes and publishes the vCPU's record; the new version
    /// (vtime_vmm_vcpu_publish).
    pub fn vcpu_publish(&mut self, id: VcpuId, now: &VmmNow) -> Result<u32> {
        let v = self.vcpu(id)?;
        let mut version = 0u32;
        check(unsafe { ffi::vtime_vmm_vcpu_publish(v, now, &mut version) })?;
        Ok(version)
    }

    /// Publishes every vCPU with a record, then the VMClock and Hyper-V pages
    /// (vtime_vmm_publish_all).
    pub fn publish_all(&mut self, now: &VmmNow) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_publish_all(self.vm(), now) })
    }

    /// Wall clock at kvmclock 0: (sec, nsec) (vtime_vmm_wall).
    pub fn wall(&self, now: &VmmNow) -> Result<(u32, u32)> {
        let (mut s, mut n) = (0u32, 0u32);
        check(unsafe { ffi::vtime_vmm_wall(self.vm(), now, &mut s, &mut n) })?;
        Ok((s, n))
    }

    /// Publishes the wall clock into `wc`; the new version (vtime_vmm_wall_publish).
    pub fn wall_publish(&self, wc: &WallClockSlot, now: &VmmNow) -> Result<u32> {
        let mut version = 0u32;
        check(unsafe { ffi::vtime_vmm_wall_publish(self.vm(), wc.as_ptr(), now, &mut version) })?;
        Ok(version)
    }

    /// vtime_vmm_pause.
    pub fn pause(&mut self, now: &VmmNow) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_pause(self.vm(), now) })
    }

    /// vtime_vmm_resume: publish before running the vCPUs again.
    pub fn resume(&mut self, now: &VmmNow, policy: ResumePolicy) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_resume(self.vm(), now, policy as u32) })
    }

    /// GUEST_STOPPED on the vCPU's next publish (vtime_vmm_vcpu_request_stopped).
    pub fn vcpu_request_stopped(&mut self, id: VcpuId) -> Result<()> {
        let v = self.vcpu(id)?;
        check(unsafe { ffi::vtime_vmm_vcpu_request_stopped(v) })
    }

    /// Attaches (Some) or detaches (None) the VM's VMClock page
    /// (vtime_vmm_vmclock_set_page); kept alive while attached.
    pub fn vmclock_set_page(&mut self, page: Option<VmclockSlot>) -> Result<()> {
        let (p, size) = page.as_ref().map_or((std::ptr::null_mut(), 0), |s| (s.as_ptr(), s.size() as u32));
        check(unsafe { ffi::vtime_vmm_vmclock_set_page(self.vm(), p, size) })?;
        self.vmclock = page;
        Ok(())
    }

    /// Re-syncs the VM's realtime view and records `status`
    /// (vtime_vmm_vmclock_sync).
    pub fn vmclock_sync(&mut self, now: &VmmNow, status: Option<&VmclockStatus>) -> Result<()> {
        let st = status.map_or(std::ptr::null(), |s| s as *const _);
        check(unsafe { ffi::vtime_vmm_vmclock_sync(self.vm(), now, st) })
    }

    /// Raises or clears DISRUPTION_SOON / _IMMINENT (vtime_vmm_vmclock_set_disruption).
    pub fn vmclock_set_disruption(&mut self, flags: u64) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_vmclock_set_disruption(self.vm(), flags) })
    }

    /// Publishes the VMClock page; the new seq_count (vtime_vmm_vmclock_publish).
    pub fn vmclock_publish(&mut self, now: &VmmNow) -> Result<u32> {
        let mut seq = 0u32;
        check(unsafe { ffi::vtime_vmm_vmclock_publish(self.vm(), now, &mut seq) })?;
        Ok(seq)
    }

    /// The guest enabled (Some) or disabled (None) its reference TSC page
    /// (vtime_vmm_hv_set_page); kept alive while set.
    pub fn hv_set_page(&mut self, page: Option<HvTscPageSlot>) -> Result<()> {
        let p = page.as_ref().map_or(std::ptr::null_mut(), |s| s.as_ptr());
        check(unsafe { ffi::vtime_vmm_hv_set_page(self.vm(), p) })?;
        self.hv = page;
        Ok(())
    }

    /// Publishes (or invalidates) the page; the sequence now on it (0:
    /// invalid) (vtime_vmm_hv_publish).
    pub fn hv_publish(&mut self, now: &VmmNow) -> Result<u32> {
        let mut seq = 0u32;
        check(unsafe { ffi::vtime_vmm_hv_publish(self.vm(), now, &mut seq) })?;
        Ok(seq)
    }

    /// HV_X64_MSR_TIME_REF_COUNT at `host_tsc` (vtime_vmm_hv_ref_count).
    pub fn hv_ref_count(&self, host_tsc: u64) -> u64 {
        unsafe { ffi::vtime_vmm_hv_ref_count(self.vm(), host_tsc) }
    }

    /// The VM part of a saved state (vtime_vmm_save).
    pub fn save(&self, now: &VmmNow) -> Result<VmmState> {
        let mut st = VmmState::default();
        check(unsafe { ffi::vtime_vmm_save(self.vm(), now, &mut st) })?;
        Ok(st)
    }

    /// A vCPU's part (vtime_vmm_vcpu_save).
    pub fn vcpu_save(&self, id: VcpuId, now: &VmmNow) -> Result<VcpuState> {
        let v = self.vcpu(id)?;
        let mut st = VcpuState::default();
        check(unsafe { ffi::vtime_vmm_vcpu_save(v, now, &mut st) })?;
        Ok(st)
    }

    /// The whole state: the VM's and each vCPU's.
    pub fn save_all(&self, now: &VmmNow) -> Result<(VmmState, Vec<VcpuState>)> {
        let st = self.save(now)?;
        let vcpus = (0..self.vcpus.len()).map(|i| self.vcpu_save(VcpuId(i), now)).collect::<Result<Vec<_>>>()?;
        Ok((st, vcpus))
    }

    /// Restore into this freshly created VM (vtime_vmm_restore); then add the
    /// vCPUs and restore each ([`Vm::vcpu_restore`]).
    pub fn restore(&mut self, st: &VmmState, now: &VmmNow, policy: ResumePolicy, kind: RestoreKind) -> Result<()> {
        check(unsafe { ffi::vtime_vmm_restore(self.vm(), st, now, policy as u32, kind as u32) })
    }

    /// vtime_vmm_vcpu_restore; Ok(true) if the vCPU joined the others' TSC.
    pub fn vcpu_restore(&mut self, id: VcpuId, st: &VcpuState, now: &VmmNow) -> Result<bool> {
        let v = self.vcpu(id)?;
        let mut synced = false;
        check(unsafe { ffi::vtime_vmm_vcpu_restore(v, st, now, &mut synced) })?;
        Ok(synced)
    }
}

impl StateImage for VmmState {
    fn image_len(&self) -> usize {
        ffi::VTIME_VMM_STATE_BYTES
    }
    fn encode_into(&self, buf: &mut [u8]) -> Result<usize> {
        check(unsafe { ffi::vtime_vmm_state_encode(self, buf.as_mut_ptr().cast(), buf.len()) })?;
        Ok(ffi::VTIME_VMM_STATE_BYTES)
    }
    fn decode(buf: &[u8]) -> Result<Self> {
        let mut st = VmmState::default();
        check(unsafe { ffi::vtime_vmm_state_decode(&mut st, buf.as_ptr().cast(), buf.len()) })?;
        Ok(st)
    }
}

impl StateImage for VcpuState {
    fn image_len(&self) -> usize {
        ffi::VTIME_VMM_VCPU_STATE_BYTES
    }
    fn encode_into(&self, buf: &mut [u8]) -> Result<usize> {
        check(unsafe { ffi::vtime_vmm_vcpu_state_encode(self, buf.as_mut_ptr().cast(), buf.len()) })?;
        Ok(ffi::VTIME_VMM_VCPU_STATE_BYTES)
    }
    fn decode(buf: &[u8]) -> Result<Self> {
        let mut st = VcpuState::default();
        check(unsafe { ffi::vtime_vmm_vcpu_state_decode(&mut st, buf.as_ptr().cast(), buf.len()) })?;
        Ok(st)
    }
}
