"""The OpenAPI 3 description of ``/api/v1``, generated from the marshmallow schemas it validates with."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

import forms
from engine.review.attachments import KINDS as ATTACHMENT_KINDS
from webapp.api import schemas, signing_schemas

_DESCRIPTION = "新闻发布审批流程平台 JSON API。错误统一为 {\"error\": {code, message, fields?}}。"
_BEARER = [{"bearerAuth": []}]
_ERRORS = {str(code): {"$ref": f"#/components/responses/E{code}"} for code in (400, 401, 403, 404, 409, 413, 422)}

# path, method, summary, request schema (body or "query:<Schema>"), response schema, success status, many
_ROUTES: tuple[tuple[str, str, str, str | None, str | None, int, bool], ...] = (
    ("/auth/token", "post", "换取访问令牌", "TokenRequest", "TokenResponse", 200, False),
    ("/me", "get", "当前用户及其角色授权", None, "Me", 200, False),
    ("/processes", "get", "已部署流程的最新版本", None, "ProcessOut", 200, True),
    ("/instances", "post", "发起申请（第一个任务分配给发起人）", "StartRequest", "InstanceOut", 201, False),
    ("/instances", "get", "可见的流程实例（分页）", "query:InstanceQuery", "InstancePage", 200, False),
    ("/instances/{instance_id}", "get", "流程实例详情", None, "InstanceOut", 200, False),
    ("/instances/{instance_id}/history", "get", "审批留痕", None, "HistoryOut", 200, True),
    ("/instances/{instance_id}/attachments", "get", "附件列表", None, "AttachmentOut", 200, True),
    ("/instances/{instance_id}/attachments", "post", "上传附件（multipart：file, kind）", "multipart",
     "AttachmentOut", 201, False),
    ("/instances/{instance_id}/attachments/{attachment_id}", "get", "下载附件", None, None, 200, False),
    ("/tasks", "get", "我可以办理的待办任务", "query:TaskQuery", "TaskOut", 200, True),
    ("/tasks/{task_id}", "get", "任务详情、表单描述与预填数据", None, "TaskDetailOut", 200, False),
    ("/tasks/{task_id}/claim", "post", "认领任务", None, "TaskOut", 200, False),
    ("/tasks/{task_id}/release", "post", "释放任务", None, "TaskOut", 200, False),
    ("/tasks/{task_id}/complete", "post", "提交任务表单（data 见 components 中的表单）", "CompleteRequest",
     "InstanceOut", 200, False),
    ("/tasks/batch", "post", "批量审批：同一环节的多个任务，一个结论和审批意见，逐件办理", "BatchRequest",
     "BatchOut", 200, False),
    ("/phrases", "get", "我的常用语（含系统常用语）", None, "PhraseOut", 200, True),
    ("/phrases", "post", "保存常用语", "PhraseRequest", "PhraseOut", 201, False),
    ("/calendar/add-workdays", "get", "按工作日推算日期", "query:AddWorkdaysQuery", "AddWorkdaysOut", 200, False),
    # 抄送 and the approval-chain preview
    ("/tasks/{task_id}/cc", "post", "从此环节抄送（用户或角色@单位，附说明）", "CarbonCopyRequest", "CarbonCopyOut",
     201, True),
    ("/tasks/{task_id}/preview", "get", "审批链预览：后续环节及其办理人", None, "ChainPreviewOut", 200, False),
    ("/cc", "get", "抄送我的（未阅/已阅）", "query:CarbonCopyQuery", "CarbonCopyPage", 200, False),
    ("/instances/{instance_id}/cc", "get", "本申请的抄送及已阅回执（本人发出的；督办人员：全部）", None,
     "CarbonCopyOut", 200, True),
    ("/instances/{instance_id}/cc/read", "post", "标记抄送给我的本申请为已阅", None, "CarbonCopyPage", 200, False),
)


@cache
def build_spec() -> dict[str, Any]:
    """Return the OpenAPI document (built once per process: it only depends on code)."""
    spec = APISpec(title="PressFlow API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], servers=[{"url": "/api/v1"}],
                   info={"description": _DESCRIPTION})
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for module in (schemas, signing_schemas):
        for name in dir(module):
            obj = getattr(module, name)
            registered = spec.to_dict().get("components", {}).get("schemas", {})
            if isinstance(obj, type) and issubclass(obj, schemas.Schema) and obj.__module__ == module.__name__ \
                    and name not in registered:
                spec.components.schema(name, getattr(obj, "OPENAPI_RULES", None), schema=obj)
    for key in forms.FORM_KEYS:
        spec.components.schema(f"form_{key}", schema=forms.marshmallow_schema(key))
    for code in (400, 401, 403, 404, 409, 413, 422):
        spec.components.response(f"E{code}", {"description": f"HTTP {code}", "content": {
            "application/json": {"schema": "ErrorOut"}}})
    for path, method, summary, request, response, status, many in _ROUTES + signing_schemas.ROUTES:
        spec.path(path=path, operations={method: _operation(path, summary, request, response, status, many)})
    return spec.to_dict()


def _operation(path: str, summary: str, request: str | None, response: str | None, status: int,
               many: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": dict(_ERRORS)}
    if path != "/auth/token":
        operation["security"] = _BEARER
    params = [{"in": "path", "name": part.strip("{}"), "required": True,
               "schema": _path_schema(part)}
              for part in path.split("/") if part.startswith("{")]
    if request and request.startswith("query:"):
        params.append({"in": "query", "schema": request.removeprefix("query:")})
    elif request == "multipart":
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "kind"],
            "properties": {"file": {"type": "string", "format": "binary"},
                           "kind": {"type": "string", "enum": sorted(ATTACHMENT_KINDS)}}}}}}
    elif request:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    if params:
        operation["parameters"] = params
    body: dict[str, Any] = {"description": "OK"}
    if response:
        schema: Any = {"type": "array", "items": {"$ref": f"#/components/schemas/{response}"}} if many else response
        body["content"] = {"application/json": {"schema": schema}}
    else:
        body["content"] = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    operation["responses"] = {str(status): body} | operation["responses"]
    return operation


def _path_schema(part: str) -> dict[str, Any]:
    # Database ids are 32-bit and never negative (the `int` route converter): anything else is an unknown id.
    if part.endswith("_id}") and "task" not in part:
        return {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    if part == "{task_id}":  # the `task` route converter: anything but a UUID is an unknown task
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}
