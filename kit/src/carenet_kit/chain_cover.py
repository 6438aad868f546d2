"""The fewest signatures that prove every message of a run of streams, through their chains.

Each message of a (producer, patient) stream carries `previous_hash`, the SHA-256 of the
stream's previous message, and the producer's signature covers those bytes. So when message n
verifies and every link up to it holds, the producer has signed, through n, the exact value of
every earlier message of the stream (another value with the same hash would be a SHA-256
collision). A reader that takes many messages at once can therefore inspect every message
without its Ed25519 check (`MessageInspector.inspect(..., verify_signature=False)`: contract,
topic, Kafka key, the key being one of the producer's and valid at the message's
`recorded_at`, all still checked on every message), check every link, and verify, per stream,
only:

- the last message of each run of messages signed with one key id (the last of the stream, and
  each message whose successor names another key: a key rotation, or a key id tampered with);
- any message whose signature header is not 64 bytes of base64url (so it fails at once);
- the stream's pending message when more than `PENDING_STREAMS` streams are pending (to keep
  memory bounded: verifying more is never less sound).

This is sound only if every link held and every stream ran in order, which the caller checks on
every message; so a pass through the cover is trusted only when it finds nothing at all, and a
caller that finds any problem reads the same messages again checking every signature, so that
what it reports and refuses is exactly the full check's. Two callers: the auditor's replay
(`carenet_audit_tool.replay`) and the readers that load whole topics into read models
(`carenet_kit.batches`, one cover per fetch); an Ed25519 check costs about 130 µs here, the
rest of a message's admission about 30.

What a clean pass does not prove, and checking every signature does: that the signature bytes
of a message followed by another one signed with the same key verify on their own. Its value,
its key id (another id would end a run and be verified) and the key's validity at its time are
proven; only a well-formed but wrong signature header on an unaltered value escapes. Such a
message says nothing false, but a consumer checking it on its own would refuse it as altered.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from carenet_kit.inspection import Inspected, Problem, ProblemKind, Record
from carenet_kit.signing import Signature, TrustedKeys

PENDING_STREAMS = 100_000
"""Streams whose last message may wait for its signature check (each holds one message, a few
KB at most, so about 100-300 MB at worst); beyond it the oldest is verified at once."""

IN_THREADS_FROM = 64
"""Pending streams from which `finish` verifies in a thread per core (a pool costs more than a
few checks)."""

SIGNATURE_BYTES = 64
"""An Ed25519 signature."""


@dataclass(frozen=True)
class _Pending:
    """A message whose signature, once verified, proves it and every earlier one of its run."""

    message: Inspected
    value: bytes
    signature: Signature


class ChainCover:
    """Note every authentic message in stream order (`note`), then `finish()`; each returns the
    problems of the signatures it verified (`altered`)."""

    def __init__(self, trusted: TrustedKeys, pending_streams: int = PENDING_STREAMS) -> None:
        self.trusted = trusted
        self.pending_streams = pending_streams
        self.verified = 0
        """Signatures verified (successfully)."""
        self.altered = 0
        """Signatures that did not verify."""
        self._pending: OrderedDict[tuple[str, str], _Pending] = OrderedDict()
        self._counting = threading.Lock()

    def note(self, message: Inspected, record: Record) -> list[Problem]:
        """A message its inspection found authentic but for its signature, in stream order."""
        assert message.producer is not None
        assert message.patient_id is not None
        signature = record.signature
        assert signature is not None, "an authentic message is signed"
        current = _Pending(message, record.value, signature)
        if not _well_formed(signature):
            return self._verify(current)
        key = (message.producer, message.patient_id)
        problems: list[Problem] = []
        earlier = self._pending.pop(key, None)
        if earlier is not None and earlier.signature.key_id != signature.key_id:
            problems += self._verify(earlier)
        self._pending[key] = current
        if len(self._pending) > self.pending_streams:
            problems += self._verify(self._pending.popitem(last=False)[1])
        return problems

    def finish(self) -> list[Problem]:
        """Verify the last message of every stream, in the order the streams were last seen;
        many of them on every core (the Ed25519 check runs without the GIL)."""
        pending = list(self._pending.values())
        self._pending.clear()
        if len(pending) < IN_THREADS_FROM:
            return [problem for p in pending for problem in self._verify(p)]
        with ThreadPoolExecutor(os.cpu_count() or 1) as threads:
            found = threads.map(self._verify, pending, chunksize=256)
            return [problem for problems in found for problem in problems]

    def _verify(self, pending: _Pending) -> list[Problem]:
        message = pending.message
        assert message.producer is not None
        failure = self.trusted.problem_with(message.producer, pending.value, pending.signature)
        with self._counting:
            if failure is None:
                self.verified += 1
                return []
            self.altered += 1
        return [
            Problem(
                ProblemKind.ALTERED,
                message.position,
                failure,
                message.producer,
                message.patient_id,
                message.sequence,
                message.event_id,
                found=pending.signature.key_id,
            )
        ]


def _well_formed(signature: Signature) -> bool:
    """64 bytes of base64url, as every genuine signature header is."""
    value = signature.value
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == SIGNATURE_BYTES
