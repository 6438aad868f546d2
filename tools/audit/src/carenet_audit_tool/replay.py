"""`carenet-audit replay`: read every producer's topic from the beginning and verify it all.

Exit status: 0 when every message is verified, 1 when any problem is found, 2 when the replay
could not run (no key set, broker unreachable, topics absent).

By default the Ed25519 signatures checked are those that cover each stream's hash chain
(`carenet_kit.chain_cover`, which states what that proves and the one thing it does not); a
pass that finds any problem is followed by one over the same records checking every signature,
whose report is the one returned. `--every-signature` runs only that full check.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from carenet_audit_tool import signed_report
from carenet_audit_tool.checkpoints import CheckpointLedger
from carenet_audit_tool.shards import Shard, merge, split, verify_shards
from carenet_audit_tool.stream import ReplayError, TopicReader
from carenet_audit_tool.verify import Report
from carenet_contracts.checkpoint import StreamCheckpoint
from carenet_kit.inspection import (
    PRODUCERS,
    MessageInspector,
    ProblemKind,
)
from carenet_kit.topics import CHECKPOINT_TOPIC

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


PARALLEL_FROM = 20_000
"""Below this many events, worker processes cost more to start than they save."""


async def verify_stream(
    bootstrap: str,
    key_set: Mapping[str, Any],
    namespace: str = "",
    *,
    max_problems: int = 1_000,
    workers: int | None = None,
    every_signature: bool = False,
    on_total: Callable[[int], None] = lambda total: None,
    on_batch: Callable[[int], None] = lambda size: None,
    earlier: Sequence[tuple[StreamCheckpoint, str]] = (),
) -> Report:
    """Read the five producer topics from offset 0 to their current ends, verifying each record.

    The checkpoint topic is read first, whole: its checkpoints then cover only records that
    were on the producers' topics before their ends were fixed (a relay checkpoints what the
    broker has acknowledged). The partitions are verified in `workers` shards, each in a
    process of its own (None: one per core from `PARALLEL_FROM` events; 0 or 1: here), since
    each stream lies whole in one partition (`carenet_audit_tool.shards`). `earlier`: more
    checkpoints to hold the partitions to, and where each comes from (the heads of an
    auditor's earlier signed report).

    Unless `every_signature`, signatures are checked where they cover each stream's chain
    (`carenet_kit.chain_cover`); if that pass finds any problem, the same records are read
    again checking every signature, so that each problem is reported exactly where it lies.
    """
    run = _Run(bootstrap, key_set, namespace, max_problems, workers, on_total, on_batch, earlier)
    report = await run.verify(every_signature)
    if every_signature or report.clean:
        return report
    return await run.verify(every_signature=True)


class _Run:
    """One replay's settings, and where its first pass fixed the ends of every partition."""

    def __init__(
        self,
        bootstrap: str,
        key_set: Mapping[str, Any],
        namespace: str,
        max_problems: int,
        workers: int | None,
        on_total: Callable[[int], None],
        on_batch: Callable[[int], None],
        earlier: Sequence[tuple[StreamCheckpoint, str]],
    ) -> None:
        self.bootstrap, self.key_set, self.namespace = bootstrap, key_set, namespace
        self.max_problems, self.workers, self.earlier = max_problems, workers, earlier
        self.on_total, self.on_batch = on_total, on_batch
        self.ends: dict[str, dict[TopicPartition, int]] = {}

    async def verify(self, every_signature: bool) -> Report:
        inspector = MessageInspector(self.key_set, self.namespace)
        ledger = CheckpointLedger(inspector.trusted, inspector.topics)
        for checkpoint, source in self.earlier:
            ledger.vouch(checkpoint, source)
        async with self._reading([self.namespace + CHECKPOINT_TOPIC]) as checkpoints:
            async for batch in checkpoints.batches():
                for record in batch:
                    ledger.add(record)
        async with self._reading([inspector.topics[p] for p in PRODUCERS]) as reader:
            ends = reader.ends
        self.on_total(sum(ends.values()))
        count = self.workers if self.workers is not None else _cores_for(ends)
        shards = [
            Shard(
                self.bootstrap,
                dict(self.key_set),
                self.namespace,
                self.max_problems,
                every_signature,
                partitions,
                vouched,
            )
            for partitions, vouched in split(ends, ledger, count)
        ]
        parts = await verify_shards(shards, self.on_batch)
        return merge(parts, ledger.rejected(), ledger.verified, self.max_problems, every_signature)

    @asynccontextmanager
    async def _reading(self, topics: list[str]) -> AsyncIterator[TopicReader]:
        """A reader of `topics`, open, ending where the first pass ended (a topic absent or a
        broker unreachable is a `ReplayError`)."""
        reader = TopicReader(self.bootstrap, topics)
        key = ",".join(topics)
        try:
            await reader.open(self.ends.get(key))
        except LookupError as error:  # a topic is absent: wrong namespace, or not created
            raise ReplayError(f"{error} ({self.bootstrap})") from error
        except (KafkaError, OSError) as error:
            await reader.close()
            unreachable = f"cannot read from the broker at {self.bootstrap}: {error}"
            raise ReplayError(unreachable) from error
        self.ends.setdefault(key, reader.ends)
        try:
            yield reader
        finally:
            await reader.close()


def _cores_for(ends: Mapping[TopicPartition, int]) -> int:
    """One shard per core this process may run on (at most one per partition that holds
    records) for a stream of `PARALLEL_FROM` events or more; else one."""
    if sum(ends.values()) < PARALLEL_FROM:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(cores or 1, sum(1 for end in ends.values() if end > 0))


def replay(
    keys: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The trusted key set (JWKS), e.g. .run/keys/jwks.json.",
        ),
    ],
    bootstrap: Annotated[
        str, typer.Option(envvar="CARENET_KAFKA_BOOTSTRAP", help="Kafka bootstrap address.")
    ] = "127.0.0.1:9092",
    namespace: Annotated[
        str, typer.Option(envvar="CARENET_TOPIC_NAMESPACE", help="Topic name prefix, if any.")
    ] = "",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary and problems as JSON.")
    ] = False,
    max_problems: Annotated[
        int, typer.Option(min=1, help="Problems listed in detail (all are counted).")
    ] = 1_000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Processes that each verify a share of the partitions; 0 or 1: none (all "
            f"here), default: one per core from {PARALLEL_FROM:,} events.",
        ),
    ] = None,
    every_signature: Annotated[
        bool,
        typer.Option(
            "--every-signature",
            help="Verify every message's own signature, not only those that cover each "
            "stream's hash chain (a problem found always leads to this check).",
        ),
    ] = False,
    sign: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The auditor's Ed25519 private key (PEM): sign the report with it (JWS).",
        ),
    ] = None,
    signed_report_path: Annotated[
        Path,
        typer.Option("--signed-report", dir_okay=False, help="Where --sign writes the report."),
    ] = Path("replay-report.jws"),
    since: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="An earlier signed report: every partition must still hold what it found.",
        ),
    ] = None,
    auditor_key: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="The public key (PEM) --since is signed with."
        ),
    ] = None,
) -> None:
    """Replay every CareNet topic from the beginning and verify envelopes, contracts, topics,
    keys and their validity, signatures, sequences, hash chains and the signed checkpoints.
    Exit 1 on any problem."""
    errors = Console(stderr=True)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # failures are reported below
    try:
        key_set = json.loads(keys.read_text())
        MessageInspector(key_set)
    except Exception as error:  # unreadable, not JSON, not a JWKS of CareNet keys: all say so
        errors.print(f"[red]error:[/] {keys} is not a usable key set (JWKS): {error}")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        signing_key = signed_report.load_key(sign, private=True) if sign else None
        earlier = _earlier(since, auditor_key, MessageInspector(key_set, namespace).topics)
    except ValueError as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from None
    progress = Progress(
        TextColumn("[bold]replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )
    task = progress.add_task("replay", total=None)
    try:
        with progress, asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            report = runner.run(
                verify_stream(
                    bootstrap,
                    key_set,
                    namespace,
                    max_problems=max_problems,
                    workers=workers,
                    every_signature=every_signature,
                    on_total=lambda total: progress.reset(task, total=total),
                    on_batch=lambda size: progress.advance(task, size),
                    earlier=earlier,
                )
            )
    except ReplayError as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from None
    if json_output:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        render(report, Console())
    if signing_key is not None:
        payload = {
            "replayed_at": datetime.now(UTC).isoformat(),
            "bootstrap": bootstrap,
            "namespace": namespace,
            "key_set_sha256": hashlib.sha256(keys.read_bytes()).hexdigest(),
            "report": report.as_dict(),
        }
        signed_report_path.write_text(signed_report.sign(payload, signing_key) + "\n")
        errors.print(f"signed report written to {signed_report_path}")
    if not report.clean:
        raise typer.Exit(EXIT_PROBLEMS)


def _earlier(
    since: Path | None, key: Path | None, topics: Mapping[str, str]
) -> list[tuple[StreamCheckpoint, str]]:
    """The heads of an earlier signed report, verified (ValueError if they cannot be)."""
    if since is None:
        return []
    if key is None:
        raise ValueError("--since needs --auditor-key, the public key the report is signed with")
    public = signed_report.load_key(key, private=False)
    heads = signed_report.earlier_heads(since.read_text(), public, topics)
    return [(head, f"the signed report {since.name}") for head in heads]


def render(report: Report, console: Console) -> None:
    """The summary table, then each problem at its position."""
    summary = report.summary
    table = Table(title="Replay summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("events", f"{summary.events:,}")
    table.add_row("verified", f"{summary.verified:,}")
    table.add_row("patients", f"{summary.patients:,}")
    table.add_row("streams (producer, patient)", f"{summary.streams:,}")
    table.add_row("checkpoints verified", f"{summary.checkpoints:,}")
    checked = "every message's" if summary.every_signature else "covering the chains"
    table.add_row(f"signatures verified ({checked})", f"{summary.signatures:,}")
    for producer, count in sorted(summary.producers.items()):
        table.add_row(f"events from {producer}", f"{count:,}")
    for key_id, count in sorted(summary.key_ids.items()):
        table.add_row(f"signed with {key_id}", f"{count:,}")
    for kind in ProblemKind:
        count = summary.problems[kind.value]
        table.add_row(f"{kind.value}", f"[red]{count:,}[/]" if count else "0")
    console.print(table)
    if report.clean:
        proof = "signature" if summary.every_signature else "chain-covering signature"
        console.print(f"[green]verified:[/] every message, sequence, hash chain and {proof}")
        return
    problems = Table(title="Problems", title_justify="left")
    for column in ("kind", "position", "producer", "patient", "seq", "event", "what"):
        problems.add_column(column, overflow="fold")
    for p in report.problems:
        what = p.detail
        if p.expected is not None or p.found is not None:
            what += f" (expected {p.expected}, found {p.found})"
        problems.add_row(
            f"[red]{p.kind.value}[/]",
            p.position,
            p.producer or "",
            p.patient_id or "",
            str(p.sequence or ""),
            p.event_id or "",
            what,
        )
    console.print(problems)
    total = sum(summary.problems.values())
    if total > len(report.problems):
        console.print(f"… and {total - len(report.problems):,} more (see --max-problems)")
