# SPDX-License-Identifier: MIT
"""The Hyper-V reference TSC page (<vtime/hyperv.h>) in caller memory."""

import ctypes

from . import _structs as S
from ._common import Fields, check, counter_hook, u64, view
from ._lib import lib

PAGE_SIZE = 4096
REF_HZ = 10_000_000
X64_MSR_TIME_REF_COUNT, X64_MSR_REFERENCE_TSC, X64_MSR_TSC_FREQUENCY = 0x40000020, 0x40000021, 0x40000022


class HvReading(Fields, S.vtime_hv_tsc_reading):
    """time (100 ns units) and tsc (0 for a snapshot), tsc_scale, tsc_offset, sequence."""


def hv_page_time(tsc_scale, tsc_offset, tsc):
    """((tsc * tsc_scale) >> 64) + tsc_offset (pure)."""
    return lib.vtime_hv_tsc_page_time(u64("tsc_scale", tsc_scale), tsc_offset, u64("tsc", tsc))


def hv_from_pvclock(record):
    """KVM's (tsc_scale, tsc_offset) for a PvclockRecord, bit for bit
    (VtimeError ERANGE where KVM publishes no page)."""
    s, o = ctypes.c_uint64(), ctypes.c_int64()
    c = record._c()
    check(lib.vtime_hv_tsc_page_from_pvclock(ctypes.byref(c), ctypes.byref(s), ctypes.byref(o)),
          "vtime_hv_tsc_page_from_pvclock")
    return s.value, o.value


class HvTscPage:
    """A live reference TSC page (4 KiB) at offset in writable memory."""

    def __init__(self, buf, offset=0):
        self._view = view(S.vtime_hv_tsc_page, buf, offset, 8)
        self._p = ctypes.byref(self._view)

    def read(self, counter, max_tries=0):
        """Reads with counter inside the window (ENOTVALID: use TIME_REF_COUNT)."""
        raw, done = counter_hook(counter)
        out = HvReading()
        rc = lib.vtime_hv_tsc_page_read(self._p, ctypes.byref(raw), max_tries, ctypes.byref(out))
        done()
        check(rc, "vtime_hv_tsc_page_read")
        return out

    def snapshot(self, max_tries=0):
        out = HvReading()
        check(lib.vtime_hv_tsc_page_snapshot(self._p, max_tries, ctypes.byref(out)), "vtime_hv_tsc_page_snapshot")
        return out

    def publish(self, tsc_scale, tsc_offset, last=0):
        """Host: returns the sequence published (keep it as the next last)."""
        return lib.vtime_hv_tsc_page_publish(self._p, u64("tsc_scale", tsc_scale), tsc_offset, last)

    def invalidate(self, last=0):
        """Host: sequence 0; returns the last valid sequence."""
        return lib.vtime_hv_tsc_page_invalidate(self._p, last)
