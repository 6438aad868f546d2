"""`carenet-audit history PATIENT_ID`: one patient's timeline across every producer.

Two steps with a plain seam between them, so another source of `Record`s (the audit read
side) or another output (FHIR) plugs in: `topic_records` reads the producers' topics and keeps
the patient's messages by their Kafka key, unparsed; `timeline_from_records` checks and parses
them and builds the `Timeline`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carenet_audit_tool.fhir import patient_bundle
from carenet_audit_tool.readside import ReadSideError, fetch_history
from carenet_audit_tool.render import render_html, render_json, render_table
from carenet_audit_tool.stream import TopicReader
from carenet_audit_tool.timeline import LATE_AFTER, VERIFIED, Timeline, build_timeline
from carenet_contracts import ContractError, Envelope, parse_message
from carenet_contracts.audit import Purpose
from carenet_kit.inspection import Record
from carenet_kit.signing import TrustedKeys
from carenet_kit.topics import load_catalog

PRODUCERS = ("intake", "routing", "casework", "notifications", "audit")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    HTML = "html"
    FHIR = "fhir"
    """A FHIR R4 transaction Bundle of the pathway, for a hospital system to import."""


@dataclass(frozen=True)
class Problem:
    """A message of the patient that the history cannot vouch for, and where it lies."""

    position: str
    reason: str


def producer_topics(namespace: str = "") -> list[str]:
    catalog = load_catalog()
    return [namespace + catalog.topic_of(producer).name for producer in PRODUCERS]


async def topic_records(
    bootstrap: str, topics: list[str], patient_id: UUID, progress: Progress | None = None
) -> list[Record]:
    """The patient's messages on `topics` as they lie on the broker (filtered by key)."""
    key = str(patient_id).encode()
    reader = TopicReader(bootstrap, topics)
    await reader.open()
    kept: list[Record] = []
    try:
        task = progress.add_task("reading topics", total=reader.total) if progress else None
        async for batch in reader.batches():
            kept.extend(r for r in batch if r.key == key)
            if progress is not None and task is not None:
                progress.advance(task, len(batch))
    finally:
        await reader.close()
    return kept


def timeline_from_records(
    patient_id: UUID,
    records: Iterable[Record],
    trusted: TrustedKeys | None = None,
    late_after: timedelta = LATE_AFTER,
) -> tuple[Timeline, list[Problem]]:
    """Parse the records by their contracts, check signatures when keys are given, build."""
    envelopes: list[Envelope[Any]] = []
    signatures: dict[UUID, str] = {}
    problems: list[Problem] = []
    for record in records:
        try:
            envelope = parse_message(record.value)
        except ContractError as error:
            problems.append(Problem(record.position, f"unreadable: {error}"))
            continue
        if str(envelope.patient_id) != str(patient_id):
            problems.append(Problem(record.position, "keyed to the patient, but about another"))
            continue
        envelopes.append(envelope)
        if trusted is not None:
            problem = trusted.problem_with(
                envelope.producer,
                record.value,
                record.signature,
                signed_at=envelope.recorded_at,
            )
            signatures[envelope.event_id] = problem or VERIFIED
            if problem:
                problems.append(Problem(record.position, f"{envelope.event_id}: {problem}"))
    timeline = build_timeline(patient_id, envelopes, signatures=signatures, late_after=late_after)
    return timeline, problems


def parse_moment(text: str) -> datetime:
    """An RFC 3339 / ISO 8601 time with its UTC offset (`Z` or `+08:00`)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO 8601 time: {text!r}") from error
    if moment.tzinfo is None:
        raise typer.BadParameter("give the time with its UTC offset, e.g. 2026-03-01T12:00+08:00")
    return moment


def history(
    patient_id: Annotated[UUID, typer.Argument(help="The pseudonymous patient id.")],
    bootstrap: Annotated[
        str, typer.Option(envvar="CARENET_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers.")
    ] = "localhost:9092",
    namespace: Annotated[
        str, typer.Option(envvar="CARENET_TOPIC_NAMESPACE", help="Topic name prefix.")
    ] = "",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Show what the network knew at this time (ISO 8601 with offset): only "
            "events recorded by then.",
        ),
    ] = None,
    output_format: Annotated[Format, typer.Option("--format", help="Output.")] = Format.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(help="The trusted key set (JWKS); when given, every signature is checked."),
    ] = None,
    late_after_hours: Annotated[
        float, typer.Option(help="Recorded more than this many hours after it happened is late.")
    ] = LATE_AFTER.total_seconds() / 3600,
    timezone: Annotated[
        str, typer.Option(help="Time zone for the table and the page.")
    ] = "Asia/Shanghai",
    read_side: Annotated[
        str | None,
        typer.Option(
            envvar="CARENET_AUDIT_READ_SIDE",
            help="Ask the audit read side (e.g. http://127.0.0.1:8005) instead of reading "
            "every topic; the read is recorded with your purpose.",
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="CARENET_AUDIT_TOKEN", help="Bearer token (read side).")
    ] = None,
    purpose: Annotated[
        str, typer.Option(help="Why you read it (read side): " + ", ".join(Purpose.__args__))
    ] = "compliance-audit",
    justification: Annotated[
        str | None, typer.Option(help="Your stated reason, e.g. a case number (read side).")
    ] = None,
) -> None:
    """One patient's history across hospital, network, community, family and audit."""
    moment = parse_moment(as_of) if as_of else None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise typer.BadParameter(f"unknown time zone {timezone!r}") from error
    trusted = TrustedKeys.load(keys) if keys else None
    errors = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        if read_side is None:
            records = asyncio.run(
                topic_records(bootstrap, producer_topics(namespace), patient_id, progress)
            )
        else:
            if not (token and justification):
                raise typer.BadParameter("the read side needs --token and --justification")
            try:
                records = fetch_history(
                    read_side, token, patient_id, purpose, justification, moment
                )
            except ReadSideError as error:
                errors.print(f"[bold red]the read side refused[/]: {error}")
                raise typer.Exit(2) from error
    timeline, problems = timeline_from_records(
        patient_id, records, trusted, timedelta(hours=late_after_hours)
    )
    if not timeline.entries:
        errors.print(f"No event of patient {patient_id} on the topics.")
    if moment is not None:
        timeline = timeline.as_of(moment)
    if output_format is Format.FHIR:
        _write_text(_fhir_bundle(timeline, records), output)
    else:
        _write(timeline, output_format, output, zone)
    for problem in problems:
        errors.print(f"[bold red]problem[/] at {problem.position}: {problem.reason}")
    if problems:
        raise typer.Exit(1)


def _write(timeline: Timeline, output_format: Format, output: Path | None, zone: ZoneInfo) -> None:
    if output_format is Format.TABLE:
        if output is None:
            render_table(timeline, Console(), zone)
            return
        with output.open("w", encoding="utf-8") as file:
            render_table(timeline, Console(file=file, width=200), zone)
        return
    text = render_json(timeline) if output_format is Format.JSON else render_html(timeline, zone)
    _write_text(text, output)


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _fhir_bundle(timeline: Timeline, records: list[Record]) -> str:
    """The Bundle of the events on the timeline (so `--as-of` applies), with their signatures."""
    shown = {entry.event_id for entry in timeline.entries}
    envelopes, signatures = [], {}
    for record in records:
        try:
            envelope = parse_message(record.value)
        except ContractError:
            continue  # already reported as a problem
        if envelope.event_id in shown:
            envelopes.append(envelope)
            if record.signature is not None:
                signatures[envelope.event_id] = record.signature
    return patient_bundle(envelopes, signatures).model_dump_json(indent=2)
