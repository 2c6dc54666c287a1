# SPDX-License-Identifier: MIT
"""python3 -m vtime records DUMP [--offset N] [--count N] [--stride N] [--tsc T]

Decodes the pvclock records of a memory dump (e.g. a guest's kvmclock page
saved by a VMM or a crash tool): one line per published record, with the
counter frequency it encodes and, with --tsc, the time at that counter."""

import argparse
import sys

from . import RECORD_STRIDE, VtimeError, parse_records, version


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m vtime", description=__doc__.splitlines()[2])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("records", help="decode pvclock records from a dump file ('-' for stdin)")
    rec.add_argument("dump")
    rec.add_argument("--offset", type=lambda s: int(s, 0), default=0, help="byte offset of record 0")
    rec.add_argument("--count", type=int, default=None, help="records to decode (default: all that fit)")
    rec.add_argument("--stride", type=lambda s: int(s, 0), default=RECORD_STRIDE)
    rec.add_argument("--tsc", type=lambda s: int(s, 0), default=None, help="also print the time at this counter")
    rec.add_argument("--all", action="store_true", help="also list never-published records")
    sub.add_parser("version", help="the loaded libvtime's version")
    args = ap.parse_args(argv)

    if args.cmd == "version":
        print(version())
        return 0
    data = sys.stdin.buffer.read() if args.dump == "-" else open(args.dump, "rb").read()
    shown = 0
    for cpu, r in enumerate(parse_records(data, args.count, args.offset, args.stride)):
        if not r.published and not args.all:
            continue
        shown += 1
        try:
            r.check()
            verdict = f"ok, {r.tsc_hz} Hz"
        except VtimeError as e:
            verdict = e.message
        line = f"cpu {cpu}: {r} -> {verdict}"
        if args.tsc is not None and r.valid:
            line += f"; at tsc {args.tsc}: {r.time(args.tsc)} ns"
        print(line)
    if shown == 0:
        print("no published pvclock record in the dump")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
