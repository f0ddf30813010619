"""``python -m bench.profile``: the HTTP lifecycle in this process (Flask's test client), with the SQL statements
each request sends and, with ``--pyinstrument``, where the time goes.

What section 2 measures through gunicorn, without the sockets: the same requests, the same app, a fresh SQLite
database made by ``pressflow init --demo`` (or ``--database`` for another one made that way; it is written to).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.scenario import (
    DEMO_PASSWORD,
    PDF,
    PROCESS_KEY,
    TIMER,
    UPLOADS,
    after_start,
    conference_day_after,
    happy_path,
)
from bench.server import SECRET, init_database
from engine import clock
from engine.workdays.calendar import SHANGHAI
from engine.worker.timers import run_due_timers

ACTORS = ("yz_clerk", "yz_leader", "yz_secrecy", "office_reviewer", "onsite", "monitor")


class Lifecycles:
    """The happy path through the app's API in this process, counting SQL statements by request."""

    def __init__(self, database_url: str) -> None:
        from webapp import create_app
        from webapp.extensions import db

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET})
        self.db = db
        self.statements: collections.Counter[str] = collections.Counter()
        self.current = "other"
        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._count)
        self.client = self.app.test_client()
        self.tokens = {name: self._token(name) for name in ACTORS}
        self.day = conference_day_after(dt.datetime.now(SHANGHAI).date())
        self.path = happy_path(self.day)

    def _count(self, *_: Any) -> None:
        self.statements[self.current] += 1

    def _token(self, username: str) -> str:
        answer = self.client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        return str(answer.get_json()["token"])

    def _call(self, actor: str, method: str, url: str, label: str, **kwargs: Any) -> Any:
        self.current = label
        try:
            response = self.client.open(url, method=method, headers={"Authorization": f"Bearer {self.tokens[actor]}"},
                                        **kwargs)
        finally:
            self.current = "other"
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    def run(self) -> None:
        """One application from start to end."""
        instance = self._call("yz_clerk", "POST", "/api/v1/instances", "POST /instances", json={"process": PROCESS_KEY})
        for kind, name in UPLOADS:
            self._call("yz_clerk", "POST", f"/api/v1/instances/{instance['id']}/attachments", "POST …/attachments",
                       data={"kind": kind, "file": (io.BytesIO(PDF), name)}, content_type="multipart/form-data")
        for step in self.path:
            if step.bpmn_id == TIMER:
                self._fire_timer()
                instance = self._call("onsite", "GET", f"/api/v1/instances/{instance['id']}", "GET /instances/<id>")
                continue
            task = next(t for t in instance["tasks"] if t["bpmn_id"] == step.bpmn_id)
            instance = self._call(step.actor, "POST", f"/api/v1/tasks/{task['id']}/complete",
                                  f"complete {step.bpmn_id}", json={"data": step.data})
        if instance["status"] != "completed":
            raise RuntimeError(f"instance {instance['id']} ended as {instance['status']}")

    def _fire_timer(self) -> None:
        clock.set_clock(clock.FrozenClock(after_start(self.day) + dt.timedelta(minutes=1)))
        self.current = "timer pass (worker)"
        try:
            with self.app.app_context():
                run_due_timers(self.db.session, self.app.extensions["pressflow_runtime"])
                self.db.session.remove()
        finally:
            clock.set_clock(None)
            self.current = "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=10, help="how many to measure (after 3 to warm up)")
    parser.add_argument("--database", help="a database made by `pressflow init --demo` (default: a fresh SQLite)")
    parser.add_argument("--pyinstrument", type=Path, help="write pyinstrument's text profile of the run here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pf-profile-") as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'profile.db'}"
        if not args.database:
            init_database(url)
        runs = Lifecycles(url)
        for _ in range(3):
            runs.run()
        runs.statements.clear()
        profiler = _start_profiler() if args.pyinstrument else None
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.lifecycles):
            runs.run()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.stop()
            args.pyinstrument.write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    print(f"{args.lifecycles} lifecycles: {wall * 1000 / args.lifecycles:.1f} ms each, "
          f"{cpu * 1000 / args.lifecycles:.1f} ms CPU")
    print("SQL statements per lifecycle, by request:")
    for label, count in sorted(runs.statements.items()):
        print(f"  {label:<44} {count / args.lifecycles:6.1f}")
    print(f"  {'total':<44} {sum(runs.statements.values()) / args.lifecycles:6.1f}")
    return 0


def _start_profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


if __name__ == "__main__":
    sys.exit(main())
