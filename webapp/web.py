"""What every page shares: the signed-in user (with delegations), session expiry, language and the header counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine import clock
from engine.models import User
from engine.org.access import is_overseer, may_model
from engine.review.delegation import load_delegations
from engine.review.notify import unread_count
from webapp.extensions import db

LANGUAGES = {"zh": "中文", "en": "English"}
#: The main navigation: (endpoint, label); entries whose blueprint is not registered are left out.
NAVIGATION = (
    ("tasks.inbox", lazy_gettext("待办")),
    ("tasks.done", lazy_gettext("已办")),
    ("tasks.cc", lazy_gettext("抄送我")),
    ("applications.mine", lazy_gettext("我的申请")),
    ("applications.new", lazy_gettext("发起申请")),
    ("applications.annual_results", lazy_gettext("年度考评")),
    ("supervise.index", lazy_gettext("督办")),
    ("delegations.index", lazy_gettext("委托")),
    ("spokespersons.index", lazy_gettext("新闻发言人")),
    ("modeler.index", lazy_gettext("流程模型")),
)
F = TypeVar("F", bound=Callable[..., Any])


def select_locale() -> str:
    """Simplified Chinese unless the person chose English."""
    return session.get("lang") if session.get("lang") in LANGUAGES else "zh"


def sign_in_session(user: User) -> None:
    """Start a fresh session for the user (a new session id guards against fixation)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session.update(uid=user.id, seen=clock.now().timestamp(), lang=lang or "zh")


def current_user() -> User | None:
    """The signed-in user of this request, or None (also when the session has been idle too long)."""
    if "user" in g:
        return g.user
    g.user = None
    uid, seen = session.get("uid"), session.get("seen")
    if uid is None:
        return None
    idle = dt.timedelta(minutes=current_app.config["PRESSFLOW"].session_idle_minutes)
    now = clock.now()
    if seen is None or now - dt.datetime.fromtimestamp(seen, dt.UTC) > idle:
        lang = session.get("lang")
        session.clear()
        session["lang"] = lang or "zh"
        g.session_expired = True
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active:
        session.clear()
        return None
    session["seen"] = now.timestamp()
    g.user = load_delegations(db.session, user)
    return g.user


def login_required(view: F) -> F:
    """Send people who are not signed in to the sign-in page, and back here afterwards."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if g.get("session_expired"):
                flash(_("登录已超时，请重新登录。"), "warning")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def safe_next(target: str | None, default: str) -> str:
    """Only follow ``next`` to a path on this site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def register_page_context(app: Flask) -> None:
    """Give every template the user, the unread count and the languages."""

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        user = current_user() if not request.path.startswith("/api/") else None
        return {
            "current_user": user,
            "unread_notifications": unread_count(db.session, user) if user else 0,
            "languages": LANGUAGES,
            "navigation": [(e, label) for e, label in NAVIGATION if e in current_app.view_functions
                           and (not e.startswith("supervise.") or (user is not None and is_overseer(user)))
                           and (not e.startswith("modeler.") or (user is not None and may_model(user)))],
            "navigation_endpoints": current_app.view_functions.keys(),
            "current_language": select_locale(),
        }
