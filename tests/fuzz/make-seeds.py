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

for name, seeds in SEEDS.items():
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
print("wrote", sum(len(s) for s in SEEDS.values()), "seeds for", len(SEEDS), "harnesses")
