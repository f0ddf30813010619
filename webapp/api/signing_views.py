"""API routes for 加签, 减签 and 委派 on a task (the added approvers answer through ``/tasks/<id>/complete``)."""

from __future__ import annotations

from flask import Response, g, jsonify

from engine.errors import NotFound
from engine.models import HumanTask, SignGroup
from engine.org.access import require_visible
from engine.review import signing
from webapp.api import bp, signing_schemas
from webapp.api.present import dump
from webapp.api.views import _body, _runtime
from webapp.extensions import db


@bp.get("/tasks/<task:task_id>/sign-groups")
def sign_groups(task_id: str) -> Response:
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("任务不存在或无权查看")
    require_visible(g.user, task.instance)
    groups = [grp for grp in signing.groups_of(db.session, task.instance_id) if grp.task_id == task.id]
    return jsonify(dump(signing_schemas.SignGroupOut, [group_dict(grp) for grp in groups], many=True))


@bp.post("/tasks/<task:task_id>/add-signers")
def add_signers(task_id: str) -> tuple[Response, int]:
    body = _body(signing_schemas.AddSignersRequest)
    group = signing.add_signers(db.session, g.user, task_id, body["signers"], body["mode"], body["rule"],
                                body["comment"])
    return jsonify(dump(signing_schemas.SignGroupOut, group_dict(group))), 201


@bp.post("/tasks/<task:task_id>/remove-signer")
def remove_signer(task_id: str) -> Response:
    body = _body(signing_schemas.RemoveSignerRequest)
    group = signing.remove_signer(db.session, _runtime(), g.user, task_id, body["username"], body["comment"])
    return jsonify(dump(signing_schemas.SignGroupOut, group_dict(group)))


@bp.post("/tasks/<task:task_id>/delegate")
def delegate(task_id: str) -> tuple[Response, int]:
    body = _body(signing_schemas.DelegateRequest)
    group = signing.delegate(db.session, g.user, task_id, body["to"], body["comment"])
    return jsonify(dump(signing_schemas.SignGroupOut, group_dict(group))), 201


def group_dict(group: SignGroup) -> dict[str, object]:
    """A group with each added approver's state, for the API."""
    rows = {r.assignee: r for r in signing.rows_of(db.session, group)}
    signers = [*group.signers, *(name for name in rows if name and name not in group.signers)]
    return {"id": group.id, "task_id": group.task_id, "mode": group.mode, "rule": group.rule,
            "added_by": group.added_by, "created_at": group.created_at, "closed_at": group.closed_at,
            "outcome": group.outcome, "holder_waiting": group.closed_at is None and signing.blocks_holder(group),
            "held_decision": (group.held_values or {}).get("decision"),
            "signers": [_signer(name, rows.get(name)) for name in signers]}


def _signer(name: str, row: HumanTask | None) -> dict[str, object]:
    if row is None:
        return {"username": name, "task_id": None, "state": "planned", "decision": None, "completed_at": None}
    state = "open" if row.is_open else row.closed_reason
    return {"username": name, "task_id": row.id, "state": state, "decision": row.decision,
            "completed_at": row.completed_at}
