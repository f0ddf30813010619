"""Routes of the spokesperson list: the signed-in page and CSV, the public page, and ending a filing (Office)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.org import spokespersons
from engine.workdays.calendar import SHANGHAI
from engine.workflow.scripting import shanghai_today
from webapp.extensions import db
from webapp.spokespersons import bp
from webapp.web import current_user, login_required

EARLIEST_YEAR = 2021  # the Measures took effect in 2021


@bp.get("/spokespersons", endpoint="index")
@login_required
def index() -> str:
    """新闻发言人名单 of a year, with contacts; the Office can end a filing here."""
    year = _year()
    user = current_user()
    may_end = user is not None and any(g.role == "office_reviewer" and g.unit.kind == "office" for g in user.grants)
    return render_template("spokespersons/index.html", year=year, rows=spokespersons.roster(db.session, year),
                           may_end=may_end, years=_years())


@bp.get("/spokespersons.csv", endpoint="csv")
@login_required
def csv_download() -> Response:
    """The year's list as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    year = _year()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("年度"), _("单位"), _("姓名"), _("职务"), _("联系方式"), _("备案日期")])
    for row in spokespersons.roster(db.session, year):
        writer.writerow([year, row.unit.name, row.name, row.title, row.contact, _day(row.filed_at)])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=spokespersons-{year}.csv"})


@bp.get("/public/spokespersons", endpoint="public")
def public() -> str:
    """The published list (第八条（四）): name, unit, title and year only, for anyone."""
    year = _year()
    return render_template("spokespersons/public.html", year=year, rows=spokespersons.roster(db.session, year),
                           years=_years())


@bp.post("/spokespersons/<int:spokesperson_id>/end", endpoint="end")
@login_required
def end(spokesperson_id: int) -> Response:
    """End a filing (免职、调整): the Office only; the place frees up."""
    try:
        entry = spokespersons.end_filing(db.session, current_user(), spokesperson_id,
                                         request.form.get("reason", ""))
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("spokespersons.index"))
    flash(_("已终止 %(name)s 的新闻发言人备案", name=entry.name), "success")
    return redirect(url_for("spokespersons.index"))


def _year() -> int:
    raw = request.args.get("year", "")
    this_year = shanghai_today().year
    if not raw:
        return this_year
    if not raw.isdigit() or not EARLIEST_YEAR <= int(raw) <= this_year + 1:
        abort(404)
    return int(raw)


def _years() -> list[int]:
    return list(range(shanghai_today().year, EARLIEST_YEAR - 1, -1))


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()
