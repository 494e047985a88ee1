#!/usr/bin/env python3
"""CPU used by each part of the stack while a command runs, from /proc (Linux only).

    infra/scripts/cpu-by-process.py [--interval 0.5] [--window START END] -- COMMAND...

Runs COMMAND (typically `target/release/edgeops bench ...`), samples every process's CPU time
every --interval seconds, and prints one line per interval: the cores each group used in it.
Groups: the site's and the hub's nats-server (told apart by "leaf" in their config path),
postgres (the container's processes are visible from the host), edgeops (the bench process:
sensors' publishing, gateway and ingest), and other.

With --window START END (seconds since the command started), it also prints each group's CPU
seconds over that window: divide by the readings handled in it for CPU per reading. In
`edgeops bench`, the end-to-end phase is the one where the leaf nats-server is busy.
"""

import argparse
import os
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def group_of(name: str, cmdline: str) -> str:
    if name == "nats-server":
        return "nats-leaf" if "leaf" in cmdline else "nats-hub"
    if name in ("postgres", "edgeops"):
        return name
    return "other"


def cpu_seconds_by_group() -> dict:
    totals: dict = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline") as f:
                cmdline = f.read().replace("\0", " ")
        except OSError:
            continue  # the process ended between listing and reading
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
        key = group_of(name, cmdline)
        totals[key] = totals.get(key, 0.0) + seconds
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--window", type=float, nargs=2, metavar=("START", "END"))
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")

    groups = ["edgeops", "nats-leaf", "nats-hub", "postgres", "other"]
    print("t(s) " + " ".join(f"{g:>9}" for g in groups), file=sys.stderr)
    started = time.monotonic()
    child = subprocess.Popen(command)
    previous = (0.0, cpu_seconds_by_group())
    in_window = {g: 0.0 for g in groups}
    window_span = [None, None]
    while child.poll() is None:
        time.sleep(args.interval)
        now = (time.monotonic() - started, cpu_seconds_by_group())
        # A process that ended takes its CPU time with it (a restarted server): a group's total
        # can drop, so each interval counts only what grew.
        used = {g: max(0.0, now[1].get(g, 0) - previous[1].get(g, 0)) for g in groups}
        elapsed = now[0] - previous[0]
        print(f"{now[0]:5.1f} " + " ".join(f"{used[g] / elapsed:9.2f}" for g in groups), file=sys.stderr)
        if args.window and args.window[0] <= previous[0] and now[0] <= args.window[1]:
            window_span[0] = previous[0] if window_span[0] is None else window_span[0]
            window_span[1] = now[0]
            for g in groups:
                in_window[g] += used[g]
        previous = now
    if args.window and window_span[0] is not None:
        start, end = window_span
        print(f"CPU seconds from {start:.1f} s to {end:.1f} s ({end - start:.1f} s):")
        for g in groups:
            print(f"  {g:<10} {in_window[g]:7.2f}")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
