"""Domain events stored and read back, as this code or an earlier version wrote them, for the
tests that show old records still load (upcasting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

from carenet_kit.application import DateAsISO


def read_back(domain_event: DomainEventProtocol[Any]) -> Any:
    """The domain event stored with the services' transcodings and read back."""
    return _stored_and_read(domain_event, lambda state: None)


def as_stored_before(
    domain_event: DomainEventProtocol[Any], *absent: str, class_version: int | None = None
) -> Any:
    """The domain event read back from a record without the `absent` fields, written by the
    given class version (None: version 1, whose records carry no version)."""

    def written_before(state: dict[str, Any]) -> None:
        for name in absent:
            del state[name]
        del state["class_version"]
        if class_version is not None:
            state["class_version"] = class_version

    return _stored_and_read(domain_event, written_before)


def _stored_and_read(
    domain_event: DomainEventProtocol[Any], edit: Callable[[dict[str, Any]], None]
) -> Any:
    json = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DateAsISO()):
        json.register(transcoding)
    mapper: Mapper[Any] = Mapper(transcoder=json)
    stored = mapper.to_stored_event(domain_event)
    state = json.decode(stored.state)
    edit(state)
    edited = type(stored)(
        stored.originator_id, stored.originator_version, stored.topic, json.encode(state)
    )
    return mapper.to_domain_event(edited)
