"""API bearer tokens: signed, self-contained, expiring; valid on every host that shares the secret key."""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine import clock
from engine.models import User

SALT = "pressflow-api-token"


def issue_token(secret: str, user: User, ttl_seconds: int) -> tuple[str, dt.datetime]:
    """Sign a token for the user; return it with its expiry (UTC)."""
    expires_at = clock.now() + dt.timedelta(seconds=ttl_seconds)
    token = URLSafeSerializer(secret, salt=SALT).dumps({"u": user.username, "exp": int(expires_at.timestamp())})
    return token, expires_at


def user_from_token(session: Session, secret: str, token: str) -> User | None:
    """Return the active user a valid, unexpired token names, or None."""
    try:
        payload = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < clock.now().timestamp():
        return None
    # One query with the grants joined, instead of the user and then its grants.
    user = session.execute(select(User).where(User.username == payload.get("u")).options(joinedload(User.grants))
                           ).unique().scalar_one_or_none()
    return user if user is not None and user.active else None
