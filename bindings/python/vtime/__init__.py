# SPDX-License-Identifier: MIT
"""vtime for Python: ctypes over libvtime.so, standard library only.

- Scale helpers: ``scale_init(from_hz, to_hz)``, ``scale_apply()``,
  ``scale_source_hz()`` (KVM-exact fixed-point scaling).
- pvclock records as bytes: ``PvclockRecord.from_bytes()`` / ``parse_records()``
  for tooling that inspects guest memory dumps (the ABI is little-endian on
  every host), ``record.time(tsc)``, flag decoding, and the library's own
  validation and writer (``record.check()``, ``publish()``).
- The clock of this machine: ``now_ns()``, ``realtime_ns()``, ``info()``
  (Linux builds of libvtime).

The library is found through $VTIME_LIBRARY, then the system's linker path.
"""

import ctypes
import struct
from dataclasses import dataclass, field

from . import _lib
from ._lib import lib

__all__ = [
    "VtimeError", "version", "strerror",
    "Scale", "scale_init", "scale_apply", "scale_source_hz",
    "PvclockRecord", "WallClock", "parse_records", "publish", "consume_stopped",
    "now_ns", "realtime_ns", "info", "ClockInfo", "counter_now", "counter_to_ns",
    "NSEC_PER_SEC", "RECORD_SIZE", "RECORD_STRIDE",
    "TSC_STABLE", "GUEST_STOPPED", "COUNTS_FROM_ZERO",
]

NSEC_PER_SEC = 1_000_000_000
RECORD_SIZE = 32
RECORD_STRIDE = 64          # per-CPU records in a shared page
WALL_CLOCK_SIZE = 12
TSC_STABLE = 0x01
GUEST_STOPPED = 0x02
COUNTS_FROM_ZERO = 0x04
SHIFT_MIN, SHIFT_MAX = -12, 20  # VTIME_PVCLOCK_SHIFT_MIN/MAX
HZ_MIN, HZ_MAX = 954, 8192000008191  # VTIME_PVCLOCK_HZ_MIN/MAX: rates a VMM can publish

# Error codes (include/vtime/error.h).
EINVAL, EAGAIN, ERANGE, ENOTSUP, ENODEV, EPROTO, ENODATA, EIO, EBUSY, ENOMEM, ESTATE = range(-1, -12, -1)

_U64 = (1 << 64) - 1
_REC = struct.Struct("<IIQQIbB2s")   # the ABI: little-endian, 32 bytes
_WALL = struct.Struct("<III")
assert _REC.size == RECORD_SIZE and _WALL.size == WALL_CLOCK_SIZE


class VtimeError(Exception):
    """A negative VTIME_E* code from the library."""

    def __init__(self, code, what=""):
        self.code = code
        self.message = strerror(code)
        super().__init__(f"{what}: {self.message} ({code})" if what else f"{self.message} ({code})")


def _check(code, what):
    if code < 0:
        raise VtimeError(code, what)
    return code


def _u64(name, v):
    if not isinstance(v, int) or not 0 <= v <= _U64:
        raise ValueError(f"{name} must be an integer in [0, 2**64)")
    return v


def strerror(code):
    return lib.vtime_strerror(code).decode()


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
    rec = _lib.VcpuTimeInfo.from_buffer(buf, offset)
    body = record._c()
    return lib.vtime_pvclock_publish(ctypes.byref(rec), ctypes.byref(body))


def consume_stopped(buf, offset=0):
    """Guest side: atomically clears GUEST_STOPPED in a writable buffer; True if it was set."""
    rec = _lib.VcpuTimeInfo.from_buffer(buf, offset)
    return bool(lib.vtime_pvclock_consume_stopped(ctypes.byref(rec)))


# ---- this machine's clock (include/vtime/clock.h, Linux builds) ----

from ._clock import ClockInfo, info, now_ns, realtime_ns, counter_now, counter_to_ns  # noqa: E402
