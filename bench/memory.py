"""Section 7, memory: the resident set of a long-running process after thousands of lifecycles.

``pressflow worker`` is started on a database holding ``lifecycles`` instances waiting at their conference timer
(bulk-loaded, all due); it advances each one (load the state, fire the timer, run on, write the state, the new task
row, its notifications and the trail: one unit of work per instance) while this process samples its RSS from
``/proc``. "Growth" is the RSS at the end minus the RSS half-way, when caches are long warm: a leak shows there.
The gunicorn workers' RSS after the throughput section is reported by that section.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.measure import rss_mib
from bench.populate import populate
from bench.scenario import ROOT
from bench.server import BIN, pressflow_env, sql_engine
from engine.models import Instance

SAMPLE_SECONDS = 0.5


def run(database_url: str, lifecycles: int, log_dir: Path, timeout_s: float) -> dict[str, Any]:
    """Let a worker advance ``lifecycles`` due timers; sample its RSS as it goes."""
    populate(database_url, lifecycles, waiting_timer=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    db = sql_engine(database_url)
    log = log_dir / "worker-memory.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen([str(BIN / "pressflow"), "worker"], env=pressflow_env(database_url),  # noqa: S603
                                  cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    samples: list[tuple[int, float]] = []
    started = time.monotonic()
    try:
        done = 0
        while done < lifecycles and time.monotonic() - started < timeout_s and worker.poll() is None:
            time.sleep(SAMPLE_SECONDS)
            with db.connect() as conn:
                done = lifecycles - (conn.scalar(select(func.count()).select_from(Instance).where(
                    Instance.status == "waiting")) or 0)
            samples.append((done, rss_mib(worker.pid)))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        db.dispose()
    elapsed = time.monotonic() - started
    return _figures(samples, lifecycles, elapsed)


def _figures(samples: list[tuple[int, float]], lifecycles: int, elapsed: float) -> dict[str, Any]:
    done, final = samples[-1] if samples else (0, 0.0)
    half = next((rss for count, rss in samples if count >= done / 2), final)
    first = next((rss for count, rss in samples if count > 0), final)
    return {"lifecycles": lifecycles, "advanced": done, "seconds": round(elapsed, 1),
            "per_second": round(done / elapsed, 1) if elapsed else 0.0, "rss_first_mib": round(first, 1),
            "rss_half_mib": round(half, 1), "rss_end_mib": round(final, 1),
            "growth_second_half_mib": round(final - half, 1)}
