"""What the application pages show: status in words, who holds each open step, the timeline and attachment versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine.models import Attachment, AuditEntry, HumanTask, Instance, User
from engine.org.access import ROLE_LABELS, can_act, is_overseer, takes_part
from engine.review.attachments import KINDS
from engine.review.reviewing import only_own_steps
from webapp.applications.signing_present import people_in, sign_action, sign_detail
from webapp.audit_texts import audit_text
from webapp.audit_texts import outcome_label as audit_outcome_label
from webapp.i18n import translate

STATUS_LABELS = {
    "running": lazy_gettext("办理中"),
    "waiting": lazy_gettext("等待中"),
    "completed": lazy_gettext("已办结"),
    "error": lazy_gettext("异常"),
    "suspended": lazy_gettext("已挂起"),
    "terminated": lazy_gettext("已终止"),
}
ACTION_LABELS = {
    "start": lazy_gettext("发起"),
    "complete": lazy_gettext("提交"),
    "return": lazy_gettext("退回"),
    "withdraw": lazy_gettext("撤回"),
    "transfer": lazy_gettext("转办"),
    "claim": lazy_gettext("认领"),
    "release": lazy_gettext("释放"),
    "urge": lazy_gettext("催办"),
    "escalate": lazy_gettext("督办升级"),
    "migrate": lazy_gettext("迁移版本"),
    "attach": lazy_gettext("上传附件"),
    "timer": lazy_gettext("定时器"),
    "end": lazy_gettext("结束"),
    "incident": lazy_gettext("异常"),
    "cc": lazy_gettext("抄送"),
    "cc_read": lazy_gettext("已阅抄送"),
    # 定时发布 (Art. 15(七))
    "series_setup": lazy_gettext("设立定时发布系列"),
    "series_change": lazy_gettext("调整发布节奏"),
    "series_end": lazy_gettext("结束系列发布"),
    "round_started": lazy_gettext("发起定时发布轮次"),
    "slot_missed": lazy_gettext("错过发布时段"),
    "file_spokesperson": lazy_gettext("列入新闻发言人名单"),
    "end_spokesperson": lazy_gettext("终止新闻发言人备案"),
}
SYSTEM = "system"


@dataclass(frozen=True)
class Status:
    """An application's state as people say it (办理中, 已退回 …), with a CSS tone."""

    label: str
    tone: str


@dataclass(frozen=True)
class OpenStep:
    """A step waiting for someone: its name, who holds it, and whether the viewer may work on it."""

    task: HumanTask
    holder: str
    actionable: bool


@dataclass(frozen=True)
class Event:
    """One line of the timeline, from the audit trail."""

    at: dt.datetime
    actor: str
    action: str
    tone: str
    step: str | None
    comment: str | None
    on_behalf_of: str | None = None
    transferred_to: str | None = None
    #: Structured facts in words (抄送: to whom; 加签: mode, rule and people), beside the actor's own ``comment``.
    detail: str | None = None


@dataclass
class Document:
    """One document (工作方案, 发布文稿 …) with every uploaded version, newest first."""

    kind: str
    title: str
    versions: list[Attachment] = field(default_factory=list)


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Map usernames to the names people know each other by (``system`` is the system)."""
    wanted = {u for u in usernames if u}
    names = dict(session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))).tuples().all()) if wanted else {}
    return names | {SYSTEM: gettext("系统")}


def open_rows(session: Session, instance_ids: Iterable[int]) -> dict[int, list[HumanTask]]:
    """The open task rows of each instance, oldest first."""
    ids = list(instance_ids)
    rows: dict[int, list[HumanTask]] = {i: [] for i in ids}
    if ids:
        for row in session.scalars(select(HumanTask).where(
                HumanTask.instance_id.in_(ids), HumanTask.completed_at.is_(None))
                .order_by(HumanTask.created_at, HumanTask.bpmn_id)):
            rows[row.instance_id].append(row)
    return rows


def submitted(session: Session, instance_ids: Iterable[int]) -> set[int]:
    """The instances where at least one step has been completed (the others are still drafts)."""
    ids = list(instance_ids)
    return set(session.scalars(select(HumanTask.instance_id).where(
        HumanTask.instance_id.in_(ids), HumanTask.closed_reason == "completed"))) if ids else set()


def status_of(instance: Instance, rows: list[HumanTask], was_submitted: bool) -> Status:
    """Say where the application stands: 待提交, 已退回, 已撤回, 办理中, 等待中, 已办结 …"""
    if instance.status == "running":
        sent_back = next((r for r in rows if r.returned_by), None)
        if sent_back is not None:
            return Status(gettext("已撤回") if sent_back.withdrawn else gettext("已退回"), "returned")
        if not was_submitted:
            return Status(gettext("待提交"), "draft")
    tone = {"completed": "done", "error": "error", "terminated": "error"}.get(instance.status, instance.status)
    return Status(str(STATUS_LABELS.get(instance.status, instance.status)), tone)


def outcome_label(instance: Instance) -> str:
    """The end the application reached, in words (empty while it runs)."""
    return audit_outcome_label(instance.outcome)


def holder_of(task: HumanTask, names: dict[str, str]) -> str:
    """Who holds a step: its assignee, or the roles of its unit that may claim it."""
    if task.assignee:
        return names.get(task.assignee, task.assignee)
    roles = gettext("、").join(gettext(ROLE_LABELS.get(r, r)) for r in task.candidate_roles)
    return gettext("%(roles)s（%(unit)s，待认领）", roles=roles, unit=task.unit.name)


def open_steps(user: User, rows: list[HumanTask], names: dict[str, str]) -> list[OpenStep]:
    """The open steps with their holders, marking those the viewer may work on."""
    return [OpenStep(r, holder_of(r, names), can_act(user, r)) for r in rows]


def timeline(session: Session, instance: Instance) -> list[Event]:
    """The application's history from its audit trail, oldest first."""
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance.id)
                                   .order_by(AuditEntry.at, AuditEntry.id)))
    forms_of = dict(session.execute(select(HumanTask.id, HumanTask.form_key)
                                    .where(HumanTask.instance_id == instance.id)).tuples().all())
    copied = [name for e in entries if e.action == "cc" for name in (e.data_changed or {}).get("recipients", [])]
    names = display_names(session, [e.actor for e in entries] + [e.on_behalf_of for e in entries] + copied
                          + people_in(entries))
    return [_event(e, forms_of.get(e.task_id or ""), names) for e in entries]


def copy_detail(entry: AuditEntry, names: dict[str, str]) -> str | None:
    """Say whom a 抄送 reached (and by the model's setting or by hand), and which names found nobody."""
    if entry.action != "cc":
        return None
    facts = entry.data_changed or {}
    people = gettext("、").join(names.get(n, n) for n in facts.get("recipients", []))
    text = gettext("抄送给 %(names)s", names=people) if people else gettext("无人可抄送")
    if facts.get("source") == "model":
        text = gettext("%(text)s（按流程设定）", text=text)
    if facts.get("unresolved"):
        text += gettext("；未找到人员：%(names)s", names=gettext("、").join(facts["unresolved"]))
    return text


def _event(entry: AuditEntry, form_key: str | None, names: dict[str, str]) -> Event:
    label, tone = str(ACTION_LABELS.get(entry.action, entry.action)), "neutral"
    if entry.action == "complete" and form_key and forms.decision_field(form_key):
        value = (entry.data_changed or {}).get("decision")
        choices = {c["value"]: c["label"] for f in forms.describe_form(form_key)
                   if f["name"] == forms.decision_field(form_key) for c in f.get("choices") or ()}
        label = gettext(choices.get(value, value or label))
        tone = "positive" if value in forms.positive_decisions(form_key) else "negative"
    elif entry.action in ("return", "withdraw", "incident"):
        tone = "negative"
    elif (signed := sign_action(entry)) is not None:
        label, tone = signed
    other = names.get(entry.on_behalf_of or "", entry.on_behalf_of)
    return Event(
        at=entry.at, actor=names.get(entry.actor, entry.actor), action=label, tone=tone,
        step=gettext(entry.task_name) if entry.task_name else None, comment=audit_text(entry, names),
        on_behalf_of=other if entry.action in ("complete", "return") else None,
        transferred_to=other if entry.action == "transfer" else None,
        detail=copy_detail(entry, names) or sign_detail(entry, names),
    )


def documents(files: list[Attachment]) -> list[Document]:
    """Group attachments by document, each with its versions newest first."""
    grouped: dict[str, Document] = {}
    for attachment in files:
        title = gettext(KINDS.get(attachment.kind, attachment.kind))
        if attachment.kind == "other":
            title = gettext("%(kind)s：%(name)s", kind=title, name=attachment.filename)
        document = grouped.setdefault(attachment.document or f"#{attachment.id}", Document(attachment.kind, title))
        document.versions.append(attachment)
    for document in grouped.values():
        document.versions.sort(key=lambda a: a.version, reverse=True)
    return list(grouped.values())


def may_upload(user: User, instance: Instance) -> bool:
    """Offer the upload form to participants of an application that has not ended."""
    if instance.status in ("completed", "terminated") or not takes_part(user, instance):
        return False
    return not is_overseer(user) or any(g.unit_id == instance.unit_id for g in user.grants)


def may_urge(user: User, instance: Instance, rows: list[HumanTask]) -> bool:
    """Offer 催办 to the applicant and supervisors while a step is waiting for someone."""
    open_rows = [r for r in rows if r.is_open]
    return (bool(open_rows) and (user.username == instance.started_by or is_overseer(user))
            and not only_own_steps(user, open_rows))


def application_fields(instance: Instance) -> list[dict[str, Any]]:
    """The applicant's own fields (选题申报) with their labels, in the order of the form."""
    data, shown = instance.data or {}, []
    for described in forms.describe_form("topic_application"):
        value = data.get(described["name"])
        if value in (None, "", []) or described["type"] == "list":
            continue
        choices = {c["value"]: c["label"] for c in described.get("choices") or ()}
        if isinstance(value, bool):
            value = gettext("是") if value else gettext("否")
        if isinstance(value, str) and value in choices:
            value = gettext(choices[value])
        shown.append({"label": translate(described["label"]), "value": value})
    return shown
