"""Query parameters: one an operation does not declare is refused, named, never echoed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from carenet_kit.http import install_error_handlers, refuse_unknown_query_parameters


class Paging(BaseModel):
    limit: int = 50


def app() -> TestClient:
    api = FastAPI(dependencies=[Depends(refuse_unknown_query_parameters)])
    install_error_handlers(api)

    @api.get("/v1/cases")
    def cases(
        paging: Annotated[Paging, Query()],
        patient_id: str | None = None,
        center: Annotated[str | None, Query(alias="center_id")] = None,
    ) -> list[str]:
        return []

    return TestClient(api)


def test_declared_parameters_their_aliases_and_query_models_are_accepted() -> None:
    answered = app().get("/v1/cases", params={"patient_id": "p", "center_id": "c", "limit": 5})
    assert answered.status_code == 200, answered.text


def test_an_unknown_parameter_is_a_422_that_names_it_but_not_its_value() -> None:
    """A misspelt filter must not silently widen a list to everything the caller may see."""
    answered = app().get("/v1/cases", params={"patient": "440305199001150010"})
    assert answered.status_code == 422
    assert answered.json()["detail"] == [
        {
            "loc": ["query", "patient"],
            "msg": "not a parameter of this operation",
            "type": "extra_forbidden",
        }
    ]
    assert "440305199001150010" not in answered.text
