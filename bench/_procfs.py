"""/proc readings of the benchmarks: process trees, their memory and CPU, the machine's load."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 3 (state) onwards; the command name in parentheses may hold spaces.
    return text[text.rfind(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree = [pid]
    for parent in tree:
        tree.extend(children.get(parent, ()))
    return tree


def _status_kib(pid: int, key: str, filename: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{filename}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_of_tree(pid: int) -> dict[str, Any]:
    """Summed RSS (and PSS, which counts a page shared by N processes as 1/N) of a tree, MiB."""
    pids = descendants(pid)
    rss = sum(_status_kib(p, "VmRSS") for p in pids)
    pss = sum(_status_kib(p, "Pss", "smaps_rollup") for p in pids)
    return {"processes": len(pids), "rss_mib": rss / 1024, "pss_mib": pss / 1024}


def cpu_seconds(pids: Sequence[int]) -> float:
    """user+system CPU time so far of the given processes."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def system_busy_seconds() -> float:
    """CPU time spent by all processors outside idle and iowait since boot."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS


def wait_for_quiet(threshold_cores: float = 0.1, max_wait: float = 60.0) -> float:
    """Wait (at most `max_wait`) until the rest of the machine uses little CPU; return its load."""
    deadline = time.monotonic() + max_wait
    while True:
        before = system_busy_seconds()
        time.sleep(1.0)
        busy = system_busy_seconds() - before
        if busy < threshold_cores or time.monotonic() > deadline:
            return busy
