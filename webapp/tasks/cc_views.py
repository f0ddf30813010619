"""抄送 in the tasks blueprint: the 抄送我 tab, 抄送 from the task page, receipts and the approval-chain preview.

The task and application pages include ``tasks/_cc.html``, ``tasks/_preview.html`` and ``applications/_cc.html``;
these get their data from the functions this module puts into every template (:func:`_cc_context`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.errors import InvalidInput
from engine.models import CarbonCopy, HumanTask, Instance, RoleGrant, User
from engine.org.access import OFFICE_ROLES, ROLE_LABELS, UNIT_ROLES
from engine.review import applications, carbon_copy, preview, reviewing
from webapp.extensions import db
from webapp.i18n import translate
from webapp.tasks import bp, present
from webapp.tasks.views import _task_page
from webapp.web import current_user, login_required

STATES = {"": "全部", "unread": "未阅", "read": "已阅"}


@bp.get("/cc", endpoint="cc")
@login_required
def copies() -> tuple[str, int] | str:
    """抄送我: the applications copied to me for information, 未阅 first in the filter, newest first."""
    user, state = current_user(), request.args.get("state", "")
    if state not in STATES:
        page = render_template("tasks/cc.html", copies=[], state="", states=STATES, names={},
                               problem=_("筛选条件有误：状态须为 未阅 或 已阅"), unread=0)
        return page, 400
    rows = carbon_copy.copies_to(db.session, user, state or None)
    names = present.display_names(db.session, [r.sender for r in rows])
    return render_template("tasks/cc.html", copies=rows, state=state, states=STATES, names=names, problem=None,
                           unread=carbon_copy.unread_count(db.session, user))


@bp.post("/<task:task_id>/cc", endpoint="copy")
@login_required
def copy(task_id: str) -> Response | tuple[str, int]:
    """抄送 from the task page: chosen people and/or role@unit, with an optional note."""
    users = [u[:60] for u in request.form.getlist("users") if u][:50]
    roles = [r[:100] for r in request.form.getlist("roles") if r][:20]
    try:
        sent = carbon_copy.copy_to(db.session, current_user(), task_id, users, roles,
                                   request.form.get("note", "")[:2000])
    except InvalidInput as exc:
        task = reviewing.mark_opened(db.session, current_user(), task_id)
        return _task_page(task, applications.prefill(db.session, _runtime(), task), exc, "cc"), 422
    names = "、".join(row.recipient.display_name for row in sent)
    flash(_("已抄送给 %(names)s，对方阅读后您可在此查看已阅情况", names=names), "success")
    return redirect(url_for("tasks.show", task_id=task_id) + "#cc")


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


@bp.app_context_processor
def _cc_context() -> dict[str, Any]:
    return {"cc_panel": cc_panel, "cc_received": cc_received, "chain_preview": chain_preview,
            "cc_role_labels": ROLE_LABELS}


def cc_panel(instance: Instance) -> dict[str, Any]:
    """What the 抄送 section of a task or application page shows: the receipts and the choices to copy to."""
    user = current_user()
    rows = carbon_copy.receipts(db.session, user, instance.id)
    return {"receipts": rows, "names": present.display_names(db.session, [r.sender for r in rows]),
            "people": _people(user), "roles": _role_choices(instance)}


def cc_received(instance: Instance) -> list[tuple[CarbonCopy, str]]:
    """The copies of this application the viewer received, with the sender's name (the page marked them read)."""
    user = current_user()
    rows = list(db.session.scalars(select(CarbonCopy).where(
        CarbonCopy.instance_id == instance.id, CarbonCopy.recipient_id == user.id).order_by(CarbonCopy.id)))
    names = present.display_names(db.session, [r.sender for r in rows])
    return [(row, names.get(row.sender, row.sender)) for row in rows]


def chain_preview(task: HumanTask) -> dict[str, Any]:
    """The steps ahead of the task with their holders' names (played in memory; nothing is saved)."""
    chain = preview.preview_chain(db.session, _runtime(), current_user(), task.id)
    names = present.display_names(db.session, [h for step in chain.steps for h in step.holders])
    return {"chain": chain, "names": names}


def _people(user: User) -> list[tuple[str, list[tuple[str, str]]]]:
    """Active users to copy to, grouped by the unit of their first role, the viewer left out."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    rows = db.session.scalars(select(User).where(User.active.is_(True), User.id != user.id).order_by(User.username))
    for person in rows:
        grants = sorted(person.grants, key=lambda g: g.id)
        unit = grants[0].unit.name if grants else _("未分配单位")
        grouped.setdefault(unit, []).append((person.username, person.display_name))
    return sorted(grouped.items())


def _role_choices(instance: Instance) -> list[tuple[str, str]]:
    """role@unit choices: the applying unit's roles and the Office's, where someone holds them."""
    held = set(db.session.execute(select(RoleGrant.role, RoleGrant.unit_id).join(User).where(
        User.active.is_(True))).tuples().all())
    office = carbon_copy.spec_unit(db.session, instance, f"{OFFICE_ROLES[0]}@office")
    choices = [(f"{role}@applying", instance.unit.name, role) for role in UNIT_ROLES
               if (role, instance.unit_id) in held]
    if office is not None:
        choices += [(f"{role}@office", office.name, role) for role in OFFICE_ROLES if (role, office.id) in held]
    return [(spec, _("%(role)s（%(unit)s）", role=translate(ROLE_LABELS.get(role, role)), unit=unit))
            for spec, unit, role in choices]
