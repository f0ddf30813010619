"""How a user receives notifications: one e-mail per notice, or one daily digest (每日汇总)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.review import notify
from webapp.extensions import db
from webapp.notifications import bp
from webapp.web import current_user, login_required


@bp.post("/digest", endpoint="digest")
@login_required
def digest() -> Response:
    """Turn the daily digest e-mail on or off for me."""
    on = request.form.get("email_digest") == "on"
    notify.set_email_digest(db.session, current_user(), on)
    flash(_("已改为每日汇总一封邮件") if on else _("已改为每条通知一封邮件"), "success")
    return redirect(url_for("notifications.index"))
