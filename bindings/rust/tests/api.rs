// SPDX-License-Identifier: MIT
//! The rest of the safe API against the real library: a VMM publishing into
//! guest memory (records, wall clock, VMClock, Hyper-V page) and the guest's
//! readers of it, pause/resume, saved state through the byte images and a
//! restore; ticks, clamp, calib; VMClock and Hyper-V helpers; the KVM shim's
//! image and guest records; the Linux probes.

use std::sync::Arc;
use vtime::*;

const HZ: u64 = 2_599_999_000;
const RT0: u64 = 1_764_000_000_123_456_789;

/// A host reading at host counter `tsc` (ns and realtime advance with it).
fn at(tsc: u64) -> VmmNow {
    let ns = (tsc as u128 * NSEC_PER_SEC as u128 / HZ as u128) as u64;
    VmmNow { host_tsc: tsc, host_ns: 1_000_000 + ns, realtime_ns: RT0 + ns }
}

struct Guest {
    mem: Region,
    vm: Vm,
    vcpus: Vec<VcpuId>,
}

/// Guest memory: records at 0 and 64, wall clock at 128, VMClock at 4096,
/// Hyper-V page at 8192.
fn boot(cfg: &VmmConfig, t0: u64) -> Guest {
    let mem = Region::new(3 * 4096);
    let now = at(t0);
    let mut vm = Vm::new(cfg, &now).unwrap();
    let mut vcpus = Vec::new();
    for i in 0..2 {
        let id = vm.add_vcpu().unwrap();
        vm.vcpu_set_record(id, Some(mem.pvclock_cpu(i).unwrap())).unwrap();
        vm.vcpu_write_tsc(id, 0, &now, true).unwrap();
        vcpus.push(id);
    }
    vm.vmclock_set_page(Some(mem.vmclock(4096, 4096).unwrap())).unwrap();
    vm.hv_set_page(Some(mem.hv_tsc_page(8192).unwrap())).unwrap();
    vm.publish_all(&now).unwrap();
    Guest { mem, vm, vcpus }
}

fn native() -> VmmConfig {
    VmmConfig { host_hz: HZ, ..Default::default() }
}

#[test]
fn vmm_publishes_records_pages_and_wall_clock() {
    let mut g = boot(&native(), 1000);
    assert_eq!(g.vm.mode(), TscMode::Native);
    assert_eq!(g.vm.vcpu_count(), 2);
    assert!(g.vm.stable());
    let now = at(1000 + 3 * HZ);
    g.vm.publish_all(&now).unwrap();
    let guest_tsc = g.vm.vcpu_tsc(g.vcpus[1], now.host_tsc);
    let slot = g.mem.pvclock_cpu(1).unwrap();
    let rec = slot.snapshot(0).unwrap();
    assert!(rec.stable());
    assert_eq!(rec.scale(), Scale::to_ns(HZ).unwrap());
    let r = slot.read(0, || guest_tsc).unwrap();
    assert_eq!(r.ns, g.vm.clock(now.host_tsc));
    assert!(r.ns.abs_diff(3 * NSEC_PER_SEC) < 2);
    assert_eq!(g.vm.vcpu_compute(g.vcpus[1], &now).unwrap().system_time, rec.system_time);
    assert_eq!(g.vm.vcpu_rdtsc(g.vcpus[1], now.host_tsc), guest_tsc);

    // The wall clock: realtime at kvmclock 0.
    let wc = g.mem.wall_clock(128).unwrap();
    let v = g.vm.wall_publish(&wc, &now).unwrap();
    let w = wc.read(0).unwrap();
    assert_eq!((w.version, (w.sec, w.nsec)), (v, g.vm.wall(&now).unwrap()));
    assert!(w.ns(r.ns).abs_diff(now.realtime_ns) < 2);

    // VMClock: UTC = the VM's realtime view, within 3 ns of the record.
    let vc = g.mem.vmclock(4096, 4096).unwrap();
    vc.check().unwrap();
    let snap = vc.snapshot(0).unwrap();
    snap.usable().unwrap();
    let (sec, nsec) = snap.time(guest_tsc).unwrap();
    let vns = sec * NSEC_PER_SEC + nsec as u64;
    let rt_view = at(1000).realtime_ns + r.ns;
    assert!(vns.abs_diff(rt_view) <= 3, "vmclock {} vs {}", vns, rt_view);
    let rd = vc.read(0, || guest_tsc).unwrap();
    assert_eq!((rd.sec, rd.nsec), (sec, nsec));
    assert_eq!(rd.utc_sec, sec);
    assert_eq!(snap.convert(guest_tsc).unwrap(), rd);
    assert_eq!(snap.maxerror(guest_tsc), vmclock::UNKNOWN);

    // Hyper-V: the page is KVM's computation of the record, bit for bit.
    let hv = g.mem.hv_tsc_page(8192).unwrap();
    let hs = hv.snapshot(0).unwrap();
    assert_eq!(hyperv::from_pvclock(&rec).unwrap(), (hs.tsc_scale, hs.tsc_offset));
    let hr = hv.read(0, || guest_tsc).unwrap();
    assert_eq!(hr.time, hyperv::page_time(hs.tsc_scale, hs.tsc_offset, guest_tsc));
    assert!(hr.time.abs_diff(r.ns / 100) <= 1);
    assert!(g.vm.hv_ref_count(now.host_tsc).abs_diff(r.ns / 100) <= 1);
    assert_eq!(g.vm.hv_publish(&now).unwrap(), hs.sequence + 1);
    assert!(g.vm.vmclock_publish(&now).unwrap() > snap.seq_count);
}

#[test]
fn vmm_pause_resume_stopped_and_disruption() {
    let mut g = boot(&native(), 0);
    let marker0 = g.mem.vmclock(4096, 4096).unwrap().snapshot(0).unwrap().disruption_marker;
    g.vm.pause(&at(HZ)).unwrap();
    assert!(g.vm.paused());
    assert_eq!(g.vm.pause(&at(HZ)), Err(Error::STATE));
    g.vm.resume(&at(5 * HZ), ResumePolicy::Freeze).unwrap();
    g.vm.publish_all(&at(5 * HZ)).unwrap();
    // Freeze: kvmclock continues from the pause.
    assert!(g.vm.clock(5 * HZ).abs_diff(NSEC_PER_SEC) < 2);
    for i in 0..2 {
        let s = g.mem.pvclock_cpu(i).unwrap();
        assert!(s.snapshot(0).unwrap().guest_stopped());
        assert!(s.consume_stopped());
        assert!(!s.consume_stopped());
    }
    let snap = g.mem.vmclock(4096, 4096).unwrap().snapshot(0).unwrap();
    assert_eq!(snap.disruption_marker, marker0 + 1);
    g.vm.vcpu_request_stopped(g.vcpus[0]).unwrap();
    g.vm.vcpu_publish(g.vcpus[0], &at(6 * HZ)).unwrap();
    assert!(g.mem.pvclock_cpu(0).unwrap().snapshot(0).unwrap().guest_stopped());
    g.vm.vmclock_set_disruption(vmclock::FLAG_DISRUPTION_SOON).unwrap();
    assert_eq!(g.vm.vmclock_set_disruption(1), Err(Error::INVAL));
    let status = VmclockStatus {
        time_maxerror_ns: 1000,
        time_esterror_ns: 100,
        period_maxerror_ppb: vmclock::UNKNOWN,
        period_esterror_ppb: vmclock::UNKNOWN,
        clock_status: vmclock::STATUS_SYNCHRONIZED,
        ..Default::default()
    };
    g.vm.vmclock_sync(&at(6 * HZ), Some(&status)).unwrap();
    g.vm.vmclock_publish(&at(6 * HZ)).unwrap();
    let snap = g.mem.vmclock(4096, 4096).unwrap().snapshot(0).unwrap();
    assert_eq!(snap.clock_status, vmclock::STATUS_SYNCHRONIZED);
    assert!(snap.flags & vmclock::FLAG_DISRUPTION_SOON != 0);
    assert_eq!(snap.maxerror(snap.counter_value), 1000);
    g.vm.update_master(&at(7 * HZ)).unwrap();
    g.vm.set_clock(&at(7 * HZ), 42 * NSEC_PER_SEC).unwrap();
    assert_eq!(g.vm.clock(7 * HZ), 42 * NSEC_PER_SEC);
    g.vm.vcpu_set_record(g.vcpus[1], None).unwrap();
    assert_eq!(g.vm.vcpu_publish(g.vcpus[1], &at(7 * HZ)), Err(Error::NODEV));
    assert_eq!(g.vm.vcpu_publish(VcpuId(9), &at(7 * HZ)), Err(Error::INVAL));
}

#[test]
fn vmm_save_encode_decode_restore() {
    let mut g = boot(&native(), 0);
    let now = at(10 * HZ);
    g.vm.publish_all(&now).unwrap();
    let (st, vst) = g.vm.save_all(&now).unwrap();
    assert_eq!(st.nr_vcpus, 2);
    assert_eq!(st.flags, VMM_STATE_VMCLOCK | VMM_STATE_HV);
    let img = st.encode().unwrap();
    assert_eq!(img.len(), 80);
    let back = VmmState::decode(&img).unwrap();
    assert_eq!(back, st);
    assert_eq!(VmmState::decode(&img[..40]), Err(Error::PROTO));
    let mut bad = st;
    bad.reserved[0] = 1;
    assert_eq!(bad.encode(), Err(Error::INVAL));
    let mut badv = vst[0];
    badv.reserved[1] = 1;
    assert_eq!(badv.encode(), Err(Error::INVAL));
    let vimg: Vec<Vec<u8>> = vst.iter().map(|v| v.encode().unwrap()).collect();
    let mut short = [0u8; 8];
    assert_eq!(st.encode_into(&mut short), Err(Error::RANGE));

    // Onto another host (another counter rate), guest memory carried over.
    let host2 = 3_000_000_000u64;
    let now2 = VmmNow { host_tsc: 77, host_ns: 5, realtime_ns: RT0 + 20 * NSEC_PER_SEC };
    let mut vm2 = Vm::new(&VmmConfig { host_hz: host2, guest_hz: HZ, hw_scaling: true, ..Default::default() }, &now2)
        .unwrap();
    vm2.restore(&back, &now2, ResumePolicy::Freeze, RestoreKind::Migration).unwrap();
    for (i, img) in vimg.iter().enumerate() {
        let id = vm2.add_vcpu().unwrap();
        vm2.vcpu_set_record(id, Some(g.mem.pvclock_cpu(i).unwrap())).unwrap();
        vm2.vcpu_restore(id, &VcpuState::decode(img).unwrap(), &now2).unwrap();
    }
    vm2.vmclock_set_page(Some(g.mem.vmclock(4096, 4096).unwrap())).unwrap();
    vm2.hv_set_page(Some(g.mem.hv_tsc_page(8192).unwrap())).unwrap();
    vm2.publish_all(&now2).unwrap();
    assert_eq!(vm2.mode(), TscMode::Scaled);
    assert!(vm2.clock(77).abs_diff(10 * NSEC_PER_SEC) < 5, "{} {:?}", vm2.clock(77), back);
    let rec = g.mem.pvclock_cpu(0).unwrap().snapshot(0).unwrap();
    assert!(rec.version > vst[0].version && rec.guest_stopped());
    drop(g.vm);
    // The VM keeps the memory alive after its other users are gone.
    drop(g.mem);
    assert!(vm2.vcpu_record(VcpuId(0)).unwrap().snapshot(0).is_ok());
}

#[test]
fn vm_is_send_and_sync_for_rdtsc() {
    let cfg = VmmConfig { host_hz: HZ, mode: TscMode::Emulated, ..Default::default() };
    let g = boot(&cfg, 0);
    assert_eq!(g.vm.mode(), TscMode::Emulated);
    let vm = Arc::new(g.vm);
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let vm = vm.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for t in 0..10_000u64 {
                    let v = vm.vcpu_rdtsc(VcpuId(i), HZ + t * 100);
                    assert!(v >= last);
                    last = v;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn region_bounds_and_bytes() {
    let r = Region::new(100);
    assert_eq!(r.len(), 100);
    assert_eq!(r.as_ptr() as usize % 4096, 0);
    assert!(r.to_vec().iter().all(|&b| b == 0));
    r.write_bytes(90, &[1, 2, 3]).unwrap();
    let mut b = [0u8; 3];
    r.read_bytes(90, &mut b).unwrap();
    assert_eq!(b, [1, 2, 3]);
    assert_eq!(r.write_bytes(99, &[1, 2]), Err(Error::RANGE));
    assert_eq!(r.pvclock(4).unwrap_err(), Error::INVAL);
    assert_eq!(r.pvclock(72).unwrap_err(), Error::RANGE);
    assert_eq!(r.vmclock(0, 64).unwrap_err(), Error::INVAL);
    // Foreign memory, kept alive by its owner.
    let owner = Arc::new(vec![0u64; 8]);
    let foreign = unsafe { Region::from_raw_parts_with_owner(owner.as_ptr() as *mut u8, 64, owner.clone()) };
    let s = foreign.pvclock(0).unwrap();
    let body = PvclockRecord { tsc_to_system_mul: 1 << 31, tsc_shift: 1, system_time: 9, ..Default::default() };
    assert_eq!(s.publish(&body), 2);
    assert_eq!(s.snapshot(0).unwrap().system_time, 9);
    assert_eq!(&s.raw_bytes()[16..24], &9u64.to_le_bytes());
    assert_eq!(Arc::strong_count(&owner), 2);
    drop(s);
    drop(foreign);
    assert_eq!(Arc::strong_count(&owner), 1);
}

#[test]
fn vmclock_host_helpers_and_guest_reader() {
    let mem = Region::new(4096);
    let page = mem.vmclock(0, 4096).unwrap();
    assert_eq!(page.check(), Err(Error::NODEV));
    assert_eq!(page.publish(&VmclockAbi::default(), 0), Err(Error::NODEV));
    page.init(vmclock::COUNTER_X86_TSC, vmclock::TIME_TAI).unwrap();
    let mut body = VmclockAbi::default();
    body.set_period(1_000_000_000, 50, vmclock::UNKNOWN).unwrap();
    body.set_time(1000, 1_700_000_000, 5, 20, 10).unwrap();
    body.flags |= vmclock::FLAG_TAI_OFFSET_VALID;
    body.tai_offset_sec = 37;
    body.clock_status = vmclock::STATUS_SYNCHRONIZED;
    let seq = page.publish(&body, vmclock::EV_NEW_GENERATION).unwrap();
    assert_eq!(seq % 2, 0);
    assert_eq!(page.snapshot(0).unwrap().time(1000).unwrap(), (1_700_000_000, 5));
    let r = page.read(0, || 1000 + 2_000_000_000).unwrap();
    assert!(r.sec == 1_700_000_002 && (4..=5).contains(&r.nsec), "{} {}", r.sec, r.nsec);
    assert_eq!(r.valid, vmclock::HAVE_TAI | vmclock::HAVE_UTC);
    assert_eq!(r.utc_sec, 1_700_000_002 - 37);
    assert_eq!(r.vm_generation_counter, 1);
    assert_eq!(r.disruption_marker, 1);
    assert!(r.maxerror_ns >= 20 + 100 && r.maxerror_ns <= 20 + 101, "{}", r.maxerror_ns);
    assert_eq!(r.esterror_ns, 10);
    let mut dead = VmclockAbi::default();
    dead.counter_id = vmclock::COUNTER_INVALID;
    assert_eq!(dead.usable(), Err(Error::NOCOUNTER));
}

#[test]
fn hyperv_page_writer_and_reader() {
    let mem = Region::new(4096);
    let page = mem.hv_tsc_page(0).unwrap();
    assert_eq!(page.snapshot(0).unwrap_err(), Error::NOTVALID);
    let s = page.publish(1 << 62, -5, 0);
    assert_eq!(s, 1);
    let r = page.read(0, || 400).unwrap();
    assert_eq!((r.sequence, r.time), (1, 95));
    assert_eq!(page.invalidate(s), 1);
    assert_eq!(page.read(0, || 400).unwrap_err(), Error::NOTVALID);
    assert_eq!(page.publish(1 << 62, 0, 1), 2);
    let unstable = PvclockRecord { tsc_to_system_mul: 1 << 31, tsc_shift: 1, ..Default::default() };
    assert_eq!(hyperv::from_pvclock(&unstable), Err(Error::RANGE));
}

#[test]
fn ticks_engine_and_saved_state() {
    let mut t = Ticks::new(1_000_000, TicksPolicy::Slew, 0).unwrap();
    t.set_catchup(4, 0).unwrap();
    assert_eq!(t.set_catchup(1, 0), Err(Error::INVAL));
    let r = t.update(5_500_000, true).unwrap();
    assert_eq!(r.deliver, 1);
    assert!(r.next > 5_500_000);
    let c = t.counters();
    assert_eq!(c.due, 5);
    assert_eq!(c.due, c.delivered + c.dropped + c.backlog);
    let st = t.save(5_600_000).unwrap();
    let img = st.encode().unwrap();
    assert_eq!(img.len(), 104);
    let st2 = TicksState::decode(&img).unwrap();
    assert_eq!(st2, st);
    // Reserved fields (docs/abi.md): zero from save and decode, refused by
    // encode and restore.
    assert_eq!(st.reserved, [0; 4]);
    let mut bad = st;
    bad.reserved[3] = 1;
    assert_eq!(bad.encode().unwrap_err(), Error::INVAL);
    assert_eq!(Ticks::restore(&bad, 77).err(), Some(Error::PROTO));
    assert_eq!(c.reserved, [0; 3]);
    let mut t2 = Ticks::restore(&st2, 77).unwrap();
    assert_eq!(t2.counters(), t.counters());
    t2.set_period(100, 2_000_000).unwrap();
    assert_eq!(t2.period(), 2_000_000);
    assert!(Ticks::new(0, TicksPolicy::Discard, 0).is_err());

    let mut g = TicksGuest::new(10, 3).unwrap();
    assert_eq!(g.account(35), (3, 2));
    g.set_period(40, 5).unwrap();
    assert_eq!(g.ticks(), 3);
    assert_eq!(g.account(48).0, 3); // 38, 43, 48: the new period counts from the boundary at 33
}

#[test]
fn clamp_scopes() {
    let c = Clamp::new(0, CLAMP_TRUST_STABLE).unwrap();
    assert_eq!(c.apply(10), 10);
    assert_eq!(c.apply(5), 10);
    assert_eq!(c.apply_stable(3, true), 10);
    assert_eq!(c.apply_stable(12, true), 12);
    assert_eq!(c.last(), 10);
    c.reset(0);
    assert_eq!(c.apply(1), 1);
    assert_eq!(std::mem::align_of::<Clamp>(), 64);
    assert!(Clamp::new(0, 0x80).is_err());
    let mut l = ClampLocal::new(100);
    assert_eq!(l.apply(50), 100);
    assert_eq!(l.apply(150), 150);
    assert_eq!(l.last(), 150);
}

#[test]
fn calib_engine() {
    let cfg = CalibConfig { hz_hint: 1_000_000_000, ..Default::default() };
    assert_eq!(cfg.max_slew_ppm, 500);
    let e = Calib::new(Some(&cfg)).unwrap();
    assert_eq!(e.line(), Err(Error::NODATA));
    let ev = e.feed(&CalibSample { counter: 1000, ref_ns: 5000, cost_ns: 20 }).unwrap();
    assert!(ev.has(CalibEvents::FIRST) && ev.has(CalibEvents::USED));
    let line = e.line().unwrap();
    assert_eq!(line.apply(1000), 5000);
    assert_eq!(calib_line_apply(&line, 2000), 6000);
    assert_eq!(e.read(|| 3000).unwrap(), 7000);
    assert_eq!(e.stats().samples_used, 1);
    assert!(Calib::new(None).is_ok());
}

#[test]
fn tsc_ratio_default_is_one() {
    assert_eq!(tsc_ratio_default(TSC_FRAC_BITS_VMX), 1 << 48);
    assert_eq!(tsc_ratio_apply(12345, tsc_ratio_default(32), 32), 12345);
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn kvm_image_and_guest_records() {
    let mut s = kvm::KvmSave::default();
    s.nr_vcpus = 2;
    s.clock_ns = 123;
    s.clock_flags = kvm::CLOCK_REALTIME;
    s.vcpu[1].tsc_khz = 2_600_000;
    let img = s.encode().unwrap();
    assert_eq!(img.len(), 48 + 2 * 24);
    assert_eq!(kvm::KvmSave::decode(&img).unwrap(), s);
    s.reserved[0] = 1;
    assert_eq!(s.encode(), Err(Error::INVAL));

    let mem = Region::new(8192);
    let slot = kvm::guest_record(&mem, 4096 + 64).unwrap();
    assert_eq!(kvm::guest_record(&mem, 4100).unwrap_err(), Error::INVAL);
    assert_eq!(kvm::guest_record(&mem, 8184).unwrap_err(), Error::RANGE);
    let body = PvclockRecord { tsc_to_system_mul: 1 << 31, tsc_shift: 1, system_time: 77, ..Default::default() };
    slot.publish(&body);
    assert_eq!(kvm::guest_record_read(&mem, 4096 + 64 + 1).unwrap().system_time, 77);
    assert_eq!(kvm::guest_record_read(&mem, 4096 + 64).unwrap_err(), Error::NODEV);
    // No /dev/kvm descriptor: the ioctls fail cleanly.
    let f = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(kvm::clock_get(&f).unwrap_err(), Error::IO);
    assert!(kvm::tsc_khz_get(&f).is_err());
}

#[cfg(target_os = "linux")]
#[test]
fn linux_probes_and_counters() {
    let m = machine_probe().unwrap();
    assert!(m.ncpus >= 1);
    assert!(!m.arch.is_empty());
    let mut c = counter_get(CounterKind::Ordered).unwrap();
    let a = c.read();
    let b = c.with_raw(|raw| unsafe { (raw.read.unwrap())(raw.ctx) });
    assert!(b >= a);
    let (v, _cpu) = counter_read_cpu();
    assert!(v > 0);
    match HostPage::find() {
        Ok(p) => {
            assert!(p.nrecords() >= 1);
            assert!(p.mapping().starts_with("[vvar"));
            let rec = p.snapshot(0).unwrap();
            assert_eq!(rec.version % 2, 0);
            assert_eq!(p.snapshot(p.nrecords()).unwrap_err(), Error::RANGE);
        }
        Err((e, why)) => {
            assert!(why.len() > 10, "{:?}: {}", e, why);
        }
    }
}

#[test]
fn bounded_time() {
    let rt = realtime_ns();
    let b = bounded_now();
    let rt2 = realtime_ns();
    match b.status {
        BoundStatus::Synchronized | BoundStatus::FreeRunning => {
            assert!(b.earliest_ns <= b.latest_ns, "{:?}", b);
            // The interval holds this clock's realtime, give or take the
            // time between the reads.
            assert!(b.earliest_ns <= rt2 && b.latest_ns >= rt, "{:?} vs {}..{}", b, rt, rt2);
            assert!(b.after(b.earliest_ns - 1));
            assert!(!b.after(b.earliest_ns));
            assert!(b.before(b.latest_ns + 1));
            assert!(!b.before(b.latest_ns));
            assert_eq!(b.half_width_ns(), Some((b.latest_ns - b.earliest_ns) / 2));
        }
        _ => {
            assert_eq!((b.earliest_ns, b.latest_ns), (0, u64::MAX), "{:?}", b);
            assert!(!b.after(0) && !b.before(u64::MAX));
            assert_eq!(b.half_width_ns(), None);
        }
    }
    // The pure predicates on intervals built here, each status.
    let sync = Bounded { earliest_ns: 100, latest_ns: 200, status: BoundStatus::Synchronized, source: BoundSource::Kernel };
    assert!(sync.after(99) && !sync.after(100) && sync.before(201) && !sync.before(200));
    let free = Bounded { status: BoundStatus::FreeRunning, ..sync };
    assert!(free.after(99) && free.before(201));
    // An interval without a bound answers nothing, as the library returns
    // it (0, u64::MAX) and with any other ends.
    for st in [BoundStatus::Unknown, BoundStatus::Disrupted] {
        let b = Bounded { earliest_ns: 0, latest_ns: u64::MAX, status: st, source: BoundSource::None };
        assert!(!b.after(0) && !b.after(u64::MAX) && !b.before(0) && !b.before(u64::MAX), "{:?}", st);
        let odd = Bounded { earliest_ns: 100, latest_ns: 200, status: st, source: BoundSource::Kernel };
        assert!(!odd.after(150) && !odd.after(201) && !odd.before(50) && !odd.before(99), "{:?}", st);
    }
    let tai = bounded_tai_now();
    let info = bounded_info().unwrap();
    assert!(!info.why.is_empty());
    assert!(["pvclock", "hyperv", "vmclock", "none"].contains(&info.page_watch.as_str()), "{}", info.page_watch);
    if tai.status == BoundStatus::Synchronized && b.status == BoundStatus::Synchronized {
        // TAI runs ahead of UTC by tai_offset_s (37 s since 2017).
        assert!(info.tai_offset_s > 0);
        assert!(tai.earliest_ns > b.earliest_ns);
    }
    if info.source == BoundSource::None {
        assert_eq!(info.half_width_ns, None);
    }
}

#[test]
fn interval_time() {
    // The fast form against bounded_now() around it, UTC and TAI.
    let forms: [(fn() -> Bounded, fn() -> Interval); 2] =
        [(bounded_now, interval_now), (bounded_tai_now, interval_tai_now)];
    for (bounded, interval) in forms {
        let b1 = bounded();
        let i = interval();
        let b2 = bounded();
        let holds = |s: BoundStatus| matches!(s, BoundStatus::Synchronized | BoundStatus::FreeRunning);
        if holds(i.status) {
            assert!(i.earliest_ns <= i.latest_ns, "{:?}", i);
            assert_eq!(i.half_width_ns(), Some((i.latest_ns - i.earliest_ns) / 2));
        } else {
            // No bound: [0, u64::MAX], and nothing answers.
            assert_eq!((i.earliest_ns, i.latest_ns), (0, u64::MAX), "{:?}", i);
            assert!(!i.after(0) && !i.before(u64::MAX));
            assert_eq!(i.half_width_ns(), None);
        }
        // The same status as bounded_now() whenever that did not change
        // across the call.
        if b1.status == b2.status {
            assert_eq!(i.status, b1.status, "{:?} between {:?} and {:?}", i, b1, b2);
        }
        // Each interval holds true time at its own instant, and the instants
        // are ordered b1, i, b2: i cannot end before b1 starts nor start
        // after b2 ends.
        if holds(b1.status) && holds(i.status) && holds(b2.status) {
            assert!(i.latest_ns >= b1.earliest_ns, "{:?} vs {:?}", i, b1);
            assert!(i.earliest_ns <= b2.latest_ns, "{:?} vs {:?}", i, b2);
        }
    }
    // The pure predicates, TrueTime's edges, each status.
    let sync = Interval { earliest_ns: 100, latest_ns: 200, status: BoundStatus::Synchronized };
    assert!(sync.after(99) && !sync.after(100) && !sync.after(150));
    assert!(sync.before(201) && !sync.before(200) && !sync.before(150));
    assert!(sync.after(0) && sync.before(u64::MAX));
    assert_eq!(sync.half_width_ns(), Some(50));
    let free = Interval { status: BoundStatus::FreeRunning, ..sync };
    assert!(free.after(99) && !free.after(100) && free.before(201) && !free.before(200));
    assert_eq!(sync.raw(), vtime::ffi::vtime_interval { earliest_ns: 100, latest_ns: 200 });
    for st in [BoundStatus::Unknown, BoundStatus::Disrupted, BoundStatus::Other(99)] {
        let none = Interval { earliest_ns: 0, latest_ns: u64::MAX, status: st };
        assert!(!none.after(0) && !none.after(u64::MAX) && !none.before(0) && !none.before(u64::MAX), "{:?}", st);
        let odd = Interval { earliest_ns: 100, latest_ns: 200, status: st };
        assert!(!odd.after(50) && !odd.before(250), "{:?}", st);
        assert_eq!(odd.half_width_ns(), None);
        // The same answers as the C predicates on the same interval.
        let b = Bounded { earliest_ns: 100, latest_ns: 200, status: st, source: BoundSource::Kernel };
        for t in [0, 99, 100, 150, 200, 201, u64::MAX] {
            assert_eq!((odd.after(t), odd.before(t)), (b.after(t), b.before(t)), "{:?} {}", st, t);
        }
    }
    for st in [BoundStatus::Synchronized, BoundStatus::FreeRunning] {
        let i = Interval { earliest_ns: 100, latest_ns: 200, status: st };
        let b = Bounded { earliest_ns: 100, latest_ns: 200, status: st, source: BoundSource::Kernel };
        for t in [0, 99, 100, 150, 200, 201, u64::MAX] {
            assert_eq!((i.after(t), i.before(t)), (b.after(t), b.before(t)), "{:?} {}", st, t);
        }
    }
}

#[test]
fn hyperv_host_page() {
    match HvHostPage::find() {
        Ok(p) => {
            assert!(p.mapping().starts_with("[vvar"));
            if p.valid() {
                assert!(p.tsc_hz().unwrap() > 1_000_000);
                assert_eq!(p.snapshot(0).unwrap().sequence, p.sequence());
            } else {
                assert!(!p.why().is_empty());
                assert_eq!(p.snapshot(0).unwrap_err(), Error::NOTVALID);
            }
        }
        Err((e, why)) => {
            assert!([Error::NODEV, Error::NOTSUP, Error::AGAIN, Error::IO].contains(&e), "{:?}", e);
            assert!(why.len() > 10, "{:?}: {}", e, why);
        }
    }
}

#[test]
fn vmclock_device_errors() {
    use std::path::Path;
    // This machine has no VMClock: the default device is absent (or, on a
    // host that has one, opens).
    match VmclockDevice::open(None) {
        Ok(d) => {
            assert_eq!(d.path(), VMCLOCK_DEV_PATH);
            assert_eq!(d.read().unwrap().magic, vmclock::MAGIC);
        }
        Err((e, why)) => {
            assert!(e == Error::NODEV || e == Error::IO, "{:?}", e);
            assert!(why.contains("vmclock"), "{}", why);
        }
    }
    let (e, why) = VmclockDevice::open(Some(Path::new("/nonexistent/vmclock9"))).unwrap_err();
    assert_eq!(e, Error::NODEV);
    assert!(why.contains("/nonexistent/vmclock9"), "{}", why);
    let (e, why) = VmclockDevice::open(Some(Path::new("/dev/zero"))).unwrap_err();
    assert_eq!(e, Error::NODEV);
    assert!(why.contains("magic"), "{}", why);
    let long = format!("/{}", "a".repeat(80));
    assert_eq!(VmclockDevice::open(Some(Path::new(&long))).unwrap_err().0, Error::INVAL);
}

#[test]
fn vmclock_device_standin() {
    use std::os::unix::fs::FileExt;
    // A page laid out and published by vtime's own writer, in a regular
    // file: the device functions take a path.
    let mem = Region::new(4096);
    let page = mem.vmclock(0, 4096).unwrap();
    page.init(vmclock::COUNTER_X86_TSC, vmclock::TIME_UTC).unwrap();
    let mut body = VmclockAbi::default();
    body.set_period(2_445_406_000, 50, 20).unwrap();
    body.set_time(12345, 1_764_000_000, 7, 10_000, 2_000).unwrap();
    body.clock_status = vmclock::STATUS_SYNCHRONIZED;
    page.publish(&body, 0).unwrap();
    let path = std::env::temp_dir().join(format!("vtime-rs-vmclock-{}", std::process::id()));
    let mut bytes = mem.to_vec();
    bytes.resize(65536, 0); // at least one page on every page size
    std::fs::write(&path, &bytes).unwrap();

    let d = VmclockDevice::open(Some(&path)).unwrap();
    assert_eq!(d.path(), path.to_str().unwrap());
    assert!(d.size() >= 4096);
    let s = d.read().unwrap();
    assert_eq!(s.magic, vmclock::MAGIC);
    assert_eq!(s.counter_value, 12345);
    assert_eq!(s.time_sec, 1_764_000_000);
    assert_eq!(s.time_maxerror_nanosec, 10_000);
    assert_eq!(s.seq_count % 2, 0);
    assert_eq!(s.time(12345).unwrap(), (1_764_000_000, 7));
    assert_eq!(d.snapshot(0).unwrap(), s);
    // A regular file cannot notify.
    assert_eq!(d.wait(Some(std::time::Duration::from_millis(0))), Err(Error::NOTSUP));
    // A torn copy (the writer stuck odd: seq_count is at offset 12).
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_at(&(s.seq_count | 1).to_ne_bytes(), 12).unwrap();
    assert_eq!(d.read().unwrap_err(), Error::AGAIN);
    f.write_at(&(s.seq_count + 2).to_ne_bytes(), 12).unwrap();
    assert_eq!(d.read().unwrap().seq_count, s.seq_count + 2);
    // Dropping closes and unmaps; a version vtime does not know is refused.
    let mapped = d.as_ptr() as usize;
    drop(d);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(!maps.lines().any(|l| l.starts_with(&format!("{:x}-", mapped))), "still mapped after drop");
    f.write_at(&2u16.to_ne_bytes(), 8).unwrap();
    assert_eq!(VmclockDevice::open(Some(&path)).unwrap_err().0, Error::NOTSUP);
    std::fs::remove_file(&path).unwrap();
}
