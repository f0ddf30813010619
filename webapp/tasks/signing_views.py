"""Routes of the task page's 加签 / 减签 / 委派 forms, and what its 加签 section shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import InvalidInput
from engine.models import HumanTask, SignGroup, User
from engine.review import applications, reviewing, signing
from webapp.applications.signing_present import MODE_LABELS, RULE_LABELS
from webapp.extensions import db
from webapp.tasks import bp, present, views
from webapp.web import current_user, login_required


@dataclass
class SignPanel:
    """The 加签 section of a task page: the group going on, its people, and the forms the viewer may use."""

    group: SignGroup | None = None
    holder: HumanTask | None = None
    waiting: bool = False
    #: username, name, state in words, whether it may still be taken back (减签)
    people: list[tuple[str, str, str, bool]] = field(default_factory=list)
    candidates: list[User] = field(default_factory=list)
    may_add: bool = False
    names: dict[str, str] = field(default_factory=dict)


@bp.context_processor
def _sign_labels() -> dict[str, object]:
    return {"sign_modes": MODE_LABELS, "sign_rules": RULE_LABELS}


@bp.app_template_global("sign_panel")
def sign_panel(task: HumanTask, acting: bool) -> SignPanel:
    """Describe the 加签 state of the task for its page (called from ``tasks/_signing.html``)."""
    user = current_user()
    if task.sign_group_id is not None:
        group = db.session.get(SignGroup, task.sign_group_id)
        holder = db.session.get(HumanTask, group.task_id) if group is not None else None
        names = present.display_names(db.session, [group.added_by if group else None])
        return SignPanel(group=group, holder=holder, names=names)
    group = signing.open_group(db.session, task.id) if task.is_open else None
    panel = SignPanel(group=group, holder=task, waiting=group is not None and signing.blocks_holder(group))
    if group is not None:
        rows = {r.assignee: r for r in signing.rows_of(db.session, group)}
        panel.names = present.display_names(db.session, [*group.signers, *rows, group.added_by])
        panel.people = [(n, panel.names.get(n, n), _state(rows.get(n)), rows.get(n) is None or rows[n].is_open)
                        for n in group.signers]
    elif acting:
        panel.may_add, panel.candidates = True, signing.signer_candidates(db.session, user, task)
    return panel


def _state(row: HumanTask | None) -> str:
    if row is None:
        return _("待办理人决定后审批")
    if row.is_open:
        return _("待审批")
    return present.decision_label("sign_opinion", row.decision) if row.decision else _("已办理")


@bp.post("/<task:task_id>/add-signers", endpoint="add_signers")
@login_required
def add_signers(task_id: str) -> Response | tuple[str, int]:
    """加签: add approvers before, after or alongside me on this step."""
    form = request.form
    try:
        signing.add_signers(db.session, current_user(), task_id, form.getlist("signers"), form.get("mode", ""),
                            form.get("rule", ""), form.get("comment", ""))
    except InvalidInput as exc:
        return _again(task_id, exc, "add_sign"), 422
    flash(_("已加签，加签人将在待办中看到此任务。"), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<task:task_id>/remove-signer", endpoint="remove_signer")
@login_required
def remove_signer(task_id: str) -> Response | tuple[str, int]:
    """减签: take back an added approver who has not acted yet."""
    try:
        signing.remove_signer(db.session, views._runtime(), current_user(), task_id,
                              request.form.get("username", ""), request.form.get("comment", ""))
    except InvalidInput as exc:
        return _again(task_id, exc, "add_sign"), 422
    flash(_("已减签。"), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<task:task_id>/delegate", endpoint="delegate")
@login_required
def delegate(task_id: str) -> Response | tuple[str, int]:
    """委派: let a colleague fill in this step; it then comes back to me to finish."""
    try:
        signing.delegate(db.session, current_user(), task_id, request.form.get("to", ""),
                         request.form.get("comment", ""))
    except InvalidInput as exc:
        return _again(task_id, exc, "delegate"), 422
    flash(_("已委派，对方办理后将交回您完成。"), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


def _again(task_id: str, error: InvalidInput, panel: str) -> str:
    task = reviewing.mark_opened(db.session, current_user(), task_id)
    return views._task_page(task, applications.prefill(db.session, views._runtime(), task), error, panel)


def sign_overlays(instance_id: int) -> dict[str, str]:
    """For the instance diagram: each step with a 加签 / 委派 going on, and the added people with their state."""
    texts: dict[str, str] = {}
    for group in signing.groups_of(db.session, instance_id):
        holder = db.session.get(HumanTask, group.task_id)
        if group.closed_at is not None or holder is None:
            continue
        rows = {r.assignee: r for r in signing.rows_of(db.session, group)}
        names = present.display_names(db.session, group.signers)
        people = _("、").join(_("%(name)s（%(state)s）", name=names.get(n, n), state=_state(rows.get(n)))
                              for n in group.signers)
        texts[holder.bpmn_id] = _("%(mode)s：%(people)s", mode=MODE_LABELS[group.mode], people=people)
    return texts
