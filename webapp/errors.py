"""Map domain and HTTP errors to JSON ``{"error": {code, message, fields?}}`` for the API, HTML elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound

from engine.errors import (
    AccountLocked,
    BadCredentials,
    Conflict,
    Forbidden,
    InvalidInput,
    ModelError,
    NotFound,
    PressflowError,
)

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidInput: 422, ModelError: 422, BadCredentials: 401,
          AccountLocked: 403}
HTTP_MESSAGES = {
    400: lazy_gettext("请求格式错误"), 401: lazy_gettext("请先登录或提供有效的访问令牌"),
    403: lazy_gettext("无权执行此操作"), 404: lazy_gettext("资源不存在或无权查看"),
    405: lazy_gettext("不支持此请求方法"), 409: lazy_gettext("冲突：已被他人处理或已变更"),
    413: lazy_gettext("上传内容超过大小限制"), 415: lazy_gettext("不支持的内容类型"),
    422: lazy_gettext("提交的内容未通过校验"), 500: lazy_gettext("服务器内部错误"),
}


class BadRequest(PressflowError):
    """Malformed request (not JSON, wrong shape)."""

    code = "bad_request"


class Unauthorized(PressflowError):
    code = "unauthorized"


STATUS[BadRequest] = 400
STATUS[Unauthorized] = 401


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> tuple[Response, int] | str:
    """Render an error as JSON for API clients, as a page for people."""
    if _wants_json():
        body: dict = {"code": code, "message": message}
        if fields:
            body["fields"] = _encodable(fields)
        return jsonify(error=body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def _allowed_elsewhere(exc: MethodNotAllowed) -> bool:
    """Tell whether the path really matches a route for one of the methods werkzeug names."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in exc.valid_methods or ():
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def _encodable(value: Any) -> Any:
    """Echoed field names may hold undecodable bytes (surrogates) from a hostile form: make them printable."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or not request.accept_mimetypes.accept_html


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that turn every error into a clear response, never a bare 500."""

    @app.errorhandler(PressflowError)
    def _domain(exc: PressflowError):  # type: ignore[no-untyped-def]
        fields = exc.fields
        if isinstance(exc, ModelError) and exc.problems:
            fields = {"problems": exc.problems}  # type: ignore[dict-item]
        return error_response(STATUS.get(type(exc), 400), exc.code, exc.message, fields)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        return error_response(400, "csrf", gettext("页面已过期或缺少安全令牌，请刷新页面后重新提交。"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if isinstance(exc, MethodNotAllowed) and not _allowed_elsewhere(exc):
            exc = RouteNotFound()  # an id the route's converter refuses: werkzeug offers the other method, wrongly
        status = exc.code or 500
        answer = error_response(status, exc.name.lower().replace(" ", "_"), str(HTTP_MESSAGES.get(status, exc.name)))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            # RFC 9110: a 405 names the methods the resource does support.
            response = make_response(answer)
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
            return response
        return answer

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", str(HTTP_MESSAGES[500]))


def register_input_guard(app: Flask) -> None:
    """Refuse NUL characters anywhere in a request's text, as every backend would have to (PostgreSQL cannot store
    them), before any view sees the request."""

    @app.before_request
    def _refuse_nul_characters() -> None:
        if _unnamed_form_part():
            raise BadRequest(gettext("请求格式有误：表单中有字段名无法读取（含换行等字符）"))
        if _carries_nul():
            raise BadRequest(gettext("请求中含有不允许的控制字符（NUL），请检查输入内容"))


def _is_form() -> bool:
    return request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")


def _unnamed_form_part() -> bool:
    # A multipart part whose name holds a raw line break comes out of werkzeug's parser without a name (None).
    return _is_form() and (None in request.form or None in request.files)


def _carries_nul() -> bool:
    texts = [request.path, *request.args.keys(), *request.args.values()]
    if _is_form():
        texts += [*request.form.keys(), *request.form.values()]  # files may hold NUL bytes: they are not text
    if any("\x00" in text for text in texts):
        return True
    body = request.get_data(cache=True) if request.is_json else b""
    return b"\x00" in body or b"\\u0000" in body
