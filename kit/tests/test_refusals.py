"""Each kind of refusal has one HTTP answer: its status, its problem type, its reason.

A service's domain error subclasses a kind (`carenet_kit.refusals`) and is answered as that
kind, with no translator in between; an implausible date keeps the field-list shape of 422.
A store out of reach is no refusal: 503, and when to try again.
"""

from __future__ import annotations

import pytest
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from carenet_kit.http import install_error_handlers
from carenet_kit.plausibility import Implausible
from carenet_kit.refusals import Conflict, Gone, NotFound, Refusal, Refused


class NoSuchSession(NotFound):
    """A domain error, as a service declares one."""


def response_to(error: Exception) -> Response:
    api = FastAPI()
    install_error_handlers(api)

    @api.post("/v1/command")
    def command() -> None:
        raise error

    response: Response = TestClient(api, raise_server_exceptions=False).post("/v1/command")
    return response


def answer_to(refusal: Exception) -> tuple[int, dict[str, object]]:
    response = response_to(refusal)
    return response.status_code, response.json() if response.status_code < 500 else {}


@pytest.mark.parametrize(
    ("refusal", "status", "problem_type"),
    [
        (Refused("visited_on is before the case was opened"), 422, "refused"),
        (Conflict("this visit is already recorded"), 409, "conflict"),
        (NotFound("no such case"), 404, "not-found"),
        (NoSuchSession("no such session"), 404, "not-found"),
        (Gone("the patient's personal data was erased"), 410, "gone"),
    ],
)
def test_each_kind_answers_its_status_type_and_reason(
    refusal: Refusal, status: int, problem_type: str
) -> None:
    assert answer_to(refusal) == (
        status,
        {"type": f"urn:carenet:problem:{problem_type}", "detail": str(refusal)},
    )


def test_an_implausible_date_is_still_refused_as_its_field() -> None:
    status, body = answer_to(Implausible("visit.visited_on", "in_future", "is in the future"))
    assert status == 422
    assert body == {
        "detail": [
            {
                "loc": ["body", "visit", "visited_on"],
                "msg": "is in the future",
                "type": "implausible.in_future",
            }
        ]
    }


def test_an_error_that_is_no_refusal_is_not_answered_as_one() -> None:
    assert answer_to(LookupError("no such case"))[0] == 500


@pytest.mark.parametrize("error", [OperationalError("server closed"), InterfaceError("closed")])
def test_a_store_out_of_reach_is_answered_503_with_when_to_retry(error: Exception) -> None:
    response = response_to(error)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "server closed" not in response.text  # no detail of the store leaks
