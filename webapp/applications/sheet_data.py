"""What the printable approval sheet (发布会申报表) holds: header, application fields, every step, attachments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy.orm import Session

from engine import clock
from engine.models import Instance, User
from engine.review import attachments
from engine.workdays.calendar import SHANGHAI
from forms.conference import HOST_ROLES, SPEAKER_ROLES
from webapp.applications import present
from webapp.tasks.present import opinions_of


@dataclass(frozen=True)
class Step:
    """One line of the approval record: the step, who held it, the decision, the 审批意见 and when."""

    name: str
    holder: str
    decision: str
    opinion: str
    at: dt.datetime | None


@dataclass
class Sheet:
    """One application as a government office files it."""

    instance: Instance
    serial: str
    applicant: str
    status: str
    outcome: str
    printed_at: dt.datetime
    fields: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    documents: list[present.Document] = field(default_factory=list)


def serial_number(instance: Instance) -> str:
    """The sheet's 编号: unit code, year of filing (Beijing) and the application's number, e.g. YUZHONG-2026-00012."""
    return f"{instance.unit.code.upper()}-{instance.started_at.astimezone(SHANGHAI).year}-{instance.id:05d}"


def build_sheet(session: Session, user: User, instance: Instance) -> Sheet:
    """Gather everything the sheet shows of an application the user may see."""
    files = attachments.list_attachments(session, user, instance.id)
    rows = present.open_rows(session, [instance.id])[instance.id]
    names = present.display_names(session, [instance.started_by, *(t.assignee for t in rows)])
    status = present.status_of(instance, rows, bool(present.submitted(session, [instance.id])))
    return Sheet(
        instance=instance, serial=serial_number(instance), applicant=names.get(instance.started_by,
                                                                             instance.started_by),
        status=status.label, outcome=present.outcome_label(instance), printed_at=clock.now(),
        fields=present.application_fields(instance) + _people(instance.data or {}),
        steps=_steps(session, instance) + [Step(gettext(t.name), present.holder_of(t, names), gettext("待办理"), "",
                                                None) for t in rows],
        documents=present.documents(files),
    )


def _steps(session: Session, instance: Instance) -> list[Step]:
    steps = []
    for o in opinions_of(session, instance, submissions=True):
        holder = o.actor if not o.on_behalf_of else gettext("%(name)s（代 %(principal)s 办理）", name=o.actor,
                                                            principal=o.on_behalf_of)
        steps.append(Step(gettext(o.step) if o.step else "", holder, o.decision, o.comment, o.at))
    return steps


def _people(data: dict[str, Any]) -> list[dict[str, Any]]:
    """发布人, 主持人 and 出席嘉宾 once the Office has chosen them."""
    shown = []
    for label, name_key, role_key, roles in (("发布人", "speaker_name", "speaker_role", SPEAKER_ROLES),
                                             ("主持人", "host_name", "host_role", HOST_ROLES)):
        if data.get(name_key):
            role = roles.get(data.get(role_key) or "", data.get(role_key) or "")
            value = gettext("%(name)s（%(role)s）", name=data[name_key], role=gettext(role)) if role \
                else data[name_key]
            shown.append({"label": gettext(label), "value": value})
    guests = [g for g in data.get("guests") or () if isinstance(g, dict) and g.get("name")]
    if guests:
        shown.append({"label": gettext("出席嘉宾"), "value": gettext("、").join(
            gettext("%(name)s（%(role)s）", name=g["name"], role=g["title"]) if g.get("title") else g["name"]
            for g in guests)})
    return shown
