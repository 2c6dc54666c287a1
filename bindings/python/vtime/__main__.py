# SPDX-License-Identifier: MIT
"""python3 -m vtime records DUMP [--offset N] [--count N] [--stride N] [--tsc T]

Decodes the pvclock records of a memory dump (e.g. a guest's kvmclock page
saved by a VMM or a crash tool): one line per published record, with the
counter frequency it encodes and, with --tsc, the time at that counter.
Exit status: 0 if at least one listed record is valid, 1 if none is
published or none of those listed is valid, 2 for bad arguments or a dump
that cannot be read."""

import argparse
import sys

from . import RECORD_SIZE, RECORD_STRIDE, VtimeError, parse_records, version


def _int_in(lo, hi, what):
    """argparse type: an integer (0x.. too) in [lo, hi)."""
    def conv(s):
        try:
            v = int(s, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, not {s!r}") from None
        if v < lo or (hi is not None and v >= hi):
            bound = f"{lo}..{hi - 1}" if hi is not None else f"{lo} or more"
            raise argparse.ArgumentTypeError(f"{what} must be {bound}, not {v}")
        return v
    return conv


def _read_dump(path):
    """The dump's bytes, or an error message."""
    try:
        if path == "-":
            return sys.stdin.buffer.read(), None
        with open(path, "rb") as f:
            return f.read(), None
    except IsADirectoryError:
        return None, f"cannot read {path}: it is a directory"
    except OSError as e:
        return None, f"cannot read {path}: {e.strerror or e}"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m vtime", description=__doc__.splitlines()[2])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("records", help="decode pvclock records from a dump file ('-' for stdin)")
    rec.add_argument("dump")
    rec.add_argument("--offset", type=_int_in(0, None, "--offset"), default=0, help="byte offset of record 0 (>= 0)")
    rec.add_argument("--count", type=_int_in(0, None, "--count"), default=None,
                     help="records to decode (default: all that fit)")
    rec.add_argument("--stride", type=_int_in(RECORD_SIZE, None, "--stride"), default=RECORD_STRIDE,
                     help=f"bytes between records (>= {RECORD_SIZE}, default {RECORD_STRIDE})")
    rec.add_argument("--tsc", type=_int_in(0, 1 << 64, "--tsc"), default=None,
                     help="also print the time at this counter (0..2^64-1)")
    rec.add_argument("--all", action="store_true", help="also list never-published records")
    sub.add_parser("version", help="the loaded libvtime's version")
    args = ap.parse_args(argv)

    if args.cmd == "version":
        print(version())
        return 0
    data, err = _read_dump(args.dump)
    if err:
        print(f"python3 -m vtime: {err}", file=sys.stderr)
        return 2
    if args.offset > len(data):
        print(f"python3 -m vtime: --offset {args.offset} is beyond the dump ({len(data)} bytes)", file=sys.stderr)
        return 2
    try:
        records = parse_records(data, args.count, args.offset, args.stride)
    except ValueError as e:  # --count larger than what fits
        print(f"python3 -m vtime: {e}", file=sys.stderr)
        return 2
    shown = valid = 0
    for cpu, r in enumerate(records):
        if not r.published and not args.all:
            continue
        shown += 1
        try:
            r.check()
            verdict = f"ok, {r.tsc_hz} Hz"
            valid += 1
        except VtimeError as e:
            verdict = e.message
        line = f"cpu {cpu}: {r} -> {verdict}"
        if args.tsc is not None and r.valid:
            line += f"; at tsc {args.tsc}: {r.time(args.tsc)} ns"
        print(line)
    if shown == 0:
        print("no published pvclock record in the dump")
        return 1
    if valid == 0:
        print(f"none of the {shown} record(s) listed is valid")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
