# SPDX-License-Identifier: MIT
"""now_ns(), realtime_ns(), info(): the userspace clock of include/vtime/clock.h."""

from . import VtimeError, ENOTSUP


def now_ns():
    raise VtimeError(ENOTSUP, "now_ns")


def realtime_ns():
    raise VtimeError(ENOTSUP, "realtime_ns")


def info():
    raise VtimeError(ENOTSUP, "info")
