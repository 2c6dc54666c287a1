# SPDX-License-Identifier: MIT
"""The VMM core (<vtime/vmm.h>): Vm owns the C VM and its Vcpu objects
(ctypes memory that never moves; the C structs point at each other) and
keeps every record and page it publishes into alive."""

import ctypes
import enum

from . import _structs as S
from ._common import Fields, check, u64, view
from ._lib import lib


class TscMode(enum.IntEnum):
    AUTO = 0
    NATIVE = 1
    SCALED = 2
    CATCHUP = 3
    EMULATED = 4


class ResumePolicy(enum.IntEnum):
    FREEZE = 0   # continues from the value at pause/save
    ADVANCE = 1  # includes the real time that passed


class RestoreKind(enum.IntEnum):
    SNAPSHOT = 0   # a snapshot restore or a clone: generation and marker change
    MIGRATION = 1  # live migration: only the marker changes


STATE_VMCLOCK, STATE_HV = 0x1, 0x2
VCPU_STATE_RECORD = 0x1


class VmmNow(Fields, S.vtime_vmm_now):
    """One host reading: VmmNow(host_tsc, host_ns, realtime_ns)."""


class VmmConfig(Fields, S.vtime_vmm_config):
    """VmmConfig(host_hz=..., guest_hz=0, mode=TscMode.AUTO, hw_scaling=False, frac_bits=0, tolerance_ppm=0)."""


class VmclockStatus(Fields, S.vtime_vmm_vmclock_status):
    """What the VMM knows about its realtime at a VMClock sync."""


class _Image:
    _encode = _decode = None
    BYTES = 0

    def encode(self):
        """The versioned little-endian byte image."""
        buf = ctypes.create_string_buffer(self.BYTES)
        check(getattr(lib, self._encode)(ctypes.byref(self), buf, self.BYTES), self._encode)
        return buf.raw

    @classmethod
    def decode(cls, data):
        """Reads an image (EPROTO malformed or truncated, ENOTSUP a later version)."""
        data = bytes(data)
        st = cls()
        check(getattr(lib, cls._decode)(ctypes.byref(st), data, len(data)), cls._decode)
        return st


class VmmState(_Image, Fields, S.vtime_vmm_state):
    """The VM part of a saved state."""
    _encode, _decode, BYTES = "vtime_vmm_state_encode", "vtime_vmm_state_decode", 80


class VcpuState(_Image, Fields, S.vtime_vmm_vcpu_state):
    """A vCPU's part of a saved state."""
    _encode, _decode, BYTES = "vtime_vmm_vcpu_state_encode", "vtime_vmm_vcpu_state_decode", 32


def _now(now):
    if not isinstance(now, S.vtime_vmm_now):
        now = VmmNow(*now)
    return ctypes.byref(now)


class Vcpu:
    """A vCPU of a Vm (Vm.add_vcpu())."""

    def __init__(self, vm, index):
        self.vm = vm
        self.index = index
        self._c = S.vtime_vmm_vcpu()
        self._p = ctypes.byref(self._c)
        self._record = None

    def set_record(self, buf, offset=0):
        """Where the guest registered this vCPU's record (None: off); the
        buffer is kept alive while it is registered."""
        if buf is None:
            check(lib.vtime_vmm_vcpu_set_record(self._p, None), "vtime_vmm_vcpu_set_record")
            self._record = None
            return
        rec = view(S.vtime_pvclock_vcpu_time_info, buf, offset, 8)
        check(lib.vtime_vmm_vcpu_set_record(self._p, ctypes.byref(rec)), "vtime_vmm_vcpu_set_record")
        self._record = rec

    def write_tsc(self, value, now, host_initiated=False):
        """A write of the guest TSC; True if it synchronised (KVM's 1-second rule)."""
        synced = ctypes.c_bool()
        check(lib.vtime_vmm_vcpu_write_tsc(self._p, u64("value", value), _now(now), host_initiated,
                                           ctypes.byref(synced)), "vtime_vmm_vcpu_write_tsc")
        return synced.value

    def adopt_offset(self, offset, now):
        synced = ctypes.c_bool()
        check(lib.vtime_vmm_vcpu_adopt_offset(self._p, u64("offset", offset), _now(now), ctypes.byref(synced)),
              "vtime_vmm_vcpu_adopt_offset")
        return synced.value

    def tsc(self, host_tsc):
        """Guest TSC at host_tsc."""
        return lib.vtime_vmm_vcpu_tsc(self._p, u64("host_tsc", host_tsc))

    def rdtsc(self, host_tsc):
        """What a trapped RDTSC returns (never below an earlier one in emulated mode)."""
        return lib.vtime_vmm_vcpu_rdtsc(self._p, u64("host_tsc", host_tsc))

    def compute(self, now):
        """The record body for now, as a PvclockRecord."""
        from . import PvclockRecord
        body = S.vtime_pvclock_vcpu_time_info()
        check(lib.vtime_vmm_vcpu_compute(self._p, _now(now), ctypes.byref(body)), "vtime_vmm_vcpu_compute")
        return PvclockRecord._from_c(body)

    def publish(self, now):
        """Computes and publishes the record; returns the new version."""
        v = ctypes.c_uint32()
        check(lib.vtime_vmm_vcpu_publish(self._p, _now(now), ctypes.byref(v)), "vtime_vmm_vcpu_publish")
        return v.value

    def request_stopped(self):
        check(lib.vtime_vmm_vcpu_request_stopped(self._p), "vtime_vmm_vcpu_request_stopped")

    def save(self, now):
        st = VcpuState()
        check(lib.vtime_vmm_vcpu_save(self._p, _now(now), ctypes.byref(st)), "vtime_vmm_vcpu_save")
        return st

    def restore(self, st, now):
        """True if the vCPU joined the others' TSC."""
        synced = ctypes.c_bool()
        check(lib.vtime_vmm_vcpu_restore(self._p, ctypes.byref(st), _now(now), ctypes.byref(synced)),
              "vtime_vmm_vcpu_restore")
        return synced.value


class Vm:
    """A VM's clock state: Vm(VmmConfig(host_hz=...), now) (kvmclock 0 at now)."""

    def __init__(self, config, now):
        self._c = S.vtime_vmm()
        self._p = ctypes.byref(self._c)
        self.vcpus = []
        self._pages = {}
        check(lib.vtime_vmm_init(self._p, ctypes.byref(config), _now(now)), "vtime_vmm_init")

    @property
    def mode(self):
        return TscMode(self._c.mode)

    @property
    def guest_hz(self):
        return self._c.guest_hz

    @property
    def paused(self):
        return self._c.paused

    def add_vcpu(self):
        v = Vcpu(self, len(self.vcpus))
        check(lib.vtime_vmm_vcpu_init(self._p, v._p), "vtime_vmm_vcpu_init")
        self.vcpus.append(v)
        return v

    def clock(self, host_tsc):
        """kvmclock at host_tsc."""
        return lib.vtime_vmm_clock(self._p, u64("host_tsc", host_tsc))

    def set_clock(self, now, ns):
        check(lib.vtime_vmm_set_clock(self._p, _now(now), u64("ns", ns)), "vtime_vmm_set_clock")

    def update_master(self, now):
        check(lib.vtime_vmm_update_master(self._p, _now(now)), "vtime_vmm_update_master")

    def stable(self):
        return lib.vtime_vmm_stable(self._p)

    def publish_all(self, now):
        check(lib.vtime_vmm_publish_all(self._p, _now(now)), "vtime_vmm_publish_all")

    def wall(self, now):
        """(sec, nsec): the wall clock at kvmclock 0."""
        s, n = ctypes.c_uint32(), ctypes.c_uint32()
        check(lib.vtime_vmm_wall(self._p, _now(now), ctypes.byref(s), ctypes.byref(n)), "vtime_vmm_wall")
        return s.value, n.value

    def wall_publish(self, buf, now, offset=0):
        """Publishes the wall clock into buf at offset; returns the new version."""
        wc = view(S.vtime_pvclock_wall_clock, buf, offset, 4)
        v = ctypes.c_uint32()
        check(lib.vtime_vmm_wall_publish(self._p, ctypes.byref(wc), _now(now), ctypes.byref(v)),
              "vtime_vmm_wall_publish")
        return v.value

    def pause(self, now):
        check(lib.vtime_vmm_pause(self._p, _now(now)), "vtime_vmm_pause")

    def resume(self, now, policy=ResumePolicy.FREEZE):
        check(lib.vtime_vmm_resume(self._p, _now(now), int(policy)), "vtime_vmm_resume")

    def vmclock_set_page(self, buf, offset=0, size=4096):
        """Attaches the VM's VMClock page (buf None: detaches)."""
        if buf is None:
            check(lib.vtime_vmm_vmclock_set_page(self._p, None, 0), "vtime_vmm_vmclock_set_page")
            self._pages.pop("vmclock", None)
            return
        if len(memoryview(buf)) - offset < size:
            raise ValueError(f"{size} bytes do not fit at offset {offset}")
        page = view(S.vtime_vmclock_abi, buf, offset, 8)
        check(lib.vtime_vmm_vmclock_set_page(self._p, ctypes.byref(page), size), "vtime_vmm_vmclock_set_page")
        self._pages["vmclock"] = page

    def vmclock_sync(self, now, status=None):
        check(lib.vtime_vmm_vmclock_sync(self._p, _now(now), ctypes.byref(status) if status is not None else None),
              "vtime_vmm_vmclock_sync")

    def vmclock_set_disruption(self, flags):
        check(lib.vtime_vmm_vmclock_set_disruption(self._p, flags), "vtime_vmm_vmclock_set_disruption")

    def vmclock_publish(self, now):
        """Returns the new seq_count."""
        seq = ctypes.c_uint32()
        check(lib.vtime_vmm_vmclock_publish(self._p, _now(now), ctypes.byref(seq)), "vtime_vmm_vmclock_publish")
        return seq.value

    def hv_set_page(self, buf, offset=0):
        """The guest enabled (buf) or disabled (None) its reference TSC page."""
        if buf is None:
            check(lib.vtime_vmm_hv_set_page(self._p, None), "vtime_vmm_hv_set_page")
            self._pages.pop("hv", None)
            return
        page = view(S.vtime_hv_tsc_page, buf, offset, 8)
        check(lib.vtime_vmm_hv_set_page(self._p, ctypes.byref(page)), "vtime_vmm_hv_set_page")
        self._pages["hv"] = page

    def hv_publish(self, now):
        """Returns the sequence now on the page (0: invalid)."""
        seq = ctypes.c_uint32()
        check(lib.vtime_vmm_hv_publish(self._p, _now(now), ctypes.byref(seq)), "vtime_vmm_hv_publish")
        return seq.value

    def hv_ref_count(self, host_tsc):
        """HV_X64_MSR_TIME_REF_COUNT at host_tsc."""
        return lib.vtime_vmm_hv_ref_count(self._p, u64("host_tsc", host_tsc))

    def save(self, now):
        st = VmmState()
        check(lib.vtime_vmm_save(self._p, _now(now), ctypes.byref(st)), "vtime_vmm_save")
        return st

    def restore(self, st, now, policy=ResumePolicy.FREEZE, kind=RestoreKind.SNAPSHOT):
        """Restore into this freshly created VM; then add and restore each vCPU."""
        check(lib.vtime_vmm_restore(self._p, ctypes.byref(st), _now(now), int(policy), int(kind)),
              "vtime_vmm_restore")
