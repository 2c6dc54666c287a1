# SPDX-License-Identifier: MIT
"""Loading libvtime.so and declaring the C signatures (ctypes, stdlib only)."""

import ctypes
import ctypes.util
import os


class VcpuTimeInfo(ctypes.Structure):
    """struct vtime_pvclock_vcpu_time_info, fields in host byte order."""
    _fields_ = [
        ("version", ctypes.c_uint32),
        ("pad0", ctypes.c_uint32),
        ("tsc_timestamp", ctypes.c_uint64),
        ("system_time", ctypes.c_uint64),
        ("tsc_to_system_mul", ctypes.c_uint32),
        ("tsc_shift", ctypes.c_int8),
        ("flags", ctypes.c_uint8),
        ("pad", ctypes.c_uint8 * 2),
    ]


class WallClock(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("sec", ctypes.c_uint32), ("nsec", ctypes.c_uint32)]


class Scale(ctypes.Structure):
    _fields_ = [("mul", ctypes.c_uint32), ("shift", ctypes.c_int8)]


assert ctypes.sizeof(VcpuTimeInfo) == 32 and ctypes.sizeof(WallClock) == 12


def _candidates():
    # Explicit path first (meson test sets it), then the usual search.
    env = os.environ.get("VTIME_LIBRARY")
    if env:
        yield env
    found = ctypes.util.find_library("vtime")
    if found:
        yield found
    yield "libvtime.so.0"


def _load():
    errors = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
    raise ImportError("vtime: cannot load libvtime (set VTIME_LIBRARY to its path): " + "; ".join(errors))


lib = _load()

_u32, _u64, _int = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int
_P = ctypes.POINTER

# (name, restype, argtypes); all of these are in every libvtime.
_SIGNATURES = [
    ("vtime_strerror", ctypes.c_char_p, [_int]),
    ("vtime_version_string", ctypes.c_char_p, []),
    ("vtime_scale_init", _int, [_P(Scale), _u64, _u64]),
    ("vtime_scale_apply", _u64, [_P(Scale), _u64]),
    ("vtime_scale_source_hz", _u64, [_P(Scale)]),
    ("vtime_pvclock_time", _u64, [_P(VcpuTimeInfo), _u64]),
    ("vtime_pvclock_snapshot", _int, [_P(VcpuTimeInfo), ctypes.c_uint, _P(VcpuTimeInfo)]),
    ("vtime_pvclock_publish", _u32, [_P(VcpuTimeInfo), _P(VcpuTimeInfo)]),
    ("vtime_pvclock_consume_stopped", ctypes.c_bool, [_P(VcpuTimeInfo)]),
    ("vtime_pvclock_wall_read", _int, [_P(WallClock), ctypes.c_uint, _P(_u32), _P(_u32)]),
    ("vtime_pvclock_wall_publish", _u32, [_P(WallClock), _u32, _u32]),
    ("vtime_pvclock_wall_ns", _u64, [_u32, _u32, _u64]),
]

for _name, _res, _args in _SIGNATURES:
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args


def optional(name, restype, argtypes):
    """A symbol that only some builds export (e.g. the userspace clock on
    Linux); None when this libvtime lacks it."""
    fn = getattr(lib, name, None)
    if fn is not None:
        fn.restype = restype
        fn.argtypes = argtypes
    return fn
