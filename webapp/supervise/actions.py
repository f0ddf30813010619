"""Supervisors' instance page and actions: 催办, 改派, 挂起 / 恢复 / 终止, 修复数据并重试, 回退.

Every action is a form post with a required reason, answered with a redirect to the instance page and a flash
message (post / redirect / get); the engine's refusals come back as flash messages, never as a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import HumanTask, Instance
from engine.org.access import is_overseer
from engine.supervision import actions as supervisor_actions
from webapp.extensions import db
from webapp.supervise import bp
from webapp.supervise.instance_page import diagram_payload, display_names, page_context
from webapp.web import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])


def overseer_required(view: F) -> F:
    """Let only supervisors and admins in; everyone else gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_overseer(current_user()):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


def _instance(instance_id: int) -> Instance:
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(_("申请不存在"))
    return instance


def _back(instance_id: int) -> Response:
    return redirect(url_for("supervise.instance", instance_id=instance_id))


def _refused(exc: Conflict | InvalidInput) -> None:
    details = "；".join(m for messages in (exc.fields or {}).values() for m in messages)
    flash(f"{exc.message}{'：' + details if details else ''}", "error")


@bp.get("/instances/<int:instance_id>", endpoint="instance")
@overseer_required
def instance_page(instance_id: int) -> str:
    """The instance as a supervisor sees it: diagram, holders, data, incident, the trail and the actions."""
    instance = _instance(instance_id)
    return render_template("supervise/instance.html", **page_context(db.session, _runtime(), instance))


@bp.get("/instances/<int:instance_id>/diagram.json", endpoint="diagram")
@overseer_required
def diagram(instance_id: int) -> Response:
    """The BPMN of the instance's version with its done, active, overdue and failed steps."""
    return jsonify(diagram_payload(db.session, _runtime(), _instance(instance_id)))


@bp.post("/instances/<int:instance_id>/urge", endpoint="urge")
@overseer_required
def urge(instance_id: int) -> Response:
    """催办: remind the holders of the open steps."""
    try:
        count = supervisor_actions.urge(db.session, current_user(), instance_id, request.form.get("reason", ""))
    except (Conflict, InvalidInput) as exc:
        _refused(exc)
    else:
        flash(_("已催办 %(count)d 个待办环节", count=count), "success")
    return _back(instance_id)


@bp.post("/instances/<int:instance_id>/suspend", endpoint="suspend")
@overseer_required
def suspend(instance_id: int) -> Response:
    """挂起: stop the instance until it is resumed."""
    return _act(instance_id, lambda reason: supervisor_actions.suspend(
        db.session, current_user(), instance_id, reason), _("已挂起：定时器暂停，待办暂不能办理"))


@bp.post("/instances/<int:instance_id>/resume", endpoint="resume")
@overseer_required
def resume(instance_id: int) -> Response:
    """恢复: continue a suspended instance where it stood."""
    return _act(instance_id, lambda reason: supervisor_actions.resume(
        db.session, _runtime(), current_user(), instance_id, reason), _("已恢复办理"))


@bp.post("/instances/<int:instance_id>/terminate", endpoint="terminate")
@overseer_required
def terminate(instance_id: int) -> Response:
    """终止: end the instance for good."""
    return _act(instance_id, lambda reason: supervisor_actions.terminate(
        db.session, current_user(), instance_id, reason), _("已终止，申请人已收到通知"))


@bp.post("/instances/<int:instance_id>/retry", endpoint="retry")
@overseer_required
def retry(instance_id: int) -> Response:
    """修复数据并重试: set the corrected values and run the failed step again."""
    values = {key.removeprefix("value."): raw for key, raw in request.form.items()
              if key.startswith("value.") and raw.strip()}
    extra_name, extra_value = request.form.get("extra_name", "").strip(), request.form.get("extra_value", "")
    if extra_name and extra_value.strip():
        values[extra_name] = extra_value
    try:
        instance = supervisor_actions.retry(db.session, _runtime(), current_user(), instance_id, values,
                                            request.form.get("reason", ""))
    except (Conflict, InvalidInput) as exc:
        _refused(exc)
        return _back(instance_id)
    if instance.status == "error":
        flash(_("重试后仍出错：%(message)s", message=(instance.incident or {}).get("message", "")), "warning")
    else:
        flash(_("重试成功，申请已继续办理"), "success")
    return _back(instance_id)


@bp.post("/instances/<int:instance_id>/move-back", endpoint="move_back")
@overseer_required
def move_back(instance_id: int) -> Response:
    """回退: move the instance back to an earlier completed step."""
    target = request.form.get("target", "")
    return _act(instance_id, lambda reason: supervisor_actions.move_back(
        db.session, _runtime(), current_user(), instance_id, target, reason), _("已回退，该环节办理人将收到通知"))


@bp.post("/instances/<int:instance_id>/tasks/<task:task_id>/reassign", endpoint="reassign")
@overseer_required
def reassign(instance_id: int, task_id: str) -> Response:
    """改派: give an open task to another eligible user."""
    task = db.session.get(HumanTask, task_id)
    if task is None or task.instance_id != instance_id:
        raise NotFound(_("任务不存在"))
    to = request.form.get("to", "")
    name = display_names(db.session, [to]).get(to, to)
    return _act(instance_id, lambda reason: supervisor_actions.reassign(
        db.session, current_user(), task_id, to, reason), _("已改派给 %(name)s", name=name))


def _act(instance_id: int, action: Callable[[str], Any], done: str) -> Response:
    try:
        action(request.form.get("reason", ""))
    except (Conflict, InvalidInput) as exc:
        _refused(exc)
    else:
        flash(done, "success")
    return _back(instance_id)
