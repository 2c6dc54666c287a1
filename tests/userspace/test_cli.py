#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The vtime tool: every command in text and --json, the JSON parsed back
and checked against the machine and against itself; bad input is refused
with exit status 2; per-command help; options a command does not take are
refused, never ignored; the status table's columns line up; the bash
completion offers what the tool takes. Usage: test_cli.py path/to/vtime
[path/to/vtime.bash-completion]"""
import json
import math
import os
import shutil
import subprocess
import sys
import time

VT = sys.argv[1]
COMPLETION = sys.argv[2] if len(sys.argv) > 2 else None
COMMANDS = ("status", "now", "check", "bench", "scale", "pvclock", "vmclock", "hv")
fails = 0
passed = 0


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("VTIME_CLOCK_SOURCE", None)
    if env:
        e.update(env)
    p = subprocess.run([VT, *args], capture_output=True, text=True, env=e, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    global fails, passed
    if cond:
        passed += 1
    else:
        fails += 1
        print("FAIL:", what)


def js(*args, env=None):
    rc, out, err = run(*args, "--json", env=env)
    check(rc == 0, f"{args} --json exits 0 (got {rc}: {err.strip()})")
    try:
        return json.loads(out)
    except ValueError as exc:
        check(False, f"{args} --json is JSON ({exc}): {out[:200]!r}")
        return {}


def scale_ref(hz, to_hz=10**9):
    """kvm_get_time_scale(to_hz, hz), written from the formula in words."""
    b, s, shift = hz, to_hz, 0
    while b > 2 * s or b >> 32:
        b >>= 1
        shift -= 1
    b32 = b
    while b32 <= s or s >> 32:
        if s >> 32 or b32 & (1 << 31):
            s >>= 1
        else:
            b32 <<= 1
        shift += 1
    return shift, (s << 32) // b32


# scale: both directions, against an independent implementation
for hz in (2599999000, 1996248000, 1000000, 3000000000, 25000000):
    j = js("scale", str(hz))
    sh, mul = scale_ref(hz)
    check(j.get("tsc_to_ns") == {"shift": sh, "mul": mul, "recovered_hz": j["tsc_to_ns"]["recovered_hz"]},
          f"scale {hz}: tsc->ns {j.get('tsc_to_ns')} vs ({sh}, {mul})")
    sh2, mul2 = scale_ref(10**9, hz)
    check(j.get("ns_to_tsc") == {"shift": sh2, "mul": mul2}, f"scale {hz}: ns->tsc")
j = js("scale", "2599999000")
check(j["tsc_to_ns"] == {"shift": -1, "mul": 3303822267, "recovered_hz": 2599999000}, "scale: the real KVM pair")
check(js("scale", "2.6GHz")["hz"] == 2600000000, "scale: units")
check(js("scale", "1996.248 MHz")["hz"] == 1996248000, "scale: decimal MHz")
rc, out, _ = run("scale", "2599999000")
check(rc == 0 and "3303822267" in out and "shift -1" in out, "scale text output")
for bad in ("0", "abc", "-5", "1.5", "12XHz", "99999999999999999999999", ""):
    rc, out, err = run("scale", bad)
    check(rc == 2 and "vtime:" in err and out == "", f"scale {bad!r} refused with exit 2 (got {rc})")
for bad in ("18446744073.999999999GHz", "18446744073.709551616GHz", "18446744073709551616"):
    rc, out, err = run("scale", bad)  # these once wrapped (to 290448383 Hz and to 0)
    check(rc == 2 and "too large" in err and out == "", f"scale {bad!r} refused as too large (got {rc})")
j = js("scale", "18446744073709551615")  # once refused although valid
check(j["hz"] == 2**64 - 1 and j["publishable"] is False, "scale: 2^64-1 Hz parses, not publishable")
check(js("scale", "18446744073.709551615GHz")["hz"] == 2**64 - 1, "scale: 2^64-1 Hz in GHz")
check(js("scale", "2599999000")["publishable"] is True, "scale: a real TSC is publishable")
for hz, pub in (("953", False), ("954", True), ("8192000008191", True), ("8192000008192", False)):
    check(js("scale", hz)["publishable"] is pub, f"scale {hz}: publishable {pub}")
rc, out, _ = run("scale", "1")  # shift 30: once printed as "what a VMM publishes"
check(rc == 0 and "shift 30" in out and "NOT publishable" in out and "[-12, 20]" in out
      and "what a VMM publishes" not in out, "scale 1: says readers reject shift 30")
rc, _, err = run("scale")
check(rc == 2 and "usage" in err, "scale without HZ")
rc, _, err = run("frobnicate")
check(rc == 2 and "unknown command" in err, "unknown command")
rc, _, err = run("status", "--bogus")
check(rc == 2 and "unknown option" in err, "unknown option")
rc, _, err = run("check", "--seconds", "-1")
check(rc == 2, "check --seconds -1 refused")
rc, out, _ = run("--help")
check(rc == 0 and all(c in out for c in ("status", "now", "check", "bench", "scale", "pvclock")), "--help lists commands")

# per-command help: that command's usage and options, not the global text
for c in COMMANDS:
    for argv in ((c, "--help"), (c, "-h"), ("help", c)):
        rc, out, err = run(*argv)
        check(rc == 0 and out.startswith(f"usage: vtime {c}") and "commands:" not in out and err == "",
              f"{' '.join(argv)}: that command's help (got {rc}: {out[:80]!r})")
    rc, out, _ = run(c, "--help")
    check(("--seconds" in out) == (c in ("check", "bench")), f"{c} --help lists --seconds only where it is taken")
    check("--json" in out, f"{c} --help lists --json")
rc, out, _ = run("scale", "--help")
check("HZ" in out and "2.6GHz" in out, "scale --help explains HZ")
rc, out, _ = run("help")
check(rc == 0 and "commands:" in out and all(c in out for c in COMMANDS), "help: the global text")
rc, _, err = run("help", "nope")
check(rc == 2 and "no such command" in err, "help of an unknown command refused")
rc, out, _ = run("--version")
check(rc == 0 and out.startswith("vtime ") and out.count("\n") == 1, "--version")

# options a command does not take are errors, never ignored
for argv, why in ((("now", "--seconds", "3"), "--seconds"), (("now", "--seconds=3"), "--seconds"),
                  (("status", "--seconds", "1"), "--seconds"), (("pvclock", "--seconds", "1"), "--seconds"),
                  (("scale", "--seconds", "1", "2GHz"), "--seconds"), (("--seconds", "3", "check"), "--seconds"),
                  (("now", "extra"), "unexpected argument"), (("status", "x", "y"), "unexpected argument"),
                  (("scale", "1", "2"), "unexpected argument"), (("check", "--seconds"), "needs a value"),
                  (("--json=1", "scale", "1"), "takes no value"), (("scale", "--json=x", "1"), "takes no value"),
                  (("now", "-x"), "unknown option '-x'"), (("--bogus", "now"), "unknown option '--bogus'"),
                  (("check", "--seconds", "0"), "duration"), (("bench", "--seconds", "nan"), "duration")):
    rc, out, err = run(*argv)
    check(rc == 2 and why in err and out == "" and "vtime" in err, f"{' '.join(argv)}: refused ({rc}: {err.strip()})")
rc, _, err = run("now", "--seconds", "3")
check("check and bench" in err, "now --seconds: says which commands take it")
# options anywhere after the command, abbreviations as getopt_long takes them
check(js("scale", "2.6GHz")["hz"] == 2600000000, "scale HZ --json")
rc, out, _ = run("scale", "--json", "2.6GHz")
check(rc == 0 and json.loads(out)["hz"] == 2600000000, "scale --json HZ")
rc, out, _ = run("--json", "scale", "2.6GHz")
check(rc == 0 and json.loads(out)["hz"] == 2600000000, "--json before the command")
rc, out, _ = run("check", "--sec", "0.2", "--json")
check(rc in (0, 1) and json.loads(out)["seconds"] == 0.2, "check --sec 0.2: an unambiguous abbreviation")

# the status frequency table: every row's columns where the header's are
rc, out, _ = run("status")
lines = out.splitlines()
hdr = next((i for i, l in enumerate(lines) if l.startswith("Counter frequency sources")), None)
check(hdr is not None, "status: frequency table present")
if hdr is not None:
    head = lines[hdr]
    hz_end = head.index("Hz") + 2
    rows = []
    for l in lines[hdr + 1:]:
        if not l.startswith("  "):
            break
        rows.append(l)
    check(len(rows) >= 2, "status: frequency rows")
    for l in rows:
        # the Hz column (a number or "absent") ends where the header's "Hz" ends
        cell = l[:hz_end].rstrip()
        check(len(l) >= hz_end and (cell.endswith("absent") or cell[-1:].isdigit()) and l[hz_end:hz_end + 1] == " ",
              f"status: row aligned under Hz: {l!r}")
        if not cell.endswith("absent"):
            ppm_end = head.index("ppm vs measured") + len("ppm vs measured")
            check(l[ppm_end - 1].isdigit() and l[ppm_end:ppm_end + 1] in (" ", ""),
                  f"status: ppm column aligned: {l!r}")

# bash completion: the commands and each command's options the tool has
if COMPLETION:
    with open(COMPLETION) as f:
        comp = f.read()
    rc, out, _ = run("--help")
    for c in COMMANDS:
        check(c in comp, f"completion: command {c}")
        _, h, _ = run(c, "--help")
        for o in ("--seconds", "--json", "--help"):
            if o in h:
                check(o in comp, f"completion: {c} {o}")
    if shutil.which("bash"):
        script = (f"source {COMPLETION}; COMP_WORDS=(vtime ch); COMP_CWORD=1; _vtime; echo ${{COMPREPLY[@]}};"
                  "COMP_WORDS=(vtime check --s); COMP_CWORD=2; _vtime; echo ${COMPREPLY[@]};"
                  "COMP_WORDS=(vtime now --); COMP_CWORD=2; _vtime; echo ${COMPREPLY[@]}")
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
        got = p.stdout.splitlines()
        check(got[:3] == ["check", "--seconds", "--json --help"], f"completion in bash: {got}")

# pvclock: present (fields consistent) or absent with a reason
j = js("pvclock")
if j.get("present"):
    sh, mul = j["shift"], j["mul"]
    hz = (10**9 << 32 >> sh) // mul if sh >= 0 else (10**9 << (32 - sh)) // mul
    check(j["tsc_hz"] == hz, f"pvclock: tsc_hz {j['tsc_hz']} is 1e9*2^(32-shift)/mul = {hz}")
    check(j["version"] % 2 == 0, "pvclock: even version")
    check(j["mapping"] in ("[vvar_vclock]", "[vvar]"), "pvclock: mapping")
    check(("TSC_STABLE" in j["flag_names"]) == bool(j["flags"] & 1), "pvclock: flags decoded")
    check(j["kvmclock_ns"] >= j["system_time"], "pvclock: kvmclock now after the record")
else:
    check(len(j.get("why", "")) > 10, "pvclock: absent with a reason")
    rc, out, _ = run("pvclock")
    check(rc == 0 and "no host pvclock page" in out, "pvclock text says why")

# status: the kernel's clocksource, sources, the choice
j = js("status")
try:
    with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
        check(j["machine"]["clocksource"] == f.read().strip(), "status: kernel clocksource matches sysfs")
except OSError:
    pass
check(j["machine"]["cpus"] == os.cpu_count() or j["machine"]["cpus"] >= 1, "status: cpus")
check(j["vtime"]["source"] in ("tsc", "pvclock", "clock_gettime"), f"status: source {j['vtime']['source']}")
check(len(j["vtime"]["why"]) > 10, "status: why")
names = [s["name"] for s in j["frequency_sources"]]
check("measured" in names and "pvclock_page" in names and "cpuid_40000010" in names, "status: every source listed")
meas = next(s for s in j["frequency_sources"] if s["name"] == "measured")
check(meas["hz"] and meas["hz"] > 1e6, "status: measured frequency")
for s in j["frequency_sources"]:
    for other, ppm in s["ppm_vs"].items():
        o = next(x for x in j["frequency_sources"] if x["name"] == other)
        check(abs((s["hz"] / o["hz"] - 1) * 1e6 - ppm) < 1e-3 * max(1, abs(ppm)), f"status: ppm {s['name']} vs {other}")
if j["pvclock"]["present"]:
    page = next(s for s in j["frequency_sources"] if s["name"] == "pvclock_page")
    check(abs(page["ppm_vs"]["measured"]) < 100, "status: host page agrees with CLOCK_MONOTONIC within 100 ppm")
rc, out, _ = run("status")
check(rc == 0 and "vtime's choice" in out and "kernel clocksource" in out, "status text")

# now: side by side, consistent with each other and with this process's clock
t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
j = js("now")
t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
check(t0 <= j["clock_monotonic_ns"] <= t1, "now: CLOCK_MONOTONIC inside the call")
# the table's own spread (preemption between its reads) plus 1 ms
slack = j["clock_monotonic_after_ns"] - j["clock_monotonic_ns"] + 1000000
check(abs(j["vtime_now_ns"] - j["clock_monotonic_ns"]) < slack, "now: vtime close to CLOCK_MONOTONIC")
check(abs(j["counter_to_ns"] - j["clock_monotonic_ns"]) < slack, "now: counter_to_ns close")
check(abs(j["vtime_realtime_ns"] - j["clock_realtime_ns"]) < slack, "now: realtime close")
check(j["clock_monotonic_after_ns"] >= j["clock_monotonic_ns"], "now: order")
for src in ("tsc", "pvclock", "clock_gettime"):
    j = js("now", env={"VTIME_CLOCK_SOURCE": src})
    slack = j["clock_monotonic_after_ns"] - j["clock_monotonic_ns"] + 1000000
    check(abs(j["vtime_now_ns"] - j["clock_monotonic_ns"]) < slack, f"now with {src}: close")

# check: short run, parsed back
j = js("check", "--seconds", "1")
check(j["ok"] is True and j["backward_same_thread"] == 0 and j["backward_cross_thread"] == 0, "check: never backwards")
check(j["threads"] == len(os.sched_getaffinity(0)) or j["threads"] >= 1, "check: one thread per CPU")
check(j["reads"] > 10000 and j["drift_samples"] > 0, "check: did work")
check(abs(j["drift_max_ns"]) < 1000000 and abs(j["drift_min_ns"]) < 1000000, "check: drift under 1 ms")
rc, out, _ = run("check", "--seconds", "0.5")
check(rc == 0 and "never backwards" in out, "check text")
check(j["drift_samples"] >= j["min_samples"] and j["bound_min_ns"] <= j["drift_min_ns"] <= j["drift_max_ns"]
      <= j["bound_max_ns"], "check: bracket-limited bounds around the midpoints")
check(sum(b["samples"] for b in j["brackets"]) == j["drift_samples"], "check: every sample in a bracket bucket")
# never ok on too few samples; --seconds is a duration, even a tiny one
rc, out, _ = run("check", "--seconds", "1e-300", "--json")
jt = json.loads(out)
check(jt["measured_seconds"] < 1, "check --seconds 1e-300: does not run a default length")
check((rc == 0) == jt["ok"], "check --seconds 1e-300: exit status and verdict agree")
check(not jt["ok"] or jt["drift_samples"] >= jt["min_samples"], "check --seconds 1e-300: ok only on enough samples")
check(jt["ok"] or "too few" in jt["verdict"] or "back" in jt["verdict"], "check --seconds 1e-300: says why")

# bench: every alternative and ratio present and finite (speed is judged by the benchmark, not here)
j = js("bench", "--seconds", "0.1")
names = {r["name"] for r in j["results"]}
for n in ("vtime_now_ns", "ordered_scale", "clock_gettime_vdso", "clock_gettime_syscall", "vtime_counter_now",
          "raw_counter", "counter_to_ns", "raw_scale"):
    check(n in names, f"bench: {n} measured")
for r in j["results"]:
    check(all(math.isfinite(r[k]) for k in ("p50_ns", "p99_ns", "p999_ns", "max_ns")), f"bench: {r['name']} finite")
check(len(j["ratios"]) >= 6 and all(isinstance(r["met"], bool) for r in j["ratios"]), "bench: ratios")
# --seconds is the run's length (children included)
t0 = time.monotonic()
rc, _, _ = run("bench", "--seconds", "0.5", "--json")
el = time.monotonic() - t0
check(rc == 0 and 0.3 < el < 3.5, f"bench --seconds 0.5 took {el:.2f} s")
# never an instruction the CPU lacks: rdtscp on a CPU model without it
qemu = shutil.which("qemu-x86_64")
with open(VT, "rb") as f:
    sanitized = any(m in f.read() for m in (b"__asan_init", b"__tsan_init", b"__ubsan_handle"))
if sanitized:
    print("SKIP: bench without rdtscp: a sanitizer build cannot run under qemu-user (its shadow memory)")
elif os.uname().machine == "x86_64" and qemu:
    p = subprocess.run([qemu, "-cpu", "qemu64", VT, "bench", "--seconds", "0.1", "--json"], capture_output=True,
                       text=True, timeout=120)
    check(p.returncode == 0 and "rdtscp" not in {r["name"] for r in json.loads(p.stdout)["results"]},
          f"bench under qemu-x86_64 -cpu qemu64 (no rdtscp): exit {p.returncode}")
else:
    print("SKIP: bench without rdtscp: needs an x86-64 host with qemu-x86_64 (qemu-user)")

print(f"{passed} passed, {fails} failed")
sys.exit(1 if fails else 0)
