// SPDX-License-Identifier: MIT
//! linux.h: counter hooks, the host pvclock and Hyper-V pages, the VMClock
//! device, the machine probe.

use crate::counter::MachineCounter;
use crate::counter::Counter;
use crate::vmclock::{VmclockAbi, VmclockReading};
use crate::{c_array_str, check, ffi, static_str, Error, HvReading, PvclockRecord, Reading, Result};
use std::ffi::CString;
use std::path::Path;
use std::time::Duration;

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

/// The Hyper-V reference TSC page the kernel maps read-only into every
/// process once its clocksource has been the Hyper-V TSC page.
#[derive(Clone, Debug)]
pub struct HvHostPage {
    raw: ffi::vtime_hv_host_page,
}

// The page is mapped for the life of the process and only read atomically.
unsafe impl Send for HvHostPage {}
unsafe impl Sync for HvHostPage {}

impl HvHostPage {
    /// Finds and probes the page without a fault (vtime_hv_host_page_find).
    /// A page that is mapped and backed but marked invalid (sequence 0 or
    /// 0xFFFFFFFF, the kernel reads HV_X64_MSR_TIME_REF_COUNT meanwhile) is
    /// found, with [`valid`](Self::valid) false, so it can be watched; every
    /// other failure is an error with the library's one-sentence reason.
    pub fn find() -> std::result::Result<HvHostPage, (Error, String)> {
        let mut hp: ffi::vtime_hv_host_page = unsafe { std::mem::zeroed() };
        let e = unsafe { ffi::vtime_hv_host_page_find(&mut hp) };
        if e < 0 && e != ffi::VTIME_ENOTVALID {
            return Err((Error::from_code(e), c_array_str(&hp.why)));
        }
        Ok(HvHostPage { raw: hp })
    }

    /// Whether the page held a valid (scale, offset) when probed.
    pub fn valid(&self) -> bool {
        self.raw.err == 0
    }

    /// Why the page is invalid ("" when valid).
    pub fn why(&self) -> String {
        c_array_str(&self.raw.why)
    }

    pub fn address(&self) -> usize {
        self.raw.addr
    }

    /// "[vvar_vclock]" or "[vvar]".
    pub fn mapping(&self) -> &'static str {
        static_str(self.raw.mapping)
    }

    /// tsc_sequence when probed (0: invalid).
    pub fn sequence(&self) -> u32 {
        self.raw.sequence
    }

    /// (scale, offset) when probed, None if invalid.
    pub fn scale_offset(&self) -> Option<(u64, i64)> {
        if self.valid() {
            Some((self.raw.tsc_scale, self.raw.tsc_offset))
        } else {
            None
        }
    }

    /// The TSC frequency the scale gives, None if invalid.
    pub fn tsc_hz(&self) -> Option<u64> {
        if self.valid() && self.raw.tsc_hz != 0 {
            Some(self.raw.tsc_hz)
        } else {
            None
        }
    }

    /// Scale, offset and sequence now (vtime_hv_tsc_page_snapshot);
    /// Error::NOTVALID while the page is invalid.
    pub fn snapshot(&self, max_tries: u32) -> Result<HvReading> {
        let mut out = HvReading::default();
        check(unsafe { ffi::vtime_hv_tsc_page_snapshot(self.raw.page, max_tries, &mut out) })?;
        Ok(out)
    }

    /// Reads the page with the ordered counter (vtime_hv_tsc_page_read):
    /// reference time in 100 ns units.
    pub fn read(&self, max_tries: u32) -> Result<HvReading> {
        let mut ctr = counter_get(CounterKind::Ordered)?;
        let mut out = HvReading::default();
        check(ctr.with_raw(|c| unsafe { ffi::vtime_hv_tsc_page_read(self.raw.page, c, max_tries, &mut out) }))?;
        Ok(out)
    }
}

/// The default VMClock device, "/dev/vmclock0".
pub const VMCLOCK_DEV_PATH: &str = "/dev/vmclock0";

/// An open VMClock device (Linux's ptp_vmclock driver, 6.13+) with its page
/// mapped read-only; closed and unmapped on drop. A regular file holding a
/// page laid out by vtime's writer opens too (for tests), without
/// notifications.
#[derive(Debug)]
pub struct VmclockDevice {
    raw: ffi::vtime_vmclock_dev,
}

// The mapping is read-only and read with the seqlock; read(2) and poll(2)
// on the descriptor are thread-safe.
unsafe impl Send for VmclockDevice {}
unsafe impl Sync for VmclockDevice {}

impl VmclockDevice {
    /// Opens `path` (None: [`VMCLOCK_DEV_PATH`]) and maps its page
    /// (vtime_vmclock_dev_open): Error::NODEV (no device, or no VMClock
    /// magic), NOTSUP (another version), PROTO (too small), IO (open or
    /// mmap refused), INVAL (a path of 64 bytes or more, or with a NUL),
    /// with the library's one-sentence reason.
    pub fn open(path: Option<&Path>) -> std::result::Result<VmclockDevice, (Error, String)> {
        let c = match path {
            None => None,
            Some(p) => {
                use std::os::unix::ffi::OsStrExt;
                match CString::new(p.as_os_str().as_bytes()) {
                    Ok(c) => Some(c),
                    Err(_) => return Err((Error::INVAL, "the path holds a NUL byte".to_string())),
                }
            }
        };
        let mut d: ffi::vtime_vmclock_dev = unsafe { std::mem::zeroed() };
        let e = unsafe { ffi::vtime_vmclock_dev_open(&mut d, c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) };
        if e < 0 {
            return Err((Error::from_code(e), c_array_str(&d.why)));
        }
        Ok(VmclockDevice { raw: d })
    }

    /// The device opened.
    pub fn path(&self) -> String {
        c_array_str(&self.raw.path)
    }

    /// Bytes mapped (one page).
    pub fn size(&self) -> usize {
        self.raw.size
    }

    /// The mapped page, read-only (for vtime's core readers).
    pub fn as_ptr(&self) -> *const ffi::vtime_vmclock_abi {
        self.raw.clk
    }

    /// A seq-consistent copy through read(2), host byte order
    /// (vtime_vmclock_dev_read); Error::AGAIN when the copy was torn.
    pub fn read(&self) -> Result<VmclockAbi> {
        let mut out = ffi::vtime_vmclock_abi::default();
        check(unsafe { ffi::vtime_vmclock_dev_read(&self.raw, &mut out) })?;
        Ok(VmclockAbi(out))
    }

    /// A consistent copy through the mapping (vtime_vmclock_snapshot).
    pub fn snapshot(&self, max_tries: u32) -> Result<VmclockAbi> {
        let mut out = ffi::vtime_vmclock_abi::default();
        check(unsafe { ffi::vtime_vmclock_snapshot(self.raw.clk, max_tries, &mut out) })?;
        Ok(VmclockAbi(out))
    }

    /// The time through the mapping, with the ordered counter read inside
    /// the seqlock window (vtime_vmclock_read).
    pub fn read_time(&self, max_tries: u32) -> Result<VmclockReading> {
        let mut ctr = counter_get(CounterKind::Ordered)?;
        let mut out = VmclockReading::default();
        check(ctr.with_raw(|c| unsafe { ffi::vtime_vmclock_read(self.raw.clk, c, max_tries, &mut out) }))?;
        Ok(out)
    }

    /// Waits up to `timeout` (None: no limit) until the page has changed
    /// since the last [`read`](Self::read) (vtime_vmclock_dev_wait): Ok(true)
    /// changed, Ok(false) timed out; Error::NOTSUP when there are no
    /// notifications to wait for (compare seq_count instead).
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let ms = match timeout {
            None => -1,
            Some(t) => t.as_millis().min(i32::MAX as u128) as i32,
        };
        match unsafe { ffi::vtime_vmclock_dev_wait(&self.raw, ms) } {
            ffi::VTIME_EAGAIN => Ok(false),
            e => check(e).map(|_| true),
        }
    }
}

impl Drop for VmclockDevice {
    fn drop(&mut self) {
        // Only EINVAL (a NULL device) can fail.
        unsafe { ffi::vtime_vmclock_dev_close(&mut self.raw) };
    }
}
