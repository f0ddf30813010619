"""The model rules for hour deadlines (dueInHours): one deadline kind per step, a whole number of hours."""

from __future__ import annotations

from pathlib import Path

from engine.modeling.validation import check_model

EMERGENCY = (Path(__file__).resolve().parents[2] / "processes" / "emergency_release.bpmn").read_text("utf-8")
HOURS = '<spiffworkflow:property name="dueInHours" value="1" />'


def messages_for(xml: str) -> list[str]:
    return [p["message"] for p in check_model(xml, []).problems]


def test_the_shipped_emergency_model_has_no_problems():
    assert messages_for(EMERGENCY) == []


def test_a_step_with_both_working_days_and_hours_is_refused():
    both = EMERGENCY.replace(HOURS, HOURS + '<spiffworkflow:property name="dueInWorkdays" value="2" />', 1)
    assert any("不能同时设置" in message for message in messages_for(both))


def test_an_hour_deadline_that_is_not_a_positive_whole_number_is_refused():
    for bad in ("0", "1.5", "soon"):
        model = EMERGENCY.replace(HOURS, HOURS.replace('value="1"', f'value="{bad}"'), 1)
        assert any("dueInHours 须为不小于 1 的整数" in message for message in messages_for(model)), bad
