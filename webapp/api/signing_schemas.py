"""API contract of 加签 / 减签 / 委派 (merged into the OpenAPI description with the other schemas)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from webapp.api.schemas import RECIPIENT, StrictSchema, said

_COMMENT = validate.Length(max=500)

# path, method, summary, request schema, response schema, success status, many (as in openapi._ROUTES)
ROUTES: tuple[tuple[str, str, str, str | None, str | None, int, bool], ...] = (
    ("/tasks/{task_id}/sign-groups", "get", "本环节的加签与委派（含加签人及其意见）", None, "SignGroupOut", 200, True),
    ("/tasks/{task_id}/add-signers", "post", "加签：前加签 / 后加签 / 并加签，会签或或签", "AddSignersRequest",
     "SignGroupOut", 201, False),
    ("/tasks/{task_id}/remove-signer", "post", "减签：撤下尚未办理的加签人", "RemoveSignerRequest",
     "SignGroupOut", 200, False),
    ("/tasks/{task_id}/delegate", "post", "委派：请同事办理后交回本人完成", "DelegateRequest", "SignGroupOut",
     201, False),
)


class AddSignersRequest(StrictSchema):
    mode = fields.String(required=True, validate=validate.OneOf(("before", "after", "parallel")),
                         metadata={"description": "before 前加签 | after 后加签 | parallel 并加签"})
    rule = fields.String(load_default="all", validate=validate.OneOf(("all", "any")),
                         metadata={"description": "all 会签（全部同意） | any 或签（一人同意）"})
    signers = fields.List(fields.String(validate=RECIPIENT), required=True, validate=validate.Length(min=1, max=10),
                          metadata={"description": "加签人用户名"})
    comment = fields.String(load_default="", validate=_COMMENT)


class RemoveSignerRequest(StrictSchema):
    username = fields.String(required=True, validate=RECIPIENT)
    comment = fields.String(load_default="", validate=_COMMENT)


class DelegateRequest(StrictSchema):
    to = fields.String(required=True, validate=RECIPIENT)
    comment = fields.String(required=True, validate=said(500))


class SignerOut(Schema):
    username = fields.String()
    task_id = fields.String(allow_none=True, metadata={"description": "加签人的任务（后加签在办理人决定前为空）"})
    state = fields.String(metadata={"description": "planned | open | completed | removed | cancelled"})
    decision = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class SignGroupOut(Schema):
    id = fields.Integer()
    task_id = fields.String()
    mode = fields.String()
    rule = fields.String()
    added_by = fields.String()
    created_at = fields.DateTime()
    holder_waiting = fields.Boolean(metadata={"description": "办理人是否在等待加签人"})
    held_decision = fields.String(allow_none=True, metadata={"description": "办理人已作出、待加签人同意的结论"})
    closed_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"description": "agreed | disagreed | removed | cancelled"})
    signers = fields.List(fields.Nested(SignerOut))
