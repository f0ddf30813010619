"""Behaviour of the PressFlow task forms: rules, Chinese messages and client descriptions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from forms import (
    FORM_KEYS,
    FormContext,
    FormError,
    decision_field,
    describe_form,
    marshmallow_schema,
    positive_decisions,
    validate_form,
)

TODAY = date(2026, 11, 25)  # a Wednesday
#: "unit" names a unit by its code; pages offer the units table as choices.
ALLOWED_TYPES = {"string", "text", "date", "time", "integer", "boolean", "choice", "list", "unit"}
REVIEW_FORMS = {
    "leader_review": ("approve", "return"),
    "secrecy_review": ("pass", "return"),
    "office_topic_review": ("accept", "decline"),
    "content_approval": ("approve", "reject"),
}


def add_weekdays(start: date, days: int) -> tuple[date, bool]:
    """Count weekdays forward, ignoring holidays, and never call the result provisional."""
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current, False


def make_ctx(**overrides: Any) -> FormContext:
    """Build a submission context with both required attachments already uploaded."""
    values: dict[str, Any] = {
        "today": TODAY,
        "add_workdays": add_weekdays,
        "attachment_kinds": frozenset({"work_plan", "release_text"}),
    }
    values.update(overrides)
    return FormContext(**values)


def topic(**overrides: Any) -> dict[str, Any]:
    """Return a valid topic application, changed by `overrides`."""
    data: dict[str, Any] = {
        "title": "重庆市优化营商环境新闻发布会",
        "name_holder": "information_office",
        "kind": "press_conference",
        "conference_date": "2026-12-09",
        "start_time": "10:00",
        "summary": "介绍优化营商环境的主要举措。",
        "venue": "press_center",
        "live_stream": "video",
    }
    data.update(overrides)
    return data


def errors_of(form_key: str, data: dict[str, Any], ctx: FormContext | None = None) -> dict[str, list[str]]:
    """Return the field errors that submitting `data` raises."""
    with pytest.raises(FormError) as caught:
        validate_form(form_key, data, ctx or make_ctx())
    return caught.value.fields


def test_a_valid_topic_application_comes_back_json_ready() -> None:
    result = validate_form("topic_application", topic(title="  主题  "), make_ctx())

    assert result["conference_date"] == "2026-12-09"
    assert result["start_time"] == "10:00"
    assert result["title"] == "主题"
    assert result["venue_other_reason"] == ""


def test_a_conference_date_inside_ten_working_days_names_the_earliest_allowed_date() -> None:
    errors = errors_of("topic_application", topic(conference_date="2026-12-08"))

    assert errors["conference_date"] == ["发布会日期须至少提前 10 个工作日申报，最早可选 2026-12-09"]


def test_a_provisional_earliest_date_carries_a_note_naming_its_year() -> None:
    ctx = make_ctx(add_workdays=lambda start, days: (date(2027, 1, 8), True))

    errors = errors_of("topic_application", topic(conference_date="2027-01-07"), ctx)

    message = errors["conference_date"][0]
    assert "最早可选 2027-01-08" in message
    assert "2027 年节假日安排未发布" in message


def test_another_venue_needs_a_reason() -> None:
    errors = errors_of("topic_application", topic(venue="other", venue_other_reason="  "))

    assert errors["venue_other_reason"] == ["选择其他场地时须说明理由"]
    accepted = validate_form(
        "topic_application", topic(venue="other", venue_other_reason="需现场参观"), make_ctx()
    )
    assert accepted["venue_other_reason"] == "需现场参观"


def test_the_press_center_refuses_a_reason_for_another_venue() -> None:
    errors = errors_of("topic_application", topic(venue_other_reason="不需要"))

    assert "请清空此项" in errors["venue_other_reason"][0]


def test_missing_attachments_are_named() -> None:
    errors = errors_of("topic_application", topic(), make_ctx(attachment_kinds=frozenset()))

    assert "工作方案" in errors["attachments"][0]
    assert "发布文稿" in errors["attachments"][0]


def test_only_the_missing_attachment_is_named() -> None:
    errors = errors_of("topic_application", topic(), make_ctx(attachment_kinds=frozenset({"work_plan"})))

    assert "发布文稿" in errors["attachments"][0]
    assert "工作方案" not in errors["attachments"][0]


def test_malformed_values_get_chinese_messages() -> None:
    errors = errors_of(
        "topic_application",
        topic(title="", start_time="24:00", conference_date="2026/12/09", kind="webinar"),
    )

    assert errors["title"] == ["此项为必填项"]
    assert "HH:MM" in errors["start_time"][0]
    assert "YYYY-MM-DD" in errors["conference_date"][0]
    assert errors["kind"] == ["请选择有效的选项"]


def test_a_title_longer_than_one_hundred_characters_is_refused() -> None:
    errors = errors_of("topic_application", topic(title="题" * 101))

    assert errors["title"] == ["不能超过 100 个字符"]


def test_unknown_fields_are_refused() -> None:
    errors = errors_of("topic_application", topic(budget="100"))

    assert errors == {"budget": ["不支持的字段"]}


def test_an_unknown_form_key_raises_key_error() -> None:
    with pytest.raises(KeyError):
        validate_form("lunch_order", {}, make_ctx())


@pytest.mark.parametrize("form_key", sorted(REVIEW_FORMS))
def test_a_negative_review_decision_needs_a_comment(form_key: str) -> None:
    negative = REVIEW_FORMS[form_key][1]

    errors = errors_of(form_key, {"decision": negative, "comment": ""})

    assert errors == {"comment": ["退回或不同意时须填写审批意见"]}


@pytest.mark.parametrize("form_key", sorted(REVIEW_FORMS))
def test_a_positive_review_decision_needs_no_comment(form_key: str) -> None:
    positive = REVIEW_FORMS[form_key][0]

    result = validate_form(form_key, {"decision": positive}, make_ctx())

    assert result == {"decision": positive, "comment": ""}
    assert decision_field(form_key) == "decision"
    assert positive in positive_decisions(form_key)


def test_forms_without_decisions_report_none() -> None:
    assert decision_field("topic_application") is None
    assert positive_decisions("topic_application") == frozenset()


def selection(**overrides: Any) -> dict[str, Any]:
    """Return a host and speaker selection, changed by `overrides`."""
    data: dict[str, Any] = {
        "speaker_name": "张三",
        "speaker_role": "vice_mayor",
        "host_name": "李四",
        "host_role": "municipal_spokesperson",
    }
    data.update(overrides)
    return data


ELIGIBLE = {
    "eligible_speaker_roles": ["vice_mayor", "secretary_general"],
    "eligible_host_roles": ["municipal_spokesperson"],
}


def test_eligible_host_and_speaker_are_accepted() -> None:
    guests = [{"name": "王五", "title": "市发展改革委主任"}]

    ctx = make_ctx(workflow_data=ELIGIBLE)

    result = validate_form("host_speaker_selection", selection(guests=guests), ctx)

    assert result["guests"] == guests
    assert validate_form("host_speaker_selection", selection(), ctx)["guests"] == []


def test_ineligible_roles_are_refused_with_the_allowed_roles_named() -> None:
    errors = errors_of(
        "host_speaker_selection",
        selection(speaker_role="unit_principal", host_role="spokesperson_assistant"),
        make_ctx(workflow_data=ELIGIBLE),
    )

    assert errors["speaker_role"] == ["本次发布的发布人须为以下身份之一：副市长、秘书长"]
    assert errors["host_role"] == ["本次发布的主持人须为以下身份之一：市政府新闻发言人"]


def test_selection_without_eligibility_ranges_fails_the_whole_form() -> None:
    errors = errors_of("host_speaker_selection", selection(), make_ctx(workflow_data={}))

    assert list(errors) == ["_schema"]


def test_guest_problems_are_reported_under_guests_with_their_position() -> None:
    errors = errors_of(
        "host_speaker_selection", selection(guests=[{"name": "王五"}]), make_ctx(workflow_data=ELIGIBLE)
    )

    assert errors == {"guests": ["第 1 项「职务」：此项为必填项"]}


def test_venue_preparation_must_be_confirmed() -> None:
    errors = errors_of("venue_preparation", {"venue_confirmed": False, "venue_name": "市新闻发布中心"})

    assert errors == {"venue_confirmed": ["须确认场地已落实"], "live_stream_ready": ["须确认直播准备已就绪"]}


def test_pre_announcement_needs_a_web_address() -> None:
    data = {"published": True, "announcement_url": "ftp://example.cn/a", "published_on": "2026-12-07"}

    errors = errors_of("pre_announcement", data)

    assert list(errors) == ["announcement_url"]
    data["announcement_url"] = "https://example.cn/a"
    assert validate_form("pre_announcement", data, make_ctx())["published_on"] == "2026-12-07"


def test_a_press_conference_record_needs_reporters_questions() -> None:
    ctx = make_ctx(workflow_data={"kind": "press_conference"})

    errors = errors_of("conference_record", {"conference_status": "held", "questions_count": 0}, ctx)

    assert errors["questions_count"] == ["新闻发布会须安排记者提问"]
    assert "questions_summary" in errors
    done = {"conference_status": "held", "questions_count": 3, "questions_summary": "记者关注减税"}
    assert validate_form("conference_record", done, ctx)["questions_count"] == 3


def test_a_briefing_record_needs_no_questions() -> None:
    ctx = make_ctx(workflow_data={"kind": "briefing"})

    result = validate_form("conference_record", {"conference_status": "held"}, ctx)

    assert result["questions_count"] is None
    assert result["questions_summary"] == ""


def test_a_postponed_conference_needs_a_later_date_and_a_time() -> None:
    data = {"conference_status": "postponed", "new_conference_date": "2026-11-25"}

    errors = errors_of("conference_record", data)

    assert "晚于今天" in errors["new_conference_date"][0]
    assert errors["new_start_time"] == ["延期时须填写新的开始时间"]


def test_a_cancelled_conference_needs_a_reason() -> None:
    errors = errors_of("conference_record", {"conference_status": "cancelled"})

    assert errors == {"cancel_reason": ["取消时须填写取消原因"]}


def test_a_monitoring_report_defaults_to_no_major_issue() -> None:
    data = {"coverage_summary": "主流媒体报道 20 篇", "public_reaction": "总体正面", "report": "无异常"}

    assert validate_form("monitoring_report", data, make_ctx())["major_issue"] is False


@pytest.mark.parametrize("form_key", FORM_KEYS)
def test_every_form_describes_its_fields_for_clients(form_key: str) -> None:
    described = describe_form(form_key)

    assert described
    for entry in described:
        assert {"name", "type", "label", "required", "choices", "help"} <= set(entry)
        assert entry["type"] in ALLOWED_TYPES
        assert any("\u4e00" <= char <= "\u9fff" for char in entry["label"])
        if entry["type"] == "choice":
            assert entry["choices"]
            for option in entry["choices"]:
                assert set(option) == {"value", "label"}
                assert any("\u4e00" <= char <= "\u9fff" for char in option["label"])
        else:
            assert entry["choices"] is None
    assert marshmallow_schema(form_key)().fields.keys() == {entry["name"] for entry in described}


def test_descriptions_mark_long_text_and_nested_guests() -> None:
    types = {entry["name"]: entry for entry in describe_form("host_speaker_selection")}

    assert types["guests"]["type"] == "list"
    assert [item["name"] for item in types["guests"]["item_fields"]] == ["name", "title"]
    assert {entry["name"]: entry["type"] for entry in describe_form("topic_application")}["summary"] == "text"
