# SPDX-License-Identifier: MIT
"""The monotonic clamp (<vtime/clamp.h>) and the recalibration engine (<vtime/calib.h>)."""

import ctypes

from . import _structs as S
from ._common import Fields, MachineCounter, check, counter_hook, u64
from ._lib import lib

CLAMP_TRUST_STABLE = 0x1
CALIB_EV_USED, CALIB_EV_REJECTED, CALIB_EV_REFIT, CALIB_EV_STEP, CALIB_EV_DISCONT, CALIB_EV_FIRST = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20)


class Clamp:
    """Global scope: Clamp(start=0, flags=0); apply() returns max(t, everything before)."""

    def __init__(self, start=0, flags=0):
        self._c = S.vtime_clamp()
        self._p = ctypes.byref(self._c)
        check(lib.vtime_clamp_init(self._p, u64("start", start), flags), "vtime_clamp_init")

    def apply(self, t):
        return lib.vtime_clamp_apply(self._p, u64("t", t))

    def apply_stable(self, t, source_stable):
        return lib.vtime_clamp_apply_stable(self._p, u64("t", t), source_stable)

    def last(self):
        return lib.vtime_clamp_last(self._p)

    def reset(self, start=0):
        lib.vtime_clamp_reset(self._p, u64("start", start))


class ClampLocal:
    """Per-thread scope (one thread at a time)."""

    def __init__(self, start=0):
        self._c = S.vtime_clamp_local()
        check(lib.vtime_clamp_local_init(ctypes.byref(self._c), u64("start", start)), "vtime_clamp_local_init")

    def apply(self, t):
        return lib.vtime_clamp_local_apply(ctypes.byref(self._c), u64("t", t))

    @property
    def last(self):
        return self._c.last


class CalibSample(Fields, S.vtime_calib_sample):
    """CalibSample(counter, ref_ns, cost_ns)."""


class CalibLine(Fields, S.vtime_calib_line):
    """A published line: ns = base_ns + scaled (counter - base_counter)."""

    def apply(self, counter):
        return lib.vtime_calib_line_apply(ctypes.byref(self), u64("counter", counter))


class CalibStats(Fields, S.vtime_calib_stats):
    """Quality counters of the engine."""


class CalibConfig(Fields, S.vtime_calib_config):
    """Configuration; CalibConfig.default() has the documented defaults."""

    @classmethod
    def default(cls, **fields):
        c = cls()
        check(lib.vtime_calib_config_default(ctypes.byref(c)), "vtime_calib_config_default")
        for k, v in fields.items():
            if k == "counter":
                if not isinstance(v, MachineCounter):
                    raise TypeError("CalibConfig.counter must be a MachineCounter (the engine keeps the C hook)")
                v = v.raw
            setattr(c, k, v)
        return c


class Calib:
    """The recalibration engine: Calib(config=None)."""

    def __init__(self, config=None):
        self._c = S.vtime_calib()
        self._p = ctypes.byref(self._c)
        check(lib.vtime_calib_init(self._p, ctypes.byref(config) if config is not None else None),
              "vtime_calib_init")

    def feed(self, sample):
        """The CALIB_EV_* events of this sample (VtimeError EBUSY: another feeder is inside)."""
        if not isinstance(sample, S.vtime_calib_sample):
            sample = CalibSample(*sample)
        ev = ctypes.c_uint()
        check(lib.vtime_calib_feed(self._p, ctypes.byref(sample), ctypes.byref(ev)), "vtime_calib_feed")
        return ev.value

    def read(self, counter):
        """ns now, counter (callable or MachineCounter) read inside the window."""
        raw, done = counter_hook(counter)
        ns = ctypes.c_uint64()
        rc = lib.vtime_calib_read(self._p, ctypes.byref(raw), ctypes.byref(ns))
        done()
        check(rc, "vtime_calib_read")
        return ns.value

    def line(self):
        out = CalibLine()
        check(lib.vtime_calib_line_get(self._p, ctypes.byref(out)), "vtime_calib_line_get")
        return out

    def stats(self):
        out = CalibStats()
        check(lib.vtime_calib_stats_get(self._p, ctypes.byref(out)), "vtime_calib_stats_get")
        return out
