"""What one row of an application's trail says, in the reader's language and in Beijing time.

The engine stores each audit row as an action code with its facts in ``data_changed`` and, in ``comment``, only what
a person wrote (审批意见, a reason). A renderer per action code turns the facts into a sentence; an action without
one, or a row written before facts were stored, shows its comment as it is. To teach the timeline a new action::

    @audit_detail("add_sign")
    def _add_sign(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
        facts = entry.data_changed or {}
        ...  # return None when the row lacks the facts: its comment is shown instead

Both the application timeline (webapp/applications/present.py) and the supervisor's trail use :func:`audit_text`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext, lazy_gettext

from engine.models import AuditEntry
from engine.review.attachments import KINDS as ATTACHMENT_KINDS
from engine.workdays.calendar import SHANGHAI
from webapp.i18n import translate

Renderer = Callable[[AuditEntry, Mapping[str, str]], "str | None"]
RENDERERS: dict[str, Renderer] = {}

OUTCOME_LABELS = {
    "completed": lazy_gettext("已完成"),
    "rejected": lazy_gettext("不予同意"),
    "declined": lazy_gettext("不予受理"),
    "cancelled": lazy_gettext("已取消"),
    "terminated": lazy_gettext("已终止"),
    "published": lazy_gettext("考评结果已发布"),
}
#: Rows written before outcomes and timer moments were stored as facts said them in one sentence.
_OLD_END = re.compile(r"^流程结束：(\w+)$")
_OLD_TIMER = re.compile(r"^定时器到期（(.+)）$")


def audit_detail(*actions: str) -> Callable[[Renderer], Renderer]:
    """Register the function that puts rows of these action codes into words."""
    def register(render: Renderer) -> Renderer:
        for action in actions:
            RENDERERS[action] = render
        return render
    return register


def audit_text(entry: AuditEntry, names: Mapping[str, str] | None = None) -> str | None:
    """The sentence a trail row shows under its action label, or None when there is nothing to add."""
    render = RENDERERS.get(entry.action)
    text = render(entry, names or {}) if render is not None else None
    return text if text is not None else entry.comment


def outcome_label(outcome: str | None) -> str:
    """An outcome code (completed, rejected, declined …) in words."""
    return str(OUTCOME_LABELS.get(outcome or "", outcome or ""))


def beijing(moment: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC moment (datetime or ISO text) in Beijing time."""
    try:
        value = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment)
    return value.astimezone(SHANGHAI).strftime(fmt)


def _facts(entry: AuditEntry) -> dict[str, Any]:
    return entry.data_changed if isinstance(entry.data_changed, dict) else {}


def _with_note(text: str, note: str | None) -> str:
    return gettext("%(text)s：%(note)s", text=text, note=note) if note else text


@audit_detail("start")
def _start(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    facts = _facts(entry)
    if "process" not in facts:
        return None
    return gettext("发起《%(process)s》（第 %(version)s 版）", process=translate(facts["process"]),
                   version=facts.get("version", ""))


@audit_detail("end")
def _end(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    outcome = _facts(entry).get("outcome")
    old = _OLD_END.match(entry.comment or "")
    if outcome is None and old is None:
        return None
    return gettext("流程结束：%(outcome)s", outcome=outcome_label(outcome or (old.group(1) if old else "")))


@audit_detail("timer")
def _timer(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    due = _facts(entry).get("due_at")
    old = _OLD_TIMER.match(entry.comment or "")
    if due is None and old is None:
        return None
    return gettext("定时器到期（%(time)s）", time=beijing(due or (old.group(1) if old else "")))


@audit_detail("return")
def _return(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    target = _facts(entry).get("target")
    if target is None:
        return None
    return _with_note(gettext("退回至「%(step)s」", step=translate(target)), entry.comment)


@audit_detail("urge")
def _urge(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    if (entry.comment or "").startswith("催办："):
        return entry.comment  # an older row
    return gettext("催办：%(note)s", note=entry.comment or gettext("请尽快办理"))


@audit_detail("escalate")
def _escalate(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    facts = _facts(entry)
    if "told" not in facts:
        return None
    told = gettext("、").join(facts["told"]) or gettext("无（未配置主要负责人和督办人员）")
    return gettext("超过办理期限（%(due)s）一个工作日仍未办结，已通知：%(told)s",
                   due=beijing(facts.get("due_at"), "%Y-%m-%d"), told=told)


@audit_detail("attach")
def _attach(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    facts = _facts(entry)
    if "kind" not in facts:
        return None
    kind = translate(ATTACHMENT_KINDS.get(facts["kind"], facts["kind"]))
    text = gettext("上传%(kind)s：%(name)s", kind=kind, name=facts.get("filename", ""))
    if int(facts.get("version") or 1) > 1:
        text += gettext("（第 %(n)s 版，保留此前版本）", n=facts["version"])
    return text


@audit_detail("migrate")
def _migrate(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    facts = _facts(entry)
    if "to_version" not in facts or (entry.comment or "").startswith("从第 "):
        return None  # an older row said it all in its comment
    text = gettext("从第 %(old)s 版迁移到第 %(new)s 版", old=facts.get("from_version"), new=facts["to_version"])
    return _with_note(text, entry.comment)


@audit_detail("resume")
def _resume(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
    if (entry.comment or "").startswith("恢复："):
        return None  # an older row said it all in its comment
    moved = _facts(entry).get("deadlines") or {}
    text = _with_note(gettext("恢复"), entry.comment)
    if moved:
        text += gettext("（挂起期间不计入办理期限，%(n)s 个环节的期限已顺延）", n=len(moved))
    return text


def _supervision(prefix: str, text: Callable[[AuditEntry, Mapping[str, str]], str]) -> Renderer:
    """A supervisor's action: what was done, then the reason they gave."""
    def render(entry: AuditEntry, names: Mapping[str, str]) -> str | None:
        if (entry.comment or "").startswith(prefix):
            return None  # an older row said it all in its comment
        return _with_note(text(entry, names), entry.comment)
    return render


audit_detail("suspend")(_supervision("挂起：", lambda e, n: gettext("挂起")))
audit_detail("terminate")(_supervision("终止：", lambda e, n: gettext("终止")))
audit_detail("reassign")(_supervision("改派给 ", lambda e, n: gettext(
    "改派给 %(name)s", name=n.get(e.on_behalf_of or "", e.on_behalf_of or ""))))
audit_detail("retry")(_supervision("修复数据并重试", lambda e, n: gettext(
    "修复数据并重试「%(step)s」", step=translate(e.task_name or ""))))
audit_detail("move_back")(_supervision("回退至", lambda e, n: gettext(
    "回退至「%(step)s」", step=translate(e.task_name or ""))))
audit_detail("transfer")(_supervision("转办给 ", lambda e, n: gettext(
    "转办给 %(name)s", name=n.get(e.on_behalf_of or "", e.on_behalf_of or ""))))
