"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import AccountLocked, BadCredentials
from engine.org.units import sign_in
from webapp.extensions import db
from webapp.security import rate_limit
from webapp.web import LANGUAGES, current_user, safe_next, sign_in_session

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
@rate_limit("sign_in")
def login() -> Response | str | tuple[str, int]:
    """Show the sign-in form; sign in with username and password."""
    target = safe_next(request.values.get("next"), url_for("site.index"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(target)
        return render_template("auth/login.html", next=target)
    username = request.form.get("username", "").strip()[:60]
    password = request.form.get("password", "")[:200]
    settings = current_app.config["PRESSFLOW"]
    try:
        user = sign_in(db.session, username, password, settings.lockout_attempts, settings.lockout_minutes)
    except AccountLocked as exc:
        return render_template("auth/login.html", next=target, username=username, error=exc.message), 403
    except BadCredentials:
        return render_template("auth/login.html", next=target, username=username,
                               error=_("用户名或密码错误")), 401
    sign_in_session(user)
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    lang = session.get("lang")
    session.clear()
    session["lang"] = lang or "zh"
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Response:
    """Switch between Simplified Chinese and English."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("site.index")))
