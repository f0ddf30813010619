"""Webhooks: forward every notification to a site's endpoint (政务钉钉, 渝快政, 企业微信 …) as signed JSON.

``notify`` queues one delivery per notification and webhook in the same unit of work. The worker claims due
deliveries (``sending``) and commits before it contacts any endpoint, so a slow endpoint never holds a database
lock; a failure is retried later with a growing pause, up to :data:`MAX_ATTEMPTS` attempts. Delivery is at least
once: a claim left by a worker that died mid-post goes back to the queue, so receivers deduplicate by ``id``.

Each POST carries ``X-PressFlow-Timestamp`` (Unix seconds) and ``X-PressFlow-Signature: sha256=<hex>``, the
HMAC-SHA256 with the webhook's secret of ``<timestamp>.<body>``: a receiver recomputes it, compares in constant
time and refuses old timestamps, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Notification, Webhook, WebhookDelivery
from engine.review.notify import KINDS, STALE_CLAIM, text_of

MAX_ATTEMPTS = 8
FIRST_PAUSE = dt.timedelta(seconds=30)
LONGEST_PAUSE = dt.timedelta(hours=6)
TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-PressFlow-Signature"
TIMESTAMP_HEADER = "X-PressFlow-Timestamp"


@dataclass(frozen=True)
class Post:
    """One claimed delivery, ready to send without touching the database."""

    delivery_id: int
    url: str
    secret: str
    body: bytes


def add_webhook(session: Session, name: str, url: str, secret: str) -> Webhook:
    """Register an endpoint that receives every notification from now on. Commits."""
    problems: dict[str, list[str]] = {}
    if not 1 <= len(name.strip()) <= 60:
        problems["name"] = ["名称须为 1–60 个字符"]
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url.strip()) > 500:
        problems["url"] = ["地址须为 http:// 或 https:// 开头的完整网址（不超过 500 个字符）"]
    if not 16 <= len(secret) <= 200:
        problems["secret"] = ["密钥须为 16–200 个字符"]
    if problems:
        raise InvalidInput("Webhook 配置有误", fields=problems)
    if session.scalar(select(Webhook.id).where(Webhook.name == name.strip())) is not None:
        raise Conflict(f"已有名为 {name.strip()} 的 Webhook")
    hook = Webhook(name=name.strip(), url=url.strip(), secret=secret, created_at=clock.now())
    session.add(hook)
    session.commit()
    return hook


def list_webhooks(session: Session) -> list[Webhook]:
    """Return the registered endpoints, oldest first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def remove_webhook(session: Session, name: str) -> None:
    """Stop forwarding to an endpoint; its queued deliveries go with it. Commits."""
    hook = session.scalar(select(Webhook).where(Webhook.name == name))
    if hook is None:
        raise NotFound(f"没有名为 {name} 的 Webhook")
    session.delete(hook)
    session.commit()


def deliver_webhooks(session: Session, base_url: str = "", limit: int = 50) -> int:
    """POST the due deliveries; return how many endpoints accepted. No transaction is open while posting."""
    posts = _claim(session, base_url, limit)
    if not posts:
        return 0
    outcomes = {post.delivery_id: _post(post) for post in posts}
    _settle(session, outcomes)
    return sum(error is None for error in outcomes.values())


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of the signature header for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(row: Notification, base_url: str) -> dict[str, object]:
    """What an endpoint receives about one notification (Chinese text, with the application's current title)."""
    link = f"{base_url.rstrip('/')}/applications/{row.instance_id}" if row.instance_id and base_url else None
    return {
        "id": row.id, "kind": row.kind, "kind_label": KINDS.get(row.kind, row.kind), "event": row.event,
        "text": text_of(row), "note": row.message if row.event else "", "params": row.params or {},
        "recipient": {"username": row.user.username, "display_name": row.user.display_name,
                      "email": row.user.email},
        "instance": {"id": row.instance_id, "title": row.instance.title if row.instance else None},
        "task_id": row.task_id, "url": link, "created_at": row.created_at.isoformat(),
    }


def _claim(session: Session, base_url: str, limit: int) -> list[Post]:
    now = clock.now()
    # A worker that died mid-post: send again (receivers deduplicate by id) rather than lose the notice.
    session.execute(update(WebhookDelivery).where(WebhookDelivery.status == "sending",
                                                  WebhookDelivery.claimed_at < now - STALE_CLAIM)
                    .values(status="pending"))
    rows = list(session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)))
    posts = [Post(row.id, row.webhook.url, row.webhook.secret,
                  json.dumps(payload(row.notification, base_url), ensure_ascii=False).encode()) for row in rows]
    for row in rows:
        row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
    session.commit()
    return posts


def _post(post: Post) -> str | None:
    """Send one delivery; return None when the endpoint accepted it (2xx), else why not."""
    timestamp = str(int(clock.now().timestamp()))
    parts = urlsplit(post.url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # http.client rather than urllib: header names go out exactly as documented, not re-capitalised.
    headers = {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: timestamp,
               SIGNATURE_HEADER: signature(post.secret, timestamp, post.body), "User-Agent": "PressFlow-Webhook/1"}
    connection = connection_class(parts.netloc, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=post.body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return repr(exc)[:500]
    finally:
        connection.close()
    return None if 200 <= status < 300 else f"HTTP {status}"


def _settle(session: Session, outcomes: dict[int, str | None]) -> None:
    now = clock.now()
    for row in session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(outcomes))):
        error = outcomes[row.id]
        if error is None:
            row.status, row.delivered_at, row.last_error = "sent", now, None
        elif row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = "failed", error
        else:
            row.status, row.last_error, row.next_attempt_at = "pending", error, now + pause_after(row.attempts)
    session.commit()


def pause_after(attempts: int) -> dt.timedelta:
    """How long to wait before the next attempt after ``attempts`` failed ones: 30 s, 1 min, 2 min … at most 6 h."""
    return min(FIRST_PAUSE * (2 ** max(attempts - 1, 0)), LONGEST_PAUSE)
