"""Sample form data for dry runs: what a diligent applicant and agreeable reviewers would enter at each step."""

from __future__ import annotations

import datetime as dt
from typing import Any

import forms

#: The applying unit of a dry-run instance, as :func:`engine.review.applications.start_application` sets it.
DEFAULT_START_DATA: dict[str, Any] = {"unit": "yuzhong", "unit_name": "渝中区", "unit_kind": "district"}


def sample_form_data(form_key: str, task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Values that complete the form and let the application go on (positive decision, conference held …)."""
    if form_key in forms.FORM_KEYS and forms.decision_field(form_key):
        return {"decision": min(forms.positive_decisions(form_key)), "comment": ""}
    builder = _SAMPLES.get(form_key)
    return builder(task_data, today) if builder else {}


def _topic_application(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {
        "title": "试运行：新闻发布会", "name_holder": "municipal_government", "kind": "press_conference",
        "conference_date": (today + dt.timedelta(days=21)).isoformat(), "start_time": "10:00",
        "summary": "试运行示例数据", "venue": "press_center", "venue_other_reason": "", "live_stream": "video",
    }


def _host_speaker_selection(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    speakers = list(task_data.get("eligible_speaker_roles") or forms.SPEAKER_ROLES)
    hosts = list(task_data.get("eligible_host_roles") or forms.HOST_ROLES)
    return {"speaker_name": "示例发布人", "speaker_role": speakers[0], "host_name": "示例主持人",
            "host_role": hosts[0], "guests": []}


def _venue_preparation(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"venue_confirmed": True, "venue_name": "市新闻发布中心", "live_stream_ready": True, "notes": ""}


def _pre_announcement(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"published": True, "announcement_url": "https://example.invalid/notice", "published_on": today.isoformat()}


def _conference_record(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"conference_status": "held", "questions_count": 3, "questions_summary": "试运行：记者提问 3 个",
            "new_conference_date": None, "new_start_time": None, "cancel_reason": "", "notes": ""}


def _monitoring_report(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"coverage_summary": "试运行", "public_reaction": "平稳", "major_issue": False, "report": "试运行"}


def _escalation_handling(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"measures": "试运行：已处置", "comment": ""}


def _closing_report(task_data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {"summary": "试运行：已平息", "resolved": True}


_SAMPLES = {
    "topic_application": _topic_application,
    "host_speaker_selection": _host_speaker_selection,
    "venue_preparation": _venue_preparation,
    "pre_announcement": _pre_announcement,
    "conference_record": _conference_record,
    "monitoring_report": _monitoring_report,
    "escalation_handling": _escalation_handling,
    "closing_report": _closing_report,
}
