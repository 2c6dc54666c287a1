# SPDX-License-Identifier: MIT
"""Shared helpers: errors, integer checks, views of caller memory, counters."""

import ctypes

from . import _structs as S
from ._lib import lib

U64 = (1 << 64) - 1

# Error codes (include/vtime/error.h).
(EINVAL, EAGAIN, ERANGE, ENOTSUP, ENODEV, EPROTO, ENODATA, EIO, EBUSY, ENOMEM, ESTATE, ENOCOUNTER, EUNRELIABLE,
 ENOTVALID) = range(-1, -15, -1)


def strerror(code):
    """English description of a VTIME_E* code (also for unknown codes)."""
    return lib.vtime_strerror(code).decode()


class VtimeError(Exception):
    """A negative VTIME_E* code from the library (.code, .message; .why where
    the library explains further, e.g. HostPage.find())."""

    def __init__(self, code, what="", why=""):
        self.code = code
        self.message = strerror(code)
        self.why = why
        text = f"{self.message} ({code})"
        if what:
            text = f"{what}: {text}"
        if why:
            text += f": {why}"
        super().__init__(text)


def check(code, what):
    if code < 0:
        raise VtimeError(code, what)
    return code


def u64(name, v):
    if not isinstance(v, int) or not 0 <= v <= U64:
        raise ValueError(f"{name} must be an integer in [0, 2**64)")
    return v


def view(cls, buf, offset=0, align=8):
    """A ctypes struct over caller memory (bytearray, mmap, memoryview,
    ctypes array: anything writable with the buffer protocol); the view keeps
    the buffer exported (alive, not resizable) while it lives."""
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, not {offset}")
    try:
        v = cls.from_buffer(buf, offset)
    except TypeError as exc:
        raise TypeError(f"{type(buf).__name__} is not writable memory (use a bytearray, mmap or memoryview)") \
            from exc
    except ValueError as exc:
        raise ValueError(f"{cls.__name__} ({ctypes.sizeof(cls)} bytes) does not fit at offset {offset}") from exc
    if ctypes.addressof(v) % align:
        raise ValueError(f"{cls.__name__} at offset {offset} is not {align}-byte aligned in memory")
    return v


def ro_view(cls, buf, offset=0, align=8):
    """As view(), or a copy for read-only memory (bytes)."""
    try:
        return view(cls, buf, offset, align)
    except TypeError:
        if len(buf) - offset < ctypes.sizeof(cls):
            raise ValueError(f"{cls.__name__} ({ctypes.sizeof(cls)} bytes) does not fit at offset {offset}")
        return cls.from_buffer_copy(buf, offset)


class Fields:
    """Mixin for ctypes structs: repr, equality and to_dict() by field."""

    def to_dict(self):
        out = {}
        for name, *_ in self._fields_:
            v = getattr(self, name)
            if isinstance(v, ctypes.Array):
                v = [x.to_dict() if isinstance(x, Fields) else x for x in v]
            elif isinstance(v, ctypes.Structure):
                v = {n: getattr(v, n) for n, *_ in v._fields_}
            out[name] = v
        return out

    def __eq__(self, other):
        return type(self) is type(other) and bytes(self) == bytes(other)

    def __hash__(self):
        return hash(bytes(self))

    def __repr__(self):
        d = self.to_dict()
        shown = ", ".join(f"{k}={v!r}" for k, v in d.items() if not (k.startswith("pad") or k.startswith("reserved")))
        return f"{type(self).__name__}({shown})"


CounterFn = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)


class MachineCounter:
    """A counter hook implemented in C (vtime_counter_get()): readers call it
    directly, without a Python callback. Calling it reads the counter once."""

    def __init__(self, raw):
        self.raw = raw

    def __call__(self):
        if not self.raw.read:
            return 0
        return CounterFn(self.raw.read)(self.raw.ctx)


class _CallbackCounter:
    """A Python callable as the C hook; an exception it raises is re-raised
    after the C call returns (the reader then saw 0)."""

    def __init__(self, fn):
        self.error = None

        def read(_ctx):
            try:
                return u64("counter()", fn())
            except BaseException as exc:  # noqa: B902 - re-raised by done()
                self.error = exc
                return 0

        self.cb = CounterFn(read)
        self.raw = S.vtime_counter(ctypes.cast(self.cb, ctypes.c_void_p).value, None)

    def done(self):
        if self.error is not None:
            raise self.error


def counter_hook(counter):
    """(raw vtime_counter, finisher) for a MachineCounter or a callable."""
    if isinstance(counter, MachineCounter):
        return counter.raw, lambda: None
    if not callable(counter):
        raise TypeError("counter must be a callable returning the counter, or a MachineCounter")
    cc = _CallbackCounter(counter)
    return cc.raw, cc.done
