"""Callers for tests of one service's API in-process: tokens from a development issuer, and
a care network every patient of the test stands in (no broker to learn it from)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from fastapi import FastAPI

from carenet_access import AccessControl
from carenet_access.relations import PatientRelations
from carenet_devtools.issuer import DevIssuer
from carenet_kit.application import ServiceApplication
from carenet_kit.auth import KeySource, TokenVerifier


class Callers:
    def __init__(self, directory: Path) -> None:
        self.issuer = DevIssuer(directory)

    def wire(
        self,
        api: FastAPI,
        application: ServiceApplication,
        network: PatientRelations,
        case_of: Callable[[UUID], UUID | None] | None = None,
    ) -> None:
        """Make `api` check tokens of this issuer, and place every patient in `network`;
        `case_of` finds the patient of a case."""

        def known(_: UUID) -> PatientRelations:
            return copy.deepcopy(network)

        api.state.token_verifier = TokenVerifier(
            KeySource(str(self.issuer.key_set_path)),
            issuer=self.issuer.issuer,
            audience=self.issuer.audience,
        )
        api.state.access = AccessControl("test", application, known=known, case_of=case_of)

    def headers(self, user: str, organisation: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.token(user, organisation, role)}"}
