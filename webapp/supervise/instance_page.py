"""What the supervisor's instance page shows: markers, holders, the audit timeline, the data and the action forms."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import clock
from engine.models import AuditEntry, Instance, User
from engine.org.access import ROLE_LABELS
from engine.supervision import actions as supervisor_actions
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.step_states import OpenStep, StepStates, step_states
from webapp.applications.present import ACTION_LABELS as TIMELINE_LABELS
from webapp.applications.signing_present import ACTION_LABELS as SIGN_ACTION_LABELS
from webapp.i18n import translate, translated_bpmn

STATUS_LABELS = {
    "running": lazy_gettext("办理中"),
    "waiting": lazy_gettext("等待中"),
    "completed": lazy_gettext("已办结"),
    "error": lazy_gettext("异常"),
    "suspended": lazy_gettext("已挂起"),
    "terminated": lazy_gettext("已终止"),
}
#: The applicant's timeline words, plus the supervisors' own actions and 加签 (the timeline names those itself).
ACTION_LABELS = {
    **TIMELINE_LABELS,
    **SIGN_ACTION_LABELS,
    "suspend": lazy_gettext("挂起"),
    "resume": lazy_gettext("恢复"),
    "terminate": lazy_gettext("终止"),
    "reassign": lazy_gettext("改派"),
    "retry": lazy_gettext("修复数据并重试"),
    "move_back": lazy_gettext("督办回退"),
}
SYSTEM = "system"


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Map usernames to display names (``system`` is the system)."""
    wanted = {u for u in usernames if u}
    names: dict[str, str] = {}
    if wanted:
        names = dict(session.execute(
            select(User.username, User.display_name).where(User.username.in_(wanted))).tuples().all())
    return names | {SYSTEM: gettext("系统")}


def holder_of(step: OpenStep, names: dict[str, str]) -> str:
    """Who holds an open step: the assignee, else each candidate role at the task's unit; a timer is the system's."""
    task = step.task
    if task is None:
        return gettext("定时器")
    if task.assignee:
        return names.get(task.assignee, task.assignee)
    return "、".join(f"{translate(ROLE_LABELS.get(role, role))}@{translate(task.unit.name)}"
                    for role in task.candidate_roles)


def shanghai(value: Any) -> str:
    """A stored UTC moment in Beijing time, as the pages show it."""
    from engine.workdays.calendar import SHANGHAI

    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def diagram_payload(session: Session, runtime: ProcessRuntime, instance: Instance) -> dict[str, Any]:
    """The diagram and its markers, as ``diagram.json`` serves them."""
    states = step_states(session, runtime, instance, clock.now())
    names = display_names(session, [s.task.assignee for s in states.open if s.task is not None])
    active = [{"id": s.bpmn_id, "holder": holder_of(s, names), "due": shanghai(s.due_at),
               "overdue": s.overdue, "overdue_workdays": s.overdue_workdays} for s in states.open]
    return {"bpmn_xml": translated_bpmn(instance.version.bpmn_xml), "done": states.done, "active": active,
            "overdue": states.overdue, "error": states.error}


def page_context(session: Session, runtime: ProcessRuntime, instance: Instance) -> dict[str, Any]:
    """Everything the instance page template needs."""
    states: StepStates = step_states(session, runtime, instance, clock.now())
    trail = list(session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance.id)
                                 .order_by(AuditEntry.at, AuditEntry.id)))
    targets = supervisor_actions.move_back_targets(session, runtime, instance)
    tasks = [s.task for s in states.open if s.task is not None]
    candidates = {t.id: supervisor_actions.reassign_candidates(session, t) for t in tasks}
    named, others = supervisor_actions.retry_names(session, runtime, instance)
    names = display_names(session, [instance.started_by, *(e.actor for e in trail), *(e.on_behalf_of for e in trail),
                                    *(t.assignee for t in tasks), *(s.completed_by for s in targets)])
    return {
        "instance": instance, "status_label": STATUS_LABELS.get(instance.status, instance.status),
        "states": states, "open_steps": [(s, holder_of(s, names)) for s in states.open],
        "trail": trail, "action_labels": ACTION_LABELS, "names": names,
        "data_rows": data_rows(instance.data or {}), "targets": targets, "candidates": candidates,
        "retry_named": [(n, editable(v)) for n, v in named.items()], "retry_others": others,
    }


def data_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The instance data as (name, label, value) rows, sorted by name."""
    labels = field_labels()
    return [(name, labels.get(name, ""), shown(value)) for name, value in sorted(data.items())]


def field_labels() -> dict[str, str]:
    """Labels of the form fields by name, so the data table says what a variable is."""
    labels: dict[str, str] = {}
    for key in forms.FORM_KEYS:
        for described in forms.describe_form(key):
            labels.setdefault(described["name"], described["label"])
    return labels


def shown(value: Any) -> str:
    """A data value as text: strings as they are, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def editable(value: Any) -> str:
    """A value as the retry form pre-fills it, so that submitting it unchanged gives back the same value."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        return json.dumps(value, ensure_ascii=False)  # "40" would otherwise come back as the number 40
    return json.dumps(value, ensure_ascii=False)
