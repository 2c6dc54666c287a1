// SPDX-License-Identifier: MIT
//! linux.h: counter hooks, the host pvclock page, the machine probe.

use crate::counter::MachineCounter;
use crate::{c_array_str, check, ffi, static_str, Error, PvclockRecord, Reading, Result};

/// Which counter hook [`counter_get`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum CounterKind {
    /// rdtsc / cntvct_el0 / rdtime, unordered.
    Raw = ffi::VTIME_COUNTER_RAW,
    /// lfence;rdtsc / isb;cntvct_el0: for seqlock readers.
    Ordered = ffi::VTIME_COUNTER_ORDERED,
    /// rdtscp (x86 only).
    Rdtscp = ffi::VTIME_COUNTER_RDTSCP,
}

/// A hook reading this machine's counter (vtime_counter_get); Error::NOTSUP
/// when the CPU lacks it.
pub fn counter_get(kind: CounterKind) -> Result<MachineCounter> {
    let mut c = ffi::vtime_counter::default();
    check(unsafe { ffi::vtime_counter_get(kind as u32, &mut c) })?;
    // The library's hooks take no context and run on any thread.
    Ok(unsafe { MachineCounter::from_raw(c) })
}

/// An ordered counter read and the CPU it ran on (None where the
/// architecture cannot tell) (vtime_counter_read_cpu).
pub fn counter_read_cpu() -> (u64, Option<u32>) {
    let mut cpu: std::os::raw::c_int = -1;
    let v = unsafe { ffi::vtime_counter_read_cpu(&mut cpu) };
    (v, if cpu >= 0 { Some(cpu as u32) } else { None })
}

/// The kvmclock page the kernel maps read-only into every process.
#[derive(Clone, Debug)]
pub struct HostPage {
    raw: ffi::vtime_host_page,
}

// The page is mapped for the life of the process and only read atomically.
unsafe impl Send for HostPage {}
unsafe impl Sync for HostPage {}

impl HostPage {
    /// Finds and probes the page without a fault (vtime_host_page_find); the
    /// error comes with the library's one-sentence reason.
    pub fn find() -> std::result::Result<HostPage, (Error, String)> {
        let mut hp: ffi::vtime_host_page = unsafe { std::mem::zeroed() };
        let e = unsafe { ffi::vtime_host_page_find(&mut hp) };
        if e < 0 {
            return Err((Error::from_code(e), c_array_str(&hp.why)));
        }
        Ok(HostPage { raw: hp })
    }

    pub fn address(&self) -> usize {
        self.raw.addr
    }

    /// "[vvar_vclock]" or "[vvar]".
    pub fn mapping(&self) -> &'static str {
        static_str(self.raw.mapping)
    }

    /// Leading records that hold a published record.
    pub fn nrecords(&self) -> u32 {
        self.raw.nrecords
    }

    fn record(&self, cpu: u32) -> Result<*const ffi::vtime_pvclock_vcpu_time_info> {
        let mut rec: *const ffi::vtime_pvclock_vcpu_time_info = std::ptr::null();
        check(unsafe { ffi::vtime_host_page_record(&self.raw, cpu, &mut rec) })?;
        Ok(rec)
    }

    /// A consistent copy of CPU `cpu`'s record (vtime_host_page_record, then
    /// vtime_pvclock_snapshot).
    pub fn snapshot(&self, cpu: u32) -> Result<PvclockRecord> {
        let rec = self.record(cpu)?;
        let mut out = ffi::vtime_pvclock_vcpu_time_info::default();
        check(unsafe { ffi::vtime_pvclock_snapshot(rec, 0, &mut out) })?;
        Ok(PvclockRecord::from_raw(&out))
    }

    /// Reads CPU `cpu`'s record with the ordered counter (run it on that CPU
    /// for a meaningful value unless the record is TSC_STABLE).
    pub fn read(&self, cpu: u32) -> Result<Reading> {
        let rec = self.record(cpu)?;
        let mut ctr = counter_get(CounterKind::Ordered)?;
        let mut out = ffi::vtime_pvclock_reading::default();
        check(crate::Counter::with_raw(&mut ctr, |c| unsafe { ffi::vtime_pvclock_read(rec, c, 0, &mut out) }))?;
        Ok(Reading { ns: out.ns, tsc: out.tsc, version: out.version, flags: out.flags })
    }
}

/// What this machine offers (vtime_machine_probe; what `vtime status` shows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    pub arch: String,
    pub hypervisor: bool,
    pub hv_signature: String,
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
    pub arch_counter_hz_source: Option<String>,
    pub cpuinfo_khz: u64,
    pub clocksource: String,
    pub clocksources: String,
    pub ncpus: i64,
    /// The host pvclock page, or why there is none.
    pub page: std::result::Result<(String, u32), String>,
    pub page_hz: u64,
    pub page_flags: u8,
    pub counter: String,
}

/// vtime_machine_probe.
pub fn machine_probe() -> Result<Machine> {
    let mut m: ffi::vtime_machine = unsafe { std::mem::zeroed() };
    check(unsafe { ffi::vtime_machine_probe(&mut m) })?;
    Ok(Machine {
        arch: static_str(m.arch).to_string(),
        hypervisor: m.hypervisor,
        hv_signature: c_array_str(&m.hv_signature),
        hv_max_leaf: m.hv_max_leaf,
        kvm: m.kvm,
        kvm_features: m.kvm_features,
        kvm_clocksource: m.kvm_clocksource,
        kvm_stable_bit: m.kvm_stable_bit,
        hv_tsc_hz: m.hv_tsc_hz,
        hv_apic_hz: m.hv_apic_hz,
        invariant_tsc: m.invariant_tsc,
        rdtscp: m.rdtscp,
        cpuid15: m.cpuid15,
        cpuid15_hz: m.cpuid15_hz,
        cpuid16_mhz: m.cpuid16_mhz,
        arch_counter_hz: m.arch_counter_hz,
        arch_counter_hz_source: if m.arch_counter_hz_source.is_null() {
            None
        } else {
            Some(static_str(m.arch_counter_hz_source).to_string())
        },
        cpuinfo_khz: m.cpuinfo_khz,
        clocksource: c_array_str(&m.clocksource),
        clocksources: c_array_str(&m.clocksources),
        ncpus: m.ncpus as i64,
        page: if m.page.rec.is_null() {
            Err(c_array_str(&m.page.why))
        } else {
            Ok((static_str(m.page.mapping).to_string(), m.page.nrecords))
        },
        page_hz: m.page_hz,
        page_flags: m.page_flags,
        counter: static_str(m.counter).to_string(),
    })
}

// The userspace VMClock and Hyper-V page sources (and their probes) will be
// wrapped here when they land in <vtime/linux.h>.
