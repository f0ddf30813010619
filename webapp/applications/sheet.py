"""The printable approval sheet (发布会申报表): an A4 print view in the browser and the same page as PDF."""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app, render_template, send_file, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.models import Instance
from engine.org.access import require_visible
from webapp.applications import bp
from webapp.applications.sheet_data import build_sheet
from webapp.extensions import db
from webapp.pdf import PdfUnavailable, check_available, render_pdf
from webapp.web import current_user, login_required


def _static_folder() -> Path:
    return Path(current_app.static_folder or "")


def _render(instance_id: int, for_pdf: bool) -> str:
    user = current_user()
    instance = require_visible(user, db.session.get(Instance, instance_id))
    sheet = build_sheet(db.session, user, instance)
    # In the PDF, stylesheet and fonts are relative to the static folder (see webapp.pdf); in the browser, URLs.
    asset = (lambda name: name) if for_pdf else (lambda name: url_for("static", filename=name))
    problem = None if for_pdf else check_available(_static_folder())
    return render_template("applications/sheet.html", sheet=sheet, instance=instance, asset=asset, for_pdf=for_pdf,
                           pdf_problem=_explain(problem) if problem else None)


def _explain(problem: PdfUnavailable) -> str:
    if problem.reason == "libraries":
        return _("服务器未安装生成 PDF 所需的系统库（Pango），暂时无法下载 PDF；可用浏览器“打印”另存为 PDF，"
                 "或请管理员运行 make system-libs。")
    return _("服务器缺少 PDF 所需的中文字体文件，暂时无法下载 PDF；请管理员运行 make assets。")


@bp.get("/<int:instance_id>/sheet", endpoint="sheet")
@login_required
def sheet(instance_id: int) -> str:
    """发布会申报表 as a print view (A4): whoever may see the application may print it."""
    return _render(instance_id, for_pdf=False)


@bp.get("/<int:instance_id>/sheet.pdf", endpoint="sheet_pdf")
@login_required
def sheet_pdf(instance_id: int) -> Response | tuple[str, int]:
    """发布会申报表 as PDF with the Chinese font embedded; says plainly when this server cannot make PDFs."""
    html = _render(instance_id, for_pdf=True)
    try:
        pdf = render_pdf(html, _static_folder())
    except PdfUnavailable as exc:
        current_app.logger.warning("approval sheet PDF unavailable: %s", exc)
        return render_template("applications/sheet_unavailable.html", message=_explain(exc), detail=exc.detail,
                               instance_id=instance_id), 503
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                         download_name=_("发布会申报表-%(n)s.pdf", n=instance_id))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
