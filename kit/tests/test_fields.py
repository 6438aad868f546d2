"""`copy_of` and `fields_of` read only the target's fields, by name, and take what is given
over them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NotRequired, TypedDict

import pytest
from pydantic import BaseModel, ValidationError

from carenet_kit.fields import copy_of, fields_of


@dataclass(frozen=True)
class Recorded:
    """Stands in for a domain event: more facts than any one view keeps."""

    visit_id: str
    visited_on: date
    risk_level: int
    notes: str
    timestamp: date


@dataclass
class VisitView:
    visit_id: str
    visited_on: date
    recorded_on: date
    risk_level: int = 0
    late: bool = False
    history: list[str] = field(init=False, default_factory=list)


class Level(StrEnum):
    LOW = "low"


class VisitOut(BaseModel):
    visit_id: str
    level: Level


EVENT = Recorded("v-1", date(2026, 11, 2), 3, "private", date(2026, 11, 3))


def test_a_view_takes_its_fields_of_the_same_name_and_the_given_ones() -> None:
    view = copy_of(VisitView, EVENT, recorded_on=EVENT.timestamp)

    assert view == VisitView("v-1", date(2026, 11, 2), date(2026, 11, 3), risk_level=3)
    assert not hasattr(view, "notes")


def test_what_the_source_lacks_keeps_the_target_s_default() -> None:
    assert copy_of(VisitView, EVENT, recorded_on=EVENT.timestamp).late is False


def test_a_given_value_wins_over_the_source_s() -> None:
    view = copy_of(VisitView, EVENT, recorded_on=EVENT.timestamp, risk_level=5)

    assert view.risk_level == 5


def test_a_mapping_is_read_by_key() -> None:
    facts = {"visit_id": "v-2", "visited_on": date(2026, 1, 1), "recorded_on": date(2026, 1, 2)}

    assert copy_of(VisitView, facts) == VisitView("v-2", date(2026, 1, 1), date(2026, 1, 2))


def test_a_pydantic_target_validates_what_it_gets() -> None:
    assert copy_of(VisitOut, EVENT, level="low").level is Level.LOW
    with pytest.raises(ValidationError):
        copy_of(VisitOut, EVENT, level="unheard of")


def test_a_field_neither_given_nor_in_the_source_is_missing() -> None:
    with pytest.raises(TypeError, match="recorded_on"):
        copy_of(VisitView, EVENT)


def test_a_given_name_the_target_does_not_have_is_refused() -> None:
    with pytest.raises(TypeError, match="VisitView has no field recorded_at"):
        copy_of(VisitView, EVENT, recorded_at=EVENT.timestamp)


class Visit:
    """Stands in for an aggregate: constructed by the named parameters of its `__init__`."""

    def __init__(self, visit_id: str, risk_level: int, *, late: bool = False) -> None:
        self.visit_id, self.risk_level, self.late = visit_id, risk_level, late


def test_another_class_is_built_from_the_parameters_its_init_names() -> None:
    visit = copy_of(Visit, EVENT, late=True)

    assert (visit.visit_id, visit.risk_level, visit.late) == ("v-1", 3, True)


class VisitFacts(TypedDict):
    visit_id: str
    risk_level: NotRequired[int]


def test_a_typed_dictionary_takes_its_keys_from_the_source() -> None:
    assert copy_of(VisitFacts, EVENT) == {"visit_id": "v-1", "risk_level": 3}


def test_a_class_that_names_no_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="names no parameter"):
        copy_of(date, EVENT)


def test_fields_of_gives_the_keyword_arguments_only_what_the_source_or_the_caller_has() -> None:
    assert fields_of(VisitView, EVENT, recorded_on=EVENT.timestamp) == {
        "visit_id": "v-1",
        "visited_on": date(2026, 11, 2),
        "recorded_on": date(2026, 11, 3),
        "risk_level": 3,
    }
    with pytest.raises(TypeError, match="VisitView has no field notes"):
        fields_of(VisitView, EVENT, notes="")
