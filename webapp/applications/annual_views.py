"""The year's published annual evaluation results (年度考评结果): every unit for the Office, one's own for units."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine import clock
from engine.supervision.annual_results import evaluation_years, published_results
from engine.workdays.calendar import SHANGHAI
from webapp.applications import bp
from webapp.errors import error_response
from webapp.extensions import db
from webapp.web import current_user, login_required

GRADE_LABELS = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}
EARLIEST_YEAR = 2000


@bp.get("/annual-results", endpoint="annual_results")
@login_required
def annual_results() -> str | tuple[Response, int] | tuple[str, int]:
    """年度考评结果: the published results of one year that the reader may see."""
    years = evaluation_years(db.session)
    year = _year(request.args.get("year"), years[0] if years else clock.now().astimezone(SHANGHAI).year)
    if year is None:
        return error_response(400, "invalid_year", _("年份无效：请填写 %(low)s 至 %(high)s 之间的四位年份",
                                                     low=EARLIEST_YEAR, high=_latest_year()))
    results = published_results(db.session, current_user(), year)
    return render_template("applications/annual_results.html", year=year, years=years, results=results,
                           grade_labels={code: _(label) for code, label in GRADE_LABELS.items()})


def _year(text: str | None, default: int) -> int | None:
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) != 4:
        return None
    year = int(text)
    return year if EARLIEST_YEAR <= year <= _latest_year() else None


def _latest_year() -> int:
    return clock.now().astimezone(SHANGHAI).year + 1
