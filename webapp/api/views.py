"""API routes: parse and validate, call one engine function, serialize."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

import forms
from engine.errors import InvalidInput
from engine.models import AuditEntry, Instance, Unit
from engine.org.access import require_visible, visible_instances
from engine.org.units import sign_in
from engine.review import applications, attachments, reviewing
from engine.review.inbox import inbox_page
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_versions
from engine.workflow.uow import unit_of_work
from webapp.api import bp, schemas
from webapp.api.openapi import build_spec
from webapp.api.present import attachment_dict, dump, history_dict, instance_dict, task_dict
from webapp.api.tokens import issue_token
from webapp.applications.present import display_names
from webapp.errors import BadRequest
from webapp.extensions import db
from webapp.security import attachment_download, rate_limit
from webapp.tasks.inbox_args import parse_inbox_args


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


def _load(schema: type[Schema], data: Any) -> dict[str, Any]:
    try:
        return schema().load(data)
    except ValidationError as exc:
        raise InvalidInput("请求参数有误", fields=_by_field(exc.normalized_messages())) from exc


def _by_field(messages: dict[str, Any]) -> dict[str, list[str]]:
    """marshmallow nests the errors of a list's items under their index; the API names fields with a flat list."""
    def flat(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [m for item in value.values() for m in flat(item)]
        return [m for item in value for m in flat(item)] if isinstance(value, list) else [str(value)]
    return {str(name): flat(value) for name, value in messages.items()}


def _body(schema: type[Schema]) -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("请求体须为 JSON 对象（Content-Type: application/json）")
    return _load(schema, data)


@bp.post("/auth/token", endpoint="issue_token")
@rate_limit("sign_in")
def issue_token_view() -> Response:
    creds = _body(schemas.TokenRequest)
    settings = current_app.config["PRESSFLOW"]
    user = sign_in(db.session, creds["username"], creds["password"], settings.lockout_attempts,
                   settings.lockout_minutes)
    token, expires_at = issue_token(current_app.config["SECRET_KEY"], user,
                                    current_app.config["PRESSFLOW"].token_ttl_seconds)
    return jsonify(dump(schemas.TokenResponse, {"token": token, "expires_at": expires_at}))


@bp.get("/me")
def me() -> Response:
    grants = [{"role": gr.role, "unit": gr.unit.code} for gr in g.user.grants]
    return jsonify(dump(schemas.Me, {"username": g.user.username, "display_name": g.user.display_name,
                                     "grants": grants}))


@bp.get("/processes")
def processes() -> Response:
    versions = latest_versions(db.session)
    return jsonify(dump(schemas.ProcessOut, [{"key": v.process_key, "name": v.name, "version": v.version}
                                             for v in versions], many=True))


@bp.post("/instances")
def start_instance() -> tuple[Response, int]:
    body = _body(schemas.StartRequest)
    with unit_of_work(db.session):
        instance = applications.start_application(db.session, _runtime(), g.user, body["process"], body.get("unit"))
        answer = instance_dict(db.session, instance)
    return jsonify(dump(schemas.InstanceOut, answer)), 201


@bp.get("/instances")
def list_instances() -> Response:
    args = _load(schemas.InstanceQuery, request.args.to_dict())
    query = visible_instances(g.user, select(Instance))
    if "status" in args:
        query = query.where(Instance.status == args["status"])
    if "process" in args:
        query = query.where(Instance.process_key == args["process"])
    if "unit" in args:
        query = query.join(Unit, Instance.unit_id == Unit.id).where(Unit.code == args["unit"])
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(query.order_by(Instance.id.desc()).offset((page - 1) * per_page).limit(per_page))
    items = [instance_dict(db.session, i) for i in rows]
    return jsonify(dump(schemas.InstancePage, {"items": items, "total": total, "page": page}))


@bp.get("/instances/<int:instance_id>")
def get_instance(instance_id: int) -> Response:
    instance = require_visible(g.user, db.session.get(Instance, instance_id))
    return jsonify(dump(schemas.InstanceOut, instance_dict(db.session, instance)))


@bp.get("/instances/<int:instance_id>/history")
def instance_history(instance_id: int) -> Response:
    require_visible(g.user, db.session.get(Instance, instance_id))
    entries = list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.instance_id == instance_id).order_by(AuditEntry.at, AuditEntry.id)
    ))
    names = display_names(db.session, [e.on_behalf_of for e in entries])
    return jsonify(dump(schemas.HistoryOut, [history_dict(e, names) for e in entries], many=True))


@bp.post("/instances/<int:instance_id>/attachments")
def upload_attachment(instance_id: int) -> tuple[Response, int]:
    form = _load(schemas.AttachmentForm, request.form.to_dict())
    file = request.files.get("file")
    if file is None:
        raise InvalidInput("缺少文件", fields={"file": ["请选择要上传的文件（multipart 字段 file）"]})
    upload = attachments.Upload(filename=file.filename or "", kind=form["kind"], content=file.read())
    attachment = attachments.add_attachment(db.session, g.user, instance_id, upload,
                                            current_app.config["MAX_CONTENT_LENGTH"])
    return jsonify(dump(schemas.AttachmentOut, attachment_dict(attachment))), 201


@bp.get("/instances/<int:instance_id>/attachments")
def list_attachments(instance_id: int) -> Response:
    items = attachments.list_attachments(db.session, g.user, instance_id)
    return jsonify(dump(schemas.AttachmentOut, [attachment_dict(a) for a in items], many=True))


@bp.get("/instances/<int:instance_id>/attachments/<int:attachment_id>")
def download_attachment(instance_id: int, attachment_id: int) -> Response:
    return attachment_download(attachments.get_attachment(db.session, g.user, instance_id, attachment_id))


@bp.get("/tasks")
def list_tasks() -> Response:
    """One page of my actionable tasks, filtered and sorted like the inbox; totals and page links in headers."""
    args, problems = parse_inbox_args(db.session, request.args, api=True)
    if problems:
        raise InvalidInput("请求参数有误", fields=problems)
    claimed = {"mine": True, "group": False}.get(args.scope or "")
    page = inbox_page(db.session, g.user, args.query, claimed=claimed, page=args.page, per_page=args.per_page)
    response = jsonify(dump(schemas.TaskOut, [task_dict(t) for t in page.items], many=True))
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["Link"] = _page_links(args.values, page.page, page.pages)
    return response


def _page_links(values: dict[str, str], page: int, pages: int) -> str:
    kept = {k: v for k, v in values.items() if v and k not in ("page", "queue_page")}
    wanted = {"first": 1, "last": pages} | ({"prev": page - 1} if page > 1 else {}) | (
        {"next": page + 1} if page < pages else {})
    return ", ".join(f'<{url_for("api.list_tasks", **(kept | {"page": n}))}>; rel="{rel}"' for rel, n in wanted.items())


@bp.get("/tasks/<task:task_id>")
def get_task(task_id: str) -> Response:
    task = reviewing.mark_opened(db.session, g.user, task_id)
    detail = task_dict(task) | {"form_schema": forms.describe_form(task.form_key),
                                "data": applications.prefill(db.session, _runtime(), task)}
    return jsonify(dump(schemas.TaskDetailOut, detail))


@bp.post("/tasks/<task:task_id>/claim")
def claim_task(task_id: str) -> Response:
    task = applications.claim_task(db.session, _runtime(), g.user, task_id)
    return jsonify(dump(schemas.TaskOut, task_dict(task)))


@bp.post("/tasks/<task:task_id>/release")
def release_task(task_id: str) -> Response:
    task = applications.release_task(db.session, _runtime(), g.user, task_id)
    return jsonify(dump(schemas.TaskOut, task_dict(task)))


@bp.post("/tasks/<task:task_id>/complete")
def complete_task(task_id: str) -> Response:
    body = _body(schemas.CompleteRequest)
    # The answer is read in the action's transaction: the instance as it left it, with no second one to begin.
    with unit_of_work(db.session):
        instance = applications.complete_task(db.session, _runtime(), g.user, task_id, body["data"])
        answer = instance_dict(db.session, instance)
    return jsonify(dump(schemas.InstanceOut, answer))


@bp.get("/calendar/add-workdays")
def add_workdays() -> Response:
    args = _load(schemas.AddWorkdaysQuery, request.args.to_dict())
    result = load_calendar(db.session).add_workdays(args["start"], args["days"])
    return jsonify(dump(schemas.AddWorkdaysOut, {"date": result.date, "provisional": result.provisional}))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())
