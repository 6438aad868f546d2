"""Screening instruments, scored server-side, and the pluggable provider that scores them.

An `AssessmentProvider` turns a screening's item answers into an `Assessment`: the total, the
severity band, whether it is urgent, and who scored it (provider, model, version), recorded
with the screening as a rule set's version is with a decision. CareNet ships one provider,
`StandardInstruments`: PHQ-9 and GAD-7 with their published scoring (each item 0-3, summed;
the authors' severity bands; PHQ-9 item 9, thoughts of self-harm, above 0 is urgent).

Another provider (an "AI-assisted" screening model, a regional instrument set) is a class with
the same `name`/`model`/`version` and `assess`, named by `CARENET_ASSESSMENT_PROVIDER`
(`module:attribute`, an instance or a class without arguments). Whatever it answers is held
to the instrument's published rules before anything is recorded (`checked`): a provider may
add to a screening's judgement, never lower what the published scoring requires (a total and
band other than the sum's, an urgent answer called not urgent), so a faulty or tampered model
cannot hide a patient at risk. Such an answer is refused (`InvalidAssessment`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from carenet_contracts.recovery import Instrument, SeverityBand
from carenet_kit.refusals import Refused, UpstreamFailed


class InvalidAnswers(Refused):
    """The answers do not fit the instrument (count, range): nothing is scored (422)."""


class InvalidAssessment(UpstreamFailed):
    """The provider's answer breaks the instrument's published rules: nothing is recorded."""


@dataclass(frozen=True)
class Scoring:
    """An instrument's published scoring: its items, the bands by lowest total, and the item
    whose answer above 0 is urgent (if any)."""

    items: int
    bands: tuple[tuple[int, SeverityBand], ...]
    urgent_item: int | None = None
    """1-based."""

    def band_of(self, total: int) -> SeverityBand:
        return next(band for lowest, band in reversed(self.bands) if total >= lowest)


SCORING: dict[Instrument, Scoring] = {
    # Kroenke, Spitzer, Williams 2001: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately
    # severe, 20-27 severe; item 9 asks about thoughts of being better off dead or of self-harm
    Instrument.PHQ9: Scoring(
        items=9,
        bands=(
            (0, SeverityBand.MINIMAL),
            (5, SeverityBand.MILD),
            (10, SeverityBand.MODERATE),
            (15, SeverityBand.MODERATELY_SEVERE),
            (20, SeverityBand.SEVERE),
        ),
        urgent_item=9,
    ),
    # Spitzer, Kroenke, Williams, Löwe 2006: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe
    Instrument.GAD7: Scoring(
        items=7,
        bands=(
            (0, SeverityBand.MINIMAL),
            (5, SeverityBand.MILD),
            (10, SeverityBand.MODERATE),
            (15, SeverityBand.SEVERE),
        ),
    ),
}
ANSWER_RANGE = range(4)
"""Each item: 0 not at all, 1 several days, 2 more than half the days, 3 nearly every day."""


@dataclass(frozen=True)
class Assessment:
    total: int
    band: SeverityBand
    urgent: bool
    provider: str
    model: str
    version: str


class AssessmentProvider(Protocol):
    name: str
    model: str
    version: str

    def assess(self, instrument: Instrument, answers: tuple[int, ...]) -> Assessment:
        """The assessment of one screening's item answers (already checked for count and
        range)."""


class StandardInstruments:
    """The published scoring of PHQ-9 and GAD-7, nothing more."""

    name = "carenet"
    model = "standard-instruments"
    version = "phq9-2001+gad7-2006"

    def assess(self, instrument: Instrument, answers: tuple[int, ...]) -> Assessment:
        scoring = SCORING[instrument]
        total = sum(answers)
        urgent = scoring.urgent_item is not None and answers[scoring.urgent_item - 1] > 0
        return Assessment(
            total, scoring.band_of(total), urgent, self.name, self.model, self.version
        )


def answers_fit(instrument: Instrument, answers: tuple[int, ...]) -> str | None:
    """What is wrong with the answers for the instrument, or None."""
    scoring = SCORING[instrument]
    if len(answers) != scoring.items:
        return f"{instrument.value} has {scoring.items} items, {len(answers)} answers were given"
    if any(a not in ANSWER_RANGE for a in answers):
        return "each answer is 0, 1, 2 or 3"
    return None


def checked(
    provider: AssessmentProvider, instrument: Instrument, answers: tuple[int, ...]
) -> Assessment:
    """The provider's assessment, once held to the instrument's published rules."""
    given = provider.assess(instrument, answers)
    published = StandardInstruments().assess(instrument, answers)
    if (given.total, given.band) != (published.total, published.band):
        raise InvalidAssessment(
            f"{provider.name}/{provider.model} {provider.version} scored {instrument.value} "
            f"{given.total} ({given.band.value}); its published scoring gives "
            f"{published.total} ({published.band.value})"
        )
    if published.urgent and not given.urgent:
        raise InvalidAssessment(
            f"{provider.name}/{provider.model} {provider.version} did not flag an answer the "
            f"published scoring makes urgent"
        )
    return given


def provider_named(spec: str | None) -> AssessmentProvider:
    """The provider `CARENET_ASSESSMENT_PROVIDER` names (`module:attribute`), else the
    standard instruments."""
    if not spec:
        return StandardInstruments()
    module, _, attribute = spec.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    provider: AssessmentProvider = found() if isinstance(found, type) else found
    return provider
