"""The sentences notifications say: stored as an event code and its facts, put into words when someone reads them.

A notification row keeps ``event`` (a key of :data:`TEXTS`), ``params`` (the facts: step, names, deadline) and
``message`` (only what a person wrote: a reason, a comment). The title comes from the application at the moment of
reading, so a notice sent before the clerk named the application still shows its name. The texts are Simplified
Chinese msgids: the web pages pass Flask-Babel's ``gettext`` to render them in the reader's language; e-mail and
webhooks render them in Chinese. Rows written before events existed have no ``event`` and show their ``message``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.workdays.calendar import SHANGHAI

Translate = Callable[[str], str]

TEXTS: dict[str, str] = {
    "new_task": "新待办：《%(title)s》%(step)s",
    "returned": "《%(title)s》被退回至「%(step)s」",
    "withdrawn": "《%(title)s》已撤回至「%(step)s」",
    "transferred": "%(actor)s 将《%(title)s》%(step)s 转办给您",
    "reassigned": "%(actor)s（督办）将《%(title)s》%(step)s 改派给您",
    "reassigned_away": "%(actor)s（督办）已将《%(title)s》%(step)s 改派给 %(target)s",
    "overdue": "已逾期：《%(title)s》%(step)s，办理期限 %(due)s",
    "escalation": "督办升级：《%(title)s》%(step)s超过办理期限（%(due)s）一个工作日仍未办结，当前办理人：%(holders)s",
    "urge": "%(actor)s 催办《%(title)s》%(step)s",
    "comment": "%(actor)s 评论《%(title)s》",
    "terminated": "《%(title)s》已被 %(actor)s 终止",
    "completed": "《%(title)s》已办结",
    "rejected": "《%(title)s》未获同意（不予同意），流程结束",
    "declined": "《%(title)s》不予受理，流程结束",
    "cc": "%(actor)s 将《%(title)s》（%(step)s）抄送给您",
    "cc_model": "《%(title)s》%(step)s已办理（%(decision)s），抄送您知悉",
}
#: The other words the sentences are made of, translated like them.
UNTITLED = "申请"
WITH_NOTE = "%(text)s：%(note)s"
LIST_SEPARATOR = "、"
NOBODY = "无人可办理（岗位空缺）"
WORDS = (UNTITLED, WITH_NOTE, LIST_SEPARATOR, NOBODY)
#: Which end of an application each outcome announces to its applicant.
OUTCOME_EVENTS = {"completed": "completed", "rejected": "rejected", "declined": "declined"}


def _same(text: str) -> str:
    return text


def notice_text(event: str | None, params: Mapping[str, Any] | None, title: str | None, message: str,
                translate: Translate = _same) -> str:
    """Put a notification into words in the language of ``translate`` (Chinese when none is given)."""
    template = TEXTS.get(event or "")
    if template is None:
        return message  # a row from before events, or an event this version does not know: its own words
    values = {name: _value(name, value, translate) for name, value in (params or {}).items()}
    values["title"] = title or translate(UNTITLED)
    try:
        text = translate(template) % values
    except (KeyError, TypeError, ValueError):
        text = template % _complete(template, values)
    return translate(WITH_NOTE) % {"text": text, "note": message} if message else text


def _value(name: str, value: Any, translate: Translate) -> str:
    if name in ("step", "decision"):
        return translate(str(value)) if value else ""
    if name == "due":
        return _beijing_day(value)
    if name == "holders":
        return translate(LIST_SEPARATOR).join(value) if value else translate(NOBODY)
    return "" if value is None else str(value)


def _beijing_day(value: Any) -> str:
    try:
        return dt.datetime.fromisoformat(str(value)).astimezone(SHANGHAI).strftime("%Y-%m-%d")
    except ValueError:
        return str(value or "-")


def _complete(template: str, values: dict[str, str]) -> dict[str, str]:
    """Fill names a stored row lacks with nothing, so a malformed row still reads rather than fails."""
    class _Blank(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return ""

    return _Blank(values)
