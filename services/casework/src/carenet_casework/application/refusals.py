"""How casework's domain refusals reach the inbound and HTTP layers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from carenet_casework.domain import CaseConflict
from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded, RuleBroken
from carenet_kit.inbound import CommandConflict, CommandRejected


@contextmanager
def as_conflict() -> Iterator[None]:
    """The case's refusal becomes the caller's 409."""
    try:
        yield
    except CaseConflict as error:
        raise CommandConflict(str(error)) from None


class Unknown(LookupError):
    """The command names a patient, member or session casework does not know (HTTP 404)."""


@contextmanager
def refusals() -> Iterator[None]:
    """The domain's refusals, as the inbound and HTTP layers know them."""
    try:
        yield
    except RuleBroken as error:
        raise CommandRejected(str(error)) from None
    except AlreadyRecorded as error:
        raise CommandConflict(str(error)) from None
    except NotRecorded as error:
        raise Unknown(str(error)) from None
