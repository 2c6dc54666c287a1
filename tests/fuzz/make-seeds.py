#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora (corpus/NAME/) of the fuzz harnesses: a few
inputs per harness in the layout each one reads (see the harness), so that
fuzzing starts from real scenarios: KVM's record of this machine, the
documented byte images, ordinary timers and VMs. Run it again after changing
a harness's input layout; the outputs are committed."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
HZ, MUL, SHIFT = 2599999000, 3303822267, -1


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)
def edge_raw(v): return u8(0) + u8(0) + u64(v)          # fz_edge64: selector 0, raw
def edge_small(x): return u8(1) + u8(x)                 # x
def edge_top(x): return u8(2) + u8(x)                   # 2^64 - 1 - x
def edge_mid(x): return u8(3) + u8(x)                   # 2^63 + x - 128
def boolean(b): return u8(1 if b else 0)
def record(version, ts, st, mul, shift, flags):
    return struct.pack("<IIQQIbB2x", version, 0, ts, st, mul, shift, flags)
def header(magic, size): return struct.pack("<IHHII", magic, 1, 16, size, 0)


def ticks_image(policy, rate, period, cap, due_in, inject_in, backlog, rem, due, delivered, dropped, coalesced):
    return header(0x4b545456, 104) + struct.pack("<IIQQQQQQQQQQ", policy, rate, period, cap, due_in, inject_in,
                                                  backlog, rem, due, delivered, dropped, coalesced)


def vmm_image(kvmclock, realtime, guest_hz, host_hz, nr, mode):
    return header(0x4d565456, 56) + struct.pack("<QQQQII", kvmclock, realtime, guest_hz, host_hz, nr, mode)


def vcpu_image(tsc, version, flags):
    return header(0x43565456, 32) + struct.pack("<QII", tsc, version, flags)


def kvm_image(vcpus, flags=0xa, clock=123456789, realtime=1700000000000000000, wall=0x10801):
    body = struct.pack("<IIQQQ", len(vcpus), flags, clock, realtime, wall)
    for tsc, st, khz, ver in vcpus:
        body += struct.pack("<QQII", tsc, st, khz, ver)
    return header(0x4b4d5456, 16 + len(body)) + body


def vmclock_page(seq=2, marker=5, flags=0x179, status=2, tai=37, shift=31, hz=HZ, cv=0x0123456789ABCDEF,
                 sec=1700000000, frac=1 << 63, este=1000, maxe=5000, gen=1, counter_id=1, time_type=0, size=0x70):
    period = (1 << (64 + shift)) // hz
    rate = -(-period * 100 // 10**9)
    return struct.pack("<IIHBBIQQ2xBBhBBQQQQQQQQQ", 0x4b4c4356, size, 1, counter_id, time_type, seq, marker, flags,
                       status, 0, tai, 0, shift, cv, period, rate, rate, sec, frac, este, maxe, gen)


def vmclock_counters(*cs): return u8(len(cs)) + b"".join(u8(k) + e for k, e in cs)


# set_period's arguments: hz, max ppb (bool 1: unknown), est ppb, body flags
def vmclock_period(hz, maxp=None, estp=None):
    return (edge_raw(hz) + (boolean(1) if maxp is None else boolean(0) + edge_raw(maxp))
            + (boolean(1) if estp is None else boolean(0) + edge_raw(estp)) + u64(0))


# one writer step: no scribble (or some), a body, events, a counter offset
def vmclock_step(events, scribble=(), sel=0x07, flags=0x101, status=2, tai=37, leap=0, hz_extra=1599999000,
                 maxppb=100, estppb=10, counter=1 << 40, sec=1700000000, nsec=123456789, maxe=5000, este=1000):
    b = u8(len(scribble)) + b"".join(u8(a) + u8(v) for a, v in scribble)
    b += u8(sel) + u16(flags) + (u8(status) if sel & 8 else b"") + u8(0) + u16(tai) + u8(leap)
    b += (edge_raw(10**9 + hz_extra) if sel & 1 else u32(hz_extra)) + (edge_raw(maxppb) if sel & 2 else b"")
    b += u16(estppb) if sel & 4 else b""
    b += edge_raw(counter) + boolean(0) + u32(sec) + u32(nsec) + boolean(0) + edge_raw(maxe) + boolean(0)
    b += edge_raw(este) + u8(events) + edge_small(3)
    return b


def hv_page(seq, scale, offset): return struct.pack("<IIQq", seq, 0, scale, offset)


KVM_REC = record(6, 0x0123456789ABCDEF, 10**9, MUL, SHIFT, 1)

SEEDS = {
    "pvclock": {
        "kvm-record": KVM_REC + u8(0) + boolean(1) + edge_raw(2 * HZ) + boolean(1) + edge_top(5)
        + boolean(0) + edge_mid(7) + boolean(1) + edge_small(3),
        "behind-the-record": KVM_REC + u8(0) + boolean(1) + edge_top(0) + boolean(1) + edge_top(200),
        "odd-version": record(7, 1, 2, MUL, SHIFT, 0) + u8(0) + boolean(0) + edge_small(1),
        "never-published": bytes(32) + u8(0) + boolean(0) + edge_small(9),
        "slow-counter-shift-20": record(2, 0, 0, 0x80000000, 20, 0) + u8(0) + boolean(1) + edge_raw(1 << 44),
    },
    "scale": {
        "kvm-2599999000": edge_raw(HZ) + boolean(1) + edge_raw(1 << 40) + edge_top(0) + u32(MUL) + u8(0xff)
        + boolean(1) + edge_raw(2600000) + edge_raw(3000000) + edge_raw(1 << 50) + boolean(1) + boolean(0),
        "ns-to-tsc": edge_raw(10**9) + boolean(0) + edge_raw(HZ) + edge_small(1) + edge_small(2) + u32(0) + u8(0)
        + boolean(0) + edge_raw(1) + edge_raw(1) + edge_small(0) + boolean(0) + boolean(0),
        "1-hz": edge_small(1) + boolean(1),
    },
    "wall": {
        "published": edge_raw(5 * 10**9) + u32(2) + u32(1700000000) + u32(123456789) + boolean(1) + u32(5) + u32(6)
        + edge_small(0) + boolean(1) + edge_raw(10**6) + edge_raw(10**6) + edge_raw(1700000000 * 10**9)
        + boolean(0) + edge_raw(3 * HZ),
        "version-near-wrap": edge_small(0) + u32(0xfffffffe) + u32(0) + u32(0) + boolean(1) + u32(0) + u32(0),
    },
    "clamp": {
        "near-2e64": edge_top(1000) + boolean(1) + b"".join(u8(op) + edge_small(s) for op, s in
                                                            [(0, 5), (0x80, 3), (1, 7), (5, 2), (2, 9), (3, 0), (7, 1)] * 4),
        "from-0": edge_small(0) + boolean(0) + b"".join(u8(op) + edge_raw(s) for op, s in
                                                        [(0, 1 << 40), (0x80, 1 << 41), (2, 1 << 61), (0, 1 << 61)]),
    },
    "calib": {
        # 1 GHz hint (1e6 + 999000 * 1000 Hz), samples every ~10 ms, ref = counter
        "steady-1ghz": u8(1) + u32(999000) + edge_top(200000000) + edge_top(300000000)
        + b"".join(u8(0) + u32(156250) + u16(i * 7) + u8(40) for i in range(40)),
        "no-hint-wrap": u8(0) + edge_top(50000000) + edge_small(0)
        + b"".join(u8(0) + u32(150000 + i) + u16(i) + u8(30) for i in range(40)),
        "jump-beyond-domain": u8(1) + u32(0) + edge_small(0) + edge_small(0)
        + u8(0) + u32(15625) + u16(0) + u8(30) + u8(1) + edge_raw(1 << 54) + u16(0) + u8(30),
    },
    "ticks_state": {
        "image-slew-backlog": ticks_image(2, 4, 10**6, 0, 250000, 0, 5, 0, 12, 7, 0, 3),
        "image-delay": ticks_image(1, 4, 1000, 3, 1000, 1000, 3, 999, 10, 7, 0, 0),
        "fields-valid": u8(7) + u8(2) + u16(4) + edge_raw(10**6) + edge_small(0) + edge_raw(5) + edge_small(0)
        + edge_small(3) + edge_small(0) + edge_small(0) + edge_small(0) + edge_small(0) + edge_small(0)
        + edge_top(7) + edge_raw(1 << 40) + boolean(1),
    },
    "ticks_drive": {
        "1ms-slew-stall": edge_raw(10**6) + u8(2) + edge_top(7500000) + boolean(0)
        + b"".join(u8(op) + u16(g) for op, g in [(0, 64), (4, 0), (0, 640), (0, 64), (4, 0), (0, 16), (7, 3)])
        + u8(6) + u16(2) + u8(3) + u8(0) + u16(64),
        "discard-period-change": edge_small(0) + u8(0) + edge_small(0) + boolean(1) + u32(999999)
        + u8(0) + u16(100) + u8(5) + u32(2999999) + u8(0) + u16(10) + u8(7) + u16(0) + edge_small(0),
        "unacked-for-ages": edge_raw(10**6) + u8(2) + edge_small(0) + boolean(0)
        + u8(0) + u16(64) + b"".join(u8(0x10) + edge_raw(1 << 62) for _ in range(5)) + u8(7) + u16(0) + edge_small(0)
        + u8(4) + u8(0) + u16(1),
    },
    "vmm_state": {
        "vm-image": vmm_image(5 * 10**9, 1700000000 * 10**9, 2600000000, 2600000000, 2, 1),
        "vm-image-v2": struct.pack("<IHHII", 0x4d565456, 2, 16, 80, 0)
        + struct.pack("<QQQQIIQQII", 5 * 10**9, 1700000000 * 10**9, 2600000000, 2600000000, 2, 1, 7, 3, 41, 3),
        "vcpu-image": vcpu_image(123456789, 12, 1),
        "fields-carried": u8(0x1f) + edge_raw(10**9) + edge_raw(1700000000 * 10**9) + u32(2) + u8(1)
        + edge_raw(1000) + edge_raw(40) + u8(0) + boolean(1) + boolean(1) + boolean(0) + edge_raw(5) + edge_raw(5)
        + edge_raw(1700000001 * 10**9) + u32(100) + edge_small(0) + u8(0),
        "fields-lost-wrap": u8(0x1f) + edge_raw(10**9) + edge_raw(0) + u32(2) + u8(4) + edge_raw(1)
        + edge_top(0) + u8(0) + boolean(1) + boolean(1) + boolean(0) + edge_raw(5) + edge_raw(5) + edge_raw(5)
        + u32(100) + edge_small(0) + u8(1),
    },
    "vmm_publish": {
        # native 2.6 GHz VM, 3 vCPUs, publishes, scribbles, pause/resume, save/restore, fast-forwards
        "native-3-vcpus": u8(0) + u32(1600000000) + u8(0) + boolean(0) + boolean(0) + u8(0)
        + edge_top(10**10) + edge_small(0) + edge_raw(1700000000 * 10**9) + boolean(1) + boolean(0) + boolean(1)
        + u8(14) + u8(0) + u8(0) + boolean(1) + boolean(0) + boolean(1)
        + u8(14) + u8(0) + u8(0) + boolean(1) + boolean(0) + boolean(1)
        + u8(1) + u8(0) + u8(0) + u8(0) + u8(1) + u8(0) + u32(26000000) + u8(2) + u8(1) + u8(0)
        + u8(5) + u8(1) + u8(0) + u8(29) + u8(0xff) + u8(6) + u8(1) + u8(0) + u8(7) + u8(0) + u8(0)
        + u8(8) + u8(0) + u8(0) + u8(1) + u8(0) + u8(0) + u8(12) + u8(2) + u8(0) + u8(29) + u8(2) + u8(2) + u8(0)
        + u8(13) + u8(0) + u8(0) + boolean(0) + boolean(1) + u32(1000) + u32(1000) + edge_small(5) + boolean(0)
        + u8(1) + u8(0) + u8(0) + u8(12) + u8(0) + u8(0) + u8(30) + u8(1) + u8(0) + u8(0),
        "emulated-rdtsc": u8(6) + u32(1000000000) + edge_raw(3000000000) + edge_raw(0) + u8(4) + boolean(0)
        + boolean(0) + u8(0) + edge_small(0) + edge_small(0) + edge_small(0) + boolean(1) + boolean(0) + boolean(1)
        + b"".join(u8(15) + u8(0) + u8(0) + u8(0) + u8(0) + u8(0) + u32(3000000) for _ in range(4)),
    },
    "vmclock": {
        "page-2.6ghz-utc": vmclock_page() + u8(0) + u8(0)
        + vmclock_counters((1, edge_raw(2 * HZ)), (2, edge_raw(HZ)), (0, edge_small(0)), (1, edge_top(0)))
        + vmclock_period(HZ, 100, 10) + u8(0) + u8(1) + u8(0)
        + vmclock_step(0) + vmclock_step(1, [(0x10, 9)]) + vmclock_step(2, [(0x0c, 7)]),
        "tai-page-near-2e64": vmclock_page(time_type=1, sec=(1 << 64) - 2, tai=-5) + u8(0) + u8(1) + u16(0x1000)
        + vmclock_counters((1, edge_raw(HZ)), (2, edge_raw(HZ)), (1, edge_mid(0)), (2, edge_mid(5)))
        + vmclock_period(10**9) + u8(0x10) + u8(1) + u8(1) + vmclock_step(3, sel=0x0f, status=4),
        "marker-only": vmclock_page(counter_id=0xff, flags=0) + u8(0) + u8(0) + vmclock_counters((0, edge_small(1)))
        + vmclock_period(1) + u8(0) + u8(0xff) + u8(2) + vmclock_step(2, [(0, 0), (0x22, 4)]),
        "unreliable-odd-seq": vmclock_page(status=4, seq=3) + u8(0) + u8(0) + vmclock_counters((1, edge_small(5)))
        + vmclock_period(1 << 63, (1 << 64) - 2, 0),
        "zeroed-page": bytes(0x70) + u8(0) + u8(0) + vmclock_counters((0, edge_small(0))),
        "period-shift-200": vmclock_page(shift=0, flags=0x7f) + u8(0x80) + u8(0)
        + vmclock_counters((1, edge_top(0)), (2, edge_top(0)), (1, edge_raw(1 << 62))),
    },
    "hyperv": {
        # 2.6 GHz as KVM computes it from KVM_REC (scale ~ 2^64 / 260, offset from system_time 10^9)
        "page-2.6ghz": hv_page(7, 0x00fc0fc1bd8e1b2d, -5000) + u8(0) + u8(4) + edge_raw(2 * HZ) + edge_small(0)
        + edge_top(0) + edge_raw(1 << 62)
        + u8(3) + u32(6) + edge_raw(0x0123456789ABCDEF) + edge_raw(10**9) + u32(MUL) + u8(SHIFT & 0xff) + u8(1)
        + u64(HZ - 10500000) + u64(1 << 40) + u64(10**12) + u64(1 << 50) + u8(10)
        + boolean(1) + u32(41) + boolean(1) + u32(0xfffffffe)
        + u8(0) + edge_raw(1 << 56) + edge_raw(100) + u8(0x80) + u32(0) + edge_raw(1) + edge_raw(2)
        + u8(1) + u8(0xc2) + edge_small(3) + edge_small(4) + u8(0xc0 | 3) + u8(1),
        "invalid-sequence": hv_page(0, 1, 2) + u8(1) + u8(1) + edge_small(9)
        + u8(0x05) + u32(2) + edge_small(0) + edge_top(5) + u32(0) + u8(0xe1) + u8(0)
        + u64(0) + u64(0) + u64(0) + u64(0) + u8(0) + boolean(0) + boolean(0) + u8(1) + u8(0),
        "sequence-0xffffffff": hv_page(0xffffffff, 1, 2) + u8(3) + u8(1) + edge_small(9)
        + u8(0x0b) + u32(4) + edge_top(0) + edge_raw(100) + u32(0) + u8(0xe2) + u8(1)
        + u64(9989499999) + u64((1 << 64) - 1) + u64((1 << 64) - 1) + u64((1 << 64) - 1) + u8(39),
        "shift-31-bound": hv_page(1, 0, 0) + u8(0) + u8(0)
        + u8(0x07 | 0x10) + u32(2) + edge_raw(1 << 40) + edge_raw(1 << 40) + u32(0) + u8(62) + u8(1),
    },
    "cli_parse": {
        "hz": b"2599999000", "ghz": b"2.6GHz", "mhz": b"1996.248 MHz", "khz": b"2599999k",
        "max": b"18446744073.709551615GHz", "too-large": b"18446744073.999999999GHz", "one": b"1",
        "not-whole": b"0.5", "junk": b"12XHz", "seconds": b"0.25",
    },
    "kvm_guest": {
        "page-with-record": u16(256) + KVM_REC + bytes(32) + record(8, 5, 6, MUL, SHIFT, 1) + bytes(256 - 96)
        + u8(1) + u16(0) + u8(1) + u16(64) + u8(0) + u8(32) + u8(3) + u16(3) + u8(2) + edge_top(0),
        "tiny": u16(31) + bytes(31) + u8(1) + u16(0) + u8(0) + u8(0),
    },
    "kvm_save": {
        "two-vcpus": kvm_image([(1000, 0x10001, 2600000, 6), (1000, 0x10041, 2600000, 4)]),
        "fields": u8(2) + boolean(0) + u8(0xa) + edge_raw(10**9) + edge_raw(1700000000 * 10**9) + edge_small(0)
        + edge_raw(100) + boolean(0) + u16(0x10000 % 8192) + boolean(0) + u32(4)
        + edge_raw(100) + boolean(0) + u16(64) + boolean(0) + u32(6)
        + u16(4096) + boolean(1) + boolean(1) + u8(0),
    },
}

# the same VMs with the VMClock and Hyper-V pages (selector bits 8, 16), the guest scribbling on them
_vp = SEEDS["vmm_publish"]
_scribble = (u8(0x85) + u8(0) + u8(0) + u8(2) + u8(3) + u8(1) + u8(0) + u8(0)
             + u8(0xc5) + u8(0) + u8(0) + u8(4) + u8(0xff) + u8(1) + u8(0) + u8(0)
             + u8(0x85) + u8(0) + u8(0) + u8(0) + u8(9) + u8(1) + u8(0) + u8(0))
_vp["native-3-vcpus-pages"] = u8(0x18) + _vp["native-3-vcpus"][1:] + _scribble
_vp["emulated-rdtsc-pages"] = u8(6 | 0x18) + _vp["emulated-rdtsc"][1:] + u8(1) + u8(0) + u8(0) + _scribble

for name, seeds in SEEDS.items():
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
print("wrote", sum(len(s) for s in SEEDS.values()), "seeds for", len(SEEDS), "harnesses")
