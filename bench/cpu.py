"""CPU time per group of processes over a measured window (from /proc, Linux only).

Used to tell where a latency goes when the machine is short of cores: CPU ms per event
for the Reflex backend, Redis, Chromium, the Playwright driver and the bench process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, CPU ticks) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its last ")".
    fields = raw[raw.rfind(")") + 2 :].split()
    # utime + stime + the same of children it has waited for (RQ's forked work horses).
    return int(fields[1]), sum(int(v) for v in fields[11:15])


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def process_tree() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                children.setdefault(st[0], []).append(int(entry))
    return children


def descendants(root: int, tree: dict[int, list[int]] | None = None) -> set[int]:
    """root and every process below it."""
    tree = tree if tree is not None else process_tree()
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo.extend(tree.get(pid, ()))
    return out


def bench_groups(app_pid: int | None, redis_pid: int | None) -> dict[str, Callable[[], set[int]]]:
    """The usual groups: app tree, Redis, and this process' Chromium / driver children."""
    me = os.getpid()

    def mine(word: str) -> Callable[[], set[int]]:
        def pick() -> set[int]:
            return {p for p in descendants(me) - {me} if word in _cmdline(p).split(" ")[0]}

        return pick

    groups: dict[str, Callable[[], set[int]]] = {}
    if app_pid:
        groups["Reflex app (all processes)"] = lambda: descendants(app_pid)
    if redis_pid:
        groups["Redis"] = lambda: {redis_pid}
    chromium = mine("chrom")

    def chromium_of(kind: str | None) -> Callable[[], set[int]]:
        def pick() -> set[int]:
            out = set()
            for pid in chromium():
                args = _cmdline(pid)
                if (kind is None and "--type=" not in args) or (kind and f"--type={kind}" in args):
                    out.add(pid)
            return out

        return pick

    groups["Chromium renderer"] = chromium_of("renderer")
    groups["Chromium GPU process (software compositing)"] = chromium_of("gpu-process")
    groups["Chromium browser + utility"] = lambda: (
        chromium() - chromium_of("renderer")() - chromium_of("gpu-process")()
    )
    groups["Playwright driver"] = mine("node")
    groups["bench process (worker role)"] = lambda: {me}
    return groups


def machine_busy_ticks() -> int:
    """CPU ticks spent by the whole machine (all cores) outside idle and iowait."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    return sum(values) - values[3] - values[4]


class CpuMeter:
    """CPU seconds used by each group between start() and stop().

    `stop()` also reports "other processes on the machine": whatever the whole machine
    spent beyond the groups (on a shared machine, other people's work competes too).
    """

    OTHER = "other processes on the machine"

    def __init__(self, groups: dict[str, Callable[[], set[int]]]) -> None:
        self.groups = groups
        self._before: dict[str, dict[int, int]] = {}
        self._machine = 0

    def _sample(self) -> dict[str, dict[int, int]]:
        out = {}
        for name, pick in self.groups.items():
            ticks = {}
            for pid in pick():
                st = _stat(pid)
                if st:
                    ticks[pid] = st[1]
            out[name] = ticks
        return out

    def start(self) -> None:
        self._before = self._sample()
        self._machine = machine_busy_ticks()

    def stop(self) -> dict[str, float]:
        machine = (machine_busy_ticks() - self._machine) / _TICK
        after = self._sample()
        used = {}
        for name, ticks in after.items():
            before = self._before.get(name, {})
            # A process that started in between counts from zero; one that ended is lost.
            used[name] = sum(t - before.get(pid, 0) for pid, t in ticks.items()) / _TICK
        used[self.OTHER] = max(0.0, machine - sum(used.values()))
        return used


def machine_busy_cores(seconds: float = 2.0) -> float:
    """How many cores the whole machine keeps busy over a short window."""
    t0, b0 = time.monotonic(), machine_busy_ticks()
    time.sleep(seconds)
    return (machine_busy_ticks() - b0) / _TICK / (time.monotonic() - t0)


def wait_for_quiet(max_cores: float = 0.5, timeout: float = 300.0, window: float = 3.0) -> float:
    """Wait (up to `timeout`) until the machine is nearly idle; returns the last busy figure.

    On a shared machine other people's tests and builds compete for the same cores and
    inflate every figure; measuring in a quiet moment keeps runs comparable.
    """
    deadline = time.monotonic() + timeout
    busy = machine_busy_cores(window)
    while busy > max_cores and time.monotonic() < deadline:
        time.sleep(5)
        busy = machine_busy_cores(window)
    return busy
