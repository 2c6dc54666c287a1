# SPDX-License-Identifier: MIT
"""What a Linux machine offers (<vtime/linux.h>): counter hooks, the host
pvclock page, the machine probe. Each raises VtimeError(ENOTSUP) when the
loaded library has no Linux shim."""

import ctypes
import enum
from dataclasses import dataclass

from . import _structs as S
from ._common import ENOTSUP, MachineCounter, VtimeError, check
from ._lib import HAVE, lib


class CounterKind(enum.IntEnum):
    RAW = 0      # rdtsc / cntvct_el0 / rdtime, unordered
    ORDERED = 1  # lfence;rdtsc / isb;cntvct_el0: for seqlock readers
    RDTSCP = 2   # rdtscp (x86 only)


def _need(what):
    if not HAVE["linux"]:
        raise VtimeError(ENOTSUP, what)


def _s(b):
    if isinstance(b, (bytes, bytearray)):
        return bytes(b).split(b"\0", 1)[0].decode(errors="replace")
    return b.decode(errors="replace") if b else ""


def counter_get(kind=CounterKind.ORDERED):
    """A MachineCounter reading this machine's counter (ENOTSUP: not on this CPU)."""
    _need("counter_get")
    c = S.vtime_counter()
    check(lib.vtime_counter_get(int(kind), ctypes.byref(c)), "vtime_counter_get")
    return MachineCounter(c)


def counter_read_cpu():
    """(ordered counter read, the CPU it ran on or None)."""
    _need("counter_read_cpu")
    cpu = ctypes.c_int(-1)
    v = lib.vtime_counter_read_cpu(ctypes.byref(cpu))
    return v, (cpu.value if cpu.value >= 0 else None)


class HostPage:
    """The kvmclock page the kernel maps into every process: HostPage.find()."""

    def __init__(self, raw):
        self._c = raw

    @classmethod
    def find(cls):
        """Raises VtimeError (ENODEV, ENODATA, ...) with .why saying why there is none."""
        _need("HostPage.find")
        hp = S.vtime_host_page()
        rc = lib.vtime_host_page_find(ctypes.byref(hp))
        if rc < 0:
            raise VtimeError(rc, "vtime_host_page_find", _s(hp.why))
        return cls(hp)

    @property
    def address(self):
        return self._c.addr

    @property
    def mapping(self):
        return _s(self._c.mapping)

    @property
    def nrecords(self):
        return self._c.nrecords

    def _record(self, cpu):
        rec = ctypes.POINTER(S.vtime_pvclock_vcpu_time_info)()
        check(lib.vtime_host_page_record(ctypes.byref(self._c), cpu, ctypes.byref(rec)), "vtime_host_page_record")
        return rec

    def snapshot(self, cpu=0):
        """A consistent copy of CPU cpu's record (a PvclockRecord)."""
        from . import PvclockRecord
        out = S.vtime_pvclock_vcpu_time_info()
        check(lib.vtime_pvclock_snapshot(self._record(cpu), 0, ctypes.byref(out)), "vtime_pvclock_snapshot")
        return PvclockRecord._from_c(out)

    def read(self, cpu=0):
        """A Reading of CPU cpu's record with the ordered counter."""
        from . import Reading
        rec = self._record(cpu)
        ctr = counter_get(CounterKind.ORDERED)
        out = S.vtime_pvclock_reading()
        check(lib.vtime_pvclock_read(rec, ctypes.byref(ctr.raw), 0, ctypes.byref(out)), "vtime_pvclock_read")
        return Reading(out.ns, out.tsc, out.version, out.flags)


@dataclass(frozen=True)
class Machine:
    """What this machine offers (vtime_machine_probe(); what `vtime status` shows)."""
    arch: str
    hypervisor: bool
    hv_signature: str
    hv_max_leaf: int
    kvm: bool
    kvm_features: int
    kvm_clocksource: bool
    kvm_stable_bit: bool
    hv_tsc_hz: int
    hv_apic_hz: int
    invariant_tsc: bool
    rdtscp: bool
    cpuid15: tuple
    cpuid15_hz: int
    cpuid16_mhz: int
    arch_counter_hz: int
    arch_counter_hz_source: str
    cpuinfo_khz: int
    clocksource: str
    clocksources: str
    ncpus: int
    page_present: bool
    page_mapping: str
    page_records: int
    page_why: str
    page_hz: int
    page_flags: int
    counter: str


def machine_probe():
    _need("machine_probe")
    m = S.vtime_machine()
    check(lib.vtime_machine_probe(ctypes.byref(m)), "vtime_machine_probe")
    return Machine(arch=_s(m.arch), hypervisor=m.hypervisor, hv_signature=_s(m.hv_signature),
                   hv_max_leaf=m.hv_max_leaf, kvm=m.kvm, kvm_features=m.kvm_features,
                   kvm_clocksource=m.kvm_clocksource, kvm_stable_bit=m.kvm_stable_bit, hv_tsc_hz=m.hv_tsc_hz,
                   hv_apic_hz=m.hv_apic_hz, invariant_tsc=m.invariant_tsc, rdtscp=m.rdtscp,
                   cpuid15=tuple(m.cpuid15), cpuid15_hz=m.cpuid15_hz, cpuid16_mhz=m.cpuid16_mhz,
                   arch_counter_hz=m.arch_counter_hz, arch_counter_hz_source=_s(m.arch_counter_hz_source),
                   cpuinfo_khz=m.cpuinfo_khz, clocksource=_s(m.clocksource), clocksources=_s(m.clocksources),
                   ncpus=m.ncpus, page_present=bool(m.page.rec), page_mapping=_s(m.page.mapping),
                   page_records=m.page.nrecords, page_why=_s(m.page.why), page_hz=m.page_hz,
                   page_flags=m.page_flags, counter=_s(m.counter))

# The userspace VMClock and Hyper-V sources (<vtime/linux.h>) will be wrapped here.
