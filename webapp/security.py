"""Web hardening: security headers on every response, HTTPS behind a proxy, and rate limits shared by all workers.

Rate limits count in the database (table ``rate_limit_hits``), not in process memory, so every gunicorn worker and
every host behind the same database sees the same count; PressFlow already needs that database and no other service.
A limit is named in the configuration (``PRESSFLOW_RATE_LIMIT_<NAME>`` = "requests/seconds") and put on a view with
``@rate_limit("<name>")``; it counts per client address and limit (every route with the same limit shares the
count), in fixed windows.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request, send_file
from flask_babel import gettext as _
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from engine import clock
from engine.models import Attachment, RateLimitHit
from webapp.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

#: Scripts only from our own files (no inline script, no eval). Styles allow inline because bpmn-js, dmn-js and
#: the properties panel set ``style`` attributes on the diagram's SVG and panel elements as they draw.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
    "font-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def register_security(app: Flask) -> None:
    """Trust the configured proxies, send cookies over HTTPS only when served so, and add the headers."""
    settings = app.config["PRESSFLOW"]
    for name in ("sign_in", "public_form"):
        parse_limit(getattr(settings, f"rate_limit_{name}"))  # a mistyped limit stops start-up, not each request
    if settings.proxy_hops:
        # Behind nginx & co. the client address and scheme arrive in X-Forwarded-*; only that many hops are trusted.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if settings.https:
        app.config.update(SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if settings.https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def rate_limit(name: str, methods: tuple[str, ...] = ("POST",)) -> Callable[[F], F]:
    """Refuse (429) a client's requests to this view beyond the limit named ``name`` in the settings."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                refused = _over_limit(name)
                if refused is not None:
                    return refused
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def parse_limit(text: str) -> tuple[int, int]:
    """Read "requests/seconds" (e.g. "20/300") as a pair of positive numbers."""
    count, _slash, seconds = text.partition("/")
    limit, window = int(count), int(seconds or "60")
    if limit < 1 or window < 1:
        raise ValueError(f"rate limit must be 'requests/seconds' with both above 0, got {text!r}")
    return limit, window


def _over_limit(name: str) -> Any:
    limit, window = parse_limit(getattr(current_app.config["PRESSFLOW"], f"rate_limit_{name}"))
    now = int(clock.now().timestamp())
    window_start = now - now % window
    # Per limit, not per route: the sign-in form and the API token share one count, so two doors give no more tries.
    key = f"{name}:{request.remote_addr or '-'}"[:200]
    if count_hit(key, window_start) <= limit:
        return None
    from webapp.errors import error_response

    message = _("请求过于频繁，请 %(seconds)s 秒后再试", seconds=window_start + window - now)
    response = current_app.make_response(error_response(429, "rate_limited", message))
    response.headers["Retry-After"] = str(window_start + window - now)
    return response


def count_hit(key: str, window_start: int) -> int:
    """Count one request under ``key`` in its window and return the window's count so far (own transaction)."""
    with db.engine.begin() as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(RateLimitHit).values(key=key, window_start=window_start, hits=1)
        statement = statement.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"hits": RateLimitHit.hits + 1})
        hits = conn.execute(statement.returning(RateLimitHit.hits)).scalar_one()
        if hits == 1:  # the first request of a window clears this key's older windows
            conn.execute(delete(RateLimitHit).where(RateLimitHit.key == key,
                                                    RateLimitHit.window_start < window_start))
    return int(hits)


def attachment_download(attachment: Attachment) -> Response:
    """Serve an uploaded file as a download (never shown inline), its name quoted, its checked type as stored."""
    # Werkzeug adds "; charset=utf-8" to text types itself: pass the bare type, or the header says it twice.
    mimetype = attachment.content_type.split(";", 1)[0]
    response = send_file(io.BytesIO(attachment.content), mimetype=mimetype, as_attachment=True,
                         download_name=attachment.filename)
    response.headers["Cache-Control"] = "private, no-store"  # unreleased press texts stay out of shared caches
    return response
