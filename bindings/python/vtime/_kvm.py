# SPDX-License-Identifier: MIT
"""Helpers over /dev/kvm file descriptors the caller owns (<vtime/kvm.h>,
x86-64 Linux builds; elsewhere each raises VtimeError(ENOTSUP))."""

import ctypes

from . import _structs as S
from ._common import ENOTSUP, Fields, VtimeError, check, u64
from ._lib import HAVE, lib
from ._vmm import ResumePolicy

CLOCK_TSC_STABLE, CLOCK_REALTIME, CLOCK_HOST_TSC = 2, 4, 8
MSR_WALL_CLOCK_NEW, MSR_SYSTEM_TIME_NEW, MSR_IA32_TSC = 0x4B564D00, 0x4B564D01, 0x10
SAVE_MAX_VCPUS = 64


def _need(what):
    if not HAVE["kvm"]:
        raise VtimeError(ENOTSUP, what)


def _fd(f):
    return f if isinstance(f, int) else f.fileno()


class KvmClock(Fields, S.vtime_kvm_clock):
    """The VM's kvmclock as KVM_GET_CLOCK returns it."""


class KvmSave(Fields, S.vtime_kvm_save):
    """The clock state of a stopped VM, with its byte image."""

    def encode(self):
        _need("KvmSave.encode")
        buf = ctypes.create_string_buffer(48 + 24 * min(self.nr_vcpus, SAVE_MAX_VCPUS))
        used = ctypes.c_size_t()
        check(lib.vtime_kvm_save_encode(ctypes.byref(self), buf, len(buf), ctypes.byref(used)),
              "vtime_kvm_save_encode")
        return buf.raw[:used.value]

    @classmethod
    def decode(cls, data):
        _need("KvmSave.decode")
        data = bytes(data)
        s = cls()
        check(lib.vtime_kvm_save_decode(ctypes.byref(s), data, len(data)), "vtime_kvm_save_decode")
        return s


def clock_get(vm_fd):
    _need("clock_get")
    c = KvmClock()
    check(lib.vtime_kvm_clock_get(_fd(vm_fd), ctypes.byref(c)), "vtime_kvm_clock_get")
    return c


def clock_set(vm_fd, clock_ns, realtime_ns=0):
    _need("clock_set")
    check(lib.vtime_kvm_clock_set(_fd(vm_fd), u64("clock_ns", clock_ns), u64("realtime_ns", realtime_ns)),
          "vtime_kvm_clock_set")


def clock_ctrl(vcpu_fd):
    _need("clock_ctrl")
    check(lib.vtime_kvm_clock_ctrl(_fd(vcpu_fd)), "vtime_kvm_clock_ctrl")


def tsc_khz_get(vcpu_fd):
    _need("tsc_khz_get")
    k = ctypes.c_uint32()
    check(lib.vtime_kvm_tsc_khz_get(_fd(vcpu_fd), ctypes.byref(k)), "vtime_kvm_tsc_khz_get")
    return k.value


def tsc_khz_set(vcpu_fd, khz):
    _need("tsc_khz_set")
    check(lib.vtime_kvm_tsc_khz_set(_fd(vcpu_fd), khz), "vtime_kvm_tsc_khz_set")


def tsc_offset_get(vcpu_fd):
    _need("tsc_offset_get")
    o = ctypes.c_uint64()
    check(lib.vtime_kvm_tsc_offset_get(_fd(vcpu_fd), ctypes.byref(o)), "vtime_kvm_tsc_offset_get")
    return o.value


def tsc_offset_set(vcpu_fd, offset):
    _need("tsc_offset_set")
    check(lib.vtime_kvm_tsc_offset_set(_fd(vcpu_fd), u64("offset", offset)), "vtime_kvm_tsc_offset_set")


def msr_get(vcpu_fd, index):
    _need("msr_get")
    v = ctypes.c_uint64()
    check(lib.vtime_kvm_msr_get(_fd(vcpu_fd), index, ctypes.byref(v)), "vtime_kvm_msr_get")
    return v.value


def msr_set(vcpu_fd, index, value):
    _need("msr_set")
    check(lib.vtime_kvm_msr_set(_fd(vcpu_fd), index, u64("value", value)), "vtime_kvm_msr_set")


def _mem(mem):
    """(address, size, keepalive) of guest memory (a writable buffer), or (None, 0, None)."""
    if mem is None:
        return None, 0, None
    n = len(memoryview(mem))
    arr = (ctypes.c_char * n).from_buffer(mem)
    return ctypes.addressof(arr), n, arr


def _fds(fds):
    fds = [_fd(f) for f in fds]
    return (ctypes.c_int * max(1, len(fds)))(*fds), len(fds)


def save_clock(vm_fd, vcpu_fds, mem=None):
    """The KvmSave of a stopped VM (mem: guest memory from guest-physical 0)."""
    _need("save_clock")
    arr, n = _fds(vcpu_fds)
    p, size, _keep = _mem(mem)
    out = KvmSave()
    check(lib.vtime_kvm_save_clock(_fd(vm_fd), arr, n, p, size, ctypes.byref(out)), "vtime_kvm_save_clock")
    return out


def restore_clock(vm_fd, vcpu_fds, save, mem=None, policy=ResumePolicy.FREEZE):
    _need("restore_clock")
    arr, n = _fds(vcpu_fds)
    p, size, _keep = _mem(mem)
    check(lib.vtime_kvm_restore_clock(_fd(vm_fd), arr, n, p, size, ctypes.byref(save), int(policy)),
          "vtime_kvm_restore_clock")


def guest_record(mem, gpa):
    """The offset in mem of the record at guest-physical gpa (checked as
    vtime_kvm_guest_record does: inside mem, 8-byte aligned)."""
    _need("guest_record")
    p, size, _keep = _mem(mem)
    rec = ctypes.POINTER(S.vtime_pvclock_vcpu_time_info)()
    check(lib.vtime_kvm_guest_record(p, size, u64("gpa", gpa), ctypes.byref(rec)), "vtime_kvm_guest_record")
    return ctypes.addressof(rec.contents) - p


def guest_record_read(mem, msr):
    """A consistent PvclockRecord of the record the system-time MSR value points at."""
    from . import PvclockRecord
    _need("guest_record_read")
    p, size, _keep = _mem(mem)
    out = S.vtime_pvclock_vcpu_time_info()
    check(lib.vtime_kvm_guest_record_read(p, size, u64("msr", msr), ctypes.byref(out)), "vtime_kvm_guest_record_read")
    return PvclockRecord._from_c(out)
