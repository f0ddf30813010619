"""常用语 (a reviewer's saved 审批意见) and the discussion thread on the task page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import Conflict, InvalidInput
from engine.review import phrases, reviewing
from webapp.extensions import db
from webapp.tasks import bp, views
from webapp.web import current_user, login_required


@bp.get("/phrases", endpoint="phrases")
@login_required
def phrase_list() -> str:
    """My 常用语: the system defaults and my own, with a form to add one."""
    return _phrase_page()[0]


@bp.post("/phrases", endpoint="phrase_add")
@login_required
def phrase_add() -> Response | tuple[str, int]:
    """Save a new phrase of mine."""
    text = request.form.get("text", "")
    try:
        phrases.save_phrase(db.session, current_user(), text)
    except InvalidInput as exc:
        return _phrase_page(exc, text[:phrases.PHRASE_MAX], 422)
    except Conflict as exc:  # already in the list, or the list is full
        return _phrase_page(exc, text[:phrases.PHRASE_MAX], 409)
    flash(_("常用语已保存"), "success")
    return redirect(url_for("tasks.phrases"))


@bp.post("/phrases/<int:phrase_id>/delete", endpoint="phrase_delete")
@login_required
def phrase_delete(phrase_id: int) -> Response:
    """Delete one of my phrases."""
    phrases.delete_phrase(db.session, current_user(), phrase_id)
    flash(_("常用语已删除"), "success")
    return redirect(url_for("tasks.phrases"))


def _phrase_page(error: InvalidInput | Conflict | None = None, text: str = "", status: int = 200) -> tuple[str, int]:
    listed = phrases.phrases_of(db.session, current_user())
    return render_template("tasks/phrases.html", phrases=listed, error=error, text=text,
                           limit=phrases.PHRASE_MAX), status


@bp.post("/<task:task_id>/comments", endpoint="comment")
@login_required
def comment(task_id: str) -> Response | tuple[str, int]:
    """Post to the application's discussion from the task page."""
    task = reviewing.mark_opened(db.session, current_user(), task_id)
    body = request.form.get("body", "")
    try:
        reviewing.add_comment(db.session, current_user(), task.instance_id, body)
    except InvalidInput:
        return views.task_page_with(task, comment_error=_("评论须为 1–2000 个字符"), comment_body=body[:2000]), 422
    flash(_("评论已发表"), "success")
    return redirect(url_for("tasks.show", task_id=task_id) + "#discussion")
