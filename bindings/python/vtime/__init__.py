# SPDX-License-Identifier: MIT
"""vtime for Python: ctypes over libvtime, standard library only; the whole
public API of the C library.

- Scaling: ``Scale``, ``scale_init()``, ``scale_apply()``, ``scale_source_hz()``,
  ``tsc_ratio_init()``, ``tsc_ratio_apply()``, ``tsc_ratio_default()``.
- pvclock records: ``PvclockRecord`` (bytes of memory dumps, ``time()``,
  ``check()``), live records in writable memory (bytearray, mmap): ``publish()``,
  ``consume_stopped()``, ``read_record()``, ``snapshot_record()``; the wall
  clock ``WallClock``, ``publish_wall()``, ``read_wall()``.
- ``VmclockPage`` / ``VmclockAbi`` (VMClock), ``HvTscPage`` (Hyper-V reference TSC page).
- ``Vm`` / ``Vcpu``: the VMM core, with ``VmmState`` / ``VcpuState`` images.
- ``Ticks``, ``TicksGuest``, ``TicksState``; ``Clamp``, ``ClampLocal``; ``Calib``.
- Linux: ``now_ns()``, ``realtime_ns()``, ``counter_now()``, ``counter_to_ns()``,
  ``info()``, bounded time (``bounded_now()``, ``bounded_tai_now()``,
  ``Bounded.after()`` / ``before()``, the fast form ``interval_now()``,
  ``interval_tai_now()``, ``Interval``, ``bounded_info()``), ``counter_get()``,
  ``counter_read_cpu()``, ``HostPage``, ``HvHostPage``, ``VmclockDevice``,
  ``machine_probe()``; x86-64: ``vtime.kvm``.

The library is found without environment variables (vtime/_lib.py says how).
"""

import ctypes
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

from . import _lib
from ._common import (EAGAIN, EBUSY, EINVAL, EIO, ENOCOUNTER, ENODATA, ENODEV, ENOMEM, ENOTSUP, ENOTVALID, EPROTO,
                      ERANGE, ESTATE, EUNRELIABLE, MachineCounter, VtimeError, counter_hook, ro_view, strerror,
                      view)
from ._common import check as _check
from ._common import u64 as _u64
from ._lib import lib

NSEC_PER_SEC = 1_000_000_000
RECORD_SIZE = 32
RECORD_STRIDE = 64          # per-CPU records in a shared page
WALL_CLOCK_SIZE = 12
MAX_TRIES = 1024
TSC_STABLE = 0x01
GUEST_STOPPED = 0x02
COUNTS_FROM_ZERO = 0x04
SHIFT_MIN, SHIFT_MAX = -12, 20  # VTIME_PVCLOCK_SHIFT_MIN/MAX
HZ_MIN, HZ_MAX = 954, 8192000008191  # VTIME_PVCLOCK_HZ_MIN/MAX: rates a VMM can publish
TSC_FRAC_BITS_VMX, TSC_FRAC_BITS_SVM = 48, 32

_U64 = (1 << 64) - 1
_REC = struct.Struct("<IIQQIbB2s")   # the ABI: little-endian, 32 bytes
_WALL = struct.Struct("<III")
assert _REC.size == RECORD_SIZE and _WALL.size == WALL_CLOCK_SIZE


def version():
    """Version of the loaded library (may differ from the headers it was built with)."""
    return lib.vtime_version_string().decode()


# ---- scale ----

@dataclass(frozen=True)
class Scale:
    """to_ticks = ((from_ticks shifted by shift) * mul) >> 32 (struct vtime_scale)."""
    mul: int
    shift: int

    def _c(self):
        return _lib.Scale(self.mul, self.shift)

    @classmethod
    def between(cls, from_hz, to_hz=NSEC_PER_SEC):
        return scale_init(from_hz, to_hz)

    def apply(self, delta):
        return scale_apply(self, delta)

    @property
    def source_hz(self):
        """Source frequency of a to-ns scale (exact in Hz, see vtime_scale_source_hz)."""
        return scale_source_hz(self)


def scale_init(from_hz, to_hz=NSEC_PER_SEC):
    """The (mul, shift) converting from_hz ticks to to_hz ticks, bit-exact with
    KVM's kvm_get_time_scale(to_hz, from_hz). Raises VtimeError."""
    s = _lib.Scale()
    _check(lib.vtime_scale_init(ctypes.byref(s), _u64("from_hz", from_hz), _u64("to_hz", to_hz)),
           "vtime_scale_init")
    return Scale(s.mul, s.shift)


def scale_apply(scale, delta):
    s = scale._c()
    return lib.vtime_scale_apply(ctypes.byref(s), _u64("delta", delta))


def scale_source_hz(scale):
    s = scale._c()
    return lib.vtime_scale_source_hz(ctypes.byref(s))


# ---- pvclock records as bytes ----

@dataclass
class PvclockRecord:
    """One 32-byte per-vCPU pvclock record, fields as integers."""
    version: int = 0
    tsc_timestamp: int = 0
    system_time: int = 0
    tsc_to_system_mul: int = 0
    tsc_shift: int = 0
    flags: int = 0
    pad0: int = 0
    pad: bytes = field(default=b"\0\0", repr=False)

    @classmethod
    def from_bytes(cls, data, offset=0):
        """Parses a record from little-endian bytes (bytes, bytearray, memoryview, mmap)."""
        if len(data) - offset < RECORD_SIZE:
            raise ValueError(f"a pvclock record is {RECORD_SIZE} bytes, got {len(data) - offset}")
        ver, pad0, ts, st, mul, shift, flags, pad = _REC.unpack_from(data, offset)
        return cls(ver, ts, st, mul, shift, flags, pad0, bytes(pad))

    def to_bytes(self):
        return _REC.pack(self.version, self.pad0, self.tsc_timestamp, self.system_time,
                         self.tsc_to_system_mul, self.tsc_shift, self.flags, self.pad)

    # Decoding of version and flags.
    @property
    def in_progress(self):
        """Odd version: the writer was inside its update when the bytes were taken."""
        return self.version & 1 == 1

    @property
    def published(self):
        """False for a record no writer ever touched (version, times and mul all 0)."""
        return not (self.version == 0 and self.tsc_timestamp == 0 and self.system_time == 0
                    and self.tsc_to_system_mul == 0)

    @property
    def stable(self):
        return bool(self.flags & TSC_STABLE)

    @property
    def guest_stopped(self):
        return bool(self.flags & GUEST_STOPPED)

    @property
    def counts_from_zero(self):
        return bool(self.flags & COUNTS_FROM_ZERO)

    @property
    def flag_names(self):
        names = [n for bit, n in ((TSC_STABLE, "TSC_STABLE"), (GUEST_STOPPED, "GUEST_STOPPED"),
                                  (COUNTS_FROM_ZERO, "COUNTS_FROM_ZERO")) if self.flags & bit]
        rest = self.flags & ~(TSC_STABLE | GUEST_STOPPED | COUNTS_FROM_ZERO)
        return names + ([f"0x{rest:02x}"] if rest else [])

    @property
    def valid(self):
        """Body usable: mul non-zero and shift within the reader's range."""
        return self.tsc_to_system_mul != 0 and SHIFT_MIN <= self.tsc_shift <= SHIFT_MAX

    @property
    def scale(self):
        return Scale(self.tsc_to_system_mul, self.tsc_shift)

    @property
    def tsc_hz(self):
        """Counter frequency the record encodes (0 when mul is 0)."""
        return scale_source_hz(self.scale)

    def _c(self):
        c = _lib.VcpuTimeInfo()
        c.version, c.pad0 = self.version, self.pad0
        c.tsc_timestamp, c.system_time = self.tsc_timestamp, self.system_time
        c.tsc_to_system_mul, c.tsc_shift, c.flags = self.tsc_to_system_mul, self.tsc_shift, self.flags
        return c

    @classmethod
    def _from_c(cls, c):
        return cls(c.version, c.tsc_timestamp, c.system_time, c.tsc_to_system_mul, c.tsc_shift, c.flags, c.pad0)

    def time(self, tsc):
        """kvmclock ns at counter value tsc (vtime_pvclock_time: a counter
        behind the record goes back by the scaled gap, saturating at 0)."""
        c = self._c()
        return lib.vtime_pvclock_time(ctypes.byref(c), _u64("tsc", tsc))

    def check(self):
        """Validates the record with the library's reader run over its
        little-endian bytes; raises VtimeError (EAGAIN for an odd version,
        ENODATA never published, EPROTO corrupt). Returns self."""
        raw = _lib.VcpuTimeInfo.from_buffer_copy(self.to_bytes())
        out = _lib.VcpuTimeInfo()
        _check(lib.vtime_pvclock_snapshot(ctypes.byref(raw), 1, ctypes.byref(out)), "pvclock record")
        return self

    def __str__(self):
        state = "in progress" if self.in_progress else ("published" if self.published else "never published")
        return (f"version {self.version} ({state}) tsc_timestamp {self.tsc_timestamp} "
                f"system_time {self.system_time} mul {self.tsc_to_system_mul} shift {self.tsc_shift} "
                f"flags 0x{self.flags:02x} [{' '.join(self.flag_names)}]")


def parse_records(data, count=None, offset=0, stride=RECORD_STRIDE):
    """Per-CPU records of a pvclock page dump: record i at offset + i*stride.
    count None: as many as fit."""
    if stride < RECORD_SIZE:
        raise ValueError("stride must be at least 32")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, not {offset}")
    if count is not None and count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    fit = max(0, (len(data) - offset - RECORD_SIZE) // stride + 1)
    if count is None:
        count = fit
    elif count > fit:
        raise ValueError(f"{count} records do not fit in {len(data) - offset} bytes")
    return [PvclockRecord.from_bytes(data, offset + i * stride) for i in range(count)]


@dataclass
class WallClock:
    """The 12-byte pvclock wall clock: host wall time at kvmclock 0."""
    version: int = 0
    sec: int = 0
    nsec: int = 0

    @classmethod
    def from_bytes(cls, data, offset=0):
        if len(data) - offset < WALL_CLOCK_SIZE:
            raise ValueError(f"a wall clock record is {WALL_CLOCK_SIZE} bytes")
        return cls(*_WALL.unpack_from(data, offset))

    def to_bytes(self):
        return _WALL.pack(self.version, self.sec, self.nsec)

    def ns(self, kvmclock_ns):
        """Wall time in ns since the Unix epoch at kvmclock time kvmclock_ns."""
        return lib.vtime_pvclock_wall_ns(self.sec, self.nsec, _u64("kvmclock_ns", kvmclock_ns))

    def check(self):
        raw = _lib.WallClock.from_buffer_copy(self.to_bytes())
        s, n = ctypes.c_uint32(), ctypes.c_uint32()
        _check(lib.vtime_pvclock_wall_read(ctypes.byref(raw), 1, ctypes.byref(s), ctypes.byref(n)),
               "pvclock wall clock")
        return self


def publish(buf, record, offset=0):
    """Publishes record into a writable buffer (bytearray, mmap) at offset with
    the library's seqlock writer, which stores little-endian bytes on every host
    and keeps an unconsumed GUEST_STOPPED. Returns the new even version."""
    rec = view(_lib.VcpuTimeInfo, buf, offset, 8)
    body = record._c()
    return lib.vtime_pvclock_publish(ctypes.byref(rec), ctypes.byref(body))


def consume_stopped(buf, offset=0):
    """Guest side: atomically clears GUEST_STOPPED in a writable buffer; True if it was set."""
    rec = view(_lib.VcpuTimeInfo, buf, offset, 8)
    return bool(lib.vtime_pvclock_consume_stopped(ctypes.byref(rec)))


class Reading(NamedTuple):
    """One consistent reading of a live record."""
    ns: int
    tsc: int
    version: int
    flags: int


def read_record(buf, counter, offset=0, max_tries=0):
    """Reads the live record at offset with the seqlock, calling counter (a
    callable returning the counter, or a MachineCounter such as
    counter_get()) inside the window. Raises VtimeError (EAGAIN, ENODATA,
    EPROTO)."""
    rec = ro_view(_lib.VcpuTimeInfo, buf, offset, 8)
    raw, done = counter_hook(counter)
    out = _lib.S.vtime_pvclock_reading()
    rc = lib.vtime_pvclock_read(ctypes.byref(rec), ctypes.byref(raw), max_tries, ctypes.byref(out))
    done()
    _check(rc, "vtime_pvclock_read")
    return Reading(out.ns, out.tsc, out.version, out.flags)


def snapshot_record(buf, offset=0, max_tries=0):
    """A consistent PvclockRecord copied out of the live record at offset."""
    rec = ro_view(_lib.VcpuTimeInfo, buf, offset, 8)
    out = _lib.VcpuTimeInfo()
    _check(lib.vtime_pvclock_snapshot(ctypes.byref(rec), max_tries, ctypes.byref(out)), "vtime_pvclock_snapshot")
    return PvclockRecord._from_c(out)


def publish_wall(buf, sec, nsec, offset=0):
    """Host: publishes the wall clock at offset; returns the new even version."""
    wc = view(_lib.WallClock, buf, offset, 4)
    return lib.vtime_pvclock_wall_publish(ctypes.byref(wc), sec, nsec)


def read_wall(buf, offset=0, max_tries=0):
    """A consistent WallClock read from live memory with the seqlock."""
    wc = ro_view(_lib.WallClock, buf, offset, 4)
    s, n = ctypes.c_uint32(), ctypes.c_uint32()
    _check(lib.vtime_pvclock_wall_read(ctypes.byref(wc), max_tries, ctypes.byref(s), ctypes.byref(n)),
           "vtime_pvclock_wall_read")
    return WallClock(int.from_bytes(bytes(wc)[0:4], "little"), s.value, n.value)


# ---- guest TSC ratios (<vtime/tsc.h>) ----

def tsc_ratio_init(guest_khz, host_khz, frac_bits=TSC_FRAC_BITS_VMX):
    """floor(2^frac_bits * guest_khz / host_khz); frac_bits 48 (VMX) or 32 (SVM)."""
    r = ctypes.c_uint64()
    _check(lib.vtime_tsc_ratio_init(ctypes.byref(r), _u64("guest_khz", guest_khz), _u64("host_khz", host_khz),
                                    frac_bits), "vtime_tsc_ratio_init")
    return r.value


def tsc_ratio_apply(tsc, ratio, frac_bits=TSC_FRAC_BITS_VMX):
    """(tsc * ratio) >> frac_bits, truncated to 64 bits as hardware does."""
    return lib.vtime_tsc_ratio_apply(_u64("tsc", tsc), _u64("ratio", ratio), frac_bits)


def tsc_ratio_default(frac_bits=TSC_FRAC_BITS_VMX):
    """The ratio meaning "no scaling" (the header's inline vtime_tsc_ratio_default)."""
    return 1 << frac_bits


# ---- the rest of the API ----

from ._vmclock import VmclockAbi, VmclockPage, VmclockReading  # noqa: E402
from . import _vmclock as vmclock  # noqa: E402
from ._hyperv import HvReading, HvTscPage, hv_from_pvclock, hv_page_time  # noqa: E402
from . import _hyperv as hyperv  # noqa: E402
from ._vmm import (ResumePolicy, RestoreKind, TscMode, Vcpu, VcpuState, VmclockStatus, Vm, VmmConfig,  # noqa: E402
                   VmmNow, VmmState)
from ._ticks import Ticks, TicksCounters, TicksGuest, TicksPolicy, TicksResult, TicksState  # noqa: E402
from ._clampcalib import (CALIB_EV_DISCONT, CALIB_EV_FIRST, CALIB_EV_REFIT, CALIB_EV_REJECTED,  # noqa: E402
                          CALIB_EV_STEP, CALIB_EV_USED, CLAMP_TRUST_STABLE, Calib, CalibConfig, CalibLine,
                          CalibSample, CalibStats, Clamp, ClampLocal)
from ._clock import (BoundSource, BoundStatus, Bounded, BoundedInfo, ClockInfo, Interval, bounded_info,  # noqa: E402
                     bounded_now, bounded_tai_now, counter_now, counter_to_ns, info, interval_now,
                     interval_tai_now, now_ns, realtime_ns)
from ._linux import (VMCLOCK_DEV_PATH, CounterKind, HostPage, HvHostPage, Machine, VmclockDevice,  # noqa: E402
                     counter_get, counter_read_cpu, machine_probe)
from . import _kvm as kvm  # noqa: E402

__all__ = [
    "VtimeError", "version", "strerror", "MachineCounter",
    "EINVAL", "EAGAIN", "ERANGE", "ENOTSUP", "ENODEV", "EPROTO", "ENODATA", "EIO", "EBUSY", "ENOMEM", "ESTATE",
    "ENOCOUNTER", "EUNRELIABLE", "ENOTVALID",
    "Scale", "scale_init", "scale_apply", "scale_source_hz", "tsc_ratio_init", "tsc_ratio_apply",
    "tsc_ratio_default", "TSC_FRAC_BITS_VMX", "TSC_FRAC_BITS_SVM",
    "PvclockRecord", "WallClock", "Reading", "parse_records", "publish", "consume_stopped", "read_record",
    "snapshot_record", "publish_wall", "read_wall",
    "VmclockAbi", "VmclockPage", "VmclockReading", "vmclock", "HvReading", "HvTscPage", "hv_from_pvclock",
    "hv_page_time", "hyperv",
    "Vm", "Vcpu", "VmmConfig", "VmmNow", "VmmState", "VcpuState", "VmclockStatus", "TscMode", "ResumePolicy",
    "RestoreKind",
    "Ticks", "TicksGuest", "TicksPolicy", "TicksResult", "TicksCounters", "TicksState",
    "Clamp", "ClampLocal", "CLAMP_TRUST_STABLE", "Calib", "CalibConfig", "CalibLine", "CalibSample", "CalibStats",
    "CALIB_EV_USED", "CALIB_EV_REJECTED", "CALIB_EV_REFIT", "CALIB_EV_STEP", "CALIB_EV_DISCONT", "CALIB_EV_FIRST",
    "now_ns", "realtime_ns", "info", "ClockInfo", "counter_now", "counter_to_ns",
    "Bounded", "BoundStatus", "BoundSource", "BoundedInfo", "bounded_now", "bounded_tai_now", "bounded_info",
    "Interval", "interval_now", "interval_tai_now",
    "CounterKind", "counter_get", "counter_read_cpu", "HostPage", "HvHostPage", "VmclockDevice",
    "VMCLOCK_DEV_PATH", "Machine", "machine_probe", "kvm",
    "NSEC_PER_SEC", "RECORD_SIZE", "RECORD_STRIDE", "MAX_TRIES",
    "TSC_STABLE", "GUEST_STOPPED", "COUNTS_FROM_ZERO",
]
