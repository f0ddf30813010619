"""Working-day calendar: 2026 holidays and make-up days, provisional years, notice import, deadlines.

Expected dates are worked out by hand from the 2026 State Council notice: Spring Festival off 02-15..02-23
with make-up Saturdays 02-14 and 02-28; Mid-Autumn 09-25 and National Day 10-01..10-07 off with make-up
days 09-20 (Sun) and 10-10 (Sat).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.workdays.calendar import (
    SHANGHAI,
    CalendarImportError,
    DayInfo,
    DayOverride,
    WorkCalendar,
    WorkdayCount,
    WorkdayResult,
    parse_override_csv,
)

SAMPLE_2027 = Path(__file__).resolve().parent.parent / "data" / "calendar-2027-sample.csv"


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def calendar_2027() -> WorkCalendar:
    overrides, years = parse_override_csv(SAMPLE_2027.read_text(encoding="utf-8"))
    return WorkCalendar(overrides, covered_years=years)


# --- 2026, answered by chinesecalendar -------------------------------------------------------------


def test_ten_working_days_from_2026_02_06_skip_spring_festival_and_count_the_make_up_saturday(calendar):
    # 02-09..02-13 are 1-5, Saturday 02-14 is 6, 02-15..02-23 are off, 02-24..02-27 are 7-10.
    assert calendar.add_workdays(date(2026, 2, 6), 10) == WorkdayResult(date(2026, 2, 27), provisional=False)


def test_the_eleventh_working_day_from_2026_02_06_is_the_make_up_saturday_02_28(calendar):
    assert calendar.add_workdays(date(2026, 2, 6), 11) == WorkdayResult(date(2026, 2, 28), provisional=False)


def test_ten_working_days_from_2026_02_09_land_on_the_make_up_saturday_02_28(calendar):
    # 02-10..02-14 are 1-5 (02-14 a make-up Saturday), 02-24..02-28 are 6-10.
    assert calendar.add_workdays(date(2026, 2, 9), 10).date == date(2026, 2, 28)


def test_one_working_day_after_the_make_up_saturday_is_the_first_day_after_spring_festival(calendar):
    assert calendar.add_workdays(date(2026, 2, 14), 1).date == date(2026, 2, 24)


def test_working_days_between_counts_make_up_days_and_skips_the_festival(calendar):
    assert calendar.workdays_between(date(2026, 2, 6), date(2026, 2, 28)) == WorkdayCount(
        11, provisional=False
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (1, date(2026, 9, 20)),  # Sunday make-up day
        (5, date(2026, 9, 24)),  # 09-25 is Mid-Autumn, then a weekend
        (6, date(2026, 9, 28)),
        (8, date(2026, 9, 30)),
        (9, date(2026, 10, 8)),  # 10-01..10-07 National Day
        (10, date(2026, 10, 9)),
        (11, date(2026, 10, 10)),  # Saturday make-up day
        (12, date(2026, 10, 12)),
    ],
)
def test_working_days_from_2026_09_18_cross_national_day_with_both_make_up_days(calendar, days, expected):
    assert calendar.add_workdays(date(2026, 9, 18), days) == WorkdayResult(expected, provisional=False)


def test_working_days_between_the_eve_of_national_day_and_the_make_up_saturday_are_three(calendar):
    assert calendar.workdays_between(date(2026, 9, 30), date(2026, 10, 10)).days == 3


def test_day_info_says_the_answer_came_from_chinesecalendar_for_2026(calendar):
    assert calendar.day_info(date(2026, 2, 14)) == DayInfo(
        date(2026, 2, 14), is_workday=True, provisional=False, source="chinesecalendar"
    )
    assert calendar.is_workday(date(2026, 10, 1)) is False


def test_an_override_wins_over_chinesecalendar():
    local_holiday = DayOverride(date(2026, 6, 1), is_workday=False, note="本地停工")
    info = WorkCalendar([local_holiday]).day_info(date(2026, 6, 1))
    assert (info.is_workday, info.provisional, info.source) == (False, False, "override")


# --- years chinesecalendar does not know -----------------------------------------------------------


def test_a_2027_day_without_a_notice_is_guessed_by_weekday_and_flagged_provisional(calendar):
    assert calendar.day_info(date(2027, 1, 1)) == DayInfo(
        date(2027, 1, 1), is_workday=True, provisional=True, source="weekday"
    )


def test_a_2027_day_is_not_provisional_once_that_years_notice_is_imported():
    info = WorkCalendar(covered_years=[2027]).day_info(date(2027, 3, 1))
    assert (info.is_workday, info.provisional, info.source) == (True, False, "weekday")


def test_a_single_override_settles_its_own_day_but_not_the_rest_of_the_year():
    calendar = WorkCalendar([DayOverride(date(2027, 1, 1), is_workday=False)])
    assert calendar.day_info(date(2027, 1, 1)).provisional is False
    assert calendar.day_info(date(2027, 1, 4)).provisional is True


def test_a_listed_2027_holiday_is_skipped_and_the_result_is_firm(calendar_2027):
    # 2027-01-01 (Fri) is a holiday in the sample, 01-02/01-03 a weekend.
    assert calendar_2027.add_workdays(date(2026, 12, 31), 1) == WorkdayResult(
        date(2027, 1, 4), provisional=False
    )


def test_the_sample_2027_spring_festival_is_skipped_and_its_make_up_saturday_works(calendar_2027):
    assert calendar_2027.add_workdays(date(2027, 2, 4), 1).date == date(2027, 2, 15)
    assert calendar_2027.add_workdays(date(2027, 2, 19), 1).date == date(2027, 2, 20)


def test_without_the_notice_the_same_2027_step_lands_on_a_guessed_day(calendar):
    assert calendar.add_workdays(date(2026, 12, 31), 1) == WorkdayResult(date(2027, 1, 1), provisional=True)


def test_a_span_from_2026_into_2027_is_provisional(calendar):
    # 12-31 (1), 2027-01-01 guessed as a Friday working day (2), 01-04 (3).
    assert calendar.add_workdays(date(2026, 12, 30), 3) == WorkdayResult(date(2027, 1, 4), provisional=True)
    assert calendar.workdays_between(date(2026, 12, 28), date(2027, 1, 8)).provisional is True


def test_a_span_wholly_inside_2026_is_not_provisional(calendar):
    assert calendar.workdays_between(date(2026, 1, 1), date(2026, 12, 31)).provisional is False


# --- argument handling -----------------------------------------------------------------------------


def test_zero_working_days_is_the_start_date_itself(calendar):
    assert calendar.add_workdays(date(2026, 2, 15), 0) == WorkdayResult(date(2026, 2, 15), provisional=False)


def test_a_negative_count_is_rejected(calendar):
    with pytest.raises(ValueError, match=">= 0"):
        calendar.add_workdays(date(2026, 2, 6), -1)


def test_a_boolean_count_is_rejected_rather_than_read_as_one(calendar):
    with pytest.raises(TypeError):
        calendar.add_workdays(date(2026, 2, 6), True)


def test_iso_strings_and_datetimes_are_accepted_as_start_dates(calendar):
    expected = WorkdayResult(date(2026, 2, 27), provisional=False)
    assert calendar.add_workdays("2026-02-06", 10) == expected
    assert calendar.add_workdays(datetime(2026, 2, 6, 18, 30), 10) == expected
    assert calendar.workdays_between("2026-02-06", "2026-02-28").days == 11


def test_a_malformed_date_string_is_rejected(calendar):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        calendar.add_workdays("06/02/2026", 1)


def test_an_end_before_the_start_counts_zero_working_days(calendar):
    assert calendar.workdays_between(date(2026, 3, 10), date(2026, 3, 1)) == WorkdayCount(
        0, provisional=False
    )


def test_the_next_working_day_on_or_after_a_holiday_is_the_first_day_back(calendar):
    assert calendar.next_workday_on_or_after(date(2026, 10, 1)) == WorkdayResult(date(2026, 10, 8), False)
    assert calendar.next_workday_on_or_after(date(2026, 9, 20)).date == date(2026, 9, 20)


def test_conflicting_overrides_for_one_day_are_rejected():
    with pytest.raises(ValueError, match="2027-01-01"):
        WorkCalendar([DayOverride(date(2027, 1, 1), True), DayOverride(date(2027, 1, 1), False)])


def test_day_info_is_remembered_per_day(calendar):
    assert calendar.day_info(date(2026, 5, 9)) is calendar.day_info(date(2026, 5, 9))


# --- due_at ----------------------------------------------------------------------------------------


def test_a_task_created_the_day_before_national_day_with_one_working_day_is_due_at_the_end_of_10_08(calendar):
    created = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
    due, provisional = calendar.due_at(created, 1)
    # 23:59:59 in Shanghai (UTC+8) is 15:59:59 UTC the same day.
    assert due == datetime(2026, 10, 8, 15, 59, 59, tzinfo=UTC)
    assert due.utcoffset() is not None and due.utcoffset().total_seconds() == 0
    assert provisional is False


def test_due_at_counts_from_the_shanghai_date_not_the_utc_date(calendar):
    # 2026-02-13 17:00 UTC is already Saturday 02-14 01:00 in Shanghai, a make-up working day.
    created = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    assert calendar.due_at(created, 1) == (datetime(2026, 2, 24, 15, 59, 59, tzinfo=UTC), False)
    assert calendar.due_at(created, 0) == (datetime(2026, 2, 14, 15, 59, 59, tzinfo=UTC), False)


def test_zero_working_days_created_on_a_holiday_is_due_at_the_end_of_the_first_day_back(calendar):
    created = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    assert calendar.due_at(created, 0) == (datetime(2026, 10, 8, 15, 59, 59, tzinfo=UTC), False)


def test_a_deadline_that_falls_in_2027_without_a_notice_is_provisional(calendar):
    created = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)
    assert calendar.due_at(created, 1) == (datetime(2027, 1, 1, 15, 59, 59, tzinfo=UTC), True)


def test_due_at_refuses_a_naive_datetime(calendar):
    with pytest.raises(ValueError, match="aware"):
        calendar.due_at(datetime(2026, 9, 30, 10, 0), 1)


def at(day: str, clock_time: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock_time}").replace(tzinfo=SHANGHAI)


def test_a_pause_over_national_day_gives_back_the_two_working_days_left_counting_the_make_up_saturday(calendar):
    due = at("2026-09-30", "23:59:59")  # paused on Mon 09-28: Tue and Wed were left
    moved, provisional = calendar.deadline_after_pause(due, at("2026-09-28"), at("2026-10-09"))
    # resumed Fri 10-09: the make-up Saturday 10-10 is the first working day, Monday 10-12 the second
    assert (moved, provisional) == (at("2026-10-12", "23:59:59"), False)


def test_a_deadline_already_passed_when_the_pause_began_is_not_moved(calendar):
    due = at("2026-09-22", "23:59:59")
    assert calendar.deadline_after_pause(due, at("2026-09-24"), at("2026-10-09")) == (due, False)


def test_a_pause_resumed_the_same_day_leaves_the_deadline_as_it_was(calendar):
    due = at("2026-09-30", "23:59:59")
    assert calendar.deadline_after_pause(due, at("2026-09-28", "09:00"), at("2026-09-28", "16:00")) == (due, False)


def test_a_pause_on_the_deadline_day_grants_the_day_of_resumption(calendar):
    due = at("2026-09-30", "23:59:59")
    moved, _ = calendar.deadline_after_pause(due, at("2026-09-30"), at("2026-10-05"))
    assert moved == at("2026-10-08", "23:59:59")  # resumed during the holiday: the first day back


# --- parse_override_csv ----------------------------------------------------------------------------


def test_the_2027_sample_notice_parses_into_overrides_covering_2027():
    overrides, years = parse_override_csv(SAMPLE_2027.read_text(encoding="utf-8"))
    assert years == {2027}
    assert len(overrides) == 20
    assert overrides[0] == DayOverride(date(2027, 1, 1), is_workday=False, note="元旦")
    assert DayOverride(date(2027, 2, 20), is_workday=True, note="春节调休上班") in overrides


def test_chinese_type_words_a_bom_a_missing_note_and_several_years_are_accepted():
    text = "\ufeffDate,Type,Note\n2027-02-08,放假,春节\n2027-02-20,上班\n2028-01-01,HOLIDAY,元旦\n"
    overrides, years = parse_override_csv(text)
    assert overrides == [
        DayOverride(date(2027, 2, 8), False, "春节"),
        DayOverride(date(2027, 2, 20), True, ""),
        DayOverride(date(2028, 1, 1), False, "元旦"),
    ]
    assert years == {2027, 2028}


def test_a_header_only_file_gives_no_overrides_and_no_years():
    assert parse_override_csv("date,type,note\n") == ([], set())


# Line 1 a comment, 2 blank, 3 the header, 4 a good row, 5 the row under test.
PREFIX = "# 2027 年通知\n\ndate,type,note\n2027-01-01,holiday,元旦\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2027-02-30,holiday,", '第 5 行：日期 "2027-02-30" 无效'),
        ("2027/01/04,holiday,", '第 5 行：日期 "2027/01/04" 无效'),
        ("20270104,holiday,", '第 5 行：日期 "20270104" 无效'),
        ("2027-01-04,vacation,", '第 5 行：类型 "vacation" 无法识别'),
        ("2027-01-01,workday,重复", '第 5 行：日期 "2027-01-01" 与第 4 行重复'),
        ("2027-01-04,holiday,元旦,补充", "第 5 行：应有 3 列（date,type,note），实际 4 列"),
        ('2027-01-04,holiday,"未闭合', "第 5 行：CSV 格式错误"),
    ],
)
def test_a_bad_row_is_rejected_with_its_line_number_in_chinese(row, message):
    with pytest.raises(CalendarImportError) as caught:
        parse_override_csv(PREFIX + row + "\n")
    assert message in str(caught.value)


def test_a_wrong_header_is_rejected_with_its_line_number():
    with pytest.raises(CalendarImportError, match='第 2 行：表头应为 "date,type,note"'):
        parse_override_csv("# 注释\n日期,类型,备注\n2027-01-01,holiday,元旦\n")


def test_an_empty_file_is_rejected_for_its_missing_header():
    with pytest.raises(CalendarImportError, match="缺少表头"):
        parse_override_csv("# 只有注释\n\n")


def test_calendar_import_error_is_a_value_error():
    assert issubclass(CalendarImportError, ValueError)
