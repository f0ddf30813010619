"""The tamper-evident audit trail (留痕): every row carries the hash of the row before it in its instance's trail.

A row's hash covers its content and the previous row's hash; the instance keeps the newest hash (``audit_head``), so
a changed row, a removed row and removed last rows all break the chain where ``verify_trails`` looks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.models import AuditEntry, Instance
from engine.transactions import current_transaction

#: The row's columns the hash covers, in this order (the id is left out: a chain is ordered by id instead).
HASHED_COLUMNS = ("instance_id", "at", "actor", "action", "task_id", "task_name", "bpmn_id", "comment",
                  "data_changed", "on_behalf_of")
#: ``session.info`` key: (the transaction, ids of the instances it holds locked and has read).
_LOCKED = "pressflow_locked_instances"


def entry_hash(values: dict[str, Any], prev_hash: str | None) -> str:
    """Return the SHA-256 of one audit row's content chained to the previous row's hash."""
    canonical = [prev_hash or ""] + [_canonical(values.get(name)) for name in HASHED_COLUMNS]
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mark_locked(session: Session, instance: Instance) -> None:
    """Note that this transaction holds the instance's lock and has just read it, ``audit_head`` included."""
    transaction = current_transaction(session)
    held = session.info.get(_LOCKED)
    if held is None or held[0] is not transaction:
        held = session.info[_LOCKED] = (transaction, set[int]())
    held[1].add(instance.id)


def chain_entry(session: Session, entry: AuditEntry, instance: Instance | None = None) -> None:
    """Link a new audit row to the end of its instance's trail (the caller holds the instance lock).

    When ``instance`` was read by this transaction's locking query, its ``audit_head`` is the trail's end as it
    stands (nobody else can append meanwhile, and this function keeps it current): it is neither read again nor
    written by a statement of its own."""
    if instance is not None and _locked_here(session, instance):
        entry.prev_hash = instance.audit_head
        entry.row_hash = entry_hash({name: getattr(entry, name) for name in HASHED_COLUMNS}, entry.prev_hash)
        # Written with the instance's own UPDATE at the flush (the unit of work writes the instance anyway).
        instance.audit_head = entry.row_hash
        return
    query = select(Instance.audit_head).where(Instance.id == entry.instance_id)
    if session.get_bind().dialect.name == "postgresql":
        # Held by the unit of work in every path; taking it here keeps a stray writer from forking the chain.
        query = query.with_for_update(of=Instance)
    prev = session.execute(query).scalar_one_or_none()
    entry.prev_hash = prev
    entry.row_hash = entry_hash({name: getattr(entry, name) for name in HASHED_COLUMNS}, prev)
    # A core UPDATE: the instance's lock_version stays, so linking a row never makes a concurrent reader stale.
    session.execute(update(Instance).where(Instance.id == entry.instance_id).values(audit_head=entry.row_hash)
                    .execution_options(synchronize_session=False))
    if instance is not None and instance.id == entry.instance_id:
        set_committed_value(instance, "audit_head", entry.row_hash)


def _locked_here(session: Session, instance: Instance) -> bool:
    held = session.info.get(_LOCKED)
    return (held is not None and held[0] is current_transaction(session) and instance.id in held[1]
            and "audit_head" not in inspect(instance).unloaded)


@dataclass(frozen=True)
class ChainBreak:
    """One place a trail no longer matches its hashes."""

    instance_id: int
    entry_id: int | None
    problem: str

    def describe(self) -> str:
        """Say where and what, for the operator."""
        where = f"申请 {self.instance_id}" + (f" 记录 {self.entry_id}" if self.entry_id is not None else "")
        return f"{where}：{self.problem}"


def verify_trails(session: Session) -> Iterator[ChainBreak]:
    """Recompute every instance's chain and yield each row that was changed, removed or added out of band.

    The system may keep working meanwhile: each trail is read with its instance's newest hash in one snapshot of its
    own (REPEATABLE READ on PostgreSQL; a SQLite transaction is one already), so a row appended while the check runs
    is never mistaken for a removed one, and no lock is taken."""
    ids = list(session.scalars(select(Instance.id).order_by(Instance.id)))
    session.rollback()
    snapshot = session.get_bind().dialect.name == "postgresql"
    for instance_id in ids:
        if snapshot:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = session.scalar(select(Instance.audit_head).where(Instance.id == instance_id))
        yield from _verify_trail(session, instance_id, head)
        session.rollback()


def _verify_trail(session: Session, instance_id: int, head: str | None) -> Iterator[ChainBreak]:
    prev: str | None = None
    rows = session.execute(select(AuditEntry).where(AuditEntry.instance_id == instance_id)
                           .order_by(AuditEntry.id)).scalars()
    for row in rows:
        if row.prev_hash != prev:
            yield ChainBreak(instance_id, row.id, "前一条记录已被删除或改动（链接不符）")
        if entry_hash({name: getattr(row, name) for name in HASHED_COLUMNS}, row.prev_hash) != row.row_hash:
            yield ChainBreak(instance_id, row.id, "记录内容已被改动（哈希不符）")
        prev = row.row_hash
    if head != prev:
        yield ChainBreak(instance_id, None, "最后的记录已被删除或改动（与申请记下的末条哈希不符）")
    session.expunge_all()  # a long verification keeps only one trail in memory at a time


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return value
