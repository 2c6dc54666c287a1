# SPDX-License-Identifier: MIT
"""Loading libvtime and declaring every exported function (ctypes, stdlib only).

The library is looked up, in order:
1. $VTIME_LIBRARY (an explicit path: the build tree's tests set it);
2. the copy `pip install` built into this package (vtime/libvtime-py.so);
3. the library `meson install` installed beside this package (the path
   recorded in vtime/_config.py at install time);
4. libvtime.so.0 through the dynamic linker (a distribution's package).
"""

import ctypes
import ctypes.util
import os
import sys

from . import _structs as S
from ._structs import (vtime_hv_tsc_page as HvTscPage, vtime_pvclock_vcpu_time_info as VcpuTimeInfo,
                       vtime_pvclock_wall_clock as WallClock, vtime_scale as Scale)

try:
    from . import _config
except ImportError:  # pragma: no cover
    _config = None

HERE = os.path.dirname(os.path.abspath(__file__))
PRIVATE_NAME = "libvtime-py.so"
SONAME = "libvtime.so.0"

assert ctypes.sizeof(VcpuTimeInfo) == 32 and ctypes.sizeof(WallClock) == 12 and ctypes.sizeof(HvTscPage) == 4096


def candidates():
    """(how, path) in lookup order."""
    env = os.environ.get("VTIME_LIBRARY")
    if env:
        yield "VTIME_LIBRARY", env
    private = os.path.join(HERE, PRIVATE_NAME)
    if os.path.exists(private):
        yield "built by pip into the package", private
    libdir = getattr(_config, "LIBDIR", None)
    if libdir:
        yield "installed by meson install", os.path.join(libdir, SONAME)
    yield "the dynamic linker", SONAME
    found = ctypes.util.find_library("vtime")
    if found and found != SONAME:
        yield "ctypes.util.find_library", found


def _load():
    errors = []
    for how, name in candidates():
        try:
            return ctypes.CDLL(name), how, name
        except OSError as exc:
            errors.append(f"{name} ({how}): {exc}")
    raise ImportError("vtime: cannot load libvtime: " + "; ".join(errors) +
                      " (pip install bindings/python builds its own copy; meson install installs one; "
                      "or set VTIME_LIBRARY to a libvtime.so)")


lib, LOADED_HOW, LOADED_FROM = _load()

_u8, _u16, _u32, _u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
_i64, _int, _uint, _bool = ctypes.c_int64, ctypes.c_int, ctypes.c_uint, ctypes.c_bool
_size, _vp, _cp = ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p
P = ctypes.POINTER

PvRec, Wall, Ctr = P(VcpuTimeInfo), P(WallClock), P(S.vtime_counter)
Vmc, Hv, Vm, Vcpu, Now = (P(S.vtime_vmclock_abi), P(S.vtime_hv_tsc_page), P(S.vtime_vmm), P(S.vtime_vmm_vcpu),
                          P(S.vtime_vmm_now))

# (name, restype, argtypes, platform): None in every build, "linux" with the
# userspace shim, "kvm" on x86-64 Linux.
SIGNATURES = [
    # error.h, version.h
    ("vtime_strerror", _cp, [_int], None),
    ("vtime_version_string", _cp, [], None),
    # scale.h, tsc.h
    ("vtime_scale_init", _int, [P(Scale), _u64, _u64], None),
    ("vtime_scale_apply", _u64, [P(Scale), _u64], None),
    ("vtime_scale_source_hz", _u64, [P(Scale)], None),
    ("vtime_tsc_ratio_init", _int, [P(_u64), _u64, _u64, _uint], None),
    ("vtime_tsc_ratio_apply", _u64, [_u64, _u64, _uint], None),
    # pvclock.h
    ("vtime_pvclock_time", _u64, [PvRec, _u64], None),
    ("vtime_pvclock_read", _int, [PvRec, Ctr, _uint, P(S.vtime_pvclock_reading)], None),
    ("vtime_pvclock_snapshot", _int, [PvRec, _uint, PvRec], None),
    ("vtime_pvclock_publish", _u32, [PvRec, PvRec], None),
    ("vtime_pvclock_consume_stopped", _bool, [PvRec], None),
    ("vtime_pvclock_wall_read", _int, [Wall, _uint, P(_u32), P(_u32)], None),
    ("vtime_pvclock_wall_publish", _u32, [Wall, _u32, _u32], None),
    ("vtime_pvclock_wall_ns", _u64, [_u32, _u32, _u64], None),
    # vmclock.h
    ("vtime_vmclock_check", _int, [Vmc, _size], None),
    ("vtime_vmclock_snapshot", _int, [Vmc, _uint, Vmc], None),
    ("vtime_vmclock_usable", _int, [Vmc], None),
    ("vtime_vmclock_time", _int, [Vmc, _u64, P(_u64), P(_u32)], None),
    ("vtime_vmclock_maxerror", _u64, [Vmc, _u64], None),
    ("vtime_vmclock_esterror", _u64, [Vmc, _u64], None),
    ("vtime_vmclock_convert", _int, [Vmc, _u64, P(S.vtime_vmclock_reading)], None),
    ("vtime_vmclock_read", _int, [Vmc, Ctr, _uint, P(S.vtime_vmclock_reading)], None),
    ("vtime_vmclock_init", _int, [Vmc, _u32, _u8, _u8], None),
    ("vtime_vmclock_set_period", _int, [Vmc, _u64, _u64, _u64], None),
    ("vtime_vmclock_set_time", _int, [Vmc, _u64, _u64, _u32, _u64, _u64], None),
    ("vtime_vmclock_publish", _u32, [Vmc, Vmc, _uint], None),
    # hyperv.h
    ("vtime_hv_tsc_page_time", _u64, [_u64, _i64, _u64], None),
    ("vtime_hv_tsc_page_read", _int, [Hv, Ctr, _uint, P(S.vtime_hv_tsc_reading)], None),
    ("vtime_hv_tsc_page_snapshot", _int, [Hv, _uint, P(S.vtime_hv_tsc_reading)], None),
    ("vtime_hv_tsc_page_from_pvclock", _int, [PvRec, P(_u64), P(_i64)], None),
    ("vtime_hv_tsc_page_publish", _u32, [Hv, _u64, _i64, _u32], None),
    ("vtime_hv_tsc_page_invalidate", _u32, [Hv, _u32], None),
    # vmm.h
    ("vtime_vmm_init", _int, [Vm, P(S.vtime_vmm_config), Now], None),
    ("vtime_vmm_clock", _u64, [Vm, _u64], None),
    ("vtime_vmm_set_clock", _int, [Vm, Now, _u64], None),
    ("vtime_vmm_update_master", _int, [Vm, Now], None),
    ("vtime_vmm_vcpu_init", _int, [Vm, Vcpu], None),
    ("vtime_vmm_vcpu_set_record", _int, [Vcpu, PvRec], None),
    ("vtime_vmm_vcpu_write_tsc", _int, [Vcpu, _u64, Now, _bool, P(_bool)], None),
    ("vtime_vmm_vcpu_adopt_offset", _int, [Vcpu, _u64, Now, P(_bool)], None),
    ("vtime_vmm_vcpu_tsc", _u64, [Vcpu, _u64], None),
    ("vtime_vmm_vcpu_rdtsc", _u64, [Vcpu, _u64], None),
    ("vtime_vmm_stable", _bool, [Vm], None),
    ("vtime_vmm_vcpu_compute", _int, [Vcpu, Now, PvRec], None),
    ("vtime_vmm_vcpu_publish", _int, [Vcpu, Now, P(_u32)], None),
    ("vtime_vmm_publish_all", _int, [Vm, Now], None),
    ("vtime_vmm_wall", _int, [Vm, Now, P(_u32), P(_u32)], None),
    ("vtime_vmm_wall_publish", _int, [Vm, Wall, Now, P(_u32)], None),
    ("vtime_vmm_pause", _int, [Vm, Now], None),
    ("vtime_vmm_resume", _int, [Vm, Now, _uint], None),
    ("vtime_vmm_vcpu_request_stopped", _int, [Vcpu], None),
    ("vtime_vmm_vmclock_set_page", _int, [Vm, Vmc, _u32], None),
    ("vtime_vmm_vmclock_sync", _int, [Vm, Now, P(S.vtime_vmm_vmclock_status)], None),
    ("vtime_vmm_vmclock_set_disruption", _int, [Vm, _u64], None),
    ("vtime_vmm_vmclock_publish", _int, [Vm, Now, P(_u32)], None),
    ("vtime_vmm_hv_set_page", _int, [Vm, Hv], None),
    ("vtime_vmm_hv_publish", _int, [Vm, Now, P(_u32)], None),
    ("vtime_vmm_hv_ref_count", _u64, [Vm, _u64], None),
    ("vtime_vmm_save", _int, [Vm, Now, P(S.vtime_vmm_state)], None),
    ("vtime_vmm_vcpu_save", _int, [Vcpu, Now, P(S.vtime_vmm_vcpu_state)], None),
    ("vtime_vmm_restore", _int, [Vm, P(S.vtime_vmm_state), Now, _uint, _uint], None),
    ("vtime_vmm_vcpu_restore", _int, [Vcpu, P(S.vtime_vmm_vcpu_state), Now, P(_bool)], None),
    ("vtime_vmm_state_encode", _int, [P(S.vtime_vmm_state), _vp, _size], None),
    ("vtime_vmm_state_decode", _int, [P(S.vtime_vmm_state), _vp, _size], None),
    ("vtime_vmm_vcpu_state_encode", _int, [P(S.vtime_vmm_vcpu_state), _vp, _size], None),
    ("vtime_vmm_vcpu_state_decode", _int, [P(S.vtime_vmm_vcpu_state), _vp, _size], None),
    # ticks.h
    ("vtime_ticks_init", _int, [P(S.vtime_ticks), _u64, _uint, _u64], None),
    ("vtime_ticks_set_catchup", _int, [P(S.vtime_ticks), _u32, _u64], None),
    ("vtime_ticks_update", _int, [P(S.vtime_ticks), _u64, _bool, P(S.vtime_ticks_result)], None),
    ("vtime_ticks_set_period", _int, [P(S.vtime_ticks), _u64, _u64], None),
    ("vtime_ticks_counters", _int, [P(S.vtime_ticks), P(S.vtime_ticks_counters)], None),
    ("vtime_ticks_save", _int, [P(S.vtime_ticks), _u64, P(S.vtime_ticks_state)], None),
    ("vtime_ticks_restore", _int, [P(S.vtime_ticks), P(S.vtime_ticks_state), _u64], None),
    ("vtime_ticks_state_encode", _int, [P(S.vtime_ticks_state), _vp, _size], None),
    ("vtime_ticks_state_decode", _int, [P(S.vtime_ticks_state), _vp, _size], None),
    ("vtime_ticks_guest_init", _int, [P(S.vtime_ticks_guest), _u64, _u64], None),
    ("vtime_ticks_guest_account", _u64, [P(S.vtime_ticks_guest), _u64, P(_u64)], None),
    ("vtime_ticks_guest_set_period", _int, [P(S.vtime_ticks_guest), _u64, _u64], None),
    # clamp.h
    ("vtime_clamp_init", _int, [P(S.vtime_clamp), _u64, _uint], None),
    ("vtime_clamp_apply", _u64, [P(S.vtime_clamp), _u64], None),
    ("vtime_clamp_apply_stable", _u64, [P(S.vtime_clamp), _u64, _bool], None),
    ("vtime_clamp_last", _u64, [P(S.vtime_clamp)], None),
    ("vtime_clamp_reset", None, [P(S.vtime_clamp), _u64], None),
    ("vtime_clamp_local_init", _int, [P(S.vtime_clamp_local), _u64], None),
    ("vtime_clamp_local_apply", _u64, [P(S.vtime_clamp_local), _u64], None),
    # calib.h
    ("vtime_calib_config_default", _int, [P(S.vtime_calib_config)], None),
    ("vtime_calib_init", _int, [P(S.vtime_calib), P(S.vtime_calib_config)], None),
    ("vtime_calib_feed", _int, [P(S.vtime_calib), P(S.vtime_calib_sample), P(_uint)], None),
    ("vtime_calib_read", _int, [P(S.vtime_calib), Ctr, P(_u64)], None),
    ("vtime_calib_line_get", _int, [P(S.vtime_calib), P(S.vtime_calib_line)], None),
    ("vtime_calib_line_apply", _u64, [P(S.vtime_calib_line), _u64], None),
    ("vtime_calib_stats_get", _int, [P(S.vtime_calib), P(S.vtime_calib_stats)], None),
    # clock.h (Linux)
    ("vtime_now_ns", _u64, [], "linux"),
    ("vtime_realtime_ns", _u64, [], "linux"),
    ("vtime_counter_now", _u64, [], "linux"),
    ("vtime_counter_to_ns", _u64, [_u64], "linux"),
    ("vtime_clock_info", _int, [P(S.vtime_clock_info)], "linux"),
    ("vtime_bounded_now", S.vtime_bounded, [], "linux"),
    ("vtime_bounded_tai_now", S.vtime_bounded, [], "linux"),
    ("vtime_interval_now", S.vtime_interval, [P(_u32)], "linux"),
    ("vtime_interval_tai_now", S.vtime_interval, [P(_u32)], "linux"),
    ("vtime_bounded_after", _bool, [P(S.vtime_bounded), _u64], "linux"),
    ("vtime_bounded_before", _bool, [P(S.vtime_bounded), _u64], "linux"),
    ("vtime_bounded_info", _int, [P(S.vtime_bounded_info)], "linux"),
    # linux.h
    ("vtime_counter_get", _int, [_uint, Ctr], "linux"),
    ("vtime_counter_read_cpu", _u64, [P(_int)], "linux"),
    ("vtime_host_page_find", _int, [P(S.vtime_host_page)], "linux"),
    ("vtime_host_page_record", _int, [P(S.vtime_host_page), _uint, P(PvRec)], "linux"),
    ("vtime_machine_probe", _int, [P(S.vtime_machine)], "linux"),
    ("vtime_hv_host_page_find", _int, [P(S.vtime_hv_host_page)], "linux"),
    ("vtime_vmclock_dev_open", _int, [P(S.vtime_vmclock_dev), _cp], "linux"),
    ("vtime_vmclock_dev_read", _int, [P(S.vtime_vmclock_dev), Vmc], "linux"),
    ("vtime_vmclock_dev_wait", _int, [P(S.vtime_vmclock_dev), _int], "linux"),
    ("vtime_vmclock_dev_close", _int, [P(S.vtime_vmclock_dev)], "linux"),
    # kvm.h (x86-64 Linux)
    ("vtime_kvm_clock_get", _int, [_int, P(S.vtime_kvm_clock)], "kvm"),
    ("vtime_kvm_clock_set", _int, [_int, _u64, _u64], "kvm"),
    ("vtime_kvm_clock_ctrl", _int, [_int], "kvm"),
    ("vtime_kvm_tsc_khz_get", _int, [_int, P(_u32)], "kvm"),
    ("vtime_kvm_tsc_khz_set", _int, [_int, _u32], "kvm"),
    ("vtime_kvm_tsc_offset_get", _int, [_int, P(_u64)], "kvm"),
    ("vtime_kvm_tsc_offset_set", _int, [_int, _u64], "kvm"),
    ("vtime_kvm_msr_get", _int, [_int, _u32, P(_u64)], "kvm"),
    ("vtime_kvm_msr_set", _int, [_int, _u32, _u64], "kvm"),
    ("vtime_kvm_save_encode", _int, [P(S.vtime_kvm_save), _vp, _size, P(_size)], "kvm"),
    ("vtime_kvm_save_decode", _int, [P(S.vtime_kvm_save), _vp, _size], "kvm"),
    ("vtime_kvm_save_clock", _int, [_int, P(_int), _uint, _vp, _size, P(S.vtime_kvm_save)], "kvm"),
    ("vtime_kvm_restore_clock", _int, [_int, P(_int), _uint, _vp, _size, P(S.vtime_kvm_save), _uint], "kvm"),
    ("vtime_kvm_guest_record", _int, [_vp, _size, _u64, P(PvRec)], "kvm"),
    ("vtime_kvm_guest_record_read", _int, [_vp, _size, _u64, PvRec], "kvm"),
]

# What this library offers: "linux" and "kvm" functions only where built.
HAVE = {"linux": hasattr(lib, "vtime_now_ns"), "kvm": hasattr(lib, "vtime_kvm_clock_get")}

for _name, _res, _args, _plat in SIGNATURES:
    if _plat and not HAVE[_plat]:
        continue
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args


def fn(name):
    """The declared function, or None when this build of the library lacks it."""
    return getattr(lib, name, None) if any(n == name for n, *_ in SIGNATURES) else None


def optional(name, restype, argtypes):
    """A symbol that only some builds export; None when this libvtime lacks it."""
    f = getattr(lib, name, None)
    if f is not None:
        f.restype = restype
        f.argtypes = argtypes
    return f
