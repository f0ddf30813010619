"""Routes of the tasks blueprint: 待办, 已办, the task page and its actions (办理, 认领, 释放, 退回, 转办)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import clock
from engine.errors import InvalidInput
from engine.models import HumanTask
from engine.org.access import acting_for, can_act, holds_candidate_role
from engine.review import applications, attachments, batch, phrases, reviewing, signing
from engine.workdays.store import load_calendar
from webapp.extensions import db
from webapp.tasks import attachments as task_attachments
from webapp.tasks import bp, formdata, inbox_args, present
from webapp.web import current_user, login_required, safe_next


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


@bp.get("", endpoint="inbox")
@login_required
def inbox() -> tuple[str, int] | str:
    """待办: a page each of my tasks and my role's queue, filtered, sorted and paged in the database."""
    user = current_user()
    args, problems = inbox_args.parse_inbox_args(db.session, request.args)
    box = present.load_inbox(db.session, user, None if problems else args)
    calendar, now = load_calendar(db.session), clock.now()
    shown = box.mine.items + box.queue.items
    batchable = {t.form_key: batch.batchable(t.form_key) for t in shown}
    page = render_template(
        "tasks/inbox.html", inbox=box, args=args, filters=args.values, problems=problems,
        dues={t.id: present.due_of(t, calendar, now) for t in shown},
        names=present.display_names(db.session, [t.assignee for t in box.mine.items]),
        mine_links=present.page_links(args, "page", box.mine),
        queue_links=present.page_links(args, "queue_page", box.queue),
        batchable=batchable, batch_steps=sorted({t.name for t in shown if batchable[t.form_key]}),
        per_page_choices=inbox_args.PER_PAGE_CHOICES)
    return (page, 400) if problems else page


@bp.get("/done", endpoint="done")
@login_required
def done() -> str:
    """已办: the tasks I completed or sent back, newest first, including those done for someone else."""
    user = current_user()
    rows = list(db.session.scalars(
        select(HumanTask).where(HumanTask.completed_by == user.username,
                                HumanTask.closed_reason.in_(("completed", "returned")))
        .order_by(HumanTask.completed_at.desc()).limit(200)))
    names = present.display_names(db.session, [t.on_behalf_of for t in rows])
    return render_template("tasks/done.html", tasks=rows, names=names, decision_label=present.decision_label)


@bp.get("/<task:task_id>", endpoint="show")
@login_required
def show(task_id: str) -> str:
    """The task page: the application, earlier 审批意见, the form and the actions the user may take."""
    task = reviewing.mark_opened(db.session, current_user(), task_id)
    values = applications.prefill(db.session, _runtime(), task)
    return _task_page(task, values)


@bp.post("/<task:task_id>/complete", endpoint="complete")
@login_required
def complete(task_id: str) -> Response | tuple[str, int]:
    """办理: validate the form and complete the task; errors come back inline with the values kept."""
    task = reviewing.mark_opened(db.session, current_user(), task_id)
    data = formdata.from_post(task.form_key, request.form)
    try:
        applications.complete_task(db.session, _runtime(), current_user(), task_id, data)
    except InvalidInput as exc:
        return _task_page(reviewing.mark_opened(db.session, current_user(), task_id), data, exc, "complete"), 422
    flash(_("已办理：%(step)s", step=_(task.name)), "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/<task:task_id>/claim", endpoint="claim")
@login_required
def claim(task_id: str) -> Response:
    """认领: take a task of my role's queue."""
    task = applications.claim_task(db.session, _runtime(), current_user(), task_id)
    flash(_("已认领：%(step)s", step=_(task.name)), "success")
    return redirect(safe_next(request.form.get("next"), url_for("tasks.show", task_id=task_id)))


@bp.post("/<task:task_id>/release", endpoint="release")
@login_required
def release(task_id: str) -> Response:
    """释放: give a claimed task back to my role's queue."""
    task = applications.release_task(db.session, _runtime(), current_user(), task_id)
    flash(_("已释放：%(step)s，其他同岗位人员可以认领", step=_(task.name)), "success")
    return redirect(safe_next(request.form.get("next"), url_for("tasks.inbox")))


@bp.post("/<task:task_id>/return", endpoint="return_to")
@login_required
def return_to(task_id: str) -> Response | tuple[str, int]:
    """退回: send the application back to an earlier step (by default the applicant's) with a reason."""
    target, comment = request.form.get("target") or None, request.form.get("comment", "")
    try:
        reviewing.return_to(db.session, _runtime(), current_user(), task_id, comment, target)
    except InvalidInput as exc:
        task = reviewing.mark_opened(db.session, current_user(), task_id)
        return _task_page(task, applications.prefill(db.session, _runtime(), task), exc, "return"), 422
    flash(_("已退回，对方将看到退回理由。"), "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/<task:task_id>/transfer", endpoint="transfer")
@login_required
def transfer(task_id: str) -> Response | tuple[str, int]:
    """转办: hand the task to a colleague with the same role in the unit, with a reason."""
    to, reason = request.form.get("to", ""), request.form.get("reason", "")
    try:
        task = reviewing.transfer(db.session, current_user(), task_id, to, reason)
    except InvalidInput as exc:
        task = reviewing.mark_opened(db.session, current_user(), task_id)
        return _task_page(task, applications.prefill(db.session, _runtime(), task), exc, "transfer"), 422
    names = present.display_names(db.session, [task.assignee])
    flash(_("已转办给 %(name)s", name=names.get(task.assignee or "", task.assignee)), "success")
    return redirect(url_for("tasks.inbox"))


def task_page_with(task: HumanTask, **state: Any) -> str:
    """The task page with its form prefilled and extra state for the included sections (e.g. a comment error)."""
    return _task_page(task, applications.prefill(db.session, _runtime(), task), **state)


def _task_page(task: HumanTask, values: dict[str, Any], error: InvalidInput | None = None,
               panel: str | None = None, **state: Any) -> str:
    user = current_user()
    instance = task.instance
    comments = reviewing.comments_of(db.session, user, instance.id)
    acting = task.is_open and instance.status not in ("suspended", "terminated", "completed") and can_act(user, task)
    holding = acting and task.sign_group_id is None  # an added approver (加签) only gives an opinion
    steps = reviewing.returnable_steps(db.session, _runtime(), task) if holding else []
    files = attachments.list_attachments(db.session, user, instance.id)
    names = present.display_names(db.session, [task.assignee, task.returned_by, task.completed_by, task.on_behalf_of,
                                               *(f.uploaded_by for f in files), *(s.completed_by for s in steps),
                                               *(c.author for c in comments)])
    return render_template(
        "tasks/show.html", task=task, instance=instance, values=values, acting=acting, names=names, steps=steps,
        panel=panel, error=error, errors=(error.fields or {}) if error else {},
        posted=request.form if panel in ("return", "transfer", "add_sign", "delegate") else {},
        fields=formdata.describe(task.form_key, instance.data if task.is_open else None),
        decisions=formdata.decision_choices(task.form_key),
        list_rows=formdata.list_rows, due=present.due_of(task, load_calendar(db.session), clock.now()),
        can_claim=task.is_open and task.assignee is None and holds_candidate_role(user, task),
        can_release=task.is_open and task.assignee is not None
        and task.assignee in (user.username, acting_for(user, task))
        and signing.open_group(db.session, task.id) is None,
        candidates=reviewing.transfer_candidates(db.session, user, task) if holding else [],
        application=present.application_fields(instance), opinions=present.opinions_of(db.session, instance),
        files=[(f, present.attachment_url(instance.id, f.id)) for f in files], kinds=attachments.KINDS,
        attachment_panel=task_attachments.panel(task, files, acting),
        application_url=url_for("applications.show", instance_id=instance.id)
        if "applications.show" in current_app.view_functions else None,
        comments=comments, phrases=phrases.phrases_of(db.session, user), **state,
    )
