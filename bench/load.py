"""Section 3, throughput and latency: 16 clients on loopback complete tasks for a bounded time, 2 gunicorn workers.

Each client starts an application, attaches its documents and completes the eight steps up to the conference
timer, then starts the next one. Every ``POST /tasks/<id>/complete`` is timed; starts and uploads are load too but
are not counted as completions.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench.http_stack import HttpLifecycle
from bench.measure import percentiles, rss_mib
from bench.scenario import BEFORE_TIMER
from bench.server import serve, sql_engine


def _client_loop(driver: HttpLifecycle, until: float, latencies: list[float], errors: list[str]) -> None:
    steps = [s for s in driver.path if s.bpmn_id in {b.bpmn_id for b in BEFORE_TIMER}]
    done = 0
    while time.monotonic() < until or not done:  # every client completes at least one task, however slow
        try:
            instance = driver.start()
            for step in steps:
                if time.monotonic() >= until and done:
                    return
                started = time.perf_counter()
                instance = driver.complete(instance, step)
                latencies.append((time.perf_counter() - started) * 1000)
                done += 1
        except Exception as exc:  # noqa: BLE001 - counted and reported, the other clients carry on
            errors.append(repr(exc)[:300])
            done += 1


def run(database_url: str, clients: int, seconds: float, workers: int, log_dir: Path) -> dict[str, Any]:
    """Serve a fresh database with ``workers`` gunicorn workers and load it with ``clients`` for ``seconds``."""
    db = sql_engine(database_url)
    try:
        with serve(database_url, workers=workers, log_dir=log_dir) as server:
            driver = HttpLifecycle(server.port, db)
            latencies: list[float] = []
            errors: list[str] = []
            started = time.monotonic()
            until = started + seconds
            threads = [threading.Thread(target=_client_loop, args=(driver, until, latencies, errors))
                       for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            rss = [rss_mib(pid) for pid in server.worker_pids()]
    finally:
        db.dispose()
    return {"clients": clients, "workers": workers, "seconds": round(elapsed, 1),
            "completions_per_s": round(len(latencies) / elapsed, 1), **percentiles(latencies),
            "errors": len(errors), "first_errors": errors[:3],
            "web_worker_rss_mib": round(max(rss, default=0.0), 1)}
