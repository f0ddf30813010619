"""The reviewer's inbox as database queries: filter, sort and page the open tasks a user may act on."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, contains_eager, defer, selectinload

from engine import clock
from engine.models import HumanTask, Instance, ProcessVersion, Unit, User
from engine.org.access import actionable_filter, can_act
from engine.workdays.calendar import SHANGHAI

SORTS = ("due", "created", "title")


@dataclass(frozen=True)
class InboxQuery:
    """What a reviewer asked the inbox for; every field is already validated."""

    process: str | None = None
    step: str | None = None
    unit: str | None = None
    search: str | None = None
    overdue: bool = False
    #: Beijing dates, both inclusive: the task arrived on or after / on or before that day.
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    sort: str = "due"
    descending: bool = False


@dataclass(frozen=True)
class TaskPage:
    """One page of inbox rows with the total count of rows that match."""

    items: list[HumanTask]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least one, so an empty inbox still has a page 1)."""
        return max(1, math.ceil(self.total / self.per_page))


def inbox_page(session: Session, user: User, query: InboxQuery, *, claimed: bool | None, page: int,
               per_page: int) -> TaskPage:
    """Return one page of the user's actionable tasks: claimed ones (mine), the role queue, or both (None)."""
    conditions = _conditions(user, query, claimed)
    total = session.scalar(select(func.count(HumanTask.id)).join(HumanTask.instance).where(*conditions)) or 0
    stmt = (select(HumanTask).join(HumanTask.instance).where(*conditions).order_by(*_order(query))
            .offset((page - 1) * per_page).limit(per_page)
            .options(contains_eager(HumanTask.instance).options(defer(Instance.state), selectinload(Instance.version))))
    rows = [t for t in session.scalars(stmt) if can_act(user, t)]
    return TaskPage(rows, total, page, per_page)


def inbox_options(session: Session, user: User) -> dict[str, list[tuple[str, str]]]:
    """The processes, steps and applying units the user's actionable tasks belong to, for the filter menus."""
    rows = session.execute(
        select(Instance.process_key, Instance.version_id, HumanTask.bpmn_id, HumanTask.name, Instance.unit_id)
        .join(HumanTask.instance).where(actionable_filter(user)).distinct()).tuples().all()
    versions = _version_names(session, {r[1] for r in rows})
    units = dict(session.execute(select(Unit.code, Unit.name).where(Unit.id.in_({r[4] for r in rows})))
                 .tuples().all()) if rows else {}
    processes = {key: versions.get(version_id, key) for key, version_id, *_ in rows}
    steps = {bpmn_id: name for _, _, bpmn_id, name, _ in rows}
    return {"process": sorted(processes.items()), "step": sorted(steps.items()), "unit": sorted(units.items())}


def _version_names(session: Session, version_ids: set[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    found = session.execute(select(ProcessVersion.id, ProcessVersion.name).where(ProcessVersion.id.in_(version_ids)))
    return dict(found.tuples().all())


def _conditions(user: User, query: InboxQuery, claimed: bool | None) -> list[ColumnElement[bool]]:
    found: list[Any] = [actionable_filter(user)]
    if claimed is not None:
        found.append(HumanTask.assignee.is_not(None) if claimed else HumanTask.assignee.is_(None))
    if query.process:
        found.append(Instance.process_key == query.process)
    if query.step:
        found.append(HumanTask.bpmn_id == query.step)
    if query.unit:
        found.append(Instance.unit_id == select(Unit.id).where(Unit.code == query.unit).scalar_subquery())
    if query.search:
        found.append(func.lower(Instance.title).contains(query.search.lower(), autoescape=True))
    if query.overdue:
        found.append(HumanTask.due_at < clock.now())
    if query.created_from:
        found.append(HumanTask.created_at >= beijing_midnight(query.created_from))
    if query.created_to:
        found.append(HumanTask.created_at < beijing_midnight(query.created_to + dt.timedelta(days=1)))
    return found


def _order(query: InboxQuery) -> list[Any]:
    def way(column: Any) -> Any:
        return column.desc() if query.descending else column.asc()

    tie = [way(HumanTask.created_at), HumanTask.id]
    if query.sort == "title":
        return [way(Instance.title), *tie]
    if query.sort == "created":
        return tie
    # Tasks without a deadline come last whichever way the deadlines run.
    return [way(HumanTask.due_at).nulls_last(), *tie]


def beijing_midnight(day: dt.date) -> dt.datetime:
    """The UTC moment a Beijing calendar day begins."""
    return dt.datetime.combine(day, dt.time(0), SHANGHAI).astimezone(dt.UTC)

