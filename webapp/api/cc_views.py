"""API routes for 抄送 (copies for information, 已阅 receipts) and the approval-chain preview."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, g, jsonify, request

from engine.models import CarbonCopy
from engine.review import carbon_copy, preview
from webapp.api import bp, schemas
from webapp.api.present import dump
from webapp.api.views import _body, _load, _runtime
from webapp.extensions import db


@bp.post("/tasks/<task:task_id>/cc")
def copy_from_task(task_id: str) -> tuple[Response, int]:
    body = _body(schemas.CarbonCopyRequest)
    rows = carbon_copy.copy_to(db.session, g.user, task_id, body["users"], body["roles"], body["note"])
    return jsonify(dump(schemas.CarbonCopyOut, [_copy(r) for r in rows], many=True)), 201


@bp.get("/tasks/<task:task_id>/preview")
def preview_task(task_id: str) -> Response:
    chain = preview.preview_chain(db.session, _runtime(), g.user, task_id)
    steps = [asdict(s) | {"unit": s.unit_code} for s in chain.steps]
    return jsonify(dump(schemas.ChainPreviewOut, asdict(chain) | {"steps": steps}))


@bp.get("/cc")
def copies_to_me() -> Response:
    args = _load(schemas.CarbonCopyQuery, request.args.to_dict())
    return jsonify(_page(args.get("state")))


@bp.get("/instances/<int:instance_id>/cc")
def instance_copies(instance_id: int) -> Response:
    rows = carbon_copy.receipts(db.session, g.user, instance_id)
    return jsonify(dump(schemas.CarbonCopyOut, [_copy(r) for r in rows], many=True))


@bp.post("/instances/<int:instance_id>/cc/read")
def read_copies(instance_id: int) -> Response:
    carbon_copy.mark_read(db.session, g.user, instance_id)
    return jsonify(_page(None))


def _page(state: str | None) -> dict[str, Any]:
    rows = carbon_copy.copies_to(db.session, g.user, state)
    unread = carbon_copy.unread_count(db.session, g.user)
    return dump(schemas.CarbonCopyPage, {"unread": unread, "items": [_copy(r) for r in rows]})


def _copy(row: CarbonCopy) -> dict[str, Any]:
    return {"id": row.id, "instance_id": row.instance_id, "instance_title": row.instance.title,
            "recipient": row.recipient.username, "recipient_name": row.recipient.display_name,
            "sender": row.sender, "task_id": row.task_id, "task_name": row.task_name, "source": row.source,
            "via_role": row.via_role, "note": row.note, "created_at": row.created_at, "read_at": row.read_at}
