# SPDX-License-Identifier: MIT
"""now_ns(), realtime_ns(), counter_now(), info(): the userspace clock of
include/vtime/clock.h (Linux builds of libvtime). Each raises
VtimeError(ENOTSUP) when the loaded library has no such function."""

import ctypes
from dataclasses import dataclass

from . import _lib
from . import VtimeError, ENOTSUP, _check

_now = _lib.optional("vtime_now_ns", ctypes.c_uint64, [])
_realtime = _lib.optional("vtime_realtime_ns", ctypes.c_uint64, [])
_counter_now = _lib.optional("vtime_counter_now", ctypes.c_uint64, [])
_counter_to_ns = _lib.optional("vtime_counter_to_ns", ctypes.c_uint64, [ctypes.c_uint64])

SOURCES = {0: "none", 1: "tsc", 2: "pvclock", 3: "clock_gettime"}


class _ClockInfo(ctypes.Structure):
    """struct vtime_clock_info."""
    _fields_ = [
        ("source", ctypes.c_int),
        ("source_name", ctypes.c_char_p),
        ("forced", ctypes.c_bool),
        ("why", ctypes.c_char * 192),
        ("freq_source", ctypes.c_char_p),
        ("nominal_hz", ctypes.c_uint64),
        ("freq_hz", ctypes.c_double),
        ("freq_ppm", ctypes.c_double),
        ("tracking_error_ns", ctypes.c_int64),
        ("recal_interval_ns", ctypes.c_uint64),
        ("recalibrations", ctypes.c_uint64),
        ("steps", ctypes.c_uint64),
        ("fallbacks", ctypes.c_uint64),
        ("fallback_reason", ctypes.c_char * 192),
        ("init_ns", ctypes.c_uint64),
        ("page_stable", ctypes.c_bool),
        ("counter", ctypes.c_char_p),
        ("kernel_rate_known", ctypes.c_bool),
        ("kernel_rate_ppm", ctypes.c_double),
        ("rate_changes", ctypes.c_uint64),
        ("probe_interval_ns", ctypes.c_uint64),
        ("realtime_unc_ns", ctypes.c_uint64),
        ("realtime_steps", ctypes.c_uint64),
        ("reserved", ctypes.c_uint64 * 8),
    ]


class _ClockInfoBuf(ctypes.Structure):
    # Spare room: a newer library with a longer struct never writes past us.
    _fields_ = [("info", _ClockInfo), ("spare", ctypes.c_uint8 * 1024)]


_info = _lib.optional("vtime_clock_info", ctypes.c_int, [ctypes.POINTER(_ClockInfoBuf)])


@dataclass(frozen=True)
class ClockInfo:
    """State of vtime's clock (vtime_clock_info)."""
    source: str
    forced: bool
    why: str
    freq_source: str
    nominal_hz: int
    freq_hz: float
    freq_ppm: float
    tracking_error_ns: int
    recal_interval_ns: int
    recalibrations: int
    steps: int
    fallbacks: int
    fallback_reason: str
    init_ns: int
    page_stable: bool
    counter: str
    kernel_rate_known: bool
    kernel_rate_ppm: float
    rate_changes: int
    probe_interval_ns: int
    realtime_unc_ns: int
    realtime_steps: int


def _need(fn, name):
    if fn is None:
        raise VtimeError(ENOTSUP, name)
    return fn


def now_ns():
    """CLOCK_MONOTONIC in ns through vtime's fast clock."""
    return _need(_now, "now_ns")()


def realtime_ns():
    """CLOCK_REALTIME in ns through vtime's fast clock."""
    return _need(_realtime, "realtime_ns")()


def counter_now():
    """The raw counter (for timestamps converted later with counter_to_ns)."""
    return _need(_counter_now, "counter_now")()


def counter_to_ns(t):
    return _need(_counter_to_ns, "counter_to_ns")(t)


def info():
    """A ClockInfo snapshot (initialises the clock if needed)."""
    buf = _ClockInfoBuf()
    _check(_need(_info, "info")(ctypes.byref(buf)), "vtime_clock_info")
    i = buf.info

    def s(b):
        return b.decode(errors="replace") if b else ""

    return ClockInfo(source=s(i.source_name) or SOURCES.get(i.source, str(i.source)), forced=i.forced,
                     why=s(i.why), freq_source=s(i.freq_source), nominal_hz=i.nominal_hz, freq_hz=i.freq_hz,
                     freq_ppm=i.freq_ppm, tracking_error_ns=i.tracking_error_ns,
                     recal_interval_ns=i.recal_interval_ns, recalibrations=i.recalibrations, steps=i.steps,
                     fallbacks=i.fallbacks, fallback_reason=s(i.fallback_reason), init_ns=i.init_ns,
                     page_stable=i.page_stable, counter=s(i.counter), kernel_rate_known=i.kernel_rate_known,
                     kernel_rate_ppm=i.kernel_rate_ppm, rate_changes=i.rate_changes,
                     probe_interval_ns=i.probe_interval_ns, realtime_unc_ns=i.realtime_unc_ns,
                     realtime_steps=i.realtime_steps)
