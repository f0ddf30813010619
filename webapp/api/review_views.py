"""API routes for reviewers' actions beyond forms: 退回, 撤回, 转办, 催办, comments, notifications, 委托."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from flask_babel import gettext

from engine.models import Delegation
from engine.review import delegation, notify, reviewing
from webapp.api import bp, schemas
from webapp.api.present import dump, instance_dict, task_dict
from webapp.api.views import _body, _load, _runtime
from webapp.extensions import db


@bp.get("/tasks/<task:task_id>/return-targets")
def return_targets(task_id: str) -> Response:
    task = reviewing.mark_opened(db.session, g.user, task_id)
    steps = reviewing.returnable_steps(db.session, _runtime(), task) if task.is_open else []
    return jsonify(dump(schemas.StepOut, [{"id": s.row_id, "bpmn_id": s.bpmn_id, "name": s.name,
                                           "completed_by": s.completed_by, "completed_at": s.completed_at}
                                          for s in steps], many=True))


@bp.post("/tasks/<task:task_id>/return")
def return_task(task_id: str) -> Response:
    body = _body(schemas.ReturnRequest)
    instance = reviewing.return_to(db.session, _runtime(), g.user, task_id, body["comment"], body.get("target"))
    return jsonify(dump(schemas.InstanceOut, instance_dict(db.session, instance)))


@bp.post("/tasks/<task:task_id>/transfer")
def transfer_task(task_id: str) -> Response:
    body = _body(schemas.TransferRequest)
    task = reviewing.transfer(db.session, g.user, task_id, body["to"], body["reason"])
    return jsonify(dump(schemas.TaskOut, task_dict(task)))


@bp.post("/instances/<int:instance_id>/withdraw")
def withdraw_instance(instance_id: int) -> Response:
    body = _body(schemas.WithdrawRequest)
    instance = reviewing.withdraw(db.session, _runtime(), g.user, instance_id, body["comment"])
    return jsonify(dump(schemas.InstanceOut, instance_dict(db.session, instance)))


@bp.post("/instances/<int:instance_id>/urge")
def urge_instance(instance_id: int) -> Response:
    body = _body(schemas.UrgeRequest)
    count = reviewing.urge(db.session, g.user, instance_id, body["comment"])
    return jsonify(dump(schemas.UrgeOut, {"reminded_tasks": count}))


@bp.get("/instances/<int:instance_id>/comments")
def list_comments(instance_id: int) -> Response:
    rows = reviewing.comments_of(db.session, g.user, instance_id)
    return jsonify(dump(schemas.CommentOut, rows, many=True))


@bp.post("/instances/<int:instance_id>/comments")
def add_comment(instance_id: int) -> tuple[Response, int]:
    body = _body(schemas.CommentRequest)
    comment = reviewing.add_comment(db.session, g.user, instance_id, body["body"])
    return jsonify(dump(schemas.CommentOut, comment)), 201


@bp.get("/notifications")
def list_notifications() -> Response:
    rows = notify.notifications_of(db.session, g.user)
    items = [{"id": n.id, "kind": n.kind, "message": notify.text_of(n, gettext), "note": n.message if n.event else "",
              "event": n.event, "params": n.params or {}, "instance_id": n.instance_id, "task_id": n.task_id,
              "created_at": n.created_at, "read": n.read_at is not None} for n in rows]
    return jsonify(dump(schemas.NotificationPage, {"unread": notify.unread_count(db.session, g.user),
                                                   "items": items}))


@bp.post("/notifications/read")
def read_notifications() -> Response:
    body = _load(schemas.MarkReadRequest, request.get_json(silent=True) or {})
    notify.mark_read(db.session, g.user, body.get("id"))
    return jsonify(dump(schemas.NotificationPage, {"unread": notify.unread_count(db.session, g.user), "items": []}))


@bp.get("/delegations")
def list_delegations() -> Response:
    rows = delegation.delegations_of(db.session, g.user)
    return jsonify(dump(schemas.DelegationOut, [_delegation(d) for d in rows], many=True))


@bp.post("/delegations")
def create_delegation() -> tuple[Response, int]:
    body = _body(schemas.DelegationRequest)
    row = delegation.create_delegation(db.session, g.user, body["delegate"], body["starts_on"], body["ends_on"],
                                       body["reason"])
    return jsonify(dump(schemas.DelegationOut, _delegation(row))), 201


@bp.delete("/delegations/<int:delegation_id>")
def revoke_delegation(delegation_id: int) -> Response:
    delegation.revoke_delegation(db.session, g.user, delegation_id)
    return jsonify({"revoked": delegation_id})


def _delegation(row: Delegation) -> dict[str, object]:
    return {"id": row.id, "principal": row.principal.username, "delegate": row.delegate.username,
            "starts_on": row.starts_on, "ends_on": row.ends_on, "reason": row.reason,
            "revoked": row.revoked_at is not None}
