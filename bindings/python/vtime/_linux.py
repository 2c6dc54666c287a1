# SPDX-License-Identifier: MIT
"""What a Linux machine offers (<vtime/linux.h>): counter hooks, the host
pvclock and Hyper-V pages, the VMClock device, the machine probe. Each raises VtimeError(ENOTSUP) when the
loaded library has no Linux shim."""

import ctypes
import enum
import os
from dataclasses import dataclass

from . import _structs as S
from ._common import EAGAIN, ENOTSUP, ENOTVALID, MachineCounter, VtimeError, check
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



class HvHostPage:
    """The Hyper-V reference TSC page the kernel maps into every process once
    its clocksource has been the Hyper-V TSC page: HvHostPage.find()."""

    def __init__(self, raw):
        self._c = raw

    @classmethod
    def find(cls):
        """Probes the page without a fault. A page that is mapped and backed but
        marked invalid (sequence 0 or 0xFFFFFFFF) is returned with valid False,
        so it can be watched; other failures raise VtimeError (ENODEV, EAGAIN,
        ENOTSUP, EIO) with .why."""
        _need("HvHostPage.find")
        hp = S.vtime_hv_host_page()
        rc = lib.vtime_hv_host_page_find(ctypes.byref(hp))
        if rc < 0 and rc != ENOTVALID:
            raise VtimeError(rc, "vtime_hv_host_page_find", _s(hp.why))
        return cls(hp)

    @property
    def valid(self):
        return self._c.err == 0

    @property
    def why(self):
        """Why the page is invalid ("" when valid)."""
        return _s(self._c.why)

    @property
    def address(self):
        return self._c.addr

    @property
    def mapping(self):
        return _s(self._c.mapping)

    @property
    def sequence(self):
        return self._c.sequence

    @property
    def tsc_scale(self):
        return self._c.tsc_scale if self.valid else None

    @property
    def tsc_offset(self):
        return self._c.tsc_offset if self.valid else None

    @property
    def tsc_hz(self):
        """The TSC frequency the scale gives, None if invalid."""
        return self._c.tsc_hz if self.valid and self._c.tsc_hz else None

    def _page(self):
        return ctypes.cast(self._c.page, ctypes.POINTER(S.vtime_hv_tsc_page))

    def snapshot(self, max_tries=0):
        """Scale, offset and sequence now (an HvReading; ENOTVALID while invalid)."""
        from ._hyperv import HvReading
        out = HvReading()
        check(lib.vtime_hv_tsc_page_snapshot(self._page(), max_tries, ctypes.byref(out)),
              "vtime_hv_tsc_page_snapshot")
        return out

    def read(self, max_tries=0):
        """An HvReading with the ordered counter (time in 100 ns units)."""
        from ._hyperv import HvReading
        ctr = counter_get(CounterKind.ORDERED)
        out = HvReading()
        check(lib.vtime_hv_tsc_page_read(self._page(), ctypes.byref(ctr.raw), max_tries, ctypes.byref(out)),
              "vtime_hv_tsc_page_read")
        return out


VMCLOCK_DEV_PATH = "/dev/vmclock0"


class VmclockDevice:
    """An open VMClock device (Linux's ptp_vmclock driver, 6.13+), its page
    mapped read-only: VmclockDevice(path=None) opens VMCLOCK_DEV_PATH. A
    regular file holding a page laid out by vtime's writer opens too (without
    notifications). Close it with close() or a with block (also on garbage
    collection)."""

    def __init__(self, path=None):
        _need("VmclockDevice")
        self._c = S.vtime_vmclock_dev()
        if path is not None:
            path = os.fsencode(path)
            if b"\0" in path:
                from ._common import EINVAL
                raise VtimeError(EINVAL, "vtime_vmclock_dev_open", "the path holds a NUL byte")
        rc = lib.vtime_vmclock_dev_open(ctypes.byref(self._c), path)
        if rc < 0:
            self._open = False
            raise VtimeError(rc, "vtime_vmclock_dev_open", _s(self._c.why))
        self._open = True

    def close(self):
        """Unmaps the page and closes the device (again: nothing)."""
        if getattr(self, "_open", False):
            self._open = False
            check(lib.vtime_vmclock_dev_close(ctypes.byref(self._c)), "vtime_vmclock_dev_close")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    @property
    def closed(self):
        return not self._open

    @property
    def path(self):
        return _s(self._c.path)

    @property
    def size(self):
        """Bytes mapped (one page)."""
        return self._c.size

    def _page(self):
        if not self._open:
            from ._common import ENODEV
            raise VtimeError(ENODEV, "VmclockDevice", "closed")
        return ctypes.cast(self._c.clk, ctypes.POINTER(S.vtime_vmclock_abi))

    def read(self):
        """A seq-consistent VmclockAbi copy through read(2), host byte order
        (EAGAIN: the copy was torn; ENODEV once closed)."""
        from ._vmclock import VmclockAbi
        out = VmclockAbi()
        check(lib.vtime_vmclock_dev_read(ctypes.byref(self._c), ctypes.byref(out)), "vtime_vmclock_dev_read")
        return out

    def snapshot(self, max_tries=0):
        """A consistent VmclockAbi copy through the mapping."""
        from ._vmclock import VmclockAbi
        out = VmclockAbi()
        check(lib.vtime_vmclock_snapshot(self._page(), max_tries, ctypes.byref(out)), "vtime_vmclock_snapshot")
        return out

    def read_time(self, max_tries=0):
        """A VmclockReading through the mapping with the ordered counter."""
        from ._vmclock import VmclockReading
        ctr = counter_get(CounterKind.ORDERED)
        out = VmclockReading()
        check(lib.vtime_vmclock_read(self._page(), ctypes.byref(ctr.raw), max_tries, ctypes.byref(out)),
              "vtime_vmclock_read")
        return out

    def wait(self, timeout=None):
        """Waits up to timeout seconds (None: no limit) until the page changed
        since the last read(): True changed, False timed out; raises
        VtimeError(ENOTSUP) when there are no notifications to wait for
        (compare seq_count instead)."""
        ms = -1 if timeout is None else min(int(timeout * 1000), 2**31 - 1)
        rc = lib.vtime_vmclock_dev_wait(ctypes.byref(self._c), ms)
        if rc == EAGAIN:
            return False
        check(rc, "vtime_vmclock_dev_wait")
        return True
