#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The vtime tool on the other host pages and on the bounded interval, on
stand-ins written by vtime's own writers (vt_mkpage):
  - vtime vmclock FILE: every field as the writer published it (seq_count,
    markers, flags, period, time, errors), the time now within its maxerror
    of CLOCK_REALTIME; marker-only, UNRELIABLE and another machine's counter
    shown but not used; no magic, another version, a short file, a torn copy,
    a missing file, an empty or too long PATH refused (exit 3 or 2, nothing
    on standard output);
  - vtime hv FILE: sequence, scale, offset, the frequency they give; an
    invalid page (sequence 0) shown as such; a short file, a directory
    refused;
  - without PATH: this machine's answer (no /dev/vmclock0, no Hyper-V page
    here: exit 0 with the reason);
  - vtime now / vtime status with VTIME_VMCLOCK_DEV at a stand-in: the
    interval from VMClock holds CLOCK_REALTIME, is as wide as the page's
    maxerror says, and says synchronized / free-running; a TAI page gives
    the TAI interval; without the stand-in, the kernel source, whatever its
    status.
Usage: test_cli_pages.py path/to/vtime path/to/vt_mkpage"""
import json
import os
import subprocess
import sys
import tempfile
import time

VT, MK = sys.argv[1], sys.argv[2]
fails = passed = 0
TMP = tempfile.mkdtemp(prefix="vtime-cli-pages-")
STATUSES = ("synchronized", "free-running", "unknown", "disrupted")


def check(cond, what):
    global fails, passed
    if cond:
        passed += 1
    else:
        fails += 1
        print("FAIL:", what)


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("VTIME_CLOCK_SOURCE", None)
    e.pop("VTIME_VMCLOCK_DEV", None)
    if env:
        e.update(env)
    p = subprocess.run([VT, *args], capture_output=True, text=True, env=e, timeout=60)
    return p.returncode, p.stdout, p.stderr


def js(*args, env=None):
    rc, out, err = run(*args, "--json", env=env)
    check(rc == 0, f"{args} --json exits 0 (got {rc}: {err.strip()})")
    try:
        return json.loads(out)
    except ValueError as exc:
        check(False, f"{args} --json is JSON ({exc}): {out[:200]!r}")
        return {}


def mk(kind_of, name, kind):
    path = os.path.join(TMP, name)
    p = subprocess.run([MK, kind_of, path, kind], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"vt_mkpage {kind_of} {kind}: {p.stderr.strip()}")
    return path, json.loads(p.stdout or "{}")


def refused(args, rc_want, words, what):
    rc, out, err = run(*args)
    check(rc == rc_want and out == "" and err.startswith("vtime: ") and all(w in err for w in words),
          f"{what}: refused with exit {rc_want} ({rc}: {err.strip()!r}, stdout {out[:60]!r})")


def realtime():
    return time.clock_gettime_ns(time.CLOCK_REALTIME)


# ---- vtime vmclock FILE ----
path, w = mk("vmclock", "sync", "sync")
t0 = realtime()
j = js("vmclock", path)
t1 = realtime()
check(j.get("present") is True and j.get("path") == path, "vmclock: present, the path")
check(j.get("magic") == 0x4B4C4356 and j.get("version") == 1 and j.get("size") == os.path.getsize(path),
      "vmclock: header")
check(j.get("seq_count") == w["seq_count"] and j["seq_count"] % 2 == 0, f"vmclock: seq_count {j.get('seq_count')}")
check(j.get("disruption_marker") == 2 and w["marker"] == 2, "vmclock: marker 2 after a migration and a restore")
check(j.get("vm_generation_counter") == 1, "vmclock: generation 1 after one restore")
check(j.get("counter_value") == w["counter_value"], "vmclock: counter_value")
check(j.get("counter_period_frac_sec") == w["period"] and j.get("counter_period_shift") == w["shift"],
      "vmclock: period and shift")
check(abs(j.get("counter_hz", 0) - w["hz"]) < 1, f"vmclock: counter_hz {j.get('counter_hz')} vs {w['hz']}")
check(j.get("time_sec") == w["time_sec"], "vmclock: time_sec")
check(j.get("time_maxerror_nanosec") == 10000 and j.get("time_esterror_nanosec") == 2000, "vmclock: time errors")
check(j.get("clock_status_name") == "synchronized" and j.get("time_type_name") == "utc", "vmclock: status, type")
check(j.get("counter") in ("x86_tsc", "arm_vcnt"), "vmclock: counter name")
for f in ("PERIOD_MAXERROR_VALID", "TIME_MAXERROR_VALID", "TIME_MONOTONIC", "VM_GEN_COUNTER_PRESENT"):
    check(f in j.get("flag_names", []), f"vmclock: flag {f}")
check("TAI_OFFSET_VALID" not in j.get("flag_names", []), "vmclock: no TAI offset flag")
check(j.get("usable") is True and j.get("now"), "vmclock: usable, read now")
if j.get("now"):
    n = j["now"]
    check(n["maxerror_ns"] >= 10000, "vmclock: maxerror now >= the page's")
    # true time (CLOCK_REALTIME, which the writer used) within the maxerror
    # and the call's own length
    check(t0 - n["maxerror_ns"] <= n["utc_ns"] <= t1 + n["maxerror_ns"],
          f"vmclock: time now {n['utc_ns']} within [{t0}, {t1}] +- {n['maxerror_ns']}")
rc, out, _ = run("vmclock", path)
check(rc == 0 and "disruption_marker   2" in out and "synchronized" in out and "vm_generation       1" in out
      and "maxerror at this counter" in out, "vmclock text")

for kind, why in (("marker-only", "marker-only"), ("unreliable", "UNRELIABLE"),
                  ("other-counter", "not this machine's")):
    p, _ = mk("vmclock", kind, kind)
    j = js("vmclock", p)
    check(j.get("present") is True and j.get("usable") is False and why in j.get("unusable_why", "")
          and j.get("now") is None, f"vmclock {kind}: shown, not used ({j.get('unusable_why')})")
    rc, out, _ = run("vmclock", p)
    check(rc == 0 and "not used" in out, f"vmclock {kind}: text says not used")
j = js("vmclock", mk("vmclock", "mo", "marker-only")[0])
check(j.get("counter") == "invalid" and j.get("disruption_marker") == 2, "vmclock marker-only: the marker still shown")

refused(("vmclock", mk("vmclock", "empty", "empty")[0]), 3, ("magic",), "vmclock: a page without magic")
refused(("vmclock", mk("vmclock", "v2", "v2")[0]), 3, ("version",), "vmclock: another version")
refused(("vmclock", mk("vmclock", "short", "short")[0]), 3, ("shorter than a page",), "vmclock: a short file")
refused(("vmclock", mk("vmclock", "torn", "torn")[0]), 3, ("seq_count",), "vmclock: a torn copy")
refused(("vmclock", "--json", mk("vmclock", "torn2", "torn")[0]), 3, ("seq_count",), "vmclock --json: a torn copy")
refused(("vmclock", os.path.join(TMP, "nonexistent")), 3, ("nonexistent",), "vmclock: a missing file")
refused(("vmclock", TMP), 3, ("not a device",), "vmclock: a directory")
refused(("vmclock", ""), 2, ("empty",), "vmclock: an empty PATH")
refused(("vmclock", "/" + "a" * 70), 2, ("at most 63",), "vmclock: a PATH too long")
refused(("vmclock", path, path), 2, ("unexpected argument",), "vmclock: two PATHs")
refused(("vmclock", "--seconds", "1"), 2, ("--seconds",), "vmclock --seconds")

# without PATH: this machine's device, or why there is none
j = js("vmclock")
if os.path.exists("/dev/vmclock0"):
    check(j.get("present") is True, "vmclock: /dev/vmclock0 read")
else:
    check(j.get("present") is False and j.get("path") == "/dev/vmclock0" and len(j.get("why", "")) > 20,
          f"vmclock: absent with the reason ({j.get('why')})")
    if os.path.exists("/sys/bus/acpi/devices/AMZNC10C:00"):
        check("AMZNC10C" in j.get("why", ""), "vmclock: says the host offers one this kernel has no driver for")
    rc, out, _ = run("vmclock")
    check(rc == 0 and out.startswith("no VMClock device: "), "vmclock text: absent")

# ---- vtime hv FILE ----
p, w = mk("hv", "hv", "valid")
j = js("hv", p)
check(j.get("present") is True and j.get("valid") is True, "hv: present, valid")
check(j.get("tsc_sequence") == w["sequence"] == 2, "hv: sequence 2 after two publishes")
check(j.get("tsc_scale") == w["tsc_scale"] and j.get("tsc_offset") == w["tsc_offset"], "hv: scale, offset")
check(abs(j.get("tsc_hz", 0) - 10**7 * 2**64 / w["tsc_scale"]) < 1, f"hv: tsc_hz {j.get('tsc_hz')}")
if os.uname().machine in ("x86_64", "i686", "i386"):
    check(isinstance(j.get("reference_time_100ns"), int), "hv: reference time now on x86")
rc, out, _ = run("hv", p)
check(rc == 0 and "tsc_sequence        2" in out and "-12345" in out and "TSC 2445406000 Hz" in out, "hv text")
p, w = mk("hv", "hv-invalid", "invalid")
j = js("hv", p)
check(j.get("present") is True and j.get("valid") is False and j.get("tsc_sequence") == 0
      and w["page_sequence"] == 0, "hv: an invalid page shown as invalid")
rc, out, _ = run("hv", p)
check(rc == 0 and "HV_X64_MSR_TIME_REF_COUNT" in out, "hv text: invalid, the MSR instead")
refused(("hv", mk("hv", "hv-short", "short")[0]), 3, ("shorter than the 4096-byte",), "hv: a short file")
refused(("hv", TMP), 3, ("not a file",), "hv: a directory")
refused(("hv", os.path.join(TMP, "nonexistent")), 3, ("No such file",), "hv: a missing file")
refused(("hv", ""), 2, ("empty",), "hv: an empty PATH")
refused(("hv", p, p), 2, ("unexpected argument",), "hv: two PATHs")
j = js("hv")
check(isinstance(j.get("present"), bool), "hv: this machine's answer")
if not j.get("present"):
    check(len(j.get("why", "")) > 20, f"hv: absent with the reason ({j.get('why')})")

# ---- vtime now: the interval ----
j = js("now")
b = j.get("bounded", {})
check(b.get("status") in STATUSES and b.get("source") in ("vmclock", "kernel", "none"), f"now: bounded {b}")
if b.get("width_ns") is not None:
    check(b["width_ns"] == b["latest_ns"] - b["earliest_ns"], "now: width = latest - earliest")
    check(b["earliest_ns"] <= j["clock_realtime_ns"] + 10**6 and j["clock_realtime_ns"] <= b["latest_ns"] + 10**6,
          "now: CLOCK_REALTIME inside the interval")
else:
    check(b.get("earliest_ns") == 0 and b.get("latest_ns") == 2**64 - 1 and b.get("status") in ("unknown", "disrupted"),
          "now: no bound is [0, UINT64_MAX], unknown or disrupted")
check(len(j.get("bounded_why", "")) > 10, "now: why")

for kind, status in (("sync", "synchronized"), ("freerunning", "free-running")):
    p, _ = mk("vmclock", "now-" + kind, kind)
    env = {"VTIME_VMCLOCK_DEV": p}
    j = js("now", env=env)
    b = j.get("bounded", {})
    check(b.get("source") == "vmclock" and b.get("status") == status, f"now on a {kind} stand-in: {b}")
    if b.get("width_ns") is not None:
        # 2 x (10 us at the reference point + 50 ppb of the time since)
        check(20000 <= b["width_ns"] < 20000 + 2000000, f"now: width {b['width_ns']} from the page's maxerror")
        rt = j["clock_realtime_ns"]
        check(b["earliest_ns"] <= rt + 1000000 and rt <= b["latest_ns"] + 1000000,
              f"now: CLOCK_REALTIME inside [{b['earliest_ns']}, {b['latest_ns']}]")
    else:
        check(False, f"now on a {kind} stand-in: a bound")
    rc, out, _ = run("now", env=env)
    check(rc == 0 and "earliest" in out and "latest" in out and "width" in out and status in out
          and "vmclock" in out, f"now text on a {kind} stand-in")
    j = js("status", env=env)
    bs = j.get("bounded", {})
    check(bs.get("source") == "vmclock" and bs.get("vmclock") == p and bs.get("vmclock_maxerror_ns", 0) >= 10000,
          f"status: the bound rests on the stand-in ({bs})")
p, _ = mk("vmclock", "now-tai", "tai")
j = js("now", env={"VTIME_VMCLOCK_DEV": p})
b, bt = j.get("bounded", {}), j.get("bounded_tai", {})
check(b.get("status") == "synchronized" and bt.get("status") == "synchronized", "now on a TAI page: both intervals")
if b.get("width_ns") is not None and bt.get("width_ns") is not None:
    d = bt["earliest_ns"] - b["earliest_ns"]
    check(abs(d - 37 * 10**9) < 10**7, f"now on a TAI page: TAI - UTC {d} ns = 37 s")
p, _ = mk("vmclock", "now-unrel", "unreliable")
j = js("now", env={"VTIME_VMCLOCK_DEV": p})
check(j.get("bounded", {}).get("source") != "vmclock", "now: an UNRELIABLE page is not the bound's source")

# ---- vtime status: both pages and the bound ----
j = js("status")
for k in ("hyperv", "vmclock", "bounded"):
    check(k in j, f"status: {k} section")
check(isinstance(j.get("hyperv", {}).get("present"), bool), "status: hyperv present or not")
if not j["hyperv"]["present"]:
    check(len(j["hyperv"].get("why", "")) > 20, "status: hyperv absent with the reason")
if not os.path.exists("/dev/vmclock0"):
    check(j["vmclock"]["present"] is False and len(j["vmclock"].get("why", "")) > 20, "status: vmclock absent, why")
bs = j.get("bounded", {})
check(bs.get("status") in STATUSES and bs.get("source") in ("vmclock", "kernel", "none") and bs.get("why"),
      f"status: bounded {bs}")
rc, out, _ = run("status")
check(rc == 0 and "Hyper-V reference TSC page" in out and "VMClock (/dev/vmclock0)" in out
      and "Bounded time" in out, "status text: the sections")
p, w = mk("vmclock", "st", "sync")
j = js("status", env={"VTIME_VMCLOCK_DEV": p})
v = j.get("vmclock", {})
check(v.get("present") is True and v.get("path") == p and v.get("seq_count") == w["seq_count"]
      and v.get("disruption_marker") == 2, "status: the VMClock section shows the device the clock uses")
rc, out, _ = run("status", env={"VTIME_VMCLOCK_DEV": p})
check(rc == 0 and f"VMClock ({p})" in out and "disruption_marker   2" in out, "status text: the stand-in's fields")

for f in os.listdir(TMP):
    os.unlink(os.path.join(TMP, f))
os.rmdir(TMP)
print(f"{passed} passed, {fails} failed")
sys.exit(1 if fails else 0)
