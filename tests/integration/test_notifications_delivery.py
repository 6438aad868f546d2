"""Notifications' channels in one process, on a real SQLite store, with time moved by hand.

A real HTTP server on 127.0.0.1 receives the webhooks and a real SMTP server (aiosmtpd) the
e-mails; the application is driven directly (Kafka is not the point here, see
`test_notifications_kafka.py`), and its outbox is read as the relay would publish it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiosmtpd.controller import Controller
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from carenet_contracts import Envelope, parse_message
from carenet_devtools.issuer import DevIssuer
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause, PublishedStream
from carenet_kit.read_model_tables import TableFollower
from carenet_kit.runtime import Service
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.config import Settings
from carenet_notifications.dispatch import Dispatcher
from carenet_notifications.main import bootstrap
from carenet_notifications.projection import Inboxes

from ..e2e.conftest import free_port

MESSAGES = Path(__file__).parents[2] / "contracts" / "tests" / "messages"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RETRY_MAX = timedelta(minutes=10)
CASE_MANAGER = "SW-NS-LI"
"""The case manager of the committed sample messages (reference/demo-users.yaml)."""
COLLEAGUE = "SW-NS-CHEN"
"""Another social worker of the same center."""
OPERATOR = "OP-ZHAO"
RELATIVE = "5d0a3c8e-7f41-4b6a-9e2d-1c3b5a7f9e08"
"""The demo relative, linked under this pseudonymous member id."""


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """A webhook endpoint that fails the first `failures` requests, then answers 204."""

    failures: int = 0
    delay_seconds: float = 0.0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/carenet"

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status < 300]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                threading.Event().wait(receiver.delay_seconds)
                failed = len(receiver.requests) < receiver.failures
                status = 503 if failed else 204
                receiver.requests.append(Received(dict(self.headers.items()), body, status))
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


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.start()
    yield hook
    hook.stop()


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@dataclass
class Notifications:
    """The service's application and sender loop, on a ManualClock."""

    service: Service
    clock: ManualClock
    issuer: DevIssuer
    offset: int = 0

    @property
    def app(self) -> NotificationsApplication:
        app = self.service.application
        assert isinstance(app, NotificationsApplication)
        return app

    def consume(self, name: str, patient_id: UUID, **data: Any) -> Envelope[Any]:
        """A committed sample message through the policy, as if consumed at the next offset of
        a topic."""
        raw = json.loads((MESSAGES / f"{name}.v1.json").read_text())
        raw.update(patient_id=str(patient_id), event_id=str(uuid4()))
        raw["data"].update(data)
        envelope = parse_message(json.dumps(raw).encode())
        self.offset += 1
        assert self.service.policy is not None
        self.service.policy(envelope, Cause.inbound(envelope, Tracking("topic:0", self.offset)))
        return envelope

    def run_due_work(self) -> int:
        assert self.service.due_work is not None
        return self.service.due_work(self.clock.now())

    def later(self, delta: timedelta) -> int:
        self.clock.advance(delta)
        return self.run_due_work()

    def published(self, event_type: str) -> list[Envelope[Any]]:
        """The outbox, as the relay publishes it."""
        topic = get_topic(PublishedStream.Appended)
        found = self.app.process_recorder.select_notifications(0, 100_000, topics=[topic])
        messages = [self.app.mapper.to_domain_event(n).message for n in found]  # type: ignore[attr-defined]
        envelopes = [parse_message(m.encode()) for m in messages]
        return [e for e in envelopes if e.event_type == event_type]

    def inboxes(self) -> Inboxes:
        inboxes = Inboxes(self.app, private=True)  # from 0, in tables of its own
        TableFollower(inboxes).catch_up()
        return inboxes

    def http(self, user: str = CASE_MANAGER) -> TestClient:
        """The service's API without its lifespan (no Kafka): read model filled from the store;
        called by one of the demo users, with a token of the issuer the service trusts."""
        api = self.service.http_api()
        api.state.projection = self.inboxes()
        token = self.issuer.token_of(user)
        return TestClient(api, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def notifications(tmp_path: Path, smtp: tuple[Mailbox, int]) -> Iterator[Notifications]:
    issuer = DevIssuer(tmp_path / "keys")
    settings = Settings(
        data_dir=tmp_path,
        auth_jwks=str(issuer.key_set_path),
        auth_issuer=issuer.issuer,
        auth_audience=issuer.audience,
        smtp_port=smtp[1],
        retry_initial_seconds=60,
        retry_max_seconds=RETRY_MAX.total_seconds(),
        delivery_max_attempts=5,
        escalate_after_minutes=30,
    )
    clock = ManualClock(START)
    service = bootstrap(settings, clock=clock)
    assert isinstance(service.due_work, Dispatcher)
    yield Notifications(service, clock, issuer)
    service.application.close()


def subscribe(n: Notifications, recipient: str, user: str, **channel: str) -> dict[str, Any]:
    """`user` subscribes `recipient` (themselves) to a channel."""
    api = n.http(user)
    response = api.post("/v1/subscriptions", json={"recipient": recipient, **channel})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def webhook_gives_up(notifications: Notifications, receiver: WebhookReceiver) -> None:
    """A case manager's webhook answers 503 to every one of the 5 attempts the policy allows."""
    receiver.failures = 5
    subscribe(notifications, "staff:SW-NS-LI", CASE_MANAGER, channel="webhook", url=receiver.url)
    notifications.consume("CaseManagerAssigned", uuid4())
    notifications.run_due_work()
    for _ in range(6):
        notifications.later(RETRY_MAX)
    assert len(receiver.requests) == 5


def test_a_webhook_failing_three_times_then_succeeding_gets_the_notification_once_signed(
    notifications: Notifications, receiver: WebhookReceiver
) -> None:
    receiver.failures = 3
    secret = subscribe(
        notifications, "staff:SW-NS-LI", CASE_MANAGER, channel="webhook", url=receiver.url
    )["secret"]
    patient = uuid4()
    notifications.consume("CaseManagerAssigned", patient)

    assert notifications.run_due_work() == 1
    assert [r.status for r in receiver.requests] == [503]
    assert notifications.run_due_work() == 0  # the retry waits for its time
    for _ in range(3):
        notifications.later(RETRY_MAX)
    assert notifications.later(RETRY_MAX) == 0
    assert [r.status for r in receiver.requests] == [503, 503, 503, 204]

    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # one delivery id: a receiver drops a repeat by it
    delivered = receiver.accepted()[0]
    body = Webhook(secret).verify(delivered.body, delivered.headers)
    assert body["patient_id"] == str(patient)
    assert body["event_type"] == "CaseManagerAssigned"
    assert body["inbox_url"].startswith("http")
    webhooks = [
        m.data
        for m in notifications.published("NotificationDelivered")
        if m.data.channel != "inbox"
    ]
    assert [(d.recipient, d.channel) for d in webhooks] == [("staff:SW-NS-LI", "webhook")]


def test_a_webhook_that_keeps_failing_is_dead_lettered_and_redelivered_on_request(
    notifications: Notifications, receiver: WebhookReceiver
) -> None:
    webhook_gives_up(notifications, receiver)

    (failed,) = notifications.published("NotificationFailed")
    assert (failed.data.attempts, failed.data.reason) == (5, "webhook answered HTTP 503")
    api = notifications.http(OPERATOR)
    listed = api.get("/v1/deliveries/failed").json()
    assert [d["delivery_id"] for d in listed] == [str(failed.data.delivery_id)]
    assert api.post(f"/v1/deliveries/{failed.data.delivery_id}/redelivery").status_code == 202
    assert api.post(f"/v1/deliveries/{failed.data.delivery_id}/redelivery").status_code == 409
    assert api.post(f"/v1/deliveries/{uuid4()}/redelivery").status_code == 404

    assert notifications.run_due_work() == 1
    assert [r.status for r in receiver.requests][-1] == 204
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert [m.data.channel for m in notifications.published("NotificationDelivered")] == [
        "inbox",
        "webhook",
    ]


def test_an_unacknowledged_urgent_notification_escalates_once_to_the_centers_lead(
    notifications: Notifications,
) -> None:
    patient = uuid4()
    notifications.consume("CaseManagerAssigned", patient)
    notifications.consume("VisitCompleted", patient, classification="unstable")
    inbox = notifications.inboxes()
    (doctors,) = inbox.inbox("role:CHC-NS-NANTOU/community_doctor")
    manager = next(i for i in inbox.inbox("staff:SW-NS-LI") if i.urgency == "urgent")
    api = notifications.http()
    acknowledged = api.post(
        f"/v1/inbox/{manager.notification_id}/acknowledgement",
        json={"recipient": "staff:SW-NS-LI"},
    )
    assert acknowledged.status_code == 204
    not_theirs = api.post(
        f"/v1/inbox/{doctors.notification_id}/acknowledgement",
        json={"recipient": "staff:SW-NS-LI"},
    )
    assert not_theirs.status_code == 404

    assert notifications.later(timedelta(minutes=29)) == 0
    assert notifications.later(timedelta(minutes=2)) == 1
    for _ in range(3):
        assert notifications.later(timedelta(hours=1)) == 0

    (escalated,) = notifications.published("NotificationEscalated")
    assert escalated.data.notification_id == doctors.notification_id
    assert escalated.data.escalated_to == "role:CHC-NS-NANTOU/lead"
    assert escalated.data.unacknowledged_for_minutes == 31
    (notice,) = notifications.inboxes().inbox("role:CHC-NS-NANTOU/lead")
    assert (notice.urgency, notice.about_event_type) == ("urgent", "VisitCompleted")
    assert [m.data.recipient for m in notifications.published("NotificationAcknowledged")] == [
        "staff:SW-NS-LI"
    ]


def test_a_relative_gets_email_and_webhook_until_consent_is_withdrawn(
    notifications: Notifications, receiver: WebhookReceiver, smtp: tuple[Mailbox, int]
) -> None:
    mailbox = smtp[0]
    relative = f"family:{RELATIVE}"
    patient = uuid4()
    notifications.consume("CaseManagerAssigned", patient)
    notifications.consume(
        "FamilyMemberLinked",
        patient,
        member_id=RELATIVE,
        scope={"may_see": ["appointments"], "notified_of": ["FollowUpScheduled", "VisitCompleted"]},
    )
    webhook = subscribe(notifications, relative, RELATIVE, channel="webhook", url=receiver.url)
    secret = webhook["secret"]
    mail = subscribe(
        notifications, relative, RELATIVE, channel="email", email="relative@example.org"
    )
    assert mail["address"] == "r***@example.org"
    api = notifications.http(RELATIVE)
    listed = api.get("/v1/subscriptions", params={"recipient": relative}).json()
    assert "relative@example.org" not in json.dumps(listed)
    assert all("secret" not in s for s in listed)

    notifications.consume("FollowUpScheduled", patient, due_on="2026-12-04")
    assert notifications.run_due_work() == 2
    (mail_to, raw_mail) = mailbox.mails[0]
    assert mail_to == ["relative@example.org"]
    text = message_from_bytes(raw_mail).get_payload()
    assert "2026-12-04" in str(text)
    assert str(patient) in str(text)
    body = Webhook(secret).verify(receiver.accepted()[0].body, receiver.accepted()[0].headers)
    assert body["summary"] == "Your relative's next follow-up is due on 2026-12-04."

    # A visit: the relative may not see visits, so only the event type and the link reach them.
    notifications.consume("VisitCompleted", patient, classification="stable", risk_level=0)
    (visit_item, _) = notifications.inboxes().inbox(relative)
    assert (visit_item.about_event_type, visit_item.summary, visit_item.dates) == (
        "VisitCompleted",
        None,
        {},
    )
    # ... and before it is sent, consent is withdrawn: the pending deliveries never go out.
    notifications.consume("FamilyConsentWithdrawn", patient, member_id=RELATIVE)
    notifications.run_due_work()
    notifications.consume("FollowUpScheduled", patient, due_on="2027-03-04")
    notifications.later(timedelta(days=1))

    assert len(mailbox.mails) == 1
    assert len(receiver.requests) == 1
    assert notifications.inboxes().inbox(relative) == []
    family_news = sorted(
        (m.data.about_event_type, m.data.channel)
        for m in notifications.published("NotificationDelivered")
        if m.data.recipient == relative
    )
    assert family_news == [
        ("FollowUpScheduled", "email"),
        ("FollowUpScheduled", "inbox"),
        ("FollowUpScheduled", "webhook"),
        ("VisitCompleted", "inbox"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "webhook", "email": "a@example.org"},
        {"channel": "email", "url": "https://hooks.example.org/x"},
        {"channel": "email", "email": "a@example.org", "url": "https://hooks.example.org/x"},
        {"channel": "email", "email": "not an address"},
        {"channel": "sms", "email": "a@example.org"},
    ],
)
def test_a_subscription_without_the_right_address_is_refused_without_echoing_it(
    notifications: Notifications, body: dict[str, str]
) -> None:
    response = notifications.http().post(
        "/v1/subscriptions", json={"recipient": "staff:SW-NS-LI", **body}
    )
    assert response.status_code == 422
    assert "example.org" not in response.text
    assert "not an address" not in response.text


def test_an_inbox_item_and_a_subscription_are_unknown_to_anyone_else(
    notifications: Notifications, receiver: WebhookReceiver
) -> None:
    created = subscribe(
        notifications, "staff:SW-NS-LI", CASE_MANAGER, channel="webhook", url=receiver.url
    )
    notifications.consume("CaseManagerAssigned", uuid4())
    api, colleague = notifications.http(), notifications.http(COLLEAGUE)
    (item,) = api.get("/v1/inbox", params={"recipient": "staff:SW-NS-LI"}).json()
    path = f"/v1/inbox/{item['notification_id']}"
    assert api.get(path, params={"recipient": "staff:SW-NS-LI"}).status_code == 200
    assert colleague.get(path, params={"recipient": "staff:SW-NS-CHEN"}).status_code == 404
    # ... nor may anyone ask as its recipient
    assert colleague.get(path, params={"recipient": "staff:SW-NS-LI"}).status_code == 403
    subscription = f"/v1/subscriptions/{created['subscription_id']}"
    assert (
        colleague.delete(subscription, params={"recipient": "staff:SW-NS-CHEN"}).status_code == 404
    )
    assert api.delete(subscription, params={"recipient": "staff:SW-NS-LI"}).status_code == 204
    assert api.get("/v1/subscriptions", params={"recipient": "staff:SW-NS-LI"}).json() == []
    assert notifications.run_due_work() == 1  # the pending delivery is cancelled, not sent
    assert receiver.requests == []
