"""Preview of an attachment in the browser: inline only for PDF and images, everything else as a download."""

from __future__ import annotations

import io

from flask import send_file
from werkzeug.wrappers import Response

from engine.models import Attachment
from engine.review import attachments
from webapp.applications import bp
from webapp.extensions import db
from webapp.web import current_user, login_required

#: The only types a browser is asked to show inline (its own PDF viewer or <img>); the stored type is the one the
#: upload check derived from the content, never what the uploader's browser claimed.
INLINE_TYPES = {
    "application/pdf": "pdf",
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
}


def preview_kind(content_type: str) -> str | None:
    """Say how a type is previewed on the page ("pdf" in a frame, "image" as a picture), or None: download only."""
    return INLINE_TYPES.get(content_type.split(";")[0].strip().lower())


def send_attachment(found: Attachment, inline: bool) -> Response:
    """Send one stored version with a safe Content-Disposition and no type sniffing."""
    inline = inline and preview_kind(found.content_type) is not None
    response = send_file(io.BytesIO(found.content), mimetype=found.content_type, as_attachment=not inline,
                         download_name=found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if inline:
        # Framed by our own task page only (the browser's PDF viewer must stay allowed, so no stricter policy).
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


@bp.get("/<int:instance_id>/attachments/<int:attachment_id>/preview", endpoint="preview")
@login_required
def preview(instance_id: int, attachment_id: int) -> Response:
    """Open one version in the browser when it is a PDF or a picture; any other file downloads."""
    found = attachments.get_attachment(db.session, current_user(), instance_id, attachment_id)
    return send_attachment(found, inline=True)
