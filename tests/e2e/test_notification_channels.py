"""End to end: notifications that really reach people, by e-mail and by signed webhook.

The module starts a real SMTP server (aiosmtpd) before the system, points the notifications
service at it and makes its retries fast; webhook receivers are small HTTP servers on loopback
that verify the Standard Webhooks signature with the secret the subscription API returned.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from uuid import UUID

import httpx
import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from .conftest import System, eventually, free_port
from .pathway import (
    CENTER_STAFF,
    CLINICIAN,
    OPERATOR,
    diagnose_new_patient,
    events,
    inbox,
    registration,
    visit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.own_system]

PUBLIC_URL = "http://notifications.carenet.test"
"""Where recipients reach the notifications API: the base of every link in a message."""
MAX_ATTEMPTS = 4
RELATIVE_EMAIL = "relative-3001@example.org"
CONSUMED = ["intake", "routing", "casework"]


# --- the people's end: a mail server and webhook receivers ---------------------------------------


class Mailbox:
    """An SMTP server's handler (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[bytes]:
        """The messages to this address, as they came over the wire."""
        return [raw for recipients, raw in list(self.mails) if address in recipients]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """Answers 503 to its first `failures` requests and 204 after (`math.inf`: always fails)."""

    failures: float = 0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/carenet"

    def about(self, patient_id: str) -> list[Received]:
        """Requests about one patient (the body names it), signature verified or not."""
        with self.lock:
            return [r for r in self.requests if f'"patient_id":"{patient_id}"'.encode() in r.body]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    status = 503 if len(receiver.requests) < receiver.failures else 204
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.requests.append(Received(headers, body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """Started before the system: the notifications service is told its port at start-up."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def system_env(mailbox: tuple[Mailbox, int]) -> dict[str, str]:
    return {
        "CARENET_SMTP_HOST": "127.0.0.1",
        "CARENET_SMTP_PORT": str(mailbox[1]),
        "CARENET_PUBLIC_URL": PUBLIC_URL,
        "CARENET_RETRY_INITIAL_SECONDS": "0.2",
        "CARENET_RETRY_MAX_SECONDS": "1",
        "CARENET_DELIVERY_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "CARENET_SCHEDULER_SECONDS": "0.5",
    }


@pytest.fixture
def receivers() -> Iterator[Callable[[float], WebhookReceiver]]:
    started: list[WebhookReceiver] = []

    def start(failures: float = 0) -> WebhookReceiver:
        receiver = WebhookReceiver(failures)
        receiver.start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


# --- steps, as the hospital, the case manager and the subscribers take them over HTTP ---------


def case_with_manager(system: System, patient_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        with system.client("casework", CENTER_STAFF) as casework:
            cases = casework.get("/v1/cases", params={"patient_id": patient_id}).json()
        return cases[0] if cases and cases[0]["case_manager_id"] else None

    return eventually(found, timeout=60)


def subscribe(system: System, recipient: str, **channel: str) -> dict[str, Any]:
    with system.inbox_reader(recipient) as notifications:
        response = notifications.post("/v1/subscriptions", json={"recipient": recipient, **channel})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def unsubscribe(system: System, recipient: str, subscription_id: str) -> None:
    """The receiver goes away with its test: nothing more is sent to its address."""
    with system.inbox_reader(recipient) as notifications:
        response = notifications.delete(
            f"/v1/subscriptions/{subscription_id}", params={"recipient": recipient}
        )
        assert response.status_code == 204, response.text
        left = notifications.get("/v1/subscriptions", params={"recipient": recipient}).json()
    assert subscription_id not in {s["subscription_id"] for s in left}


def delivered(system: System, recipient: str, patient_id: str) -> list[tuple[str, str]]:
    """(about event id, channel) of each NotificationDelivered for this recipient and patient."""
    return sorted(
        (str(m.data.about_event_id), m.data.channel)
        for m in events(system, "notifications", patient_id, "NotificationDelivered")
        if m.data.recipient == recipient
    )


def personal_data(serial: int) -> list[str]:
    """What the hospital registered about the patient: none of it may reach a relative."""
    registered = registration(serial)
    return [registered[k] for k in ("name", "national_id", "phone", "address")]


def inbox_link(notification_id: str, recipient: str) -> str:
    return f"{PUBLIC_URL}/v1/inbox/{notification_id}?recipient={quote(recipient, safe='')}"


def follow(system: System, link: str) -> Any:
    """Open a message's link against the running service (its public URL is a stand-in)."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    (recipient,) = parse_qs(parts.query)["recipient"]
    with system.inbox_reader(recipient) as notifications:
        return notifications.get(f"{parts.path}?{parts.query}")


def link_relative(
    system: System, patient_id: str, may_see: list[str], notified_of: list[str]
) -> str:
    """The case manager links a parent with the patient's consent; returns the member id."""
    with system.client("casework", CENTER_STAFF) as casework:
        linked = casework.post(
            f"/v1/patients/{patient_id}/family",
            json={
                "relationship": "parent",
                "consent_given_by": "patient",
                "scope": {"may_see": may_see, "notified_of": notified_of},
            },
        )
    assert linked.status_code == 201, linked.text
    member: str = linked.json()["member_id"]
    assert linked.json()["notification_recipient"] == f"family:{member}"
    assert str(UUID(member)) == member  # a pseudonym, nothing about the person
    return member


def relative_reads_own_view(system: System, patient_id: str, member: str) -> httpx.Response:
    """What the relative, with their own token, gets of the record."""
    with system.client("casework", (member, "family", "family_member")) as casework:
        return casework.get(f"/v1/patients/{patient_id}/family/{member}/view")


def record_visit(system: System, case_id: str, form: dict[str, Any]) -> dict[str, Any]:
    with system.client("casework", CENTER_STAFF) as casework:
        recorded = casework.post(f"/v1/cases/{case_id}/visits", json=form)
    assert recorded.status_code == 201, recorded.text
    outcome: dict[str, Any] = recorded.json()
    return outcome


def check_mail(raw: bytes, told: dict[str, str], personal: list[str]) -> EmailMessage:
    """The e-mail says what the relative may see and links the inbox item; nothing personal."""
    mail = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    assert mail["To"] == RELATIVE_EMAIL
    assert mail["Subject"] == "[CareNet] routine: VisitCompleted"
    text = mail.get_content()
    assert told["summary"] in text
    assert told["link"] in text.splitlines()
    for value in personal:
        assert value not in text
        assert value.encode() not in raw
    return mail


def check_webhook(
    request: Received, secret: str, told: dict[str, str], personal: list[str]
) -> None:
    """Signed with the subscription's secret; says what the e-mail says; nothing personal."""
    assert request.status == 204
    body = Webhook(secret).verify(request.body, request.headers)  # raises on a bad signature
    assert body["recipient"] == told["recipient"]
    assert body["event_type"] == "VisitCompleted"
    assert body["event_id"] == told["event_id"]
    assert body["summary"] == told["summary"]
    assert body["inbox_url"] == told["link"]
    assert UUID(request.headers["webhook-id"])  # the delivery's id: a repeat carries it again
    for value in personal:
        assert value.encode() not in request.body


# --- the tests ---------------------------------------------------------------------------------


def test_a_family_member_is_told_by_email_and_webhook_and_nothing_more_once_consent_is_withdrawn(
    system: System,
    mailbox: tuple[Mailbox, int],
    receivers: Callable[[float], WebhookReceiver],
) -> None:
    serial = 3001
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial)
    case = case_with_manager(system, patient_id)
    manager = f"staff:{case['case_manager_id']}"

    member = link_relative(system, patient_id, may_see=["visits"], notified_of=["VisitCompleted"])
    relative = f"family:{member}"

    hook = receivers(0)
    secret = subscribe(system, relative, channel="webhook", url=hook.url)["secret"]
    assert secret.startswith("whsec_")
    email = subscribe(system, relative, channel="email", email=RELATIVE_EMAIL)
    assert email["address"] == "r***@example.org"

    first_visit = visit(risk_level=0)
    outcome = record_visit(system, case["case_id"], first_visit)
    summary = (
        f"Your relative was visited on {first_visit['visited_on']} ({outcome['classification']}); "
        f"the next follow-up is due {outcome['next_follow_up_due']}."
    )

    # inbox, e-mail and webhook, once each: the topic says so after each send has succeeded
    def told_thrice() -> list[tuple[str, str]] | None:
        told = delivered(system, relative, patient_id)
        return told if len(told) >= 3 else None

    told = eventually(told_thrice, timeout=60)
    (visit_event,) = {event_id for event_id, _ in told}
    assert told == [(visit_event, "email"), (visit_event, "inbox"), (visit_event, "webhook")]
    (item,) = inbox(system, relative, patient_id)
    assert (item["about_event_type"], item["summary"]) == ("VisitCompleted", summary)
    link = inbox_link(item["notification_id"], relative)

    (raw_mail,) = mailbox[0].to(RELATIVE_EMAIL)
    (request,) = hook.about(patient_id)
    told_alike = {"recipient": relative, "event_id": visit_event, "summary": summary, "link": link}
    mail = check_mail(raw_mail, told_alike, personal_data(serial))
    check_webhook(request, secret, told_alike, personal_data(serial))
    # two deliveries of one notification, each with its own id (the receiver's idempotency key)
    assert mail["Message-ID"].startswith("<")
    assert request.headers["webhook-id"] not in mail["Message-ID"]

    opened = follow(system, link)
    assert opened.status_code == 200, opened.text
    assert opened.json()["summary"] == summary

    # consent withdrawn, then a visit that the case manager (not the relative) is told of
    assert relative_reads_own_view(system, patient_id, member).json()["may_see"] == ["visits"]
    with system.client("casework", CENTER_STAFF) as casework:
        withdrawn = casework.post(
            f"/v1/patients/{patient_id}/family/{member}/withdraw", json={"withdrawn_by": "patient"}
        )
    assert withdrawn.status_code == 204, withdrawn.text
    assert record_visit(system, case["case_id"], visit(risk_level=3))["classification"] == (
        "unstable"
    )

    told_manager = eventually(
        lambda: [i for i in inbox(system, manager, patient_id) if i["urgency"] == "urgent"],
        timeout=60,
    )
    assert [i["about_event_type"] for i in told_manager] == ["VisitCompleted"]
    system.wait_until_consumed("notifications", CONSUMED)
    # A notice to the relative would have been committed with the case manager's, so it would
    # be on the topic by now.
    second_event = str(told_manager[0]["about_event_id"])
    eventually(lambda: (second_event, "inbox") in delivered(system, manager, patient_id))

    assert delivered(system, relative, patient_id) == told
    assert len(mailbox[0].to(RELATIVE_EMAIL)) == 1
    assert len(hook.requests) == 1
    assert inbox(system, relative, patient_id) == []  # withdrawn: not even the old item
    assert follow(system, link).status_code == 404
    # and no part of the record either
    assert relative_reads_own_view(system, patient_id, member).status_code == 404


def test_a_webhook_receiver_that_fails_three_times_then_succeeds_gets_the_notification_once(
    system: System, receivers: Callable[[float], WebhookReceiver]
) -> None:
    center = "center:CHC-NS-YUEHAI"
    yuehai = "440305007"
    hook = receivers(3)
    subscription = subscribe(system, center, channel="webhook", url=hook.url)
    secret = subscription["secret"]
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, 3010, region_code=yuehai)

    eventually(lambda: (center, "webhook") in _channels(system, center, patient_id), 60)
    requests = hook.about(patient_id)
    assert [r.status for r in requests] == [503, 503, 503, 204]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    body = Webhook(secret).verify(requests[-1].body, requests[-1].headers)
    assert (body["recipient"], body["event_type"]) == (center, "PatientRouted")
    assert _channels(system, center, patient_id) == [(center, "inbox"), (center, "webhook")]
    assert events(system, "notifications", patient_id, "NotificationFailed") == []
    with system.client("notifications", OPERATOR) as notifications:
        failed = notifications.get("/v1/deliveries/failed").json()
    assert [f for f in failed if f["patient_id"] == patient_id] == []

    system.restart("notifications")
    system.wait_until_consumed("notifications", CONSUMED)
    # A later patient's webhook proves the restarted sender has been through its due work;
    # a repeat of the first delivery would have been due before it.
    with system.client("intake", CLINICIAN) as intake:
        later = diagnose_new_patient(intake, 3011, region_code=yuehai)
    eventually(lambda: [r for r in hook.about(later) if r.status == 204], timeout=60)

    assert [r.status for r in hook.about(patient_id)] == [503, 503, 503, 204]
    assert _channels(system, center, patient_id) == [(center, "inbox"), (center, "webhook")]
    unsubscribe(system, center, subscription["subscription_id"])


def test_a_webhook_that_keeps_failing_is_dead_lettered_and_redelivered_once_when_fixed(
    system: System, receivers: Callable[[float], WebhookReceiver]
) -> None:
    center = "center:CHC-NS-SHEKOU"
    hook = receivers(math.inf)
    subscription = subscribe(system, center, channel="webhook", url=hook.url)
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, 3020, region_code="440305005")

    (failure,) = eventually(
        lambda: events(system, "notifications", patient_id, "NotificationFailed"), 60
    )
    gave_up = failure.data
    assert (gave_up.recipient, gave_up.channel, gave_up.about_event_type) == (
        center,
        "webhook",
        "PatientRouted",
    )
    assert (gave_up.attempts, gave_up.reason) == (MAX_ATTEMPTS, "webhook answered HTTP 503")
    assert gave_up.delivery_id is not None
    delivery_id = str(gave_up.delivery_id)
    assert [r.status for r in hook.about(patient_id)] == [503] * MAX_ATTEMPTS
    assert {r.headers["webhook-id"] for r in hook.about(patient_id)} == {delivery_id}
    assert _channels(system, center, patient_id) == [(center, "inbox")]

    def listed() -> list[dict[str, Any]]:
        with system.client("notifications", OPERATOR) as notifications:
            failed = notifications.get("/v1/deliveries/failed").json()
        return [f for f in failed if f["patient_id"] == patient_id]

    (dead_letter,) = eventually(listed)
    assert dead_letter["delivery_id"] == delivery_id
    assert (dead_letter["recipient"], dead_letter["channel"]) == (center, "webhook")
    assert dead_letter["attempts"] == MAX_ATTEMPTS

    hook.failures = 0  # the subscriber fixed their endpoint
    with system.client("notifications", OPERATOR) as notifications:
        redelivery = notifications.post(f"/v1/deliveries/{delivery_id}/redelivery")
        assert redelivery.status_code == 202, redelivery.text
        again = notifications.post(f"/v1/deliveries/{delivery_id}/redelivery")
        assert again.status_code == 409, again.text

    eventually(lambda: (center, "webhook") in _channels(system, center, patient_id), 60)
    system.wait_until_consumed("notifications", CONSUMED)
    requests = hook.about(patient_id)
    assert [r.status for r in requests] == [503] * MAX_ATTEMPTS + [204]
    assert requests[-1].headers["webhook-id"] == delivery_id
    assert _channels(system, center, patient_id) == [(center, "inbox"), (center, "webhook")]
    assert len(events(system, "notifications", patient_id, "NotificationFailed")) == 1
    assert eventually(lambda: listed() == [] or None)
    unsubscribe(system, center, subscription["subscription_id"])


def _channels(system: System, recipient: str, patient_id: str) -> list[tuple[str, str]]:
    """(recipient, channel) of every NotificationDelivered about the patient to the recipient."""
    return sorted(
        (m.data.recipient, m.data.channel)
        for m in events(system, "notifications", patient_id, "NotificationDelivered")
        if m.data.recipient == recipient
    )
