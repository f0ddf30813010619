"""The JSON API under ``/api/v1``: the contract clients rely on."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from webapp.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.issue_token", "api.openapi"}


@bp.before_request
def _authenticate() -> None:
    """Every endpoint but the token and the description needs ``Authorization: Bearer <token>``."""
    from engine.review.delegation import load_delegations
    from webapp.api.tokens import user_from_token
    from webapp.errors import Unauthorized

    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_from_token(db.session, current_app.config["SECRET_KEY"], token.strip()) \
        if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized("请先登录或提供有效的访问令牌")
    g.user = load_delegations(db.session, user)


from webapp.api import (  # noqa: E402,F401 - registers the routes on bp
    cc_views,
    inbox_views,
    review_views,
    signing_views,
    views,
)
