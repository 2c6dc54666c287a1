# SPDX-License-Identifier: MIT
"""Lost-tick engines for emulated timers and guest tick accounting (<vtime/ticks.h>)."""

import ctypes
import enum

from . import _structs as S
from ._common import Fields, check, u64
from ._vmm import _Image
from ._lib import lib

RATE_DEFAULT, RATE_MAX, PERIOD_MAX = 4, 256, (1 << 63) - 1


class TicksPolicy(enum.IntEnum):
    DISCARD = 0
    DELAY = 1
    SLEW = 2


class TicksResult(Fields, S.vtime_ticks_result):
    """deliver (0 or 1), dropped, next (host time to call update again)."""


class TicksCounters(Fields, S.vtime_ticks_counters):
    """due == delivered + dropped + backlog."""


class TicksState(_Image, Fields, S.vtime_ticks_state):
    """The engine's saved state (times relative to the save)."""
    _encode, _decode, BYTES = "vtime_ticks_state_encode", "vtime_ticks_state_decode", 104


class Ticks:
    """Host-side engine of one emulated periodic timer: Ticks(period_ns, policy, now)."""

    def __init__(self, period_ns, policy=TicksPolicy.DISCARD, now=0):
        self._c = S.vtime_ticks()
        check(lib.vtime_ticks_init(ctypes.byref(self._c), u64("period_ns", period_ns), int(policy), u64("now", now)),
              "vtime_ticks_init")

    @classmethod
    def restore(cls, st, now):
        """An engine rebuilt from a TicksState at host time now."""
        t = cls.__new__(cls)
        t._c = S.vtime_ticks()
        check(lib.vtime_ticks_restore(ctypes.byref(t._c), ctypes.byref(st), u64("now", now)), "vtime_ticks_restore")
        return t

    @property
    def period(self):
        return self._c.period

    def set_catchup(self, rate, cap=0):
        check(lib.vtime_ticks_set_catchup(ctypes.byref(self._c), rate, cap), "vtime_ticks_set_catchup")

    def update(self, now, prev_acked=True):
        r = TicksResult()
        check(lib.vtime_ticks_update(ctypes.byref(self._c), u64("now", now), prev_acked, ctypes.byref(r)),
              "vtime_ticks_update")
        return r

    def set_period(self, now, period_ns):
        check(lib.vtime_ticks_set_period(ctypes.byref(self._c), u64("now", now), u64("period_ns", period_ns)),
              "vtime_ticks_set_period")

    def counters(self):
        c = TicksCounters()
        check(lib.vtime_ticks_counters(ctypes.byref(self._c), ctypes.byref(c)), "vtime_ticks_counters")
        return c

    def save(self, now):
        st = TicksState()
        check(lib.vtime_ticks_save(ctypes.byref(self._c), u64("now", now), ctypes.byref(st)), "vtime_ticks_save")
        return st


class TicksGuest:
    """Guest side: TicksGuest(period, now) counts whole periods of any clock."""

    def __init__(self, period, now=0):
        self._c = S.vtime_ticks_guest()
        check(lib.vtime_ticks_guest_init(ctypes.byref(self._c), u64("period", period), u64("now", now)),
              "vtime_ticks_guest_init")

    @property
    def ticks(self):
        return self._c.ticks

    @property
    def period(self):
        return self._c.period

    def account(self, now):
        """(periods elapsed since the last boundary, remainder)."""
        into = ctypes.c_uint64()
        n = lib.vtime_ticks_guest_account(ctypes.byref(self._c), u64("now", now), ctypes.byref(into))
        return n, into.value

    def set_period(self, now, period):
        check(lib.vtime_ticks_guest_set_period(ctypes.byref(self._c), u64("now", now), u64("period", period)),
              "vtime_ticks_guest_set_period")
