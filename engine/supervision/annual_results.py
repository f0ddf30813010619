"""Published annual evaluation results (年度考评结果, Art. 13): what each reader may see of a year's results.

A result is published when the municipal government approves it (the instance ends at ``end_published``). The
Office, the municipal leaders and supervisors read every unit's result; a unit's people read only their own, by the
same visibility rule as every instance (:func:`engine.org.access.visible_instances`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AnnualEvaluation, Instance, User
from engine.org.access import visible_instances

PUBLISHED = "published"


@dataclass(frozen=True)
class PublishedResult:
    """One unit's published result of one year."""

    instance_id: int
    unit_name: str
    unit_kind: str
    year: int
    score: int | None
    grade: str
    comment: str
    published_at: dt.datetime | None


def evaluation_years(session: Session) -> list[int]:
    """Return the years for which annual evaluations were started, newest first."""
    return list(session.scalars(select(AnnualEvaluation.year).distinct().order_by(AnnualEvaluation.year.desc())))


def published_results(session: Session, reader: User, year: int) -> list[PublishedResult]:
    """Return the year's published results the reader may see, by unit kind and name."""
    query = (select(Instance).join(AnnualEvaluation, AnnualEvaluation.instance_id == Instance.id)
             .where(AnnualEvaluation.year == year, Instance.status == "completed", Instance.outcome == PUBLISHED))
    instances = session.scalars(visible_instances(reader, query)).all()
    results = [_result(instance, year) for instance in instances]
    return sorted(results, key=lambda r: (r.unit_kind, r.unit_name))


def _result(instance: Instance, year: int) -> PublishedResult:
    data = instance.data or {}
    score = data.get("office_evaluation_score")
    return PublishedResult(
        instance_id=instance.id, unit_name=instance.unit.name, unit_kind=instance.unit.kind, year=year,
        score=score if isinstance(score, int) else None, grade=str(data.get("office_evaluation_grade") or ""),
        comment=str(data.get("office_evaluation_comment") or ""), published_at=instance.ended_at,
    )
