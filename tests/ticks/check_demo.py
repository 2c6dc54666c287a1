#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs examples/ticks/ticks_demo and checks its table and SVG.

usage: check_demo.py <ticks_demo> <out.svg>

Expected final counts, worked by hand from the demo's script (1 kHz, 1000 ms,
stalls [100.5,160.5) [300.2+10k,302.7+10k) k=0..9 [550.5,680.5) [850.5,870.5)):
each stall makes n ticks due at its end, n = 60, 2 (x10), 130, 20.
  discard: delivers 1 of each, drops n-1: 59 + 10*1 + 129 + 19 = 217 dropped,
           1000 - 217 = 783 counted.
  delay:   keeps the n-1 as backlog and delivers at the normal rate: 783
           counted, backlog 217, nothing dropped.
  slew 4:  drains 3 per period (59 in ~20 ms, 129 in ~43 ms, 19 in ~7 ms),
           each before the next stall: 1000 counted.
  slew cap 50: drops 59-50 = 9 and 129-50 = 79: 88 dropped, 912 counted.
  discard+clock: the guest accounts by clock at the interrupt at 1000 ms: 1000.
"""
import subprocess
import sys
import xml.etree.ElementTree as ET

EXPECT = {"ideal": 1000, "discard": 783, "discard+clock": 1000, "delay": 783,
          "slew": 1000, "slew-cap50": 912}
EXPECT_ENGINE = {  # due, delivered, dropped, backlog
    "discard": (1000, 783, 217, 0), "discard+clock": (1000, 783, 217, 0),
    "delay": (1000, 783, 0, 217), "slew": (1000, 1000, 0, 0),
    "slew-cap50": (1000, 912, 88, 0)}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def main():
    demo, svg = sys.argv[1], sys.argv[2]
    out = subprocess.run([demo, svg], stdout=subprocess.PIPE, check=True, text=True).stdout
    lines = out.splitlines()
    header = next(l for l in lines if l.split()[:1] == ["t_ms"]).split()
    names = header[1:]
    check(names == list(EXPECT), "columns %s" % names)
    rows = {}
    final = None
    engine = {}
    for l in lines:
        f = l.split()
        if f and f[0].isdigit():
            rows[int(f[0])] = [int(x) for x in f[1:]]
        elif f[:1] == ["final"]:
            final = dict(zip(names, (int(x) for x in f[1:])))
        elif f[:1] == ["engine"]:
            engine[f[1]] = {k: int(v) for k, v in (kv.split("=") for kv in f[2:])}
    check(final is not None, "final row present")
    check(final == EXPECT, "final counts %s, want %s" % (final, EXPECT))
    check(rows.get(1000) == [final[n] for n in names], "row 1000 equals the final row")
    for i, n in enumerate(names):  # a guest's tick count never goes back
        col = [rows[t][i] for t in sorted(rows)]
        check(all(a <= b for a, b in zip(col, col[1:])), "%s count is monotonic" % n)
    check(sorted(engine) == sorted(EXPECT_ENGINE), "engine lines %s" % sorted(engine))
    for n, (due, dl, dr, bl) in EXPECT_ENGINE.items():
        e = engine.get(n, {})
        check((e.get("due"), e.get("delivered"), e.get("dropped"), e.get("backlog")) == (due, dl, dr, bl),
              "engine %s: %s" % (n, e))
        check(e.get("due") == e.get("delivered", 0) + e.get("dropped", 0) + e.get("backlog", 0),
              "engine %s: due = delivered + dropped + backlog" % n)
        if n != "discard+clock":  # a tick-counting guest counts what the engine delivered
            check(final.get(n) == e.get("delivered"), "table %s = engine delivered" % n)

    # SVG: well-formed XML, an <svg> root, one polyline per lane per panel.
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(svg).getroot()
    check(root.tag == ns + "svg", "root element is svg: %s" % root.tag)
    vb = [float(x) for x in root.get("viewBox").split()]
    polys = root.findall(".//" + ns + "polyline")
    check(len(polys) == 2 * len(names) - 1, "%d polylines" % len(polys))
    for p in polys:
        pts = [tuple(float(v) for v in xy.split(",")) for xy in p.get("points").split()]
        check(len(pts) >= 2, "polyline has points")
        check(all(vb[0] <= x <= vb[2] and vb[1] <= y <= vb[3] for x, y in pts), "points inside the viewBox")
    texts = [t.text or "" for t in root.iter(ns + "text")]
    for n in names:
        check(n in texts, "legend names %s" % n)
        check("final %d" % final[n] in texts, "legend gives %s final %d" % (n, final[n]))
    # The same run on a host clock that wraps past 2^64 half-way: same output.
    wrap = subprocess.run([demo, svg + ".wrap.svg", str(2**64 - 500 * 10**6)], stdout=subprocess.PIPE,
                          check=True, text=True).stdout
    strip = lambda text: [l for l in text.splitlines() if not l.startswith("wrote ")]
    check(strip(wrap) == strip(out), "output identical with the host clock wrapping at 500 ms")
    with open(svg, "rb") as a, open(svg + ".wrap.svg", "rb") as b:
        check(a.read() == b.read(), "SVG identical with the host clock wrapping")
    print("ticks_demo: %d table rows, %d polylines, finals %s" % (len(rows), len(polys), final))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
