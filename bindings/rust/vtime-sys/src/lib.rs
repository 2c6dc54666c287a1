// SPDX-License-Identifier: MIT
//! Raw FFI to libvtime: every function and struct of `include/vtime/*.h`,
//! named as in C. The safe API is the `vtime` crate. The build script
//! compiles the library from the vtime tree this crate ships with, statically
//! (feature `system`: the installed library through pkg-config).
//!
//! Pointers to shared records (`volatile` in C) are raw pointers here: all
//! accesses to live records must go through these functions.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};
#[cfg(target_os = "linux")]
use std::os::raw::c_long;

// ---- error.h ----
pub const VTIME_OK: c_int = 0;
pub const VTIME_EINVAL: c_int = -1;
pub const VTIME_EAGAIN: c_int = -2;
pub const VTIME_ERANGE: c_int = -3;
pub const VTIME_ENOTSUP: c_int = -4;
pub const VTIME_ENODEV: c_int = -5;
pub const VTIME_EPROTO: c_int = -6;
pub const VTIME_ENODATA: c_int = -7;
pub const VTIME_EIO: c_int = -8;
pub const VTIME_EBUSY: c_int = -9;
pub const VTIME_ENOMEM: c_int = -10;
pub const VTIME_ESTATE: c_int = -11;
pub const VTIME_ENOCOUNTER: c_int = -12;
pub const VTIME_EUNRELIABLE: c_int = -13;
pub const VTIME_ENOTVALID: c_int = -14;
pub const VTIME_MAX_TRIES: c_uint = 1024;

// ---- counter.h ----
pub type vtime_counter_fn = unsafe extern "C" fn(ctx: *mut c_void) -> u64;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_counter {
    pub read: Option<vtime_counter_fn>,
    pub ctx: *mut c_void,
}

impl Default for vtime_counter {
    fn default() -> Self {
        vtime_counter { read: None, ctx: std::ptr::null_mut() }
    }
}

// ---- scale.h, tsc.h ----
pub const VTIME_NSEC_PER_SEC: u64 = 1_000_000_000;
pub const VTIME_TSC_FRAC_BITS_VMX: c_uint = 48;
pub const VTIME_TSC_FRAC_BITS_SVM: c_uint = 32;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_scale {
    pub mul: u32,
    pub shift: i8,
}

// ---- pvclock.h ----
pub const VTIME_PVCLOCK_TSC_STABLE: u8 = 0x01;
pub const VTIME_PVCLOCK_GUEST_STOPPED: u8 = 0x02;
pub const VTIME_PVCLOCK_COUNTS_FROM_ZERO: u8 = 0x04;
pub const VTIME_PVCLOCK_RECORD_STRIDE: usize = 64;
pub const VTIME_PVCLOCK_SHIFT_MIN: i8 = -12;
pub const VTIME_PVCLOCK_SHIFT_MAX: i8 = 20;
pub const VTIME_PVCLOCK_HZ_MIN: u64 = 954;
pub const VTIME_PVCLOCK_HZ_MAX: u64 = 8_192_000_008_191;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_pvclock_vcpu_time_info {
    pub version: u32,
    pub pad0: u32,
    pub tsc_timestamp: u64,
    pub system_time: u64,
    pub tsc_to_system_mul: u32,
    pub tsc_shift: i8,
    pub flags: u8,
    pub pad: [u8; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_pvclock_wall_clock {
    pub version: u32,
    pub sec: u32,
    pub nsec: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_pvclock_reading {
    pub ns: u64,
    pub tsc: u64,
    pub version: u32,
    pub flags: u8,
}

// ---- vmclock.h ----
pub const VTIME_VMCLOCK_MAGIC: u32 = 0x4b4c_4356;
pub const VTIME_VMCLOCK_VERSION: u16 = 1;
pub const VTIME_VMCLOCK_ABI_SIZE: u32 = 0x70;
pub const VTIME_VMCLOCK_COUNTER_ARM_VCNT: u8 = 0;
pub const VTIME_VMCLOCK_COUNTER_X86_TSC: u8 = 1;
pub const VTIME_VMCLOCK_COUNTER_INVALID: u8 = 0xff;
pub const VTIME_VMCLOCK_TIME_UTC: u8 = 0;
pub const VTIME_VMCLOCK_TIME_TAI: u8 = 1;
pub const VTIME_VMCLOCK_TIME_MONOTONIC: u8 = 2;
pub const VTIME_VMCLOCK_TIME_INVALID_SMEARED: u8 = 3;
pub const VTIME_VMCLOCK_TIME_INVALID_MAYBE_SMEARED: u8 = 4;
pub const VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID: u64 = 1 << 0;
pub const VTIME_VMCLOCK_FLAG_DISRUPTION_SOON: u64 = 1 << 1;
pub const VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT: u64 = 1 << 2;
pub const VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID: u64 = 1 << 3;
pub const VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID: u64 = 1 << 4;
pub const VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID: u64 = 1 << 5;
pub const VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID: u64 = 1 << 6;
pub const VTIME_VMCLOCK_FLAG_TIME_MONOTONIC: u64 = 1 << 7;
pub const VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT: u64 = 1 << 8;
pub const VTIME_VMCLOCK_FLAG_NOTIFICATION_PRESENT: u64 = 1 << 9;
pub const VTIME_VMCLOCK_STATUS_UNKNOWN: u8 = 0;
pub const VTIME_VMCLOCK_STATUS_INITIALIZING: u8 = 1;
pub const VTIME_VMCLOCK_STATUS_SYNCHRONIZED: u8 = 2;
pub const VTIME_VMCLOCK_STATUS_FREERUNNING: u8 = 3;
pub const VTIME_VMCLOCK_STATUS_UNRELIABLE: u8 = 4;
pub const VTIME_VMCLOCK_SMEARING_STRICT: u8 = 0;
pub const VTIME_VMCLOCK_SMEARING_NOON_LINEAR: u8 = 1;
pub const VTIME_VMCLOCK_SMEARING_UTC_SLS: u8 = 2;
pub const VTIME_VMCLOCK_LEAP_NONE: u8 = 0;
pub const VTIME_VMCLOCK_LEAP_PRE_POS: u8 = 1;
pub const VTIME_VMCLOCK_LEAP_PRE_NEG: u8 = 2;
pub const VTIME_VMCLOCK_LEAP_POS: u8 = 3;
pub const VTIME_VMCLOCK_LEAP_POST_POS: u8 = 4;
pub const VTIME_VMCLOCK_LEAP_POST_NEG: u8 = 5;
pub const VTIME_VMCLOCK_UNKNOWN: u64 = u64::MAX;
pub const VTIME_VMCLOCK_HAVE_TAI: u32 = 0x1;
pub const VTIME_VMCLOCK_HAVE_UTC: u32 = 0x2;
pub const VTIME_VMCLOCK_EV_DISRUPTED: c_uint = 0x1;
pub const VTIME_VMCLOCK_EV_NEW_GENERATION: c_uint = 0x2;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmclock_abi {
    pub magic: u32,
    pub size: u32,
    pub version: u16,
    pub counter_id: u8,
    pub time_type: u8,
    pub seq_count: u32,
    pub disruption_marker: u64,
    pub flags: u64,
    pub pad: [u8; 2],
    pub clock_status: u8,
    pub leap_second_smearing_hint: u8,
    pub tai_offset_sec: i16,
    pub leap_indicator: u8,
    pub counter_period_shift: u8,
    pub counter_value: u64,
    pub counter_period_frac_sec: u64,
    pub counter_period_esterror_rate_frac_sec: u64,
    pub counter_period_maxerror_rate_frac_sec: u64,
    pub time_sec: u64,
    pub time_frac_sec: u64,
    pub time_esterror_nanosec: u64,
    pub time_maxerror_nanosec: u64,
    pub vm_generation_counter: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmclock_reading {
    pub counter: u64,
    pub sec: u64,
    pub nsec: u32,
    pub valid: u32,
    pub tai_sec: u64,
    pub utc_sec: u64,
    pub maxerror_ns: u64,
    pub esterror_ns: u64,
    pub disruption_marker: u64,
    pub vm_generation_counter: u64,
    pub flags: u64,
    pub seq: u32,
    pub tai_offset_sec: i16,
    pub time_type: u8,
    pub clock_status: u8,
    pub leap_indicator: u8,
    pub counter_id: u8,
    pub pad: [u8; 6],
}

// ---- hyperv.h ----
pub const VTIME_HV_TSC_PAGE_SIZE: usize = 4096;
pub const VTIME_HV_TSC_SEQUENCE_INVALID: u32 = 0;
pub const VTIME_HV_REF_HZ: u64 = 10_000_000;
pub const VTIME_HV_CPUID_VENDOR: u32 = 0x4000_0000;
pub const VTIME_HV_CPUID_INTERFACE: u32 = 0x4000_0001;
pub const VTIME_HV_CPUID_FEATURES: u32 = 0x4000_0003;
pub const VTIME_HV_SIGNATURE_EBX: u32 = 0x7263_694d;
pub const VTIME_HV_SIGNATURE_ECX: u32 = 0x666f_736f;
pub const VTIME_HV_SIGNATURE_EDX: u32 = 0x7648_2074;
pub const VTIME_HV_INTERFACE_HV1: u32 = 0x3123_7648;
pub const VTIME_HV_ACCESS_TIME_REF_COUNT: u32 = 1 << 1;
pub const VTIME_HV_ACCESS_REFERENCE_TSC: u32 = 1 << 9;
pub const VTIME_HV_ACCESS_FREQUENCY_MSRS: u32 = 1 << 11;
pub const VTIME_HV_X64_MSR_TIME_REF_COUNT: u32 = 0x4000_0020;
pub const VTIME_HV_X64_MSR_REFERENCE_TSC: u32 = 0x4000_0021;
pub const VTIME_HV_X64_MSR_TSC_FREQUENCY: u32 = 0x4000_0022;
pub const VTIME_HV_MSR_REFERENCE_TSC_ENABLE: u64 = 1;
pub const VTIME_HV_MSR_REFERENCE_TSC_PFN_SHIFT: u32 = 12;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct vtime_hv_tsc_page {
    pub tsc_sequence: u32,
    pub reserved1: u32,
    pub tsc_scale: u64,
    pub tsc_offset: i64,
    pub reserved2: [u64; 509],
}

impl Default for vtime_hv_tsc_page {
    fn default() -> Self {
        vtime_hv_tsc_page { tsc_sequence: 0, reserved1: 0, tsc_scale: 0, tsc_offset: 0, reserved2: [0; 509] }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_hv_tsc_reading {
    pub time: u64,
    pub tsc: u64,
    pub tsc_scale: u64,
    pub tsc_offset: i64,
    pub sequence: u32,
    pub pad: u32,
}

// ---- vmm.h ----
pub type vtime_vmm_tsc_mode = c_uint;
pub const VTIME_VMM_TSC_AUTO: vtime_vmm_tsc_mode = 0;
pub const VTIME_VMM_TSC_NATIVE: vtime_vmm_tsc_mode = 1;
pub const VTIME_VMM_TSC_SCALED: vtime_vmm_tsc_mode = 2;
pub const VTIME_VMM_TSC_CATCHUP: vtime_vmm_tsc_mode = 3;
pub const VTIME_VMM_TSC_EMULATED: vtime_vmm_tsc_mode = 4;
pub type vtime_resume_policy = c_uint;
pub const VTIME_RESUME_FREEZE: vtime_resume_policy = 0;
pub const VTIME_RESUME_ADVANCE: vtime_resume_policy = 1;
pub type vtime_vmm_restore_kind = c_uint;
pub const VTIME_VMM_RESTORE_SNAPSHOT: vtime_vmm_restore_kind = 0;
pub const VTIME_VMM_RESTORE_MIGRATION: vtime_vmm_restore_kind = 1;
pub const VTIME_VMM_STATE_MAGIC: u32 = 0x4d56_5456;
pub const VTIME_VMM_STATE_VERSION: u32 = 2;
pub const VTIME_VMM_STATE_BYTES: usize = 80;
pub const VTIME_VMM_STATE_V1_BYTES: usize = 56;
pub const VTIME_VMM_VCPU_STATE_MAGIC: u32 = 0x4356_5456;
pub const VTIME_VMM_VCPU_STATE_VERSION: u32 = 1;
pub const VTIME_VMM_VCPU_STATE_BYTES: usize = 32;
pub const VTIME_VMM_STATE_VMCLOCK: u32 = 0x1;
pub const VTIME_VMM_STATE_HV: u32 = 0x2;
pub const VTIME_VMM_VCPU_STATE_RECORD: u32 = 0x1;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmm_now {
    pub host_tsc: u64,
    pub host_ns: u64,
    pub realtime_ns: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmm_config {
    pub host_hz: u64,
    pub guest_hz: u64,
    pub mode: vtime_vmm_tsc_mode,
    pub hw_scaling: bool,
    pub frac_bits: c_uint,
    pub tolerance_ppm: u32,
    pub reserved: [u64; 4],
}

/// The VM's clock state. Fields are the library's; a VM and its vCPUs
/// point at each other: neither may move once vtime_vmm_vcpu_init() linked them.
#[repr(C)]
#[derive(Debug)]
pub struct vtime_vmm {
    pub host_hz: u64,
    pub guest_hz: u64,
    pub ratio: u64,
    pub mode: u32,
    pub frac_bits: c_uint,
    pub host_to_ns: vtime_scale,
    pub guest_to_ns: vtime_scale,
    pub ns_to_guest: vtime_scale,
    pub master_tsc: u64,
    pub master_ns: u64,
    pub master_emu: u64,
    pub last_tsc_write: u64,
    pub last_tsc_ns: u64,
    pub last_tsc_hz: u64,
    pub cur_tsc_offset: u64,
    pub cur_tsc_write: u64,
    pub cur_tsc_ns: u64,
    pub cur_gen: u32,
    pub nr_in_gen: c_uint,
    pub nr_vcpus: c_uint,
    pub vcpus: *mut vtime_vmm_vcpu,
    pub emu_last: u64,
    pub paused: bool,
    pub pause_ns: u64,
    pub restore_elapsed_ns: u64,
    pub rt_offset_ns: u64,
    pub vmclock: *mut vtime_vmclock_abi,
    pub vmclock_body: vtime_vmclock_abi,
    pub vmclock_err: [u64; 4],
    pub vmclock_sync_ns: u64,
    pub vmclock_disruption: u64,
    pub vmclock_floor: [u64; 2],
    pub vmclock_events: c_uint,
    pub vmclock_floor_pending: bool,
    pub hv_valid: bool,
    pub hv_seq: u32,
    pub hv_page: *mut vtime_hv_tsc_page,
    pub hv_scale: u64,
    pub hv_offset: i64,
    pub reserved: [u64; 16],
}

#[repr(C)]
#[derive(Debug)]
pub struct vtime_vmm_vcpu {
    pub vm: *mut vtime_vmm,
    pub next: *mut vtime_vmm_vcpu,
    pub tsc_offset: u64,
    pub this_write: u64,
    pub this_ns: u64,
    pub gen: u32,
    pub written: bool,
    pub stop_request: bool,
    pub min_pending: bool,
    pub min_version: u32,
    pub rec: *mut vtime_pvclock_vcpu_time_info,
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmm_vmclock_status {
    pub time_maxerror_ns: u64,
    pub time_esterror_ns: u64,
    pub period_maxerror_ppb: u64,
    pub period_esterror_ppb: u64,
    pub flags: u64,
    pub tai_offset_sec: i16,
    pub clock_status: u8,
    pub leap_indicator: u8,
    pub pad: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmm_state {
    pub kvmclock_ns: u64,
    pub realtime_ns: u64,
    pub guest_hz: u64,
    pub host_hz: u64,
    pub nr_vcpus: u32,
    pub mode: u32,
    pub vmclock_marker: u64,
    pub vmclock_generation: u64,
    pub hv_sequence: u32,
    pub flags: u32,
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_vmm_vcpu_state {
    pub guest_tsc: u64,
    pub version: u32,
    pub flags: u32,
    pub reserved: [u64; 2],
}

// ---- ticks.h ----
pub type vtime_ticks_policy = c_uint;
pub const VTIME_TICKS_DISCARD: vtime_ticks_policy = 0;
pub const VTIME_TICKS_DELAY: vtime_ticks_policy = 1;
pub const VTIME_TICKS_SLEW: vtime_ticks_policy = 2;
pub const VTIME_TICKS_RATE_DEFAULT: u32 = 4;
pub const VTIME_TICKS_RATE_MAX: u32 = 256;
pub const VTIME_TICKS_PERIOD_MAX: u64 = 0x7fff_ffff_ffff_ffff;
pub const VTIME_TICKS_STATE_MAGIC: u32 = 0x4b54_5456;
pub const VTIME_TICKS_STATE_VERSION: u32 = 1;
pub const VTIME_TICKS_STATE_BYTES: usize = 104;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_ticks {
    pub period: u64,
    pub next_due: u64,
    pub next_inject: u64,
    pub backlog: u64,
    pub backlog_rem: u64,
    pub cap: u64,
    pub due: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub coalesced: u64,
    pub sub: u64,
    pub policy: u32,
    pub rate: u32,
    pub inject_open: u32,
    pub pad: u32,
    pub reserved: [u64; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_ticks_result {
    pub deliver: u32,
    pub pad: u32,
    pub dropped: u64,
    pub next: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_ticks_counters {
    pub due: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub backlog: u64,
    pub coalesced: u64,
    pub reserved: [u64; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_ticks_state {
    pub policy: u32,
    pub rate: u32,
    pub period: u64,
    pub cap: u64,
    pub due_in: u64,
    pub inject_in: u64,
    pub backlog: u64,
    pub backlog_rem: u64,
    pub due: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub coalesced: u64,
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_ticks_guest {
    pub period: u64,
    pub last: u64,
    pub ticks: u64,
    pub reserved: u64,
}

// ---- clamp.h ----
pub const VTIME_CLAMP_TRUST_STABLE: c_uint = 0x1;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_clamp {
    pub last: u64,
    pub flags: u32,
    pub pad0: u32,
    pub pad: [u64; 6],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_clamp_local {
    pub last: u64,
}

// ---- calib.h ----
pub const VTIME_CALIB_EV_USED: c_uint = 0x01;
pub const VTIME_CALIB_EV_REJECTED: c_uint = 0x02;
pub const VTIME_CALIB_EV_REFIT: c_uint = 0x04;
pub const VTIME_CALIB_EV_STEP: c_uint = 0x08;
pub const VTIME_CALIB_EV_DISCONT: c_uint = 0x10;
pub const VTIME_CALIB_EV_FIRST: c_uint = 0x20;
pub const VTIME_CALIB_RING: usize = 32;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_calib_sample {
    pub counter: u64,
    pub ref_ns: u64,
    pub cost_ns: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct vtime_calib_config {
    pub hz_hint: u64,
    pub hint_ppm: u32,
    pub max_slew_ppm: u32,
    pub step_ns: u64,
    pub discont_ns: u64,
    pub slew_tc_ns: u64,
    pub window_ns: u64,
    pub counter: vtime_counter,
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_calib_line {
    pub base_counter: u64,
    pub base_ns: u64,
    pub mul: u32,
    pub shift: i8,
    pub pad: [u8; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_calib_stats {
    pub samples_used: u64,
    pub samples_rejected: u64,
    pub refits: u64,
    pub steps: u64,
    pub discontinuities: u64,
    pub trend_cuts: u64,
    pub last_step_ns: u64,
    pub offset_ns: i64,
    pub error_ns: u64,
    pub hz: u64,
    pub freq_unc_ppb: u64,
    pub slew_ppb: i64,
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_calib {
    pub seq: u32,
    pub pad0: u32,
    pub base_counter: u64,
    pub base_ns: u64,
    pub scale: u64,
    pub pad1: [u64; 4],
    pub lock: u64,
    pub pad2: [u64; 7],
    pub cfg: vtime_calib_config,
    pub st: vtime_calib_stats,
    pub freq_q40: u64,
    pub unc_ppb: u64,
    pub prior_q40: u64,
    pub prior_unc_ppb: u64,
    pub cost_floor: u64,
    pub gap_ns: u64,
    pub prev_ref: u64,
    pub prev_counter: u64,
    pub base_frac: u64,
    pub noise_ns: u64,
    pub n: u32,
    pub flags: u32,
    pub ring: [vtime_calib_sample; VTIME_CALIB_RING],
    pub reserved: [u64; 8],
}

// ---- clock.h, linux.h (Linux) ----
#[cfg(target_os = "linux")]
pub type vtime_source = c_uint;
#[cfg(target_os = "linux")]
pub const VTIME_SOURCE_NONE: vtime_source = 0;
#[cfg(target_os = "linux")]
pub const VTIME_SOURCE_TSC: vtime_source = 1;
#[cfg(target_os = "linux")]
pub const VTIME_SOURCE_PVCLOCK: vtime_source = 2;
#[cfg(target_os = "linux")]
pub const VTIME_SOURCE_CLOCK_GETTIME: vtime_source = 3;

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_clock_info {
    pub source: vtime_source,
    pub source_name: *const c_char,
    pub forced: bool,
    pub why: [c_char; 192],
    pub freq_source: *const c_char,
    pub nominal_hz: u64,
    pub freq_hz: f64,
    pub freq_ppm: f64,
    pub tracking_error_ns: i64,
    pub recal_interval_ns: u64,
    pub recalibrations: u64,
    pub steps: u64,
    pub fallbacks: u64,
    pub fallback_reason: [c_char; 192],
    pub init_ns: u64,
    pub page_stable: bool,
    pub counter: *const c_char,
    pub kernel_rate_known: bool,
    pub kernel_rate_ppm: f64,
    pub rate_changes: u64,
    pub probe_interval_ns: u64,
    pub realtime_unc_ns: u64,
    pub realtime_steps: u64,
    pub reserved: [u64; 8],
}

#[cfg(target_os = "linux")]
pub type vtime_bound_status = c_uint;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_UNKNOWN: vtime_bound_status = 0;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_SYNCHRONIZED: vtime_bound_status = 1;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_FREE_RUNNING: vtime_bound_status = 2;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_DISRUPTED: vtime_bound_status = 3;
#[cfg(target_os = "linux")]
pub type vtime_bound_source = c_uint;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_SOURCE_NONE: vtime_bound_source = 0;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_SOURCE_VMCLOCK: vtime_bound_source = 1;
#[cfg(target_os = "linux")]
pub const VTIME_BOUND_SOURCE_KERNEL: vtime_bound_source = 2;

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_bounded {
    pub earliest_ns: u64,
    pub latest_ns: u64,
    pub status: u32,
    pub source: u32,
}

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_interval {
    pub earliest_ns: u64,
    pub latest_ns: u64,
}

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_bounded_info {
    pub source: u32,
    pub status: u32,
    pub why: [c_char; 192],
    pub vmclock: *const c_char,
    pub page_watch: *const c_char,
    pub half_width_ns: u64,
    pub kernel_maxerror_ns: u64,
    pub kernel_esterror_ns: u64,
    pub kernel_age_ns: u64,
    pub kernel_status: i64,
    pub tai_offset_s: i64,
    pub track_ns: u64,
    pub vmclock_maxerror_ns: u64,
    pub disruptions: u64,
    pub generations: u64,
    pub realtime_steps: u64,
    pub reserved: [u64; 8],
}

#[cfg(target_os = "linux")]
pub type vtime_counter_kind = c_uint;
#[cfg(target_os = "linux")]
pub const VTIME_COUNTER_RAW: vtime_counter_kind = 0;
#[cfg(target_os = "linux")]
pub const VTIME_COUNTER_ORDERED: vtime_counter_kind = 1;
#[cfg(target_os = "linux")]
pub const VTIME_COUNTER_RDTSCP: vtime_counter_kind = 2;
#[cfg(target_os = "linux")]
pub const VTIME_HOST_PAGE_MAX_CPUS: c_uint = 64;

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_host_page {
    pub rec: *const vtime_pvclock_vcpu_time_info,
    pub addr: usize,
    pub mapping: *const c_char,
    pub nrecords: c_uint,
    pub err: c_int,
    pub why: [c_char; 192],
    pub reserved: [u64; 4],
}

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_hv_host_page {
    pub page: *const vtime_hv_tsc_page,
    pub addr: usize,
    pub mapping: *const c_char,
    pub sequence: u32,
    pub pad: u32,
    pub tsc_scale: u64,
    pub tsc_offset: i64,
    pub tsc_hz: u64,
    pub err: c_int,
    pub why: [c_char; 192],
    pub reserved: [u64; 4],
}

/// VTIME_VMCLOCK_DEV_PATH, NUL-terminated.
#[cfg(target_os = "linux")]
pub const VTIME_VMCLOCK_DEV_PATH: &[u8] = b"/dev/vmclock0\0";

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_vmclock_dev {
    pub clk: *const vtime_vmclock_abi,
    pub size: usize,
    pub fd: c_int,
    pub err: c_int,
    pub path: [c_char; 64],
    pub why: [c_char; 192],
    pub reserved: [u64; 4],
}

#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct vtime_machine {
    pub arch: *const c_char,
    pub hypervisor: bool,
    pub hv_signature: [c_char; 13],
    pub hv_max_leaf: u32,
    pub kvm: bool,
    pub kvm_features: u32,
    pub kvm_clocksource: bool,
    pub kvm_stable_bit: bool,
    pub hv_tsc_hz: u64,
    pub hv_apic_hz: u64,
    pub invariant_tsc: bool,
    pub rdtscp: bool,
    pub cpuid15: [u32; 3],
    pub cpuid15_hz: u64,
    pub cpuid16_mhz: u32,
    pub arch_counter_hz: u64,
    pub cpuinfo_khz: u64,
    pub clocksource: [c_char; 32],
    pub clocksources: [c_char; 128],
    pub ncpus: c_long,
    pub page: vtime_host_page,
    pub page_hz: u64,
    pub page_flags: u8,
    pub counter: *const c_char,
    pub arch_counter_hz_source: *const c_char,
    pub reserved: [u64; 16 - (2 * std::mem::size_of::<*const c_char>() + 7) / 8],
}

// ---- kvm.h (x86-64 Linux) ----
pub const VTIME_KVM_CLOCK_TSC_STABLE: u32 = 2;
pub const VTIME_KVM_CLOCK_REALTIME: u32 = 4;
pub const VTIME_KVM_CLOCK_HOST_TSC: u32 = 8;
pub const VTIME_KVM_MSR_WALL_CLOCK: u32 = 0x11;
pub const VTIME_KVM_MSR_SYSTEM_TIME: u32 = 0x12;
pub const VTIME_KVM_MSR_WALL_CLOCK_NEW: u32 = 0x4b56_4d00;
pub const VTIME_KVM_MSR_SYSTEM_TIME_NEW: u32 = 0x4b56_4d01;
pub const VTIME_KVM_SYSTEM_TIME_ENABLE: u64 = 1;
pub const VTIME_MSR_IA32_TSC: u32 = 0x10;
pub const VTIME_KVM_SAVE_MAX_VCPUS: usize = 64;
pub const VTIME_KVM_SAVE_MAGIC: u32 = 0x4b4d_5456;
pub const VTIME_KVM_SAVE_VERSION: u32 = 1;
/// VTIME_KVM_SAVE_BYTES(nr_vcpus)
pub const fn vtime_kvm_save_bytes(nr_vcpus: usize) -> usize {
    48 + 24 * nr_vcpus
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_kvm_clock {
    pub clock_ns: u64,
    pub realtime_ns: u64,
    pub host_tsc: u64,
    pub flags: u32,
    pub reserved0: u32,
    pub reserved: [u64; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct vtime_kvm_save_vcpu {
    pub tsc: u64,
    pub system_time: u64,
    pub tsc_khz: u32,
    pub version: u32,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct vtime_kvm_save {
    pub nr_vcpus: u32,
    pub clock_flags: u32,
    pub clock_ns: u64,
    pub realtime_ns: u64,
    pub wall_clock: u64,
    pub reserved: [u64; 4],
    pub vcpu: [vtime_kvm_save_vcpu; VTIME_KVM_SAVE_MAX_VCPUS],
}

impl Default for vtime_kvm_save {
    fn default() -> Self {
        vtime_kvm_save {
            nr_vcpus: 0,
            clock_flags: 0,
            clock_ns: 0,
            realtime_ns: 0,
            wall_clock: 0,
            reserved: [0; 4],
            vcpu: [vtime_kvm_save_vcpu::default(); VTIME_KVM_SAVE_MAX_VCPUS],
        }
    }
}

extern "C" {
    // error.h, version.h
    pub fn vtime_strerror(err: c_int) -> *const c_char;
    pub fn vtime_version_string() -> *const c_char;

    // scale.h, tsc.h
    pub fn vtime_scale_init(s: *mut vtime_scale, from_hz: u64, to_hz: u64) -> c_int;
    pub fn vtime_scale_apply(s: *const vtime_scale, delta: u64) -> u64;
    pub fn vtime_scale_source_hz(s: *const vtime_scale) -> u64;
    pub fn vtime_tsc_ratio_init(ratio: *mut u64, guest_khz: u64, host_khz: u64, frac_bits: c_uint) -> c_int;
    pub fn vtime_tsc_ratio_apply(tsc: u64, ratio: u64, frac_bits: c_uint) -> u64;

    // pvclock.h
    pub fn vtime_pvclock_time(rec: *const vtime_pvclock_vcpu_time_info, tsc: u64) -> u64;
    pub fn vtime_pvclock_read(
        rec: *const vtime_pvclock_vcpu_time_info,
        ctr: *const vtime_counter,
        max_tries: c_uint,
        out: *mut vtime_pvclock_reading,
    ) -> c_int;
    pub fn vtime_pvclock_snapshot(
        rec: *const vtime_pvclock_vcpu_time_info,
        max_tries: c_uint,
        out: *mut vtime_pvclock_vcpu_time_info,
    ) -> c_int;
    pub fn vtime_pvclock_publish(
        rec: *mut vtime_pvclock_vcpu_time_info,
        body: *const vtime_pvclock_vcpu_time_info,
    ) -> u32;
    pub fn vtime_pvclock_consume_stopped(rec: *mut vtime_pvclock_vcpu_time_info) -> bool;
    pub fn vtime_pvclock_wall_publish(wc: *mut vtime_pvclock_wall_clock, sec: u32, nsec: u32) -> u32;
    pub fn vtime_pvclock_wall_read(
        wc: *const vtime_pvclock_wall_clock,
        max_tries: c_uint,
        sec: *mut u32,
        nsec: *mut u32,
    ) -> c_int;
    pub fn vtime_pvclock_wall_ns(sec: u32, nsec: u32, kvmclock_ns: u64) -> u64;

    // vmclock.h
    pub fn vtime_vmclock_check(clk: *const vtime_vmclock_abi, region_size: usize) -> c_int;
    pub fn vtime_vmclock_snapshot(clk: *const vtime_vmclock_abi, max_tries: c_uint, out: *mut vtime_vmclock_abi)
        -> c_int;
    pub fn vtime_vmclock_usable(snap: *const vtime_vmclock_abi) -> c_int;
    pub fn vtime_vmclock_time(snap: *const vtime_vmclock_abi, counter: u64, sec: *mut u64, nsec: *mut u32) -> c_int;
    pub fn vtime_vmclock_maxerror(snap: *const vtime_vmclock_abi, counter: u64) -> u64;
    pub fn vtime_vmclock_esterror(snap: *const vtime_vmclock_abi, counter: u64) -> u64;
    pub fn vtime_vmclock_convert(snap: *const vtime_vmclock_abi, counter: u64, out: *mut vtime_vmclock_reading)
        -> c_int;
    pub fn vtime_vmclock_read(
        clk: *const vtime_vmclock_abi,
        ctr: *const vtime_counter,
        max_tries: c_uint,
        out: *mut vtime_vmclock_reading,
    ) -> c_int;
    pub fn vtime_vmclock_init(clk: *mut vtime_vmclock_abi, size: u32, counter_id: u8, time_type: u8) -> c_int;
    pub fn vtime_vmclock_set_period(body: *mut vtime_vmclock_abi, hz: u64, maxerror_ppb: u64, esterror_ppb: u64)
        -> c_int;
    pub fn vtime_vmclock_set_time(
        body: *mut vtime_vmclock_abi,
        counter: u64,
        sec: u64,
        nsec: u32,
        maxerror_ns: u64,
        esterror_ns: u64,
    ) -> c_int;
    pub fn vtime_vmclock_publish(clk: *mut vtime_vmclock_abi, body: *const vtime_vmclock_abi, events: c_uint) -> u32;

    // hyperv.h
    pub fn vtime_hv_tsc_page_time(tsc_scale: u64, tsc_offset: i64, tsc: u64) -> u64;
    pub fn vtime_hv_tsc_page_read(
        page: *const vtime_hv_tsc_page,
        ctr: *const vtime_counter,
        max_tries: c_uint,
        out: *mut vtime_hv_tsc_reading,
    ) -> c_int;
    pub fn vtime_hv_tsc_page_snapshot(page: *const vtime_hv_tsc_page, max_tries: c_uint, out: *mut vtime_hv_tsc_reading)
        -> c_int;
    pub fn vtime_hv_tsc_page_from_pvclock(
        rec: *const vtime_pvclock_vcpu_time_info,
        tsc_scale: *mut u64,
        tsc_offset: *mut i64,
    ) -> c_int;
    pub fn vtime_hv_tsc_page_publish(page: *mut vtime_hv_tsc_page, tsc_scale: u64, tsc_offset: i64, last: u32) -> u32;
    pub fn vtime_hv_tsc_page_invalidate(page: *mut vtime_hv_tsc_page, last: u32) -> u32;

    // vmm.h
    pub fn vtime_vmm_init(vm: *mut vtime_vmm, cfg: *const vtime_vmm_config, now: *const vtime_vmm_now) -> c_int;
    pub fn vtime_vmm_clock(vm: *const vtime_vmm, host_tsc: u64) -> u64;
    pub fn vtime_vmm_set_clock(vm: *mut vtime_vmm, now: *const vtime_vmm_now, ns: u64) -> c_int;
    pub fn vtime_vmm_update_master(vm: *mut vtime_vmm, now: *const vtime_vmm_now) -> c_int;
    pub fn vtime_vmm_vcpu_init(vm: *mut vtime_vmm, vcpu: *mut vtime_vmm_vcpu) -> c_int;
    pub fn vtime_vmm_vcpu_set_record(vcpu: *mut vtime_vmm_vcpu, rec: *mut vtime_pvclock_vcpu_time_info) -> c_int;
    pub fn vtime_vmm_vcpu_write_tsc(
        vcpu: *mut vtime_vmm_vcpu,
        value: u64,
        now: *const vtime_vmm_now,
        host_initiated: bool,
        synced: *mut bool,
    ) -> c_int;
    pub fn vtime_vmm_vcpu_adopt_offset(
        vcpu: *mut vtime_vmm_vcpu,
        offset: u64,
        now: *const vtime_vmm_now,
        synced: *mut bool,
    ) -> c_int;
    pub fn vtime_vmm_vcpu_tsc(vcpu: *const vtime_vmm_vcpu, host_tsc: u64) -> u64;
    pub fn vtime_vmm_vcpu_rdtsc(vcpu: *mut vtime_vmm_vcpu, host_tsc: u64) -> u64;
    pub fn vtime_vmm_stable(vm: *const vtime_vmm) -> bool;
    pub fn vtime_vmm_vcpu_compute(
        vcpu: *mut vtime_vmm_vcpu,
        now: *const vtime_vmm_now,
        body: *mut vtime_pvclock_vcpu_time_info,
    ) -> c_int;
    pub fn vtime_vmm_vcpu_publish(vcpu: *mut vtime_vmm_vcpu, now: *const vtime_vmm_now, version: *mut u32) -> c_int;
    pub fn vtime_vmm_publish_all(vm: *mut vtime_vmm, now: *const vtime_vmm_now) -> c_int;
    pub fn vtime_vmm_wall(vm: *const vtime_vmm, now: *const vtime_vmm_now, sec: *mut u32, nsec: *mut u32) -> c_int;
    pub fn vtime_vmm_wall_publish(
        vm: *const vtime_vmm,
        wc: *mut vtime_pvclock_wall_clock,
        now: *const vtime_vmm_now,
        version: *mut u32,
    ) -> c_int;
    pub fn vtime_vmm_pause(vm: *mut vtime_vmm, now: *const vtime_vmm_now) -> c_int;
    pub fn vtime_vmm_resume(vm: *mut vtime_vmm, now: *const vtime_vmm_now, policy: vtime_resume_policy) -> c_int;
    pub fn vtime_vmm_vcpu_request_stopped(vcpu: *mut vtime_vmm_vcpu) -> c_int;
    pub fn vtime_vmm_vmclock_set_page(vm: *mut vtime_vmm, page: *mut vtime_vmclock_abi, size: u32) -> c_int;
    pub fn vtime_vmm_vmclock_sync(
        vm: *mut vtime_vmm,
        now: *const vtime_vmm_now,
        status: *const vtime_vmm_vmclock_status,
    ) -> c_int;
    pub fn vtime_vmm_vmclock_set_disruption(vm: *mut vtime_vmm, flags: u64) -> c_int;
    pub fn vtime_vmm_vmclock_publish(vm: *mut vtime_vmm, now: *const vtime_vmm_now, seq: *mut u32) -> c_int;
    pub fn vtime_vmm_hv_set_page(vm: *mut vtime_vmm, page: *mut vtime_hv_tsc_page) -> c_int;
    pub fn vtime_vmm_hv_publish(vm: *mut vtime_vmm, now: *const vtime_vmm_now, sequence: *mut u32) -> c_int;
    pub fn vtime_vmm_hv_ref_count(vm: *const vtime_vmm, host_tsc: u64) -> u64;
    pub fn vtime_vmm_save(vm: *const vtime_vmm, now: *const vtime_vmm_now, st: *mut vtime_vmm_state) -> c_int;
    pub fn vtime_vmm_vcpu_save(
        vcpu: *const vtime_vmm_vcpu,
        now: *const vtime_vmm_now,
        st: *mut vtime_vmm_vcpu_state,
    ) -> c_int;
    pub fn vtime_vmm_restore(
        vm: *mut vtime_vmm,
        st: *const vtime_vmm_state,
        now: *const vtime_vmm_now,
        policy: vtime_resume_policy,
        kind: vtime_vmm_restore_kind,
    ) -> c_int;
    pub fn vtime_vmm_vcpu_restore(
        vcpu: *mut vtime_vmm_vcpu,
        st: *const vtime_vmm_vcpu_state,
        now: *const vtime_vmm_now,
        synced: *mut bool,
    ) -> c_int;
    pub fn vtime_vmm_state_encode(st: *const vtime_vmm_state, buf: *mut c_void, len: usize) -> c_int;
    pub fn vtime_vmm_state_decode(st: *mut vtime_vmm_state, buf: *const c_void, len: usize) -> c_int;
    pub fn vtime_vmm_vcpu_state_encode(st: *const vtime_vmm_vcpu_state, buf: *mut c_void, len: usize) -> c_int;
    pub fn vtime_vmm_vcpu_state_decode(st: *mut vtime_vmm_vcpu_state, buf: *const c_void, len: usize) -> c_int;

    // ticks.h
    pub fn vtime_ticks_init(t: *mut vtime_ticks, period_ns: u64, policy: vtime_ticks_policy, now: u64) -> c_int;
    pub fn vtime_ticks_set_catchup(t: *mut vtime_ticks, rate: u32, cap: u64) -> c_int;
    pub fn vtime_ticks_update(t: *mut vtime_ticks, now: u64, prev_acked: bool, res: *mut vtime_ticks_result) -> c_int;
    pub fn vtime_ticks_set_period(t: *mut vtime_ticks, now: u64, period_ns: u64) -> c_int;
    pub fn vtime_ticks_counters(t: *const vtime_ticks, c: *mut vtime_ticks_counters) -> c_int;
    pub fn vtime_ticks_save(t: *const vtime_ticks, now: u64, st: *mut vtime_ticks_state) -> c_int;
    pub fn vtime_ticks_restore(t: *mut vtime_ticks, st: *const vtime_ticks_state, now: u64) -> c_int;
    pub fn vtime_ticks_state_encode(st: *const vtime_ticks_state, buf: *mut c_void, len: usize) -> c_int;
    pub fn vtime_ticks_state_decode(st: *mut vtime_ticks_state, buf: *const c_void, len: usize) -> c_int;
    pub fn vtime_ticks_guest_init(g: *mut vtime_ticks_guest, period: u64, now: u64) -> c_int;
    pub fn vtime_ticks_guest_account(g: *mut vtime_ticks_guest, now: u64, into: *mut u64) -> u64;
    pub fn vtime_ticks_guest_set_period(g: *mut vtime_ticks_guest, now: u64, period: u64) -> c_int;

    // clamp.h
    pub fn vtime_clamp_init(c: *mut vtime_clamp, start: u64, flags: c_uint) -> c_int;
    pub fn vtime_clamp_apply(c: *mut vtime_clamp, t: u64) -> u64;
    pub fn vtime_clamp_apply_stable(c: *mut vtime_clamp, t: u64, source_stable: bool) -> u64;
    pub fn vtime_clamp_last(c: *const vtime_clamp) -> u64;
    pub fn vtime_clamp_reset(c: *mut vtime_clamp, start: u64);
    pub fn vtime_clamp_local_init(l: *mut vtime_clamp_local, start: u64) -> c_int;
    pub fn vtime_clamp_local_apply(l: *mut vtime_clamp_local, t: u64) -> u64;

    // calib.h
    pub fn vtime_calib_config_default(cfg: *mut vtime_calib_config) -> c_int;
    pub fn vtime_calib_init(e: *mut vtime_calib, cfg: *const vtime_calib_config) -> c_int;
    pub fn vtime_calib_feed(e: *mut vtime_calib, s: *const vtime_calib_sample, events: *mut c_uint) -> c_int;
    pub fn vtime_calib_read(e: *const vtime_calib, ctr: *const vtime_counter, ns: *mut u64) -> c_int;
    pub fn vtime_calib_line_get(e: *const vtime_calib, out: *mut vtime_calib_line) -> c_int;
    pub fn vtime_calib_line_apply(l: *const vtime_calib_line, counter: u64) -> u64;
    pub fn vtime_calib_stats_get(e: *const vtime_calib, out: *mut vtime_calib_stats) -> c_int;
}

#[cfg(target_os = "linux")]
extern "C" {
    // clock.h
    pub fn vtime_now_ns() -> u64;
    pub fn vtime_realtime_ns() -> u64;
    pub fn vtime_counter_now() -> u64;
    pub fn vtime_counter_to_ns(counter: u64) -> u64;
    pub fn vtime_clock_info(info: *mut vtime_clock_info) -> c_int;
    pub fn vtime_bounded_now() -> vtime_bounded;
    pub fn vtime_bounded_tai_now() -> vtime_bounded;
    pub fn vtime_interval_now(status: *mut u32) -> vtime_interval;
    pub fn vtime_interval_tai_now(status: *mut u32) -> vtime_interval;
    pub fn vtime_bounded_after(b: *const vtime_bounded, t_ns: u64) -> bool;
    pub fn vtime_bounded_before(b: *const vtime_bounded, t_ns: u64) -> bool;
    pub fn vtime_bounded_info(info: *mut vtime_bounded_info) -> c_int;

    // linux.h
    pub fn vtime_counter_get(kind: vtime_counter_kind, out: *mut vtime_counter) -> c_int;
    pub fn vtime_counter_read_cpu(cpu: *mut c_int) -> u64;
    pub fn vtime_host_page_find(hp: *mut vtime_host_page) -> c_int;
    pub fn vtime_host_page_record(
        hp: *const vtime_host_page,
        cpu: c_uint,
        rec: *mut *const vtime_pvclock_vcpu_time_info,
    ) -> c_int;
    pub fn vtime_machine_probe(m: *mut vtime_machine) -> c_int;
    pub fn vtime_hv_host_page_find(hp: *mut vtime_hv_host_page) -> c_int;
    pub fn vtime_vmclock_dev_open(dev: *mut vtime_vmclock_dev, path: *const c_char) -> c_int;
    pub fn vtime_vmclock_dev_read(dev: *const vtime_vmclock_dev, out: *mut vtime_vmclock_abi) -> c_int;
    pub fn vtime_vmclock_dev_wait(dev: *const vtime_vmclock_dev, timeout_ms: c_int) -> c_int;
    pub fn vtime_vmclock_dev_close(dev: *mut vtime_vmclock_dev) -> c_int;
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
extern "C" {
    // kvm.h
    pub fn vtime_kvm_clock_get(vm_fd: c_int, out: *mut vtime_kvm_clock) -> c_int;
    pub fn vtime_kvm_clock_set(vm_fd: c_int, clock_ns: u64, realtime_ns: u64) -> c_int;
    pub fn vtime_kvm_clock_ctrl(vcpu_fd: c_int) -> c_int;
    pub fn vtime_kvm_tsc_khz_get(vcpu_fd: c_int, khz: *mut u32) -> c_int;
    pub fn vtime_kvm_tsc_khz_set(vcpu_fd: c_int, khz: u32) -> c_int;
    pub fn vtime_kvm_tsc_offset_get(vcpu_fd: c_int, offset: *mut u64) -> c_int;
    pub fn vtime_kvm_tsc_offset_set(vcpu_fd: c_int, offset: u64) -> c_int;
    pub fn vtime_kvm_msr_get(vcpu_fd: c_int, index: u32, value: *mut u64) -> c_int;
    pub fn vtime_kvm_msr_set(vcpu_fd: c_int, index: u32, value: u64) -> c_int;
    pub fn vtime_kvm_save_encode(save: *const vtime_kvm_save, buf: *mut c_void, len: usize, used: *mut usize)
        -> c_int;
    pub fn vtime_kvm_save_decode(save: *mut vtime_kvm_save, buf: *const c_void, len: usize) -> c_int;
    pub fn vtime_kvm_save_clock(
        vm_fd: c_int,
        vcpu_fds: *const c_int,
        nr_vcpus: c_uint,
        mem: *const c_void,
        mem_size: usize,
        out: *mut vtime_kvm_save,
    ) -> c_int;
    pub fn vtime_kvm_restore_clock(
        vm_fd: c_int,
        vcpu_fds: *const c_int,
        nr_vcpus: c_uint,
        mem: *mut c_void,
        mem_size: usize,
        save: *const vtime_kvm_save,
        policy: vtime_resume_policy,
    ) -> c_int;
    pub fn vtime_kvm_guest_record(
        mem: *mut c_void,
        mem_size: usize,
        gpa: u64,
        rec: *mut *mut vtime_pvclock_vcpu_time_info,
    ) -> c_int;
    pub fn vtime_kvm_guest_record_read(
        mem: *const c_void,
        mem_size: usize,
        msr: u64,
        out: *mut vtime_pvclock_vcpu_time_info,
    ) -> c_int;
}

/// The C compiler's view of every public struct (csrc/layout.c, generated by
/// scripts/gen-layout): for layout tests, here and in the `vtime` crate.
pub mod layout {
    use std::os::raw::c_char;

    #[repr(C)]
    pub struct Entry {
        pub type_: *const c_char,
        pub field: *const c_char,
        pub offset: usize,
        pub size: usize,
    }

    extern "C" {
        /// Terminated by an entry whose `type_` is NULL.
        pub static vtime_sys_layout: [Entry; 0];
    }
}
