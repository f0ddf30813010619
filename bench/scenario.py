"""The press-conference happy path every section of the bench runs: its steps, data and moments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.workdays.calendar import SHANGHAI, WorkCalendar

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
PROCESS_KEY = "press_conference"
DEMO_PASSWORD = "pressflow-demo"  # noqa: S105 - the documented demo password
START_DATA = {"unit": "yuzhong", "unit_name": "渝中区人民政府", "unit_kind": "district"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
UPLOADS = (("work_plan", "工作方案.pdf"), ("release_text", "发布文稿.pdf"))
TIMER = "wait_conference_start"
MAX_UPLOAD = 20 * 1024 * 1024

#: Monday 2026-03-02 09:00 in Chongqing: the moment the frozen-clock sections submit at.
SUBMITTED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
CONFERENCE_DAY = dt.date(2026, 3, 20)
START_TIME = "10:00"


@dataclass(frozen=True)
class Step:
    """One step of the happy path: a user task done by a demo user with form data, or the timer."""

    bpmn_id: str
    actor: str = ""
    data: dict[str, Any] | None = None


def _review(decision: str, comment: str = "") -> dict[str, Any]:
    return {"decision": decision, "comment": comment}


def happy_path(conference_day: dt.date = CONFERENCE_DAY) -> tuple[Step, ...]:
    """The 10 user tasks and the timer of a district's press conference held on ``conference_day``."""
    day = conference_day.isoformat()
    return (
        Step("topic_application", "yz_clerk", {
            "title": "2026年渝中区优化营商环境新闻发布会", "name_holder": "municipal_government",
            "kind": "press_conference", "conference_date": day, "start_time": START_TIME,
            "summary": "介绍渝中区优化营商环境的主要举措和成效。", "venue": "press_center", "venue_other_reason": "",
            "live_stream": "video",
        }),
        Step("leader_review", "yz_leader", _review("approve", "同意")),
        Step("secrecy_review", "yz_secrecy", _review("pass")),
        Step("office_topic_review", "office_reviewer", _review("accept", "同意选题")),
        Step("content_approval_district", "yz_leader", _review("approve", "内容审定同意")),
        Step("host_speaker_selection", "office_reviewer", {
            "speaker_name": "张副市长", "speaker_role": "vice_mayor", "host_name": "何平",
            "host_role": "municipal_spokesperson", "guests": [{"name": "王局长", "title": "区发展改革委主任"}],
        }),
        Step("venue_preparation", "onsite", {
            "venue_confirmed": True, "venue_name": "市新闻发布中心", "live_stream_ready": True, "notes": "",
        }),
        Step("pre_announcement", "office_reviewer", {
            "published": True, "announcement_url": "https://www.cq.gov.cn/cqfb/notice",
            "published_on": (conference_day - dt.timedelta(days=2)).isoformat(),
        }),
        Step(TIMER),
        Step("conference_record", "onsite", {
            "conference_status": "held", "questions_count": 6, "questions_summary": "记者就营商环境举措提问 6 个",
        }),
        Step("monitoring_report", "monitor", {
            "coverage_summary": "40 家媒体报道", "public_reaction": "反响积极", "major_issue": False,
            "report": "无负面舆情",
        }),
    )


HAPPY_PATH = happy_path()
USER_STEPS = tuple(s for s in HAPPY_PATH if s.bpmn_id != TIMER)
BEFORE_TIMER = tuple(USER_STEPS[:8])


def conference_day_after(today: dt.date, calendar: WorkCalendar | None = None) -> dt.date:
    """A conference day the topic form accepts when submitted ``today``: 12 working days later."""
    return (calendar or WorkCalendar()).add_workdays(today, 12).date


def after_start(conference_day: dt.date) -> dt.datetime:
    """A minute after the conference starts (Beijing time): when its timer has fired."""
    hour, minute = (int(x) for x in START_TIME.split(":"))
    return dt.datetime.combine(conference_day, dt.time(hour, minute + 1), tzinfo=SHANGHAI)


def spiff_values(step: Step) -> dict[str, Any]:
    """Name review fields after their step, as the engine does, so the gateways read ``<step>_decision``."""
    values = step.data or {}
    return {f"{step.bpmn_id}_{k}": v for k, v in values.items()} if "decision" in values else dict(values)
