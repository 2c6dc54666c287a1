# SPDX-License-Identifier: MIT
"""now_ns(), realtime_ns(), counter_now(), counter_to_ns(), info(), and
bounded time (bounded_now(), bounded_tai_now(), Bounded, the fast form
interval_now(), interval_tai_now(), Interval, and bounded_info()): the
userspace clock of <vtime/clock.h> (Linux builds of libvtime). Each raises
VtimeError(ENOTSUP) when the loaded library has no such function."""

import ctypes
import enum
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


class BoundStatus(enum.IntEnum):
    """How far a Bounded interval can be trusted (AWS ClockBound's numbers)."""
    UNKNOWN = 0       # nothing justifies a bound: earliest 0, latest 2**64 - 1
    SYNCHRONIZED = 1  # the source is synchronised; the interval holds true time
    FREE_RUNNING = 2  # the source lost its reference; the interval still holds, growing
    DISRUPTED = 3     # the VM was disrupted and the kernel has not re-synchronised since


class BoundSource(enum.IntEnum):
    """What a bound rests on."""
    NONE = 0     # nothing (no VMClock, adjtimex refused)
    VMCLOCK = 1  # the host's VMClock page
    KERNEL = 2   # CLOCK_REALTIME and the kernel's maxerror, plus vtime's tracking


def _enum(cls, v):
    try:
        return cls(v)
    except ValueError:  # a value this version does not know
        return v


@dataclass(frozen=True)
class Bounded:
    """An interval [earliest_ns, latest_ns] (ns since 1970, UTC or TAI) that
    held true time when it was taken, its status and source (struct
    vtime_bounded). after(t) and before(t) are TrueTime's predicates."""
    earliest_ns: int
    latest_ns: int
    status: BoundStatus
    source: BoundSource

    def _c(self):
        return S.vtime_bounded(self.earliest_ns, self.latest_ns, int(self.status), int(self.source))

    def after(self, t_ns):
        """t_ns has certainly passed (t_ns < earliest_ns); always False
        unless the status is SYNCHRONIZED or FREE_RUNNING."""
        _need("Bounded.after")
        return bool(lib.vtime_bounded_after(ctypes.byref(self._c()), u64("t_ns", t_ns)))

    def before(self, t_ns):
        """t_ns has certainly not come yet (t_ns > latest_ns); always False
        unless the status is SYNCHRONIZED or FREE_RUNNING."""
        _need("Bounded.before")
        return bool(lib.vtime_bounded_before(ctypes.byref(self._c()), u64("t_ns", t_ns)))

    @property
    def half_width_ns(self):
        """(latest - earliest) / 2, None when there is no bound."""
        if self.status in (BoundStatus.SYNCHRONIZED, BoundStatus.FREE_RUNNING):
            return (self.latest_ns - self.earliest_ns) // 2
        return None

    @classmethod
    def _from_c(cls, b):
        return cls(b.earliest_ns, b.latest_ns, _enum(BoundStatus, b.status), _enum(BoundSource, b.source))


def bounded_now():
    """The Bounded interval holding true time now, UTC (lock-free, no failure)."""
    _need("bounded_now")
    return Bounded._from_c(lib.vtime_bounded_now())


def bounded_tai_now():
    """The same interval in TAI; UNKNOWN where neither VMClock nor the kernel
    gives TAI - UTC."""
    _need("bounded_tai_now")
    return Bounded._from_c(lib.vtime_bounded_tai_now())


_HOLDS = (BoundStatus.SYNCHRONIZED, BoundStatus.FREE_RUNNING)


@dataclass(frozen=True)
class Interval:
    """The interval of bounded_now() without its source, as the fast form
    interval_now() returns it (struct vtime_interval and the status the C
    call writes through its pointer). after(t), before(t) and half_width_ns
    answer as Bounded's do (vtime_bounded_after/_before's rule, computed
    here)."""
    earliest_ns: int
    latest_ns: int
    status: BoundStatus

    def after(self, t_ns):
        """t_ns has certainly passed (t_ns < earliest_ns); always False
        unless the status is SYNCHRONIZED or FREE_RUNNING."""
        t_ns = u64("t_ns", t_ns)
        return self.status in _HOLDS and t_ns < self.earliest_ns

    def before(self, t_ns):
        """t_ns has certainly not come yet (t_ns > latest_ns); always False
        unless the status is SYNCHRONIZED or FREE_RUNNING."""
        t_ns = u64("t_ns", t_ns)
        return self.status in _HOLDS and t_ns > self.latest_ns

    @property
    def half_width_ns(self):
        """(latest - earliest) / 2, None when there is no bound."""
        if self.status in _HOLDS:
            return (self.latest_ns - self.earliest_ns) // 2
        return None


def _interval(i, st):
    return Interval(i.earliest_ns, i.latest_ns, _enum(BoundStatus, st.value))


def interval_now():
    """The fast form of bounded_now(): the same interval, UTC, returned by
    the C call in two registers rather than through memory, without the
    source (bounded_info() has it). Lock-free, no failure; UNKNOWN or
    DISRUPTED comes with [0, 2**64 - 1]."""
    _need("interval_now")
    st = ctypes.c_uint32()
    return _interval(lib.vtime_interval_now(ctypes.byref(st)), st)


def interval_tai_now():
    """The fast form of bounded_tai_now(): the same interval in TAI; UNKNOWN
    where neither VMClock nor the kernel gives TAI - UTC."""
    _need("interval_tai_now")
    st = ctypes.c_uint32()
    return _interval(lib.vtime_interval_tai_now(ctypes.byref(st)), st)


_NONE = (1 << 64) - 1


@dataclass(frozen=True)
class BoundedInfo:
    """What the bound rests on (vtime_bounded_info). Values the library gives
    as 2**64 - 1 ("no bound", "never read") and a kernel_status of -1 are None."""
    source: BoundSource
    status: BoundStatus
    why: str
    vmclock: str
    page_watch: str
    half_width_ns: object
    kernel_maxerror_ns: object
    kernel_esterror_ns: object
    kernel_age_ns: int
    kernel_status: object
    tai_offset_s: int
    track_ns: int
    vmclock_maxerror_ns: object
    disruptions: int
    generations: int
    realtime_steps: int


def bounded_info():
    """Brings the bound up to date and returns a BoundedInfo (may take the
    maintenance lock for a moment: not for signal handlers)."""
    _need("bounded_info")
    i = S.vtime_bounded_info()
    check(lib.vtime_bounded_info(ctypes.byref(i)), "vtime_bounded_info")

    def known(v):
        return None if v == _NONE else v

    def s(b):
        if isinstance(b, (bytes, bytearray)):
            b = bytes(b).split(b"\0", 1)[0]
        return b.decode(errors="replace") if b else ""

    return BoundedInfo(source=_enum(BoundSource, i.source), status=_enum(BoundStatus, i.status), why=s(i.why),
                       vmclock=s(i.vmclock), page_watch=s(i.page_watch), half_width_ns=known(i.half_width_ns),
                       kernel_maxerror_ns=known(i.kernel_maxerror_ns),
                       kernel_esterror_ns=known(i.kernel_esterror_ns), kernel_age_ns=i.kernel_age_ns,
                       kernel_status=None if i.kernel_status < 0 else i.kernel_status, tai_offset_s=i.tai_offset_s,
                       track_ns=i.track_ns, vmclock_maxerror_ns=known(i.vmclock_maxerror_ns),
                       disruptions=i.disruptions, generations=i.generations, realtime_steps=i.realtime_steps)


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
