"""China's working-day calendar and the 10-working-day reporting deadline."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from carenet_intake.rules import IntakeRules
from carenet_intake.workdays import (
    Adjustments,
    CalendarError,
    CalendarFile,
    WorkingDayCalendar,
    WorkingDayCalendars,
)

NATIONAL = WorkingDayCalendar("national")
RULES = IntakeRules.load()
EXAMPLE = Path(__file__).parents[1] / "calendar.example.yaml"


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 30), True),  # Wednesday before National Day
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),  # the golden week's last day
        (date(2026, 10, 8), True),
        (date(2026, 9, 20), True),  # Sunday, make-up working day
        (date(2026, 10, 10), True),  # Saturday, make-up working day
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 2, 14), True),  # Saturday before Spring Festival, make-up
        (date(2026, 2, 16), False),  # Spring Festival's eve
        (date(2026, 2, 23), False),  # Monday, still the Spring Festival holiday
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up working day
        (date(2025, 9, 28), True),  # Sunday, make-up for National Day 2025
        (date(2025, 10, 8), False),  # National Day and Mid-Autumn 2025, 8 days
        (date(2025, 10, 11), True),  # Saturday, make-up
        (date(2025, 1, 26), True),  # Sunday, make-up for Spring Festival 2025
        (date(2025, 2, 4), False),
        (date(2025, 2, 8), True),  # Saturday, make-up
    ],
)
def test_public_holidays_and_make_up_working_days_follow_the_state_council(
    day: date, working: bool
) -> None:
    assert NATIONAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("diagnosed_on", "deadline"),
    [
        # National Day 2026: Oct 1-7 off, Sep 20 (Sun) and Oct 10 (Sat) worked.
        (date(2026, 9, 28), date(2026, 10, 16)),
        (date(2026, 9, 30), date(2026, 10, 20)),
        (date(2026, 9, 18), date(2026, 10, 9)),
        # Spring Festival 2026: Feb 15-23 off, Feb 14 and Feb 28 (Saturdays) worked.
        (date(2026, 2, 9), date(2026, 2, 28)),
        (date(2026, 2, 13), date(2026, 3, 5)),
        # National Day 2025: Oct 1-8 off, Sep 28 (Sun) and Oct 11 (Sat) worked.
        (date(2025, 9, 26), date(2025, 10, 16)),
        # Spring Festival 2025: Jan 28 - Feb 4 off, Jan 26 (Sun) and Feb 8 (Sat) worked.
        (date(2025, 1, 20), date(2025, 2, 8)),  # a Saturday, worked
        # An ordinary fortnight.
        (date(2026, 11, 2), date(2026, 11, 16)),
        # Diagnosed on a holiday: counting starts the next day all the same.
        (date(2026, 10, 3), date(2026, 10, 20)),
    ],
)
def test_the_reporting_deadline_is_the_tenth_working_day_after_diagnosis(
    diagnosed_on: date, deadline: date
) -> None:
    timeliness = RULES.reporting_timeliness(diagnosed_on, deadline, NATIONAL)
    assert timeliness.deadline == deadline
    assert timeliness.working_days_taken == 10
    assert not timeliness.late
    assert RULES.reporting_timeliness(diagnosed_on, deadline + timedelta(1), NATIONAL).late


def test_every_deadline_of_three_years_counts_exactly_ten_working_days() -> None:
    for diagnosed_on in days(date(2024, 1, 1), date(2026, 12, 31)):
        deadline = NATIONAL.nth_working_day_after(diagnosed_on, 10)
        assert NATIONAL.is_working_day(deadline), diagnosed_on
        assert NATIONAL.working_days_between(diagnosed_on, deadline) == 10, diagnosed_on
        previous = NATIONAL.nth_working_day_after(diagnosed_on, 9)
        assert all(not NATIONAL.is_working_day(d) for d in days(previous, deadline)[1:-1])


def test_a_report_on_a_rest_day_after_the_deadline_is_late_though_no_working_day_passed() -> None:
    timeliness = RULES.reporting_timeliness(date(2026, 11, 2), date(2026, 11, 21), NATIONAL)
    assert timeliness.deadline == date(2026, 11, 16)
    assert timeliness.working_days_taken == 14
    assert timeliness.late
    saturday = RULES.reporting_timeliness(date(2026, 11, 3), date(2026, 11, 21), NATIONAL)
    assert (saturday.deadline, saturday.working_days_taken, saturday.late) == (
        date(2026, 11, 17),
        13,
        True,
    )
    on_the_day = RULES.reporting_timeliness(date(2026, 11, 2), date(2026, 11, 2), NATIONAL)
    assert (on_the_day.working_days_taken, on_the_day.late) == (0, False)


def test_counting_needs_a_positive_number_of_working_days() -> None:
    with pytest.raises(ValueError, match="from 1"):
        NATIONAL.nth_working_day_after(date(2026, 1, 5), 0)


GUANGXI = Adjustments(
    add_holidays={date(2026, 4, 20): "壮族三月三", date(2026, 4, 21): "壮族三月三"}
)


def test_a_region_adds_its_own_holidays_and_only_its_hospitals_see_them() -> None:
    calendars = WorkingDayCalendars(CalendarFile(regions={"45": GUANGXI}))
    nanning = calendars.for_region("450103")
    assert not nanning.is_working_day(date(2026, 4, 20))
    assert nanning.nth_working_day_after(date(2026, 4, 13), 10) == date(2026, 4, 29)
    shenzhen = calendars.for_region("440305")
    assert shenzhen.is_working_day(date(2026, 4, 20))
    assert shenzhen.nth_working_day_after(date(2026, 4, 13), 10) == date(2026, 4, 27)


def test_removed_holidays_and_make_up_days_and_added_make_up_days_apply() -> None:
    calendar = WorkingDayCalendar(
        "national",
        [
            (
                "national",
                Adjustments(
                    remove_holidays=[date(2026, 10, 7)],
                    remove_working_days=[date(2026, 10, 10)],
                    add_working_days=[date(2026, 10, 17)],
                ),
            )
        ],
    )
    assert calendar.is_working_day(date(2026, 10, 7))
    assert not calendar.is_working_day(date(2026, 10, 10))
    assert calendar.is_working_day(date(2026, 10, 17))
    assert NATIONAL.is_working_day(date(2026, 10, 10))  # the national calendar is untouched


def test_narrower_regions_apply_after_wider_ones() -> None:
    calendars = WorkingDayCalendars(
        CalendarFile(
            regions={
                "national": Adjustments(add_holidays={date(2027, 2, 11): "Spring Festival"}),
                "45": GUANGXI,
                "450103": Adjustments(remove_holidays=[date(2026, 4, 21)]),
            }
        )
    )
    district = calendars.for_region("450103001")
    assert not district.is_working_day(date(2026, 4, 20))
    assert district.is_working_day(date(2026, 4, 21))
    assert not district.is_working_day(date(2027, 2, 11))
    assert not calendars.for_region("110108").is_working_day(date(2027, 2, 11))


def test_the_version_names_the_library_and_changes_with_the_adjustments() -> None:
    calendars = WorkingDayCalendars(CalendarFile(regions={"45": GUANGXI}))
    assert NATIONAL.version.startswith("CN/holidays-0.")
    assert calendars.for_region("440305").version == NATIONAL.version
    guangxi = calendars.for_region("450103").version
    assert guangxi.startswith(NATIONAL.version + "/45+")
    other = WorkingDayCalendars(
        CalendarFile(regions={"45": Adjustments(add_holidays={date(2026, 4, 20): "壮族三月三"})})
    )
    assert other.for_region("450103").version != guangxi
    assert (
        WorkingDayCalendars(CalendarFile(regions={"45": GUANGXI})).for_region("450103").version
        == guangxi
    )


@pytest.mark.parametrize(
    ("adjustments", "reason"),
    [
        ({"add_working_days": ["2026-10-14"]}, "weekdays"),
        ({"add_holidays": {"2026-10-17": "x"}, "add_working_days": ["2026-10-17"]}, "contra"),
        ({"add_holidays": {"2026-10-12": "x"}, "remove_holidays": ["2026-10-12"]}, "contra"),
        ({"holidays": ["2026-10-12"]}, "Extra inputs"),
    ],
)
def test_a_contradictory_calendar_file_is_refused_at_start(
    tmp_path: Path, adjustments: dict[str, object], reason: str
) -> None:
    import yaml  # noqa: PLC0415

    path = tmp_path / "calendar.yaml"
    path.write_text(yaml.safe_dump({"regions": {"44": adjustments}}))
    with pytest.raises(CalendarError, match=reason):
        WorkingDayCalendars.from_file(path)


def test_region_keys_are_division_code_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("regions:\n  '4':\n    add_holidays: {2026-10-12: x}\n")
    with pytest.raises(CalendarError, match="regions"):
        WorkingDayCalendars.from_file(path)


def test_the_shipped_example_calendar_file_loads() -> None:
    calendars = WorkingDayCalendars.from_file(EXAMPLE)
    assert not calendars.for_region("450103").is_working_day(date(2026, 4, 20))


def test_without_a_file_the_national_calendar_applies() -> None:
    assert WorkingDayCalendars.from_file(None).for_region("440305").version == NATIONAL.version
