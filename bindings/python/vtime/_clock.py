# SPDX-License-Identifier: MIT
"""now_ns(), realtime_ns(), counter_now(), counter_to_ns(), info(): the
userspace clock of <vtime/clock.h> (Linux builds of libvtime). Each raises
VtimeError(ENOTSUP) when the loaded library has no such function."""

import ctypes
from dataclasses import dataclass

from . import _structs as S
from ._common import ENOTSUP, VtimeError, check, u64
from ._lib import HAVE, lib

SOURCES = {0: "none", 1: "tsc", 2: "pvclock", 3: "clock_gettime"}
_now = lib.vtime_now_ns if HAVE["linux"] else None  # the tests look here


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


def _need(name):
    if not HAVE["linux"]:
        raise VtimeError(ENOTSUP, name)


def now_ns():
    """CLOCK_MONOTONIC in ns through vtime's fast clock."""
    _need("now_ns")
    return lib.vtime_now_ns()


def realtime_ns():
    """CLOCK_REALTIME in ns through vtime's fast clock."""
    _need("realtime_ns")
    return lib.vtime_realtime_ns()


def counter_now():
    """The raw counter (for timestamps converted later with counter_to_ns)."""
    _need("counter_now")
    return lib.vtime_counter_now()


def counter_to_ns(t):
    _need("counter_to_ns")
    return lib.vtime_counter_to_ns(u64("counter", t))

# The bounded-time API (<vtime/clock.h>) will be wrapped here.


def info():
    """A ClockInfo snapshot (initialises the clock if needed)."""
    _need("info")
    i = S.vtime_clock_info()
    check(lib.vtime_clock_info(ctypes.byref(i)), "vtime_clock_info")

    def s(b):
        if isinstance(b, (bytes, bytearray)):
            b = bytes(b).split(b"\0", 1)[0]
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
