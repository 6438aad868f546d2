"""China's working-day calendar: public holidays, make-up working days (调休), regional changes.

The defaults come from the `holidays` library's China calendar, which follows the State
Council's yearly schedule, including the weekend days that are working days. A region may
add or remove holidays and make-up days (a YAML file, see `CalendarFile`); regions are keyed
by administrative division code prefix ("45" a province, "4503" a city, "450305" a district),
and every prefix of a hospital's region code applies, from the widest to the narrowest,
after the national entry.

A calendar has a version string, recorded in the events it decided, so an auditor can check
a deadline against the calendar that was in force.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

NATIONAL = "national"
SATURDAY = 5

RegionKey = Annotated[str, StringConstraints(pattern=r"^(national|\d{2}|\d{4}|\d{6}|\d{9})$")]


class CalendarError(ValueError):
    """The calendar configuration contradicts itself; the service refuses to start."""


class Adjustments(BaseModel):
    """Changes one region makes to the calendar it inherits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    add_holidays: dict[date, str] = Field(default_factory=dict)
    remove_holidays: list[date] = Field(default_factory=list)
    add_working_days: list[date] = Field(
        default_factory=list, description="Make-up working days: weekend days people work."
    )
    remove_working_days: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Adjustments:
        both = set(self.add_holidays) & set(self.remove_holidays)
        both |= set(self.add_working_days) & set(self.remove_working_days)
        both |= set(self.add_holidays) & set(self.add_working_days)
        if both:
            raise ValueError(f"contradictory entries for {sorted(map(str, both))}")
        weekdays = [d for d in self.add_working_days if d.weekday() < SATURDAY]
        if weekdays:
            raise ValueError(
                f"make-up working days fall on weekends; {sorted(map(str, weekdays))} are "
                "weekdays (to make a holiday a working day, remove the holiday)"
            )
        return self

    def years(self) -> set[int]:
        dates = [*self.add_holidays, *self.remove_holidays]
        dates += [*self.add_working_days, *self.remove_working_days]
        return {d.year for d in dates}


class CalendarFile(BaseModel):
    """The YAML file of `CARENET_CALENDAR_FILE`: `regions: {<key>: <Adjustments>}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: dict[RegionKey, Adjustments] = Field(default_factory=dict)


class WorkingDayCalendar:
    """Which days are working days for one region; thread-safe, read-only once built."""

    def __init__(self, region: str, adjustments: Iterable[tuple[str, Adjustments]] = ()) -> None:
        applied = list(adjustments)
        years = set().union(*(a.years() for _, a in applied))
        # The years the configuration touches are filled in now, with their neighbours, so the
        # library's lazy filling of other years later never undoes a configured change.
        span = range(min(years) - 1, max(years) + 2) if years else ()
        self._days = holidays.country_holidays("CN", years=span)
        for _, change in applied:
            for day, name in change.add_holidays.items():
                self._days[day] = name
                self._days.weekend_workdays.discard(day)
            for day in [*change.remove_holidays, *change.add_working_days]:
                if day in self._days:
                    self._days.pop(day)
            self._days.weekend_workdays.update(change.add_working_days)
            for day in change.remove_working_days:
                self._days.weekend_workdays.discard(day)
        self.version = _version(region, applied)
        self._lock = threading.Lock()

    def is_working_day(self, day: date) -> bool:
        with self._lock:
            return self._days.is_working_day(day)

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The n-th working day after `day` (the day itself does not count), n >= 1."""
        if n < 1:
            raise ValueError("n counts working days after the day, from 1")
        with self._lock:
            return self._days.get_nth_working_day(day, n)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; 0 when `end` <= `start`."""
        if end <= start:
            return 0
        with self._lock:
            return self._days.get_working_days_count(date.fromordinal(start.toordinal() + 1), end)


def _version(region: str, applied: list[tuple[str, Adjustments]]) -> str:
    """`CN/holidays-<library version>`, plus the region and a digest of what it changed."""
    base = f"CN/holidays-{version('holidays')}"
    if not applied:
        return base
    canonical = json.dumps(
        [[key, change.model_dump(mode="json")] for key, change in applied], sort_keys=True
    )
    return f"{base}/{region}+{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


class WorkingDayCalendars:
    """The calendar of each region, built once per distinct set of applicable adjustments."""

    def __init__(self, config: CalendarFile | None = None) -> None:
        self._regions = dict((config or CalendarFile()).regions)
        self._built: dict[tuple[str, ...], WorkingDayCalendar] = {}
        self._lock = threading.Lock()
        # Built now: the first one loads the holidays library's country modules, about half a
        # second, which would otherwise hold up the first diagnoses, and every request behind
        # them (issue 15, P5).
        self.for_region("")

    @classmethod
    def from_file(cls, path: Path | None) -> WorkingDayCalendars:
        if path is None:
            return cls()
        try:
            return cls(CalendarFile.model_validate(yaml.safe_load(path.read_text()) or {}))
        except ValueError as error:
            raise CalendarError(f"calendar file {path.name}: {error}") from error

    def for_region(self, region_code: str) -> WorkingDayCalendar:
        keys = tuple(
            key
            for key in (NATIONAL, *(region_code[:n] for n in (2, 4, 6, 9) if n <= len(region_code)))
            if key in self._regions
        )
        with self._lock:
            if keys not in self._built:
                self._built[keys] = WorkingDayCalendar(
                    keys[-1] if keys else NATIONAL, [(k, self._regions[k]) for k in keys]
                )
            return self._built[keys]
