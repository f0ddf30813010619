"""What the task pages show: due dates in working days, the inbox filters, the application and earlier 审批意见."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

import forms
from engine.models import AuditEntry, HumanTask, Instance, Unit, User
from engine.org.access import can_act, task_visibility_filter
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.workflow.deploy import latest_versions
from webapp.audit_texts import audit_text

FILTERS = ("process", "step", "unit", "q")
STEP_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
SEARCH_MAX = 100
#: The actions whose rows make up the 审批意见 of an application.
OPINION_ACTIONS = ("complete", "return", "transfer")


@dataclass(frozen=True)
class Due:
    """A deadline as a reviewer reads it: working days left, or working days overdue."""

    text: str
    overdue: bool
    provisional: bool


def due_of(task: HumanTask, calendar: WorkCalendar, now: dt.datetime) -> Due | None:
    """Say how many working days are left before the task's deadline, or how many it is overdue."""
    if task.due_at is None or not task.is_open:
        return None
    if task.due_hours:
        return _due_in_hours(task.due_at, now)
    today, due_day = now.astimezone(SHANGHAI).date(), task.due_at.astimezone(SHANGHAI).date()
    if now > task.due_at:
        late = calendar.workdays_between(due_day, today).days
        text = gettext("逾期 %(n)s 个工作日", n=late) if late else gettext("已逾期")
        return Due(text, True, task.due_provisional)
    left = calendar.workdays_between(today, due_day).days
    return Due(gettext("剩余 %(n)s 个工作日", n=left) if left else gettext("今日到期"), False, task.due_provisional)


def _due_in_hours(due_at: dt.datetime, now: dt.datetime) -> Due:
    """An hour deadline (emergency releases) reads in whole hours, rounded so that an hour left never shows 0."""
    seconds = (due_at - now).total_seconds()
    hours = int(-(-abs(seconds) // 3600))
    if seconds < 0:
        return Due(gettext("逾期 %(n)s 小时", n=hours), True, False)
    return Due(gettext("剩余 %(n)s 小时", n=hours) if hours else gettext("即将到期"), False, False)


@dataclass
class Inbox:
    """The open tasks a user may act on: assigned to them (or their principal) and their role's queue."""

    mine: list[HumanTask] = field(default_factory=list)
    queue: list[HumanTask] = field(default_factory=list)
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def actionable_tasks(session: Session, user: User) -> list[HumanTask]:
    """Every open task the user may act on now, earliest deadline first."""
    rows = session.scalars(
        select(HumanTask).where(HumanTask.completed_at.is_(None), task_visibility_filter(user))
        .options(selectinload(HumanTask.instance).options(defer(Instance.state), selectinload(Instance.version)))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    )
    return [t for t in rows if can_act(user, t)]


def parse_filters(session: Session, args: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Read the inbox filters from the query string; return them and the problems found (empty when fine)."""
    values = {name: str(args.get(name, "")).strip() for name in FILTERS}
    problems: dict[str, list[str]] = {}
    if values["process"] and values["process"] not in {v.process_key for v in latest_versions(session)}:
        problems[gettext("流程")] = [gettext("没有标识为 “%(v)s” 的流程", v=values["process"][:100])]
    if values["step"] and not STEP_ID.fullmatch(values["step"]):
        problems[gettext("环节")] = [gettext("环节标识无效：只能包含字母、数字、下划线、点或连字符，不超过 100 个字符")]
    if values["unit"] and session.scalar(select(Unit.id).where(Unit.code == values["unit"][:40])) is None:
        problems[gettext("单位")] = [gettext("没有代码为 “%(v)s” 的单位", v=values["unit"][:100])]
    if len(values["q"]) > SEARCH_MAX:
        problems[gettext("搜索")] = [gettext("搜索词不能超过 %(n)s 个字符", n=SEARCH_MAX)]
    return values, problems


def build_inbox(tasks: list[HumanTask], filters: dict[str, str] | None) -> Inbox:
    """Split the tasks into mine and my role's queue, keeping those that pass the filters (none if unusable)."""
    inbox = Inbox(options=_filter_options(tasks))
    for task in tasks if filters is not None else ():
        if not _passes(task, filters):
            continue
        (inbox.queue if task.assignee is None else inbox.mine).append(task)
    return inbox


def _passes(task: HumanTask, filters: dict[str, str]) -> bool:
    instance = task.instance
    return ((not filters["process"] or instance.process_key == filters["process"])
            and (not filters["step"] or task.bpmn_id == filters["step"])
            and (not filters["unit"] or instance.unit.code == filters["unit"])
            and (not filters["q"] or filters["q"].casefold() in (instance.title or "").casefold()))


def _filter_options(tasks: list[HumanTask]) -> dict[str, list[tuple[str, str]]]:
    processes = {t.instance.process_key: t.instance.version.name for t in tasks}
    steps = {t.bpmn_id: t.name for t in tasks}
    units = {t.instance.unit.code: t.instance.unit.name for t in tasks}
    return {name: sorted(found.items()) for name, found in
            (("process", processes), ("step", steps), ("unit", units))}


def display_names(session: Session, usernames: Any) -> dict[str, str]:
    """Map usernames to the names people know each other by."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    return dict(rows.tuples().all())


def application_fields(instance: Instance) -> list[dict[str, Any]]:
    """The application's own fields (选题申报) with their labels, in the order of the form."""
    data = instance.data or {}
    shown = []
    for described in forms.describe_form("topic_application"):
        value = data.get(described["name"])
        if value in (None, "", []):
            continue
        choices = {c["value"]: c["label"] for c in described.get("choices") or ()}
        shown.append({"label": described["label"], "value": choices.get(value, value),
                      "translate": value in choices or isinstance(value, bool)})
    return shown


@dataclass(frozen=True)
class Opinion:
    """One 审批意见: a decision (or a send-back, or a transfer) with its comment, who and when."""

    step: str
    decision: str
    positive: bool
    comment: str
    actor: str
    on_behalf_of: str | None
    at: dt.datetime


def opinions_of(session: Session, instance: Instance) -> list[Opinion]:
    """Every decision taken so far on the application, oldest first, from its audit trail."""
    form_of = dict(session.execute(
        select(HumanTask.id, HumanTask.form_key).where(HumanTask.instance_id == instance.id)).tuples().all())
    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.instance_id == instance.id, AuditEntry.action.in_(OPINION_ACTIONS))
        .order_by(AuditEntry.at, AuditEntry.id)))
    names = display_names(session, [e.actor for e in entries] + [e.on_behalf_of for e in entries])
    opinions = []
    for entry in entries:
        decision = _decision_of(entry, form_of.get(entry.task_id or ""))
        if decision is None:
            continue
        label, positive = decision
        principal = entry.on_behalf_of if entry.action == "complete" else None
        opinions.append(Opinion(entry.task_name or "", label, positive, audit_text(entry, names) or "",
                                names.get(entry.actor, entry.actor), names.get(principal or "", principal),
                                entry.at))
    return opinions


def _decision_of(entry: AuditEntry, form_key: str | None) -> tuple[str, bool] | None:
    if entry.action == "return":
        return gettext("退回"), False
    if entry.action == "transfer":
        return gettext("转办"), True
    if form_key is None or forms.decision_field(form_key) is None:
        return None
    value = (entry.data_changed or {}).get("decision")
    return decision_label(form_key, value), value in forms.positive_decisions(form_key)


def decision_label(form_key: str, value: str | None) -> str:
    """Name a task's outcome in the words of its form (同意, 退回修改 …); 已提交 for forms without a decision."""
    name = forms.decision_field(form_key)
    labels = {c["value"]: c["label"] for f in forms.describe_form(form_key) if f["name"] == name
              for c in f.get("choices") or ()}
    if value in labels:
        return gettext(labels[value])
    return gettext("退回") if value == "return" else gettext("已提交")


def attachment_url(instance_id: int, attachment_id: int) -> str:
    """Where an attachment is downloaded: the applications blueprint's download route."""
    if "applications.attachment" in current_app.view_functions:
        return url_for("applications.attachment", instance_id=instance_id, attachment_id=attachment_id)
    return f"/applications/{instance_id}/attachments/{attachment_id}"
