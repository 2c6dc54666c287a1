// SPDX-License-Identifier: MIT
//! Every struct of vtime-sys against the C compiler's layout (csrc/layout.c,
//! generated from the headers): sizes, and each field's offset and size.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use vtime_sys::*;

fn size_of_pointee<T>(_: *const T) -> usize {
    std::mem::size_of::<T>()
}

fn c_layout() -> BTreeMap<(String, String), (usize, usize)> {
    let mut m = BTreeMap::new();
    unsafe {
        let mut p = layout::vtime_sys_layout.as_ptr();
        while !(*p).type_.is_null() {
            let t = CStr::from_ptr((*p).type_).to_str().unwrap().to_string();
            let f = CStr::from_ptr((*p).field).to_str().unwrap().to_string();
            m.insert((t, f), ((*p).offset, (*p).size));
            p = p.add(1);
        }
    }
    m
}

macro_rules! check {
    ($seen:ident, $t:ident { $($f:ident),* }) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        let mut v: Vec<(String, usize, usize)> = vec![("sizeof".to_string(), 0, std::mem::size_of::<$t>())];
        $(
            let p = unsafe { std::ptr::addr_of!((*base).$f) };
            v.push((stringify!($f).to_string(), p as usize - base as usize, size_of_pointee(p)));
        )*
        for (f, off, size) in v {
            $seen.push((stringify!($t).to_string(), f, off, size));
        }
    }};
}

#[test]
fn every_struct_matches_c() {
    let c = c_layout();
    let mut seen: Vec<(String, String, usize, usize)> = Vec::new();
    check!(seen, vtime_pvclock_vcpu_time_info { version, pad0, tsc_timestamp, system_time, tsc_to_system_mul, tsc_shift, flags, pad });
    check!(seen, vtime_pvclock_wall_clock { version, sec, nsec });
    check!(seen, vtime_pvclock_reading { ns, tsc, version, flags });
    check!(seen, vtime_scale { mul, shift });
    check!(seen, vtime_counter { read, ctx });
    check!(seen, vtime_vmclock_abi { magic, size, version, counter_id, time_type, seq_count, disruption_marker, flags, pad, clock_status, leap_second_smearing_hint, tai_offset_sec, leap_indicator, counter_period_shift, counter_value, counter_period_frac_sec, counter_period_esterror_rate_frac_sec, counter_period_maxerror_rate_frac_sec, time_sec, time_frac_sec, time_esterror_nanosec, time_maxerror_nanosec, vm_generation_counter });
    check!(seen, vtime_vmclock_reading { counter, sec, nsec, valid, tai_sec, utc_sec, maxerror_ns, esterror_ns, disruption_marker, vm_generation_counter, flags, seq, tai_offset_sec, time_type, clock_status, leap_indicator, counter_id, pad });
    check!(seen, vtime_hv_tsc_page { tsc_sequence, reserved1, tsc_scale, tsc_offset, reserved2 });
    check!(seen, vtime_hv_tsc_reading { time, tsc, tsc_scale, tsc_offset, sequence, pad });
    check!(seen, vtime_vmm_now { host_tsc, host_ns, realtime_ns });
    check!(seen, vtime_vmm_config { host_hz, guest_hz, mode, hw_scaling, frac_bits, tolerance_ppm, reserved });
    check!(seen, vtime_vmm { host_hz, guest_hz, ratio, mode, frac_bits, host_to_ns, guest_to_ns, ns_to_guest, master_tsc, master_ns, master_emu, last_tsc_write, last_tsc_ns, last_tsc_hz, cur_tsc_offset, cur_tsc_write, cur_tsc_ns, cur_gen, nr_in_gen, nr_vcpus, vcpus, emu_last, paused, pause_ns, restore_elapsed_ns, rt_offset_ns, vmclock, vmclock_body, vmclock_err, vmclock_sync_ns, vmclock_disruption, vmclock_floor, vmclock_events, vmclock_floor_pending, hv_valid, hv_seq, hv_page, hv_scale, hv_offset, reserved });
    check!(seen, vtime_vmm_vcpu { vm, next, tsc_offset, this_write, this_ns, gen, written, stop_request, min_pending, min_version, rec, reserved });
    check!(seen, vtime_vmm_vmclock_status { time_maxerror_ns, time_esterror_ns, period_maxerror_ppb, period_esterror_ppb, flags, tai_offset_sec, clock_status, leap_indicator, pad });
    check!(seen, vtime_vmm_state { kvmclock_ns, realtime_ns, guest_hz, host_hz, nr_vcpus, mode, vmclock_marker, vmclock_generation, hv_sequence, flags, reserved });
    check!(seen, vtime_vmm_vcpu_state { guest_tsc, version, flags, reserved });
    check!(seen, vtime_ticks { period, next_due, next_inject, backlog, backlog_rem, cap, due, delivered, dropped, coalesced, sub, policy, rate, inject_open, pad, reserved });
    check!(seen, vtime_ticks_result { deliver, pad, dropped, next });
    check!(seen, vtime_ticks_counters { due, delivered, dropped, backlog, coalesced, reserved });
    check!(seen, vtime_ticks_state { policy, rate, period, cap, due_in, inject_in, backlog, backlog_rem, due, delivered, dropped, coalesced, reserved });
    check!(seen, vtime_ticks_guest { period, last, ticks, reserved });
    check!(seen, vtime_clamp { last, flags, pad0, pad });
    check!(seen, vtime_clamp_local { last });
    check!(seen, vtime_calib_sample { counter, ref_ns, cost_ns });
    check!(seen, vtime_calib_config { hz_hint, hint_ppm, max_slew_ppm, step_ns, discont_ns, slew_tc_ns, window_ns, counter, reserved });
    check!(seen, vtime_calib_line { base_counter, base_ns, mul, shift, pad });
    check!(seen, vtime_calib_stats { samples_used, samples_rejected, refits, steps, discontinuities, trend_cuts, last_step_ns, offset_ns, error_ns, hz, freq_unc_ppb, slew_ppb, reserved });
    check!(seen, vtime_calib { seq, pad0, base_counter, base_ns, scale, pad1, lock, pad2, cfg, st, freq_q40, unc_ppb, prior_q40, prior_unc_ppb, cost_floor, gap_ns, prev_ref, prev_counter, base_frac, noise_ns, n, flags, ring, reserved });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_clock_info { source, source_name, forced, why, freq_source, nominal_hz, freq_hz, freq_ppm, tracking_error_ns, recal_interval_ns, recalibrations, steps, fallbacks, fallback_reason, init_ns, page_stable, counter, kernel_rate_known, kernel_rate_ppm, rate_changes, probe_interval_ns, realtime_unc_ns, realtime_steps, reserved });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_bounded { earliest_ns, latest_ns, status, source });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_interval { earliest_ns, latest_ns });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_bounded_info { source, status, why, vmclock, page_watch, half_width_ns, kernel_maxerror_ns, kernel_esterror_ns, kernel_age_ns, kernel_status, tai_offset_s, track_ns, vmclock_maxerror_ns, disruptions, generations, realtime_steps, reserved });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_hv_host_page { page, addr, mapping, sequence, pad, tsc_scale, tsc_offset, tsc_hz, err, why, reserved });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_vmclock_dev { clk, size, fd, err, path, why, reserved });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_host_page { rec, addr, mapping, nrecords, err, why, reserved });
    #[cfg(target_os = "linux")]
    check!(seen, vtime_machine { arch, hypervisor, hv_signature, hv_max_leaf, kvm, kvm_features, kvm_clocksource, kvm_stable_bit, hv_tsc_hz, hv_apic_hz, invariant_tsc, rdtscp, cpuid15, cpuid15_hz, cpuid16_mhz, arch_counter_hz, cpuinfo_khz, clocksource, clocksources, ncpus, page, page_hz, page_flags, counter, arch_counter_hz_source, reserved });
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    check!(seen, vtime_kvm_clock { clock_ns, realtime_ns, host_tsc, flags, reserved0, reserved });
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    check!(seen, vtime_kvm_save_vcpu { tsc, system_time, tsc_khz, version, reserved });
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    check!(seen, vtime_kvm_save { nr_vcpus, clock_flags, clock_ns, realtime_ns, wall_clock, reserved, vcpu });
    assert!(c.len() > 300, "the C table has {} entries", c.len());
    for (t, f, off, size) in &seen {
        let key = (t.clone(), f.clone());
        let cv = c.get(&key).unwrap_or_else(|| panic!("{}.{}: not in the C table (regenerate?)", t, f));
        assert_eq!((*off, *size), *cv, "{}.{}: Rust (offset, size) vs C", t, f);
    }
    for key in c.keys() {
        assert!(seen.iter().any(|(t, f, _, _)| (t, f) == (&key.0, &key.1)), "{}.{}: C has it, the test does not", key.0, key.1);
    }
}
