// SPDX-License-Identifier: MIT
//! Raw declarations of include/vtime/*.h. Prefer the safe wrappers in the crate root.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

/// struct vtime_pvclock_vcpu_time_info (32 bytes, fields in host byte order
/// when copied out; little-endian in shared memory).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct vtime_pvclock_wall_clock {
    pub version: u32,
    pub sec: u32,
    pub nsec: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct vtime_pvclock_reading {
    pub ns: u64,
    pub tsc: u64,
    pub version: u32,
    pub flags: u8,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct vtime_scale {
    pub mul: u32,
    pub shift: i8,
}

pub type vtime_counter_fn = unsafe extern "C" fn(ctx: *mut c_void) -> u64;

#[repr(C)]
pub struct vtime_counter {
    pub read: Option<vtime_counter_fn>,
    pub ctx: *mut c_void,
}

extern "C" {
    pub fn vtime_strerror(err: c_int) -> *const c_char;
    pub fn vtime_version_string() -> *const c_char;

    pub fn vtime_scale_init(s: *mut vtime_scale, from_hz: u64, to_hz: u64) -> c_int;
    pub fn vtime_scale_apply(s: *const vtime_scale, delta: u64) -> u64;
    pub fn vtime_scale_source_hz(s: *const vtime_scale) -> u64;

    pub fn vtime_tsc_ratio_init(ratio: *mut u64, guest_khz: u64, host_khz: u64, frac_bits: c_uint) -> c_int;
    pub fn vtime_tsc_ratio_apply(tsc: u64, ratio: u64, frac_bits: c_uint) -> u64;

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
}
