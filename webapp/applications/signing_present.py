"""Timeline texts for 加签 / 减签 / 委派: the structured facts of their audit rows, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext

from engine.models import AuditEntry

ACTION_LABELS = {
    "add_sign": lazy_gettext("加签"),
    "remove_sign": lazy_gettext("减签"),
    "sign_opinion": lazy_gettext("加签意见"),
    "sign_hold": lazy_gettext("已办理，待加签人审批"),
    "sign_done": lazy_gettext("加签结束"),
    "delegate": lazy_gettext("委派"),
    "delegate_done": lazy_gettext("委派办理完毕"),
}
MODE_LABELS = {
    "before": lazy_gettext("前加签"),
    "after": lazy_gettext("后加签"),
    "parallel": lazy_gettext("并加签"),
    "delegate": lazy_gettext("委派"),
}
RULE_LABELS = {"all": lazy_gettext("会签"), "any": lazy_gettext("或签")}
OUTCOME_LABELS = {
    "agreed": lazy_gettext("加签人同意"),
    "disagreed": lazy_gettext("加签人不同意，由办理人重新决定"),
    "removed": lazy_gettext("加签人均已减签"),
    "cancelled": lazy_gettext("环节已退回或结束，加签取消"),
}
OPINION_LABELS = {"agree": lazy_gettext("同意"), "disagree": lazy_gettext("不同意")}


def sign_action(entry: AuditEntry) -> tuple[str, str] | None:
    """The label and tone of a 加签 row in the timeline, or None for other rows."""
    if entry.action not in ACTION_LABELS:
        return None
    data = entry.data_changed or {}
    if entry.action == "sign_opinion":
        decision = data.get("decision") or ""
        label = gettext("加签意见：%(decision)s", decision=str(OPINION_LABELS.get(decision, decision)))
        return label, "positive" if decision == "agree" else "negative"
    tone = "negative" if data.get("outcome") == "disagreed" or entry.action == "remove_sign" else "neutral"
    return str(ACTION_LABELS[entry.action]), tone


def sign_detail(entry: AuditEntry, names: dict[str, str]) -> str | None:
    """Say who was added, taken back or delegated to, how, and how the group ended."""
    data = entry.data_changed or {}
    mode = str(MODE_LABELS.get(data.get("mode", ""), data.get("mode", "")))
    people = gettext("、").join(names.get(n, n) for n in data.get("signers") or [])
    if entry.action == "add_sign":
        rule = str(RULE_LABELS.get(data.get("rule", ""), data.get("rule", "")))
        return gettext("%(mode)s（%(rule)s）：%(people)s", mode=mode, rule=rule, people=people)
    if entry.action == "delegate":
        return gettext("委派给 %(people)s，办理后交回", people=people)
    if entry.action == "remove_sign":
        signer = data.get("signer", "")
        return gettext("撤下加签人 %(name)s", name=names.get(signer, signer))
    if entry.action == "sign_hold":
        return gettext("%(mode)s：办理结论已保存，待 %(people)s 审批", mode=mode, people=people)
    if entry.action == "sign_done":
        outcome = data.get("outcome", "")
        return gettext("%(mode)s：%(outcome)s", mode=mode, outcome=str(OUTCOME_LABELS.get(outcome, outcome)))
    return None


def people_in(entries: list[AuditEntry]) -> list[str]:
    """Usernames named in the structured facts of 加签 rows (to look up their display names)."""
    found: list[str] = []
    for entry in entries:
        data = entry.data_changed or {} if entry.action in ACTION_LABELS else {}
        found += list(data.get("signers") or []) + ([data["signer"]] if data.get("signer") else [])
    return found
