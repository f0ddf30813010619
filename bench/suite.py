"""Run every section in one go and collect the figures, with the sizes of a full run or of the smoke run."""

from __future__ import annotations

import datetime as dt
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from bench import bigdb, floor, growth, http_stack, load, memory, timers
from bench.measure import load_average
from bench.scenario import SUBMITTED_AT
from bench.server import Databases, Unreachable
from engine import clock


@dataclass(frozen=True)
class Sizes:
    """How much each section does."""

    floor_runs: int = 30
    http_runs: int = 20
    clients: int = 16
    load_seconds: float = 30.0
    web_workers: int = 2
    instances: int = 100_000
    samples: int = 30
    growth_sizes: tuple[int, ...] = (10, 100, 1000)
    growth_completions: int = 10
    timers: int = 10
    lifecycles: int = 10_000
    #: The memory section stops here even before ``lifecycles`` (the table then says how many it reached).
    memory_timeout_s: float = 270.0


FULL = Sizes()
SMOKE = Sizes(floor_runs=2, http_runs=1, clients=2, load_seconds=1.0, instances=300, samples=2,
              growth_sizes=(2, 4), growth_completions=2, timers=1, lifecycles=20, memory_timeout_s=60.0)


def run_suite(sizes: Sizes, backend: str, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the sections; ``backend`` ("postgresql" or "sqlite") holds the sections that need no SQLite."""
    started = time.monotonic()
    figures: dict[str, Any] = {"meta": _meta(sizes, backend, load_average())}
    with tempfile.TemporaryDirectory(prefix="pf-bench-") as folder:
        logs = Path(folder)
        sqlite, main = Databases("sqlite", logs), Databases(backend, logs)
        try:
            figures |= _sections(sizes, sqlite, main, logs, progress)
        finally:
            sqlite.drop_all()
            main.drop_all()
    figures["meta"]["load_average_end"] = load_average()
    figures["meta"]["seconds"] = round(time.monotonic() - started, 1)
    return figures


def _sections(sizes: Sizes, sqlite: Databases, main: Databases, logs: Path,
              progress: Callable[[str], None]) -> dict[str, Any]:
    frozen = clock.FrozenClock(SUBMITTED_AT)
    clock.set_clock(frozen)
    clock.install_spiff_clock()
    progress("1 engine floor")
    out: dict[str, Any] = {"floor": floor.run(sizes.floor_runs, frozen)}
    clock.set_clock(None)
    progress("2 full stack over HTTP on SQLite")
    out["http_sqlite"] = http_stack.measure_backend(sqlite.fresh("http"), sizes.http_runs, logs)
    if main.backend == "postgresql":
        progress("2 full stack over HTTP on PostgreSQL")
        out["http_postgresql"] = http_stack.measure_backend(main.fresh("http"), sizes.http_runs, logs)
    progress(f"3 throughput: {sizes.clients} clients, {sizes.load_seconds:.0f} s")
    out["throughput"] = load.run(main.fresh("load"), sizes.clients, sizes.load_seconds, sizes.web_workers, logs)
    progress(f"4 big database: {sizes.instances} instances")
    out["big_database"] = bigdb.run(main.fresh("big"), sizes.instances, sizes.samples, logs)
    progress("5 growth")
    out["growth"] = growth.run(main.fresh("growth"), sizes.growth_sizes, sizes.growth_completions)
    progress("6 timer latency")
    out["timers"] = timers.run(main.fresh("timers"), sizes.timers, logs)
    progress(f"7 memory: {sizes.lifecycles} lifecycles")
    out["memory"] = memory.run(main.fresh("memory"), sizes.lifecycles, logs, sizes.memory_timeout_s)
    return out


def _meta(sizes: Sizes, backend: str, load: str) -> dict[str, Any]:
    return {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "backend": backend,
            "python": platform.python_version(), "spiffworkflow": package_version("SpiffWorkflow"),
            "sqlalchemy": package_version("SQLAlchemy"), "load_average_start": load,
            "sizes": {k: list(v) if isinstance(v, tuple) else v for k, v in sizes.__dict__.items()}}


def pick_backend(requested: str) -> str:
    """PostgreSQL when asked for and reachable ("auto": when reachable), else SQLite."""
    if requested == "sqlite":
        return "sqlite"
    probe = Databases("postgresql", Path(tempfile.gettempdir()))
    try:
        probe._execute("SELECT 1")
        return "postgresql"
    except Unreachable:
        if requested == "postgresql":
            raise
        return "sqlite"
    finally:
        probe.drop_all()
