"""Worker heartbeats: each ``pressflow worker`` writes a row on every pass, so supervisors can see it is alive.

A worker that stops cleanly removes its row; one that is killed leaves it behind, and its ``last_beat_at`` then
falls behind: :func:`live_workers` only counts rows that beat recently. Rows nobody has touched for a week are
cleared when a worker starts.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from engine.models import WorkerHeartbeat

#: A worker polls every second or so: one silent for this long is stopped, hung or cut off from the database.
STALE_AFTER = dt.timedelta(seconds=30)
FORGET_AFTER = dt.timedelta(days=7)
MAX_ERROR_CHARS = 2000


def worker_id() -> str:
    """Name this process as ``<hostname>:<pid>`` (unique among workers running at the same time)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def register(session: Session, worker: str, now: dt.datetime) -> None:
    """Record a worker that is starting, replacing any row left under its name. Commits."""
    session.execute(delete(WorkerHeartbeat).where(or_(
        WorkerHeartbeat.id == worker, WorkerHeartbeat.last_beat_at < now - FORGET_AFTER)))
    session.add(WorkerHeartbeat(id=worker, started_at=now, last_beat_at=now, passes=0))
    session.commit()


def beat(session: Session, worker: str, now: dt.datetime, error: str | None = None) -> None:
    """Record one finished pass, and the error it failed with, if any. Commits."""
    row = session.get(WorkerHeartbeat, worker, populate_existing=True)
    if row is None:  # removed under us (cleared as stale after a long stall): this worker is alive again
        row = WorkerHeartbeat(id=worker, started_at=now, passes=0)
        session.add(row)
    row.last_beat_at, row.passes = now, (row.passes or 0) + 1
    if error is not None:
        row.last_error, row.last_error_at = error[:MAX_ERROR_CHARS], now
    session.commit()


def retire(session: Session, worker: str) -> None:
    """Remove the row of a worker that stops cleanly. Commits."""
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == worker))
    session.commit()


def live_workers(session: Session, now: dt.datetime,
                 stale_after: dt.timedelta = STALE_AFTER) -> list[WorkerHeartbeat]:
    """Return the workers that beat within ``stale_after`` before ``now``, longest-running first."""
    return list(session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.last_beat_at >= now - stale_after)
                                .order_by(WorkerHeartbeat.started_at, WorkerHeartbeat.id)))
