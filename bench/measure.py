"""Timing helpers shared by the sections: repeated runs, percentiles, the machine's load."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Timings:
    """Wall-clock and CPU milliseconds of repeated runs."""

    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Median, minimum and median CPU, rounded for the table and the JSON."""
        return {"median_ms": round(statistics.median(self.wall_ms), 2), "min_ms": round(min(self.wall_ms), 2),
                "cpu_ms": round(statistics.median(self.cpu_ms), 2) if self.cpu_ms else 0.0, "runs": len(self.wall_ms)}


def repeat(run: Callable[[], Any], runs: int, warmup: int = 1) -> Timings:
    """Time ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    timings = Timings()
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        timings.wall_ms.append((time.perf_counter() - started) * 1000)
        timings.cpu_ms.append((time.process_time() - started_cpu) * 1000)
    return timings


def percentiles(values_ms: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 (nearest rank) and the count of a list of latencies."""
    if not values_ms:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "count": 0}
    ordered = sorted(values_ms)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))], 2)

    return {"p50_ms": rank(0.50), "p95_ms": rank(0.95), "p99_ms": rank(0.99), "count": len(ordered)}


def load_average() -> str:
    """The 1/5/15-minute load average and the CPU count: how busy the machine was."""
    return f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"


def rss_mib(pid: int) -> float:
    """The resident set of a process, in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone): steadier than wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
