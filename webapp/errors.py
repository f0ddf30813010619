"""Map domain and HTTP errors to JSON ``{"error": {code, message, fields?}}`` for the API, HTML elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

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
            body["fields"] = fields
        return jsonify(error=body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


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
        if _carries_nul():
            raise BadRequest(gettext("请求中含有不允许的控制字符（NUL），请检查输入内容"))


def _carries_nul() -> bool:
    texts = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += [*request.form.keys(), *request.form.values()]  # files may hold NUL bytes: they are not text
    if any("\x00" in text for text in texts):
        return True
    body = request.get_data(cache=True) if request.is_json else b""
    return b"\x00" in body or b"\\u0000" in body
