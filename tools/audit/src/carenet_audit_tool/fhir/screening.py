"""Screenings as FHIR: the instrument's total score as a LOINC-coded Observation, its band as
the interpretation, and an urgent screening (thoughts of self-harm) as an active Flag."""

from __future__ import annotations

from typing import Any

from carenet_audit_tool.fhir.export import coded
from carenet_audit_tool.fhir.pathway import Pathway, Ref, day, maps, ref_of
from carenet_contracts import Envelope
from carenet_contracts.recovery import Instrument, ScreeningCompleted

LOINC = "http://loinc.org"
TOTAL_SCORE = {
    Instrument.PHQ9: ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score"),
    Instrument.GAD7: ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score"),
}


@maps(ScreeningCompleted)
def screening(p: Pathway, e: Envelope[Any], d: ScreeningCompleted) -> list[Ref]:
    code, display = TOTAL_SCORE[d.instrument]
    assessed_by = f"{d.assessed_by.provider}/{d.assessed_by.model} {d.assessed_by.version}"
    p.resource("Observation", "screening", str(d.screening_id)).update(
        status="final",
        category=[coded("observation-category", "screening", "Screening")],
        code={"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        subject=p.patient,
        performer=[p.staff(d.screened_by)],
        effectiveDateTime=day(d.screened_on),
        valueInteger=d.total_score,
        interpretation=[coded("severity-band", d.band.value)],
        method={"text": f"scored by {assessed_by}"},
    )
    refs = [ref_of(p, "Observation", "screening", d.screening_id)]
    if d.urgent:
        p.resource("Flag", "screening-flag", str(d.screening_id)).update(
            status="active",
            category=[coded("flag-category", "safety", "Safety")],
            code=coded("flag", "self-harm-thoughts", "Thoughts of self-harm (PHQ-9 item 9)"),
            subject=p.patient,
            period={"start": day(d.screened_on)},
        )
        refs.append(ref_of(p, "Flag", "screening-flag", d.screening_id))
    return refs
