# SPDX-License-Identifier: MIT
"""The rest of the Python binding against the real library: a VMM publishing
into guest memory (records, wall clock, VMClock, Hyper-V page) and the
guest's readers of it, pause/resume, saved images and a restore onto another
host rate; ticks, clamp, calib; VMClock and Hyper-V helpers; the KVM shim's
image and guest records; the Linux probes; how the library was found."""

import mmap
import os
import threading
import unittest

import vtime

HZ = 2_599_999_000
NS = 10**9
RT0 = 1_764_000_000_123_456_789


def at(tsc):
    ns = tsc * NS // HZ
    return vtime.VmmNow(tsc, 1_000_000 + ns, RT0 + ns)


def boot(cfg, t0=0):
    """Guest memory: records at 0 and 64, wall clock at 128, VMClock at 4096, Hyper-V page at 8192."""
    mem = mmap.mmap(-1, 3 * 4096)
    now = at(t0)
    vm = vtime.Vm(cfg, now)
    for i in range(2):
        v = vm.add_vcpu()
        v.set_record(mem, 64 * i)
        v.write_tsc(0, now, host_initiated=True)
    vm.vmclock_set_page(mem, 4096, 4096)
    vm.hv_set_page(mem, 8192)
    vm.publish_all(now)
    return mem, vm


class TestVmm(unittest.TestCase):
    def test_publishes_records_pages_and_wall_clock(self):
        cfg = vtime.VmmConfig(host_hz=HZ)
        cfg.reserved[0] = 1  # must be zero (docs/abi.md)
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.Vm(cfg, at(0))
        self.assertEqual(cm.exception.code, vtime.EINVAL)
        mem, vm = boot(vtime.VmmConfig(host_hz=HZ), 1000)
        self.assertEqual(vm.mode, vtime.TscMode.NATIVE)
        self.assertTrue(vm.stable())
        now = at(1000 + 3 * HZ)
        vm.publish_all(now)
        gtsc = vm.vcpus[1].tsc(now.host_tsc)
        rec = vtime.snapshot_record(mem, 64)
        self.assertTrue(rec.stable)
        self.assertEqual(rec.tsc_hz, HZ)
        r = vtime.read_record(mem, lambda: gtsc, 64)
        self.assertEqual(r.ns, vm.clock(now.host_tsc))
        self.assertLess(abs(r.ns - 3 * NS), 2)
        self.assertEqual(vm.vcpus[1].compute(now).system_time, rec.system_time)
        self.assertEqual(vm.vcpus[1].rdtsc(now.host_tsc), gtsc)

        v = vm.wall_publish(mem, now, 128)
        w = vtime.read_wall(mem, 128)
        self.assertEqual((w.version, (w.sec, w.nsec)), (v, vm.wall(now)))
        self.assertLess(abs(w.ns(r.ns) - now.realtime_ns), 2)

        page = vtime.VmclockPage(mem, 4096, 4096)
        page.check()
        snap = page.snapshot()
        snap.usable()
        sec, nsec = snap.time(gtsc)
        self.assertLessEqual(abs(sec * NS + nsec - (at(1000).realtime_ns + r.ns)), 3)
        rd = page.read(lambda: gtsc)
        self.assertEqual((rd.sec, rd.nsec), (sec, nsec))
        self.assertEqual(snap.convert(gtsc), rd)
        self.assertEqual(snap.maxerror(gtsc), vtime.vmclock.UNKNOWN)

        hv = vtime.HvTscPage(mem, 8192)
        hs = hv.snapshot()
        self.assertEqual(vtime.hv_from_pvclock(rec), (hs.tsc_scale, hs.tsc_offset))
        hr = hv.read(lambda: gtsc)
        self.assertEqual(hr.time, vtime.hv_page_time(hs.tsc_scale, hs.tsc_offset, gtsc))
        self.assertLessEqual(abs(vm.hv_ref_count(now.host_tsc) - r.ns // 100), 1)
        self.assertEqual(vm.hv_publish(now), hs.sequence + 1)
        self.assertGreater(vm.vmclock_publish(now), snap.seq_count)

    def test_pause_resume_and_stopped(self):
        mem, vm = boot(vtime.VmmConfig(host_hz=HZ))
        marker0 = vtime.VmclockPage(mem, 4096).snapshot().disruption_marker
        vm.pause(at(HZ))
        self.assertTrue(vm.paused)
        with self.assertRaises(vtime.VtimeError) as cm:
            vm.pause(at(HZ))
        self.assertEqual(cm.exception.code, vtime.ESTATE)
        vm.resume(at(5 * HZ), vtime.ResumePolicy.FREEZE)
        vm.publish_all(at(5 * HZ))
        self.assertLess(abs(vm.clock(5 * HZ) - NS), 2)
        for i in range(2):
            self.assertTrue(vtime.snapshot_record(mem, 64 * i).guest_stopped)
            self.assertTrue(vtime.consume_stopped(mem, 64 * i))
            self.assertFalse(vtime.consume_stopped(mem, 64 * i))
        self.assertEqual(vtime.VmclockPage(mem, 4096).snapshot().disruption_marker, marker0 + 1)
        vm.vcpus[0].request_stopped()
        vm.vcpus[0].publish(at(6 * HZ))
        self.assertTrue(vtime.snapshot_record(mem, 0).guest_stopped)
        vm.vmclock_set_disruption(vtime.vmclock.FLAG_DISRUPTION_SOON)
        st = vtime.VmclockStatus(time_maxerror_ns=1000, time_esterror_ns=100,
                                 period_maxerror_ppb=vtime.vmclock.UNKNOWN,
                                 period_esterror_ppb=vtime.vmclock.UNKNOWN,
                                 clock_status=vtime.vmclock.STATUS_SYNCHRONIZED)
        vm.vmclock_sync(at(6 * HZ), st)
        vm.vmclock_publish(at(6 * HZ))
        snap = vtime.VmclockPage(mem, 4096).snapshot()
        self.assertEqual(snap.clock_status, vtime.vmclock.STATUS_SYNCHRONIZED)
        self.assertEqual(snap.maxerror(snap.counter_value), 1000)
        vm.update_master(at(7 * HZ))
        vm.set_clock(at(7 * HZ), 42 * NS)
        self.assertEqual(vm.clock(7 * HZ), 42 * NS)
        vm.vcpus[1].set_record(None)
        with self.assertRaises(vtime.VtimeError) as cm:
            vm.vcpus[1].publish(at(7 * HZ))
        self.assertEqual(cm.exception.code, vtime.ENODEV)
        synced = vm.vcpus[1].adopt_offset(vm.vcpus[0]._c.tsc_offset, at(7 * HZ))
        self.assertTrue(synced)

    def test_save_encode_decode_restore(self):
        mem, vm = boot(vtime.VmmConfig(host_hz=HZ))
        now = at(10 * HZ)
        vm.publish_all(now)
        st = vm.save(now)
        self.assertEqual(st.flags, vtime._vmm.STATE_VMCLOCK | vtime._vmm.STATE_HV)
        img = st.encode()
        self.assertEqual(len(img), 80)
        self.assertEqual(vtime.VmmState.decode(img), st)
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.VmmState.decode(img[:40])
        self.assertEqual(cm.exception.code, vtime.EPROTO)
        vimgs = [v.save(now).encode() for v in vm.vcpus]
        now2 = vtime.VmmNow(77, 5, RT0 + 20 * NS)
        vm2 = vtime.Vm(vtime.VmmConfig(host_hz=3 * NS, guest_hz=HZ, hw_scaling=True), now2)
        vm2.restore(vtime.VmmState.decode(img), now2, vtime.ResumePolicy.FREEZE, vtime.RestoreKind.MIGRATION)
        for i, b in enumerate(vimgs):
            v = vm2.add_vcpu()
            v.set_record(mem, 64 * i)
            v.restore(vtime.VcpuState.decode(b), now2)
        vm2.vmclock_set_page(mem, 4096)
        vm2.hv_set_page(mem, 8192)
        vm2.publish_all(now2)
        self.assertEqual(vm2.mode, vtime.TscMode.SCALED)
        self.assertLess(abs(vm2.clock(77) - 10 * NS), 5)
        self.assertTrue(vtime.snapshot_record(mem, 0).guest_stopped)
        # The VM keeps guest memory exported while it publishes into it.
        with self.assertRaises(BufferError):
            mem.close()

    def test_rdtsc_from_threads(self):
        mem, vm = boot(vtime.VmmConfig(host_hz=HZ, mode=vtime.TscMode.EMULATED))
        self.assertEqual(vm.mode, vtime.TscMode.EMULATED)
        bad = []

        def run(v):
            last = 0
            for t in range(2000):
                x = v.rdtsc(HZ + t * 100)
                if x < last:
                    bad.append(x)
                last = x

        th = [threading.Thread(target=run, args=(v,)) for v in vm.vcpus]
        for t in th:
            t.start()
        for t in th:
            t.join()
        self.assertEqual(bad, [])


class TestMemory(unittest.TestCase):
    def test_views_are_checked(self):
        buf = bytearray(100)
        with self.assertRaises(ValueError):
            vtime.publish(buf, vtime.PvclockRecord(), 80)   # does not fit
        with self.assertRaises(TypeError):
            vtime.publish(bytes(64), vtime.PvclockRecord())  # read-only
        with self.assertRaises(ValueError):
            vtime.VmclockPage(bytearray(4096), 0, 64)
        # Readers accept read-only bytes (a copy).
        b = bytearray(64)
        vtime.publish(b, vtime.PvclockRecord(tsc_to_system_mul=1 << 31, tsc_shift=1, system_time=9))
        self.assertEqual(vtime.snapshot_record(bytes(b)).system_time, 9)

    def test_counter_exception_is_raised_after_the_read(self):
        b = bytearray(64)
        vtime.publish(b, vtime.PvclockRecord(tsc_to_system_mul=1 << 31, tsc_shift=1))

        def boom():
            raise RuntimeError("counter failed")

        with self.assertRaises(RuntimeError):
            vtime.read_record(b, boom)


class TestPages(unittest.TestCase):
    def test_vmclock_host_helpers_and_reader(self):
        mem = bytearray(4096 + 64)
        off = (-memoryview_address(mem)) % 8
        page = vtime.VmclockPage(mem, off, 4096)
        with self.assertRaises(vtime.VtimeError) as cm:
            page.check()
        self.assertEqual(cm.exception.code, vtime.ENODEV)
        page.init(vtime.vmclock.COUNTER_X86_TSC, vtime.vmclock.TIME_TAI)
        body = vtime.VmclockAbi().set_period(NS, 50).set_time(1000, 1_700_000_000, 5, 20, 10)
        body.flags |= vtime.vmclock.FLAG_TAI_OFFSET_VALID
        body.tai_offset_sec = 37
        self.assertEqual(page.publish(body, vtime.vmclock.EV_NEW_GENERATION) % 2, 0)
        self.assertEqual(page.snapshot().time(1000), (1_700_000_000, 5))
        r = page.read(lambda: 1000 + 2 * NS)
        self.assertEqual(r.utc_sec, r.sec - 37)
        self.assertEqual(r.valid, vtime.vmclock.HAVE_TAI | vtime.vmclock.HAVE_UTC)
        self.assertEqual((r.vm_generation_counter, r.disruption_marker, r.esterror_ns), (1, 1, 10))
        dead = vtime.VmclockAbi(counter_id=vtime.vmclock.COUNTER_INVALID)
        with self.assertRaises(vtime.VtimeError) as cm:
            dead.usable()
        self.assertEqual(cm.exception.code, vtime.ENOCOUNTER)

    def test_hyperv_writer_and_reader(self):
        mem = mmap.mmap(-1, 4096)
        page = vtime.HvTscPage(mem)
        with self.assertRaises(vtime.VtimeError) as cm:
            page.snapshot()
        self.assertEqual(cm.exception.code, vtime.ENOTVALID)
        self.assertEqual(page.publish(1 << 62, -5), 1)
        r = page.read(lambda: 400)
        self.assertEqual((r.sequence, r.time), (1, 95))
        self.assertEqual(page.invalidate(1), 1)
        self.assertEqual(page.publish(1 << 62, 0, 1), 2)
        with self.assertRaises(vtime.VtimeError):
            vtime.hv_from_pvclock(vtime.PvclockRecord(tsc_to_system_mul=1 << 31, tsc_shift=1))


def memoryview_address(buf):
    import ctypes
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


class TestEngines(unittest.TestCase):
    def test_ticks_and_saved_state(self):
        t = vtime.Ticks(1_000_000, vtime.TicksPolicy.SLEW, 0)
        t.set_catchup(4)
        with self.assertRaises(vtime.VtimeError):
            t.set_catchup(1)
        r = t.update(5_500_000, True)
        self.assertEqual(r.deliver, 1)
        c = t.counters()
        self.assertEqual(c.due, c.delivered + c.dropped + c.backlog)
        st = t.save(5_600_000)
        img = st.encode()
        self.assertEqual(len(img), 104)
        st2 = vtime.TicksState.decode(img)
        self.assertEqual(st2, st)
        # reserved fields (docs/abi.md): zero from save and decode, refused by encode and restore
        self.assertEqual(list(st.reserved), [0] * 4)
        self.assertEqual(list(c.reserved), [0] * 3)
        bad = vtime.TicksState.decode(img)
        bad.reserved[2] = 1
        with self.assertRaises(vtime.VtimeError) as cm:
            bad.encode()
        self.assertEqual(cm.exception.code, vtime.EINVAL)
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.Ticks.restore(bad, 77)
        self.assertEqual(cm.exception.code, vtime.EPROTO)
        t2 = vtime.Ticks.restore(st2, 77)
        self.assertEqual(t2.counters(), t.counters())
        t2.set_period(100, 2_000_000)
        self.assertEqual(t2.period, 2_000_000)
        g = vtime.TicksGuest(10, 3)
        self.assertEqual(g.account(35), (3, 2))
        g.set_period(40, 5)
        self.assertEqual(g.ticks, 3)

    def test_clamp(self):
        c = vtime.Clamp(0, vtime.CLAMP_TRUST_STABLE)
        self.assertEqual([c.apply(10), c.apply(5), c.apply_stable(3, True), c.last()], [10, 10, 10, 10])
        c.reset(0)
        self.assertEqual(c.apply(1), 1)
        lc = vtime.ClampLocal(100)
        self.assertEqual((lc.apply(50), lc.apply(150), lc.last), (100, 150, 150))

    def test_calib(self):
        cfg = vtime.CalibConfig.default(hz_hint=NS)
        self.assertEqual(cfg.max_slew_ppm, 500)
        e = vtime.Calib(cfg)
        with self.assertRaises(vtime.VtimeError) as cm:
            e.line()
        self.assertEqual(cm.exception.code, vtime.ENODATA)
        ev = e.feed((1000, 5000, 20))
        self.assertTrue(ev & vtime.CALIB_EV_FIRST and ev & vtime.CALIB_EV_USED)
        self.assertEqual(e.line().apply(2000), 6000)
        self.assertEqual(e.read(lambda: 3000), 7000)
        self.assertEqual(e.stats().samples_used, 1)
        vtime.Calib()

    def test_tsc_ratios(self):
        r = vtime.tsc_ratio_init(1_500_000, 3_000_000, 48)
        self.assertEqual(r, 1 << 47)
        self.assertEqual(vtime.tsc_ratio_apply(1000, r, 48), 500)
        self.assertEqual(vtime.tsc_ratio_default(32), 1 << 32)


@unittest.skipUnless(vtime._lib.HAVE["kvm"], "a libvtime without the KVM shim (x86-64 Linux only)")
class TestKvm(unittest.TestCase):
    def test_image_and_guest_records(self):
        s = vtime.kvm.KvmSave(nr_vcpus=2, clock_ns=123, clock_flags=vtime.kvm.CLOCK_REALTIME)
        s.vcpu[1].tsc_khz = 2_600_000
        img = s.encode()
        self.assertEqual(len(img), 48 + 2 * 24)
        self.assertEqual(vtime.kvm.KvmSave.decode(img), s)
        mem = mmap.mmap(-1, 8192)
        off = vtime.kvm.guest_record(mem, 4096 + 64)
        self.assertEqual(off, 4096 + 64)
        with self.assertRaises(vtime.VtimeError):
            vtime.kvm.guest_record(mem, 4100)
        vtime.publish(mem, vtime.PvclockRecord(tsc_to_system_mul=1 << 31, tsc_shift=1, system_time=77), off)
        self.assertEqual(vtime.kvm.guest_record_read(mem, off | 1).system_time, 77)
        with open(os.devnull) as f:
            with self.assertRaises(vtime.VtimeError) as cm:
                vtime.kvm.clock_get(f)
            self.assertEqual(cm.exception.code, vtime.EIO)


@unittest.skipUnless(vtime._lib.HAVE["linux"], "a libvtime without the Linux userspace shim")
class TestLinux(unittest.TestCase):
    def test_probe_counters_host_page(self):
        m = vtime.machine_probe()
        self.assertGreaterEqual(m.ncpus, 1)
        self.assertTrue(m.arch)
        c = vtime.counter_get(vtime.CounterKind.ORDERED)
        a = c()
        self.assertGreaterEqual(c(), a)
        v, _cpu = vtime.counter_read_cpu()
        self.assertGreater(v, 0)
        try:
            p = vtime.HostPage.find()
        except vtime.VtimeError as e:
            self.assertGreater(len(e.why), 10)
        else:
            self.assertGreaterEqual(p.nrecords, 1)
            self.assertTrue(p.mapping.startswith("[vvar"))
            self.assertEqual(p.snapshot(0).version % 2, 0)
            self.assertGreater(p.read(0).ns, 0)


class TestBounded(unittest.TestCase):
    def test_bounded_now_holds_realtime(self):
        rt = vtime.realtime_ns()
        b = vtime.bounded_now()
        rt2 = vtime.realtime_ns()
        self.assertIsInstance(b.status, vtime.BoundStatus)
        if b.status in (vtime.BoundStatus.SYNCHRONIZED, vtime.BoundStatus.FREE_RUNNING):
            self.assertLessEqual(b.earliest_ns, rt2)
            self.assertGreaterEqual(b.latest_ns, rt)
            self.assertTrue(b.after(b.earliest_ns - 1))
            self.assertFalse(b.after(b.earliest_ns))
            self.assertTrue(b.before(b.latest_ns + 1))
            self.assertFalse(b.before(b.latest_ns))
            self.assertEqual(b.half_width_ns, (b.latest_ns - b.earliest_ns) // 2)
        else:
            self.assertEqual((b.earliest_ns, b.latest_ns), (0, 2**64 - 1))
            self.assertIsNone(b.half_width_ns)
        tai = vtime.bounded_tai_now()
        info = vtime.bounded_info()
        self.assertTrue(info.why)
        self.assertIn(info.page_watch, ("pvclock", "hyperv", "vmclock", "none"))
        if tai.status == b.status == vtime.BoundStatus.SYNCHRONIZED:
            self.assertGreater(info.tai_offset_s, 0)
            self.assertGreater(tai.earliest_ns, b.earliest_ns)

    def test_predicates(self):
        S, K = vtime.BoundStatus, vtime.BoundSource
        b = vtime.Bounded(100, 200, S.SYNCHRONIZED, K.KERNEL)
        self.assertEqual((b.after(99), b.after(100), b.before(201), b.before(200)), (True, False, True, False))
        for st in (S.UNKNOWN, S.DISRUPTED):  # no bound, as the library returns it
            n = vtime.Bounded(0, 2**64 - 1, st, K.NONE)
            self.assertFalse(n.after(0) or n.after(2**64 - 1) or n.before(0) or n.before(2**64 - 1))
            # any ends: no answer without a bound
            odd = vtime.Bounded(100, 200, st, K.KERNEL)
            self.assertFalse(odd.after(150) or odd.after(201) or odd.before(50) or odd.before(99))
        with self.assertRaises(ValueError):
            b.after(-1)

    def test_interval_now(self):
        # The fast form against bounded_now() around it, UTC and TAI.
        S = vtime.BoundStatus
        holds = (S.SYNCHRONIZED, S.FREE_RUNNING)
        for bounded, interval in ((vtime.bounded_now, vtime.interval_now),
                                  (vtime.bounded_tai_now, vtime.interval_tai_now)):
            b1 = bounded()
            i = interval()
            b2 = bounded()
            self.assertIsInstance(i, vtime.Interval)
            self.assertIsInstance(i.status, S)
            if i.status in holds:
                self.assertLessEqual(i.earliest_ns, i.latest_ns)
                self.assertEqual(i.half_width_ns, (i.latest_ns - i.earliest_ns) // 2)
                self.assertTrue(i.after(i.earliest_ns - 1))
                self.assertFalse(i.after(i.earliest_ns))
                self.assertTrue(i.before(i.latest_ns + 1))
                self.assertFalse(i.before(i.latest_ns))
            else:  # no bound: [0, 2**64 - 1], and nothing answers
                self.assertEqual((i.earliest_ns, i.latest_ns), (0, 2**64 - 1))
                self.assertFalse(i.after(0) or i.before(2**64 - 1))
                self.assertIsNone(i.half_width_ns)
            # bounded_now()'s status whenever that did not change across the call
            if b1.status == b2.status:
                self.assertEqual(i.status, b1.status)
            # each holds true time at its own instant, ordered b1, i, b2
            if b1.status in holds and i.status in holds and b2.status in holds:
                self.assertGreaterEqual(i.latest_ns, b1.earliest_ns)
                self.assertLessEqual(i.earliest_ns, b2.latest_ns)

    def test_interval_predicates(self):
        S, K = vtime.BoundStatus, vtime.BoundSource
        i = vtime.Interval(100, 200, S.SYNCHRONIZED)
        self.assertEqual((i.after(99), i.after(100), i.after(150), i.before(201), i.before(200), i.before(150)),
                         (True, False, False, True, False, False))
        self.assertTrue(i.after(0) and i.before(2**64 - 1))
        self.assertEqual(i.half_width_ns, 50)
        f = vtime.Interval(100, 200, S.FREE_RUNNING)
        self.assertEqual((f.after(99), f.after(100), f.before(201), f.before(200)), (True, False, True, False))
        for st in (S.UNKNOWN, S.DISRUPTED, 99):  # no bound, as the library returns it, and a status unknown here
            n = vtime.Interval(0, 2**64 - 1, st)
            self.assertFalse(n.after(0) or n.after(2**64 - 1) or n.before(0) or n.before(2**64 - 1))
            odd = vtime.Interval(100, 200, st)
            self.assertFalse(odd.after(50) or odd.before(250))
            self.assertIsNone(odd.half_width_ns)
        # the same answers as the C predicates on the same interval
        for st in (S.UNKNOWN, S.SYNCHRONIZED, S.FREE_RUNNING, S.DISRUPTED):
            i, b = vtime.Interval(100, 200, st), vtime.Bounded(100, 200, st, K.KERNEL)
            for t in (0, 99, 100, 150, 200, 201, 2**64 - 1):
                self.assertEqual((i.after(t), i.before(t)), (b.after(t), b.before(t)), (st, t))
        with self.assertRaises(ValueError):
            i.after(-1)
        with self.assertRaises(ValueError):
            i.before(2**64)


def vmclock_standin(path, seq_odd=False):
    """A page laid out and published by vtime's writer, in a 64 KiB file."""
    mem = mmap.mmap(-1, 4096)
    page = vtime.VmclockPage(mem, 0, 4096)
    page.init(vtime.vmclock.COUNTER_X86_TSC, vtime.vmclock.TIME_UTC)
    body = vtime.VmclockAbi().set_period(2_445_406_000, 50, 20).set_time(12345, 1_764_000_000, 7, 10_000, 2_000)
    body.clock_status = vtime.vmclock.STATUS_SYNCHRONIZED
    page.publish(body)
    with open(path, "wb") as f:
        f.write(bytes(mem) + bytes(65536 - 4096))


class TestDevices(unittest.TestCase):
    def test_vmclock_device_errors(self):
        try:
            d = vtime.VmclockDevice()
        except vtime.VtimeError as e:  # this machine: no /dev/vmclock0
            self.assertIn(e.code, (vtime.ENODEV, vtime.EIO))
            self.assertIn("vmclock", e.why)
        else:
            with d:
                self.assertEqual(d.path, vtime.VMCLOCK_DEV_PATH)
                self.assertEqual(d.read().magic, vtime.vmclock.MAGIC)
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.VmclockDevice("/nonexistent/vmclock9")
        self.assertEqual(cm.exception.code, vtime.ENODEV)
        self.assertIn("/nonexistent/vmclock9", cm.exception.why)
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.VmclockDevice("/dev/zero")
        self.assertEqual(cm.exception.code, vtime.ENODEV)
        self.assertIn("magic", cm.exception.why)
        with self.assertRaises(vtime.VtimeError) as cm:
            vtime.VmclockDevice("/" + "a" * 80)
        self.assertEqual(cm.exception.code, vtime.EINVAL)

    def test_vmclock_device_standin(self):
        path = f"/tmp/vtime-py-vmclock-{os.getpid()}"
        vmclock_standin(path)
        try:
            with vtime.VmclockDevice(path) as d:
                self.assertEqual(d.path, path)
                self.assertGreaterEqual(d.size, 4096)
                s = d.read()
                self.assertEqual((s.magic, s.counter_value, s.time_sec), (vtime.vmclock.MAGIC, 12345, 1_764_000_000))
                self.assertEqual(s.time_maxerror_nanosec, 10_000)
                self.assertEqual(s.seq_count % 2, 0)
                self.assertEqual(s.time(12345), (1_764_000_000, 7))
                self.assertEqual(bytes(d.snapshot()), bytes(s))
                with self.assertRaises(vtime.VtimeError) as cm:  # a regular file cannot notify
                    d.wait(0)
                self.assertEqual(cm.exception.code, vtime.ENOTSUP)
                # a torn copy: the writer stuck odd (seq_count at offset 12)
                with open(path, "r+b") as f:
                    f.seek(12)
                    f.write((s.seq_count | 1).to_bytes(4, "little"))
                    f.flush()
                    with self.assertRaises(vtime.VtimeError) as cm:
                        d.read()
                    self.assertEqual(cm.exception.code, vtime.EAGAIN)
                    f.seek(12)
                    f.write((s.seq_count + 2).to_bytes(4, "little"))
                    f.flush()
                self.assertEqual(d.read().seq_count, s.seq_count + 2)
                mapped = d._c.clk
            self.assertTrue(d.closed)
            with self.assertRaises(vtime.VtimeError) as cm:
                d.read()
            self.assertEqual(cm.exception.code, vtime.ENODEV)
            with open("/proc/self/maps") as f:
                self.assertFalse(any(line.startswith(f"{mapped:x}-") for line in f), "still mapped after close")
            d.close()  # again: nothing
            with open(path, "r+b") as f:  # a version vtime does not know
                f.seek(8)
                f.write((2).to_bytes(2, "little"))
            with self.assertRaises(vtime.VtimeError) as cm:
                vtime.VmclockDevice(path)
            self.assertEqual(cm.exception.code, vtime.ENOTSUP)
        finally:
            os.unlink(path)

    def test_hyperv_host_page(self):
        try:
            p = vtime.HvHostPage.find()
        except vtime.VtimeError as e:
            self.assertIn(e.code, (vtime.ENODEV, vtime.ENOTSUP, vtime.EAGAIN, vtime.EIO))
            self.assertGreater(len(e.why), 10)
        else:
            self.assertTrue(p.mapping.startswith("[vvar"))
            if p.valid:
                self.assertGreater(p.tsc_hz, 10**6)
                self.assertEqual(p.snapshot().sequence, p.sequence)
            else:
                self.assertTrue(p.why)
                self.assertIsNone(p.tsc_hz)
                with self.assertRaises(vtime.VtimeError) as cm:
                    p.snapshot()
                self.assertEqual(cm.exception.code, vtime.ENOTVALID)


class TestLoading(unittest.TestCase):
    def test_found_without_environment(self):
        """How the library was found (CI checks the route of each install)."""
        self.assertIn(vtime._lib.LOADED_HOW, ("VTIME_LIBRARY", "built by pip into the package",
                                              "installed by meson install", "the dynamic linker",
                                              "ctypes.util.find_library"))
        self.assertTrue(os.path.exists(vtime._lib.LOADED_FROM) or "/" not in vtime._lib.LOADED_FROM)


if __name__ == "__main__":
    unittest.main()
