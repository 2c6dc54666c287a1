# SPDX-License-Identifier: MIT
"""VMClock (<vtime/vmclock.h>): the guest's reader and pure conversions, the
host's writer, over a page in caller memory."""

import ctypes

from . import _structs as S
from ._common import Fields, check, counter_hook, u64, view
from ._lib import lib

MAGIC, VERSION, ABI_SIZE = 0x4B4C4356, 1, 0x70
COUNTER_ARM_VCNT, COUNTER_X86_TSC, COUNTER_INVALID = 0, 1, 0xFF
TIME_UTC, TIME_TAI, TIME_MONOTONIC = 0, 1, 2
FLAG_TAI_OFFSET_VALID, FLAG_DISRUPTION_SOON, FLAG_DISRUPTION_IMMINENT = 1 << 0, 1 << 1, 1 << 2
FLAG_PERIOD_ESTERROR_VALID, FLAG_PERIOD_MAXERROR_VALID = 1 << 3, 1 << 4
FLAG_TIME_ESTERROR_VALID, FLAG_TIME_MAXERROR_VALID, FLAG_TIME_MONOTONIC = 1 << 5, 1 << 6, 1 << 7
FLAG_VM_GEN_COUNTER_PRESENT, FLAG_NOTIFICATION_PRESENT = 1 << 8, 1 << 9
STATUS_UNKNOWN, STATUS_INITIALIZING, STATUS_SYNCHRONIZED, STATUS_FREERUNNING, STATUS_UNRELIABLE = range(5)
LEAP_NONE, LEAP_PRE_POS, LEAP_PRE_NEG, LEAP_POS, LEAP_POST_POS, LEAP_POST_NEG = range(6)
UNKNOWN = (1 << 64) - 1
HAVE_TAI, HAVE_UTC = 0x1, 0x2
EV_DISRUPTED, EV_NEW_GENERATION = 0x1, 0x2


class VmclockReading(Fields, S.vtime_vmclock_reading):
    """One reading: time (sec, nsec on the page's time scale), TAI/UTC, error
    bounds, disruption marker, generation counter, flags."""


class VmclockAbi(Fields, S.vtime_vmclock_abi):
    """struct vmclock_abi in host byte order: a snapshot, or a body to publish."""

    def usable(self):
        """Raises VtimeError unless the time can be used (ENOCOUNTER: marker-only,
        EUNRELIABLE, ENOTSUP)."""
        check(lib.vtime_vmclock_usable(ctypes.byref(self)), "vtime_vmclock_usable")

    def time(self, counter):
        """(sec, nsec) at counter (pure)."""
        sec, nsec = ctypes.c_uint64(), ctypes.c_uint32()
        check(lib.vtime_vmclock_time(ctypes.byref(self), u64("counter", counter), ctypes.byref(sec),
                                     ctypes.byref(nsec)), "vtime_vmclock_time")
        return sec.value, nsec.value

    def maxerror(self, counter):
        """Maximum error in ns at counter (UNKNOWN: no bound)."""
        return lib.vtime_vmclock_maxerror(ctypes.byref(self), u64("counter", counter))

    def esterror(self, counter):
        return lib.vtime_vmclock_esterror(ctypes.byref(self), u64("counter", counter))

    def convert(self, counter):
        """The whole VmclockReading at counter."""
        out = VmclockReading()
        check(lib.vtime_vmclock_convert(ctypes.byref(self), u64("counter", counter), ctypes.byref(out)),
              "vtime_vmclock_convert")
        return out

    def set_period(self, hz, maxerror_ppb=UNKNOWN, esterror_ppb=UNKNOWN):
        """Host: the counter line for hz and its error rates (ppb; UNKNOWN clears)."""
        check(lib.vtime_vmclock_set_period(ctypes.byref(self), u64("hz", hz), maxerror_ppb, esterror_ppb),
              "vtime_vmclock_set_period")
        return self

    def set_time(self, counter, sec, nsec, maxerror_ns=UNKNOWN, esterror_ns=UNKNOWN):
        """Host: the reference point."""
        check(lib.vtime_vmclock_set_time(ctypes.byref(self), u64("counter", counter), u64("sec", sec), nsec,
                                         maxerror_ns, esterror_ns), "vtime_vmclock_set_time")
        return self


class VmclockPage:
    """A live VMClock region of `size` bytes at `offset` in writable memory
    (the page a VMM shares, or a guest's mapping of it)."""

    def __init__(self, buf, offset=0, size=4096):
        if size < ABI_SIZE:
            raise ValueError(f"a VMClock region is at least {ABI_SIZE} bytes")
        self._view = view(S.vtime_vmclock_abi, buf, offset, 8)
        if len(memoryview(buf)) - offset < size:
            raise ValueError(f"{size} bytes do not fit at offset {offset}")
        self.size = size
        self._p = ctypes.byref(self._view)

    def check(self):
        """Raises VtimeError unless the constant header says vtime can read it."""
        check(lib.vtime_vmclock_check(self._p, self.size), "vtime_vmclock_check")

    def snapshot(self, max_tries=0):
        out = VmclockAbi()
        check(lib.vtime_vmclock_snapshot(self._p, max_tries, ctypes.byref(out)), "vtime_vmclock_snapshot")
        return out

    def read(self, counter, max_tries=0):
        """Reads with counter (a callable or MachineCounter) inside the window."""
        raw, done = counter_hook(counter)
        out = VmclockReading()
        rc = lib.vtime_vmclock_read(self._p, ctypes.byref(raw), max_tries, ctypes.byref(out))
        done()
        check(rc, "vtime_vmclock_read")
        return out

    def init(self, counter_id=COUNTER_X86_TSC, time_type=TIME_UTC):
        """Host: lays out a new page (never on one the guest has seen)."""
        check(lib.vtime_vmclock_init(self._p, self.size, counter_id, time_type), "vtime_vmclock_init")

    def publish(self, body, events=0):
        """Host: publishes body (a VmclockAbi); returns the new even seq_count."""
        self.check()
        return lib.vtime_vmclock_publish(self._p, ctypes.byref(body), events)
