"""API routes of the reviewer's inbox extras: 批量审批 and 常用语."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify

from engine.review import batch, phrases
from webapp.api import bp, schemas
from webapp.api.present import dump
from webapp.api.views import _body
from webapp.extensions import db


@bp.post("/tasks/batch")
def batch_complete() -> Response:
    body = _body(schemas.BatchRequest)
    result = batch.complete_batch(db.session, current_app.extensions["pressflow_runtime"], g.user, body["tasks"],
                                  body["step"], body["decision"], body["comment"])
    return jsonify(dump(schemas.BatchOut, {"completed": [_item(i) for i in result.completed],
                                           "refused": [_item(i) for i in result.refused]}))


@bp.get("/phrases")
def list_phrases() -> Response:
    listed = phrases.phrases_of(db.session, g.user)
    return jsonify(dump(schemas.PhraseOut, [_phrase(p) for p in listed], many=True))


@bp.post("/phrases")
def save_phrase() -> tuple[Response, int]:
    saved = phrases.save_phrase(db.session, g.user, _body(schemas.PhraseRequest)["text"])
    return jsonify(dump(schemas.PhraseOut, _phrase(saved))), 201


@bp.delete("/phrases/<int:phrase_id>")
def delete_phrase(phrase_id: int) -> tuple[str, int]:
    phrases.delete_phrase(db.session, g.user, phrase_id)
    return "", 204


def _item(item: batch.BatchItem) -> dict[str, str]:
    return {"task": item.task_id, "name": item.name, "reason": item.reason}


def _phrase(phrase: phrases.Phrase) -> dict[str, Any]:
    return {"id": phrase.id, "text": phrase.text, "system": phrase.system}
