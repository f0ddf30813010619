"""What the task pages show: due dates in working days, the inbox filters, the application and earlier 审批意见."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine.models import AuditEntry, HumanTask, Instance, User
from engine.review import inbox
from engine.review.inbox import TaskPage
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from webapp.audit_texts import audit_text
from webapp.tasks.inbox_args import PER_PAGE_DEFAULT, InboxArgs

#: The actions whose rows make up the 审批意见 of an application.
OPINION_ACTIONS = ("complete", "return", "transfer", "sign_opinion", "delegate_done")


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
    """The open tasks a user may act on, a page each of those assigned to them (or their principal) and of their
    role's queue, with the filter menus."""

    mine: TaskPage
    queue: TaskPage
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def load_inbox(session: Session, user: User, args: InboxArgs | None) -> Inbox:
    """Query both pages of the inbox in the database; none when the query string was unusable."""
    if args is None:
        empty = TaskPage([], 0, 1, PER_PAGE_DEFAULT)
        return Inbox(empty, empty, inbox.inbox_options(session, user))
    return Inbox(
        inbox.inbox_page(session, user, args.query, claimed=True, page=args.page, per_page=args.per_page),
        inbox.inbox_page(session, user, args.query, claimed=False, page=args.queue_page, per_page=args.per_page),
        inbox.inbox_options(session, user))


def page_links(args: InboxArgs, which: str, page: TaskPage) -> list[tuple[int, str | None]]:
    """Links to a window of pages around the current one (None marks the current page), keeping the filters."""
    kept = {k: v for k, v in args.values.items() if v}
    window = sorted({1, page.pages, *range(max(1, page.page - 2), min(page.pages, page.page + 2) + 1)})
    return [(n, None if n == page.page else url_for("tasks.inbox", **(kept | {which: str(n)})) + f"#{which}")
            for n in window]


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


def opinions_of(session: Session, instance: Instance, submissions: bool = False) -> list[Opinion]:
    """Every decision taken so far on the application, oldest first, from its audit trail (with ``submissions``,
    also the steps whose form has no decision, such as 选题申报, as 已提交)."""
    form_of = dict(session.execute(
        select(HumanTask.id, HumanTask.form_key).where(HumanTask.instance_id == instance.id)).tuples().all())
    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.instance_id == instance.id, AuditEntry.action.in_(OPINION_ACTIONS))
        .order_by(AuditEntry.at, AuditEntry.id)))
    names = display_names(session, [e.actor for e in entries] + [e.on_behalf_of for e in entries])
    opinions = []
    for entry in entries:
        decision = _decision_of(entry, form_of.get(entry.task_id or ""))
        if decision is None and submissions and entry.action == "complete":
            decision = gettext("已提交"), True
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
    if entry.action == "sign_opinion":
        value = (entry.data_changed or {}).get("decision")
        label = gettext("加签意见：%(decision)s", decision=decision_label("sign_opinion", value))
        return label, value in forms.positive_decisions("sign_opinion")
    if form_key is None or forms.decision_field(form_key) is None:
        return None
    value = (entry.data_changed or {}).get("decision")
    label = decision_label(form_key, value)
    if entry.action == "delegate_done":
        label = gettext("委派办理：%(decision)s", decision=label)
    return label, value in forms.positive_decisions(form_key)


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
