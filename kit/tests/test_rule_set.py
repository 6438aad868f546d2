"""The rule set and the reference directory are read whole, typed and strictly, or refused at
start-up with the entry that is wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from pydantic import PositiveInt, ValidationError

from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.rule_set import DEFAULT_RULE_SET_FILE, RuleSection

REPOSITORY = Path(__file__).parents[2]
SHIPPED = REPOSITORY / DEFAULT_RULE_SET_FILE
DIRECTORY = REPOSITORY / "reference" / "demo-directory.yaml"


class Routing(RuleSection):
    """A section as a service declares one (routing's, here: the kit imports no service)."""

    section: ClassVar = "routing"

    first_visit_within_days: PositiveInt
    manual_routing_within_days: PositiveInt


def changed(tmp_path: Path, old: str, new: str, source: Path = SHIPPED) -> Path:
    text = source.read_text()
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_section_reads_with_the_version_and_time_zone_of_the_whole_file() -> None:
    whole = yaml.safe_load(SHIPPED.read_text())
    routing = Routing.load(SHIPPED)
    assert (routing.version, routing.timezone) == (whole["version"], whole["timezone"])
    assert routing.first_visit_within_days == whole["routing"]["first_visit_within_days"]


def test_days_are_counted_in_the_rule_sets_time_zone() -> None:
    routing = Routing.load(SHIPPED)
    late_evening_utc = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)  # 00:30 on the 21st in China
    assert routing.local_date(late_evening_utc) == date(2026, 11, 21)
    assert routing.start_of(date(2026, 11, 21)) == datetime(2026, 11, 20, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("first_visit_within_days: 14", 'first_visit_within_days: "14"', "int"),
        ("first_visit_within_days: 14", "first_visit_within_days: 14.5", "int"),
        ("first_visit_within_days: 14", "first_visit_withn_days: 14", "first_visit_withn_days"),
        ("timezone: Asia/Shanghai", "timezone: Asia/Shenzhen", "Asia/Shenzhen"),
        ("version: nhc-2018/4", 'version: ""', "version"),
        ("\nrouting:", "\nrouteing:", "routeing"),
        ("\nrouting:", "\nrouting:\n  version: regional/1", "whole rule set"),
    ],
)
def test_a_rule_set_that_is_not_whole_or_not_typed_is_refused_naming_the_entry(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        Routing.load(changed(tmp_path, old, new))


def test_a_rule_set_without_a_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no version"):
        Routing.load(changed(tmp_path, "version: nhc-2018/4\n", ""))


def test_the_reference_directory_reads_typed() -> None:
    directory = ReferenceDirectory.load(DIRECTORY)
    assert directory.hospitals
    assert all(isinstance(h.certified, bool) for h in directory.hospitals)
    assert all(c.catchment for c in directory.centers)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("    certified: true\n", '    certified: "yes"\n', "certified"),
        ("    social_workers: [SW-NS-LI", "    socialworkers: [SW-NS-LI", "socialworkers"),
        ('    region_code: "440307"', "    region_code: 440307", "region_code"),
    ],
)
def test_a_reference_directory_entry_of_the_wrong_type_or_name_is_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        ReferenceDirectory.load(changed(tmp_path, old, new, DIRECTORY))
