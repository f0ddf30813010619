"""批量审批 pages: choose tasks of one review step in the inbox, give one decision and 审批意见, see what was done."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext as _

from engine.errors import InvalidInput, NotFound
from engine.models import TASK_ID_PATTERN
from engine.review import batch, phrases
from webapp.extensions import db
from webapp.tasks import bp, formdata
from webapp.web import current_user, login_required

TASK_ID = re.compile(TASK_ID_PATTERN)


@bp.get("/batch", endpoint="batch")
@login_required
def batch_page() -> tuple[str, int]:
    """The chosen tasks, which of them a batch would complete, and the one decision + 审批意见 form."""
    ids, problem = _task_ids(request.args.getlist("task"))
    return _page(ids, problem, status=400 if problem else 200)


@bp.post("/batch", endpoint="batch_complete")
@login_required
def batch_complete() -> tuple[str, int]:
    """Complete the chosen tasks one by one; name the ones refused and why."""
    ids, problem = _task_ids(request.form.getlist("task"))
    if problem:
        return _page(ids, problem, status=400)
    comment = request.form.get("comment", "")
    try:
        result = batch.complete_batch(db.session, current_app.extensions["pressflow_runtime"], current_user(), ids,
                                      request.form.get("step", ""), request.form.get("decision", ""), comment)
    except NotFound as exc:  # the chosen tasks are gone (or never were visible): say so on the page, not a 404
        return _page(ids, None, error=exc, comment=comment, status=404)
    except InvalidInput as exc:
        return _page(ids, None, error=exc, comment=comment, status=422)
    return render_template("tasks/batch_result.html", result=result), 200


def _task_ids(raw: list[str]) -> tuple[list[str], str | None]:
    ids = [value.strip() for value in raw if value.strip()]
    if not ids:
        return [], _("请先在待办中勾选要批量审批的任务。")
    if len(ids) > batch.BATCH_MAX:
        return [], _("一次最多批量审批 %(n)s 个任务。", n=batch.BATCH_MAX)
    if not all(TASK_ID.fullmatch(value) for value in ids):
        return [], _("任务编号格式无效。")
    return ids, None


def _page(ids: list[str], problem: str | None, *, status: int, error: InvalidInput | NotFound | None = None,
          comment: str = "") -> tuple[str, int]:
    user = current_user()
    plan = batch.plan_batch(db.session, user, ids) if ids else batch.BatchPlan()
    context: dict[str, Any] = {
        "plan": plan, "problem": problem, "error": error, "errors": (error.fields or {}) if error else {},
        "comment": comment, "phrases": phrases.phrases_of(db.session, user),
        "decisions": formdata.decision_choices(plan.form_key) if plan.form_key else [],
    }
    return render_template("tasks/batch.html", **context), status
