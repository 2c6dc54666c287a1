# SPDX-License-Identifier: MIT
"""unittest suite of the Python binding (run by `meson test`, suite 'bindings')."""

import contextlib
import io
import os
import random
import struct
import sys
import tempfile
import time
import unittest

import vtime

U64 = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.environ.get("VTIME_VECTORS_TSV",
                         os.path.join(HERE, "..", "..", "..", "tests", "time-scale-vectors.tsv"))

# This machine's host record values (docs: mul 3303822267, shift -1, 2599999000 Hz).
MUL, SHIFT, HZ = 3303822267, -1, 2599999000
KNOWN = struct.pack("<IIQQIbB2x", 6, 0, 0x0123456789ABCDEF, 10**9, MUL, SHIFT, vtime.TSC_STABLE)


def ref_scale(delta, mul, shift):
    """The reference formula with Python's unbounded integers."""
    d = delta >> -shift if shift < 0 else (delta << shift) & U64
    return (d * mul) >> 32


def ref_time(rec, tsc):
    return (rec.system_time + ref_scale((tsc - rec.tsc_timestamp) & U64, rec.tsc_to_system_mul,
                                        rec.tsc_shift)) & U64


class TestScale(unittest.TestCase):
    def test_vectors(self):
        rows = 0
        with open(VECTORS) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                _, frm, to, shift, mul = line.split()
                s = vtime.scale_init(int(frm), int(to))
                self.assertEqual((s.shift, s.mul), (int(shift), int(mul)), line)
                rows += 1
        self.assertGreaterEqual(rows, 18)

    def test_from_hz(self):
        self.assertEqual(vtime.Scale(MUL, SHIFT).source_hz, HZ)
        self.assertEqual(vtime.scale_source_hz(vtime.Scale.between(3_000_000_000)), 3_000_000_000)
        self.assertEqual(vtime.Scale(0, 0).source_hz, 0)

    def test_apply_matches_reference(self):
        s = vtime.scale_init(HZ)
        rng = random.Random(6)
        deltas = [0, 1, HZ, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63, U64 - 1, U64]
        deltas += [rng.getrandbits(64) for _ in range(500)]
        for d in deltas:
            self.assertEqual(s.apply(d), ref_scale(d, s.mul, s.shift), d)
            self.assertEqual(vtime.scale_apply(s, d), s.apply(d))

    def test_errors(self):
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.scale_init(0)
        self.assertEqual(cm.exception.code, vtime.EINVAL)
        self.assertIn("invalid argument", str(cm.exception))
        with self.assertRaises(ValueError):
            vtime.scale_init(-1)
        with self.assertRaises(ValueError):
            vtime.scale_apply(vtime.Scale(MUL, SHIFT), 1 << 64)


class TestRecordBytes(unittest.TestCase):
    def test_parse_known_bytes(self):
        r = vtime.PvclockRecord.from_bytes(KNOWN)
        self.assertEqual((r.version, r.tsc_timestamp, r.system_time, r.tsc_to_system_mul, r.tsc_shift, r.flags),
                         (6, 0x0123456789ABCDEF, 10**9, MUL, -1, 1))
        self.assertTrue(r.stable and r.published and r.valid)
        self.assertFalse(r.in_progress or r.guest_stopped or r.counts_from_zero)
        self.assertEqual(r.flag_names, ["TSC_STABLE"])
        self.assertEqual(r.tsc_hz, HZ)
        self.assertEqual(r.to_bytes(), KNOWN)
        self.assertIs(r.check(), r)
        self.assertIn("TSC_STABLE", str(r))

    def test_time_from_zero_and_wrap(self):
        r = vtime.PvclockRecord.from_bytes(KNOWN)
        # Two seconds of counter: floor rounding gives 1 ns less.
        self.assertEqual(r.time(r.tsc_timestamp + 2 * HZ), 10**9 + 1_999_999_999)
        for ts, st in ((0, 0), (U64 - 999, 5 * 10**9), (U64, U64 - 10**12)):
            r.tsc_timestamp, r.system_time = ts, st
            for step in (0, 1, HZ, 3 * HZ, (1 << 40) + 7):
                tsc = (ts + step) & U64
                self.assertEqual(r.time(tsc), ref_time(r, tsc), (ts, step))
        # Counter behind the record: back by the scaled gap, saturating at 0.
        r.tsc_timestamp, r.system_time = 10 * HZ, 10**9
        self.assertEqual(r.time(10 * HZ - HZ // 2), 10**9 - ref_scale(HZ // 2, MUL, SHIFT))
        self.assertEqual(r.time(0), 0)

    def test_decoding_and_check(self):
        r = vtime.PvclockRecord.from_bytes(KNOWN)
        r.version, r.flags = 7, vtime.TSC_STABLE | vtime.GUEST_STOPPED | 0x40
        self.assertTrue(r.in_progress and r.guest_stopped)
        self.assertEqual(r.flag_names, ["TSC_STABLE", "GUEST_STOPPED", "0x40"])
        with self.assertRaises(vtime.VtimeError) as cm:
            r.check()
        self.assertEqual(cm.exception.code, vtime.EAGAIN)
        r.version, r.tsc_to_system_mul = 8, 0
        self.assertFalse(r.valid)
        with self.assertRaises(vtime.VtimeError) as cm:
            r.check()
        self.assertEqual(cm.exception.code, vtime.EPROTO)
        r.tsc_to_system_mul, r.tsc_shift = MUL, 21
        self.assertEqual(self._code(r), vtime.EPROTO)
        empty = vtime.PvclockRecord.from_bytes(bytes(32))
        self.assertFalse(empty.published)
        self.assertEqual(self._code(empty), vtime.ENODATA)
        with self.assertRaises(ValueError):
            vtime.PvclockRecord.from_bytes(KNOWN[:31])

    @staticmethod
    def _code(r):
        try:
            r.check()
        except vtime.VtimeError as e:
            return e.code
        return 0

    def test_page_dump(self):
        page = bytearray(4096)
        for cpu in range(3):
            page[64 * cpu:64 * cpu + 32] = struct.pack("<IIQQIbB2x", 2 + 2 * cpu, 0, 1000 * cpu, 10**9 * cpu + 1,
                                                       MUL, SHIFT, 1)
        recs = vtime.parse_records(page)
        self.assertEqual(len(recs), 64)
        self.assertEqual([r.version for r in recs[:4]], [2, 4, 6, 0])
        self.assertEqual([r.published for r in recs[:4]], [True, True, True, False])
        self.assertEqual(recs[2].system_time, 2 * 10**9 + 1)
        self.assertEqual(len(vtime.parse_records(page, count=3)), 3)
        self.assertEqual(len(vtime.parse_records(page[:96])), 2)
        with self.assertRaises(ValueError):
            vtime.parse_records(page[:96], count=3)


class TestWriter(unittest.TestCase):
    def test_publish_little_endian_and_stopped(self):
        page = bytearray(128)
        body = vtime.PvclockRecord(tsc_timestamp=U64 - 5, system_time=123, tsc_to_system_mul=MUL,
                                   tsc_shift=SHIFT, flags=vtime.TSC_STABLE)
        self.assertEqual(vtime.publish(page, body, 64), 2)
        # The library wrote the ABI's little-endian bytes: the pure-Python parser agrees.
        body.version = 2
        self.assertEqual(bytes(page[64:96]), body.to_bytes())
        self.assertEqual(bytes(page[:64]), bytes(64))
        # GUEST_STOPPED set by the host survives a rewrite until the guest consumes it.
        body.flags = vtime.TSC_STABLE | vtime.GUEST_STOPPED
        self.assertEqual(vtime.publish(page, body, 64), 4)
        body.flags = vtime.TSC_STABLE
        self.assertEqual(vtime.publish(page, body, 64), 6)
        self.assertTrue(vtime.PvclockRecord.from_bytes(page, 64).guest_stopped)
        self.assertTrue(vtime.consume_stopped(page, 64))
        self.assertFalse(vtime.consume_stopped(page, 64))
        self.assertEqual(vtime.PvclockRecord.from_bytes(page, 64).flags, vtime.TSC_STABLE)

    def test_wall_clock(self):
        wc = vtime.WallClock.from_bytes(struct.pack("<III", 4, 0xFFFFFFFE, 999_999_999))
        self.assertEqual((wc.version, wc.sec, wc.nsec), (4, 0xFFFFFFFE, 999_999_999))
        self.assertEqual(wc.ns(0), 0xFFFFFFFE * 10**9 + 999_999_999)
        self.assertEqual(wc.ns(10**9), 0xFFFFFFFF * 10**9 + 999_999_999)
        self.assertIs(wc.check(), wc)
        self.assertEqual(vtime.WallClock.from_bytes(wc.to_bytes()), wc)
        with self.assertRaises(vtime.VtimeError):
            vtime.WallClock(5, 1, 2).check()


class TestClock(unittest.TestCase):
    """vtime's userspace clock (Linux builds). meson sets VTIME_REQUIRE_CLOCK=1
    when the build has include/vtime/clock.h, so there it cannot skip."""

    def setUp(self):
        if not vtime._lib.HAVE["linux"]:
            if os.environ.get("VTIME_REQUIRE_CLOCK") == "1":
                self.fail("libvtime lacks vtime_now_ns although the build has the userspace clock")
            with self.assertRaises(vtime.VtimeError) as cm:
                vtime.now_ns()
            self.assertEqual(cm.exception.code, vtime.ENOTSUP)
            self.skipTest("this libvtime has no userspace clock (vtime_now_ns)")

    def test_now_ns_follows_monotonic(self):
        a = time.monotonic_ns()
        v = vtime.now_ns()
        b = time.monotonic_ns()
        # Same epoch and rate as CLOCK_MONOTONIC; 20 ms covers a preempted call.
        self.assertLess(abs(v - (a + b) // 2), 20_000_000)
        last = v
        for _ in range(10000):
            n = vtime.now_ns()
            self.assertGreaterEqual(n, last)
            last = n

    def test_realtime_ns(self):
        a = time.time_ns()
        v = vtime.realtime_ns()
        b = time.time_ns()
        self.assertLess(abs(v - (a + b) // 2), 50_000_000)

    def test_counter_convert_later(self):
        t = vtime.counter_now()
        a = time.monotonic_ns()
        self.assertLess(abs(vtime.counter_to_ns(t) - a), 20_000_000)

    def test_info(self):
        vtime.now_ns()
        i = vtime.info()
        self.assertIn(i.source, ("tsc", "pvclock", "clock_gettime"))
        self.assertIsInstance(i.why, str)
        self.assertGreaterEqual(i.recalibrations, 0)
        if i.source == "tsc":
            self.assertGreater(i.nominal_hz, 0)


class TestDumpTool(unittest.TestCase):
    def run_tool(self, *argv):
        from vtime.__main__ import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main(list(argv))
        return rc, out.getvalue()

    def test_records_of_a_page_dump(self):
        page = bytearray(4096)
        page[0:32] = KNOWN
        page[64:96] = struct.pack("<IIQQIbB2x", 9, 0, 0, 0, MUL, SHIFT, 0)  # odd: mid-update
        with tempfile.NamedTemporaryFile() as f:
            f.write(page)
            f.flush()
            rc, out = self.run_tool("records", f.name, "--tsc", str(0x0123456789ABCDEF + 2 * HZ))
        self.assertEqual(rc, 0)
        lines = out.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertIn("cpu 0: version 6 (published)", lines[0])
        self.assertIn(f"ok, {HZ} Hz", lines[0])
        self.assertIn(f"{10**9 + 1_999_999_999} ns", lines[0])
        self.assertIn("cpu 1: version 9 (in progress)", lines[1])
        self.assertIn("try again", lines[1])

    def test_empty_dump(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(bytes(128))
            f.flush()
            rc, out = self.run_tool("records", f.name)
        self.assertEqual((rc, out.strip()), (1, "no published pvclock record in the dump"))


    def run_module(self, *argv, stdin=None):
        """The tool as a user runs it: exit status, stdout, stderr."""
        import subprocess
        p = subprocess.run([sys.executable, "-m", "vtime", *argv], capture_output=True, text=True, input=stdin)
        return p.returncode, p.stdout, p.stderr

    def test_bad_arguments_are_refused_without_traceback(self):
        """Each of these once listed a record twice (negative offset), ended
        in a raw traceback or exited 0; now: a one-line error, status 2."""
        page = bytearray(256)
        page[0:32] = KNOWN
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "dump")
            with open(path, "wb") as f:
                f.write(page)
            cases = [
                (["records", path, "--offset", "-64"], "--offset"),
                (["records", path, "--offset", "-1"], "--offset"),
                (["records", path, "--offset", "4096"], "beyond the dump"),
                (["records", path, "--count", "5"], "do not fit"),
                (["records", path, "--count", "-1"], "--count"),
                (["records", path, "--stride", "16"], "--stride"),
                (["records", path, "--tsc", "-1"], "--tsc"),
                (["records", path, "--tsc", str(1 << 64)], "--tsc"),
                (["records", path, "--offset", "x"], "--offset"),
                (["records", os.path.join(d, "missing")], "cannot read"),
                (["records", d], "directory"),
            ]
            for argv, why in cases:
                rc, out, err = self.run_module(*argv)
                self.assertEqual(rc, 2, argv)
                self.assertIn(why, err, argv)
                self.assertNotIn("Traceback", err, argv)
            # a valid record still works, offset 0 and in hex
            rc, out, err = self.run_module("records", path, "--offset", "0x0", "--count", "2")
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(len(out.splitlines()), 1)

    def test_all_invalid_dump_fails(self):
        """Published but corrupt records (mul 0, shift 30) are listed with
        their verdict, and the exit status says none was valid."""
        page = bytearray(128)
        page[0:32] = struct.pack("<IIQQIbB2x", 6, 0, 1, 1, 0, -1, 0)       # mul 0
        page[64:96] = struct.pack("<IIQQIbB2x", 8, 0, 1, 1, MUL, 30, 0)   # shift out of range
        with tempfile.NamedTemporaryFile() as f:
            f.write(page)
            f.flush()
            rc, out = self.run_tool("records", f.name)
        self.assertEqual(rc, 1)
        self.assertEqual(len(out.splitlines()), 3)
        self.assertIn("none of the 2 record(s) listed is valid", out)

    def test_parse_records_refuses_negative(self):
        with self.assertRaises(ValueError):
            vtime.parse_records(bytes(128), offset=-64)
        with self.assertRaises(ValueError):
            vtime.parse_records(bytes(128), count=-1)


class TestLayout(unittest.TestCase):
    """ctypes mirrors of C structs (vtime/_structs.py): a mismatch would
    corrupt memory silently. Against the C compiler's table (the layout
    probe meson builds); skipped where there is no probe (an installed
    package tested on its own)."""

    def test_matches_c(self):
        import ctypes
        import subprocess
        from vtime import _structs
        probe = os.environ.get("VTIME_LAYOUT_PROBE")
        if not probe:
            self.skipTest("VTIME_LAYOUT_PROBE not set (meson test sets it)")
        seen = set()
        for line in subprocess.run([probe], check=True, capture_output=True, text=True).stdout.splitlines():
            struct_name, field, off, size = line.split()
            cls = _structs.STRUCTS[struct_name]
            seen.add(struct_name)
            if field == "sizeof":
                self.assertEqual(ctypes.sizeof(cls), int(size), struct_name)
            else:
                desc = getattr(cls, field)
                self.assertEqual((desc.offset, desc.size), (int(off), int(size)), f"{struct_name}.{field}")
        core = {n for n in _structs.STRUCTS if n not in _structs.PLATFORM}
        self.assertLessEqual(core, seen)
        if os.environ.get("VTIME_REQUIRE_CLOCK") == "1":
            self.assertIn("vtime_clock_info", seen)
            self.assertIn("vtime_machine", seen)


class TestLibrary(unittest.TestCase):
    def test_version_and_strerror(self):
        self.assertRegex(vtime.version(), r"^\d+\.\d+\.\d+")
        self.assertEqual(vtime.strerror(0), "success")
        self.assertEqual(vtime.strerror(-12345), "unknown vtime error")


if __name__ == "__main__":
    unittest.main()
