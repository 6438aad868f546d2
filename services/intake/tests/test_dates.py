"""Plausible dates only: none in the future beyond the clock tolerance, none before the
patient's birth, an age of 0 to 120 years, no discharge before its admission (issue 14,
point 5). A refusal names the field and the rule, never the date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest

from carenet_intake.application import IntakeApplication
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause
from carenet_kit.plausibility import Implausible

from .test_application import HOSPITAL, SHANGHAI, app, clock, diagnosis
from .test_registration import BEIJING, register

__all__ = ["app", "clock"]  # the fixtures

TODAY = date(2026, 11, 20)  # the `clock` fixture's day in China


def refused(error: pytest.ExceptionInfo[Implausible], field: str, rule: str, *dates: date) -> None:
    assert (error.value.field, error.value.rule) == (field, rule)
    assert str(error.value).startswith(field)
    for day in dates:
        assert day.isoformat() not in str(error.value)


def test_a_date_of_birth_in_the_future_is_refused(app: IntakeApplication) -> None:
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(Implausible) as error:
        register(app, HOSPITAL, date_of_birth=tomorrow)
    refused(error, "date_of_birth", "in_future", tomorrow)
    register(app, HOSPITAL, date_of_birth=TODAY)  # born today: an age of 0


def test_the_clock_tolerance_lets_a_fast_clock_name_tomorrow_just_before_midnight(
    app: IntakeApplication, clock: ManualClock
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    clock.advance(datetime(2026, 11, 20, 23, 54, tzinfo=SHANGHAI) - clock.now())
    with pytest.raises(Implausible):  # 6 minutes to midnight: more than 5 minutes ahead
        register(app, HOSPITAL, date_of_birth=tomorrow)
    clock.advance(timedelta(minutes=2))  # 23:56: a clock 4 minutes fast says it is tomorrow
    register(app, HOSPITAL, date_of_birth=tomorrow)


def test_an_age_over_120_years_is_refused(app: IntakeApplication) -> None:
    too_old = date(1906, 11, 19)
    with pytest.raises(Implausible) as error:
        register(app, HOSPITAL, date_of_birth=too_old)
    refused(error, "date_of_birth", "age_out_of_bounds", too_old)
    register(app, HOSPITAL, date_of_birth=date(1906, 11, 20))  # 120 today


def test_consent_dated_30_days_ahead_is_refused(app: IntakeApplication) -> None:
    patient = register(app, HOSPITAL)
    ahead = TODAY + timedelta(days=30)
    consent_ahead = replace(diagnosis(date(2026, 11, 19)), consent_given_on=ahead)
    with pytest.raises(Implausible) as error:
        app.record_diagnosis(patient, consent_ahead, Cause.request())
    refused(error, "consent.given_on", "in_future", ahead)


def test_a_diagnosis_before_the_date_of_birth_is_refused(app: IntakeApplication) -> None:
    patient = register(app, HOSPITAL, date_of_birth=date(1980, 1, 1))
    with pytest.raises(Implausible) as error:
        app.record_diagnosis(patient, diagnosis(date(1900, 1, 1)), Cause.request())
    refused(error, "diagnosed_on", "before_birth", date(1900, 1, 1), date(1980, 1, 1))


def test_a_diagnosis_through_a_handle_is_checked_against_that_registrations_own_entry(
    app: IntakeApplication,
) -> None:
    """Checked against the record instead, a refusal would tell the joining hospital that the
    ID is registered, and something of what the record holds."""
    register(app, HOSPITAL, date_of_birth=date(1980, 1, 1))
    handle = register(app, BEIJING, date_of_birth=date(1990, 1, 1))
    with pytest.raises(Implausible) as error:
        app.record_diagnosis(handle, diagnosis(date(1985, 6, 1), BEIJING), Cause.request())
    refused(error, "diagnosed_on", "before_birth", date(1985, 6, 1), date(1990, 1, 1))


def admitted(app: IntakeApplication, born: date, admitted_on: date) -> UUID:
    patient = register(app, HOSPITAL, date_of_birth=born)
    app.admit(patient, HOSPITAL, admitted_on, None, Cause.request())
    return patient


def test_an_admission_before_birth_or_in_the_future_is_refused(app: IntakeApplication) -> None:
    with pytest.raises(Implausible) as error:
        admitted(app, born=date(2000, 5, 5), admitted_on=date(1999, 5, 5))
    refused(error, "admitted_on", "before_birth", date(1999, 5, 5))
    with pytest.raises(Implausible) as error:
        app.admit(
            register(app, HOSPITAL), HOSPITAL, TODAY + timedelta(days=2), None, Cause.request()
        )
    refused(error, "admitted_on", "in_future")


def test_a_discharge_before_its_admission_is_refused(app: IntakeApplication) -> None:
    patient = admitted(app, born=date(1980, 1, 1), admitted_on=date(2026, 11, 10))
    with pytest.raises(Implausible) as error:
        app.discharge(patient, HOSPITAL, date(2026, 11, 9), Cause.request())
    refused(error, "discharged_on", "before_admission", date(2026, 11, 9), date(2026, 11, 10))
    app.discharge(patient, HOSPITAL, date(2026, 11, 10), Cause.request())
