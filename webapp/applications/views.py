"""Routes of the applications blueprint: 发起申请, 我的申请, the application page and its actions."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import defer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import HumanTask, Instance, Unit, User
from engine.org.access import require_visible, visible_instances
from engine.review import attachments, carbon_copy, reviewing
from engine.review.applications import SYSTEM_STARTED, start_application
from engine.workflow.deploy import latest_versions
from webapp.applications import bp, present
from webapp.errors import error_response
from webapp.extensions import db
from webapp.web import current_user, login_required

APPLICANT = "applicant"


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


def _applicant_units(user: User) -> list[Unit]:
    return [g.unit for g in user.grants if g.role == APPLICANT]


def _startable() -> list[Any]:
    """The processes people start (not the ones the worker starts, such as the yearly evaluation)."""
    return [v for v in latest_versions(db.session) if v.process_key not in SYSTEM_STARTED]


def _show_url(instance_id: int, anchor: str = "") -> str:
    return url_for("applications.show", instance_id=instance_id) + (f"#{anchor}" if anchor else "")


@bp.get("", endpoint="index")
@login_required
def index() -> Response:
    """The applications section starts with my applications."""
    return redirect(url_for("applications.mine"))


@bp.get("/new", endpoint="new")
@login_required
def new() -> str:
    """发起申请: the processes I may start, for the units where I am the applicant's clerk."""
    return render_template("applications/new.html", processes=_startable(),
                           units=_applicant_units(current_user()))


@bp.post("/new", endpoint="start")
@login_required
def start() -> Response | tuple[str, int]:
    """Start an application and go straight to its first step."""
    user = current_user()
    try:
        instance = start_application(db.session, _runtime(), user, request.form.get("process", "")[:100],
                                     request.form.get("unit") or None)
    except Forbidden:
        return render_template("applications/new.html", processes=_startable(),
                               units=_applicant_units(user), refused=True), 403
    first = db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None)).order_by(HumanTask.created_at))
    flash(_("申请已发起，请填写选题申报表"), "success")
    return redirect(url_for("tasks.show", task_id=first.id) if first else _show_url(instance.id))


@bp.get("/mine", endpoint="mine")
@login_required
def mine() -> str:
    """我的申请: the applications I started, newest first, with where each stands."""
    user = current_user()
    instances = list(db.session.scalars(
        visible_instances(user, select(Instance).where(Instance.started_by == user.username))
        .options(defer(Instance.state)).order_by(Instance.started_at.desc(), Instance.id.desc()).limit(200)))
    ids = [i.id for i in instances]
    rows, sent = present.open_rows(db.session, ids), present.submitted(db.session, ids)
    names = present.display_names(db.session, [t.assignee for tasks in rows.values() for t in tasks])
    return render_template(
        "applications/mine.html", instances=instances, names=names,
        statuses={i.id: present.status_of(i, rows[i.id], i.id in sent) for i in instances},
        holders={i.id: [(t, present.holder_of(t, names)) for t in rows[i.id]] for i in instances},
        outcome_label=present.outcome_label,
    )


@bp.get("/<int:instance_id>", endpoint="show")
@login_required
def show(instance_id: int) -> tuple[str, int]:
    """The application page: where it stands, its timeline, attachments and discussion."""
    carbon_copy.mark_read(db.session, current_user(), instance_id)  # opening a copied application is 已阅
    return _page(instance_id)


def _page(instance_id: int, status: int = 200, **state: Any) -> tuple[str, int]:
    user = current_user()
    instance = require_visible(user, db.session.get(Instance, instance_id))
    rows = present.open_rows(db.session, [instance.id])[instance.id]
    files = attachments.list_attachments(db.session, user, instance.id)
    comments = reviewing.comments_of(db.session, user, instance.id)
    names = present.display_names(db.session, [instance.started_by, *(t.assignee for t in rows),
                                               *(f.uploaded_by for f in files), *(c.author for c in comments)])
    return render_template(
        "applications/show.html", instance=instance, names=names, comments=comments,
        status=present.status_of(instance, rows, bool(present.submitted(db.session, [instance.id]))),
        outcome=present.outcome_label(instance), steps=present.open_steps(user, rows, names),
        events=present.timeline(db.session, instance), documents=present.documents(files),
        fields=present.application_fields(instance), kinds=attachments.KINDS,
        can_withdraw=reviewing.can_withdraw(db.session, user, instance),
        can_urge=present.may_urge(user, instance, rows), can_upload=present.may_upload(user, instance), **state,
    ), status


@bp.post("/<int:instance_id>/comments", endpoint="comment")
@login_required
def comment(instance_id: int) -> Response | tuple[str, int]:
    """Add a message to the application's discussion."""
    body = request.form.get("body", "")
    try:
        reviewing.add_comment(db.session, current_user(), instance_id, body)
    except InvalidInput:
        return _page(instance_id, 422, comment_error=_("评论须为 1–2000 个字符"), comment_body=body[:2000])
    flash(_("评论已发表"), "success")
    return redirect(_show_url(instance_id, "comments"))


@bp.post("/<int:instance_id>/attachments", endpoint="upload")
@login_required
def upload(instance_id: int) -> Response | tuple[str, int]:
    """Upload an attachment; a new upload of the same document becomes its next version."""
    file = request.files.get("file")
    kind = request.form.get("kind", "")
    received = attachments.Upload(filename=(file.filename or "") if file else "", kind=kind,
                                  content=file.read() if file else b"")
    try:
        attachments.add_attachment(db.session, current_user(), instance_id, received,
                                   current_app.config["MAX_CONTENT_LENGTH"])
    except InvalidInput as exc:
        problems = [m for messages in (exc.fields or {}).values() for m in messages]
        return _page(instance_id, 422, upload_errors=problems or [exc.message], upload_kind=kind)
    except Forbidden as exc:
        return _page(instance_id, 403, upload_errors=[exc.message], upload_kind=kind)
    flash(_("已上传：%(name)s", name=received.filename), "success")
    return redirect(_show_url(instance_id, "attachments"))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Any:
    """A file over the limit is refused before any view runs: say so on the application page."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _("文件太大：附件不能超过 %(mb)s MB，请压缩或拆分后重新上传。", mb=max(limit, 1))
    instance_id = (request.view_args or {}).get("instance_id")
    if instance_id is None or current_user() is None:
        return error_response(413, "request_entity_too_large", message)
    try:
        return _page(instance_id, 413, upload_errors=[message])
    except NotFound:
        return error_response(413, "request_entity_too_large", message)


@bp.get("/<int:instance_id>/attachments/<int:attachment_id>", endpoint="attachment")
@login_required
def attachment(instance_id: int, attachment_id: int) -> Response:
    """Download one version of an attachment of an application I may see."""
    found = attachments.get_attachment(db.session, current_user(), instance_id, attachment_id)
    return send_file(io.BytesIO(found.content), mimetype=found.content_type, as_attachment=True,
                     download_name=found.filename)


@bp.post("/<int:instance_id>/withdraw", endpoint="withdraw")
@login_required
def withdraw(instance_id: int) -> Response:
    """撤回: take back my last submission while the next step is still unopened."""
    user = current_user()
    try:
        reviewing.withdraw(db.session, _runtime(), user, instance_id, request.form.get("comment", "")[:500])
    except (Conflict, Forbidden) as exc:
        flash(_("不能撤回：%(reason)s", reason=exc.message), "error")
        return redirect(_show_url(instance_id))
    reopened = db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.completed_at.is_(None), HumanTask.assignee == user.username))
    flash(_("已撤回，可修改后重新提交"), "success")
    return redirect(url_for("tasks.show", task_id=reopened) if reopened else _show_url(instance_id))


@bp.post("/<int:instance_id>/urge", endpoint="urge")
@login_required
def urge(instance_id: int) -> Response:
    """催办: remind whoever holds the open steps."""
    try:
        count = reviewing.urge(db.session, current_user(), instance_id, request.form.get("comment", "")[:500])
    except (Conflict, Forbidden) as exc:
        flash(_("不能催办：%(reason)s", reason=exc.message), "error")
    else:
        flash(_("已催办 %(n)s 个待办环节，办理人会收到通知", n=count), "success")
    return redirect(_show_url(instance_id))
