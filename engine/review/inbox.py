"""The reviewer's inbox as database queries: filter, sort and page the open tasks a user may act on."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from engine import clock
from engine.models import HumanTask, Instance, Unit, User
from engine.org.access import actionable_filter, can_act, is_overseer, unit_ids, works_for_office
from engine.workdays.calendar import SHANGHAI
from engine.workflow.deploy import latest_versions

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
    joined = _needs_instance(query)
    count = select(func.count(HumanTask.id))
    total = session.scalar((count.join(HumanTask.instance) if joined else count).where(*conditions)) or 0
    stmt = select(HumanTask).where(*conditions).order_by(*_order(query)).offset((page - 1) * per_page).limit(per_page)
    # A row shows its application's title and unit: the application's data, state and version stay in the database.
    instance = (contains_eager(HumanTask.instance) if joined else joinedload(HumanTask.instance))
    stmt = (stmt.join(HumanTask.instance) if joined else stmt).options(
        instance.load_only(Instance.title, Instance.unit_id))
    rows = [t for t in session.scalars(stmt) if can_act(user, t)]
    return TaskPage(rows, total, page, per_page)


def inbox_options(session: Session, user: User) -> dict[str, list[tuple[str, str]]]:
    """The processes, steps and units to offer in the filter menus: what the user's open tasks can be filtered by."""
    # Only steps the user could act on: a step of another role in the same unit is not theirs to filter by.
    steps = session.execute(select(HumanTask.bpmn_id, func.min(HumanTask.name)).where(
        actionable_filter(user)).group_by(HumanTask.bpmn_id))
    processes = {v.process_key: v.name for v in latest_versions(session)}
    return {"process": sorted(processes.items()), "step": sorted(steps.tuples()),
            "unit": sorted(_visible_units(session, user))}


def _visible_units(session: Session, user: User) -> list[tuple[str, str]]:
    query = select(Unit.code, Unit.name)
    if not (is_overseer(user) or works_for_office(user)):
        query = query.where(Unit.id.in_(unit_ids(user)))
    return list(session.execute(query).tuples())


def _needs_instance(query: InboxQuery) -> bool:
    return bool(query.process or query.unit or query.search or query.sort == "title")


def _conditions(user: User, query: InboxQuery, claimed: bool | None) -> list[ColumnElement[bool]]:
    found: list[Any] = [actionable_filter(user, claimed)]
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

