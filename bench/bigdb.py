"""Section 4, the big database: inbox, instance list and dashboard latencies with many instances loaded.

``populate`` bulk-loads the instances with their task and audit rows; then a gunicorn server answers, each page
requested ``samples`` times after one warm-up:

- the inbox: ``GET /api/v1/tasks`` and the 待办 page ``GET /tasks`` for the Information Office's reviewer, whose
  queue takes the office steps of every unit, and ``GET /api/v1/tasks`` for a district leader;
- the instance list: ``GET /api/v1/instances`` (first page and total) and the supervisors' ``/supervise/instances``;
- the dashboard: the supervisors' ``GET /supervise/`` (counts by stage, unit and process, the stuck list).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.client import Client, api_client
from bench.measure import percentiles
from bench.populate import populate
from bench.server import serve


def _sample(fetch: Callable[[], Any], samples: int) -> dict[str, float]:
    fetch()
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        fetch()
        latencies.append((time.perf_counter() - started) * 1000)
    return percentiles(latencies)


def _page_client(port: int, username: str) -> Client:
    client = Client(port)
    client.sign_in_page(username)
    return client


def run(database_url: str, instances: int, samples: int, log_dir: Path) -> dict[str, Any]:
    """Load ``instances`` into a fresh database and time the lists and the dashboard."""
    load_seconds = populate(database_url, instances)
    with serve(database_url, workers=1, log_dir=log_dir) as server:
        office = api_client(server.port, "office_reviewer")
        leader = api_client(server.port, "yz_leader")
        supervisor = api_client(server.port, "supervisor")
        office_page = _page_client(server.port, "office_reviewer")
        supervisor_page = _page_client(server.port, "supervisor")
        figures = {
            "inbox_api_office": _sample(lambda: office.json("GET", "/tasks"), samples),
            "inbox_api_leader": _sample(lambda: leader.json("GET", "/tasks"), samples),
            "inbox_page_office": _sample(lambda: office_page.request("GET", "/tasks"), samples),
            "instances_api": _sample(lambda: supervisor.json("GET", "/instances?page=1&per_page=20"), samples),
            "instances_page": _sample(lambda: supervisor_page.request("GET", "/supervise/instances"), samples),
            "dashboard_page": _sample(lambda: supervisor_page.request("GET", "/supervise/"), samples),
        }
        open_tasks = len(office.json("GET", "/tasks"))
    return {"instances": instances, "load_seconds": round(load_seconds, 1), "office_open_tasks": open_tasks,
            **figures}
