"""Routes of the notifications blueprint: the list, newest first, and marking read."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.models import HumanTask
from engine.review import notify
from webapp.extensions import db
from webapp.notifications import bp
from webapp.web import current_user, login_required, safe_next


@bp.get("", endpoint="index")
@login_required
def index() -> str:
    """通知: what happened to my applications and tasks, newest first, unread marked."""
    user = current_user()
    rows = notify.notifications_of(db.session, user)
    task_ids = {n.task_id for n in rows if n.task_id}
    open_tasks = set(db.session.scalars(select(HumanTask.id).where(
        HumanTask.id.in_(task_ids), HumanTask.completed_at.is_(None)))) if task_ids else set()
    return render_template("notifications/index.html", notifications=rows, open_tasks=open_tasks,
                           kinds=notify.KINDS, unread=notify.unread_count(db.session, user), user=user)


@bp.post("/<int:notification_id>/read", endpoint="read")
@login_required
def read(notification_id: int) -> Response:
    """Mark one of my notifications read."""
    notify.mark_read(db.session, current_user(), notification_id)
    return redirect(safe_next(request.form.get("next"), url_for("notifications.index")))


@bp.post("/read-all", endpoint="read_all")
@login_required
def read_all() -> Response:
    """Mark all my notifications read."""
    notify.mark_read(db.session, current_user())
    flash(_("全部通知已标为已读"), "success")
    return redirect(url_for("notifications.index"))
