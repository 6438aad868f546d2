"""E-mail over SMTP: a plain-text message with what the recipient may see, and a link."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from carenet_notifications.channels import Message, SendFailed
from carenet_notifications.domain.subscriptions import Subscription


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0


class EmailSender:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def send(self, message: Message, subscription: Subscription) -> None:
        server = self.server
        mail = EmailMessage()
        mail["From"] = server.sender
        mail["To"] = subscription.address
        mail["Subject"] = message.subject
        # The delivery id lets a mail system drop a repeat after a crash mid-send.
        mail["Message-ID"] = f"<{message.delivery_id}@{server.sender.partition('@')[2]}>"
        mail.set_content(_text(message))
        try:
            with smtplib.SMTP(server.host, server.port, timeout=server.timeout_seconds) as smtp:
                if server.starttls:
                    smtp.starttls()
                if server.username and server.password:
                    smtp.login(server.username, server.password)
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as error:
            raise SendFailed(f"SMTP server answered {error.smtp_code}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"SMTP failed: {type(error).__name__}") from error


def _text(message: Message) -> str:
    body = message.body
    lines = [
        f"{body['event_type']} ({body['urgency']})",
        "",
        body["summary"] or "There is news about a patient you follow.",
        "",
        *(f"{name.replace('_', ' ')}: {value}" for name, value in body["dates"].items()),
        f"patient: {body['patient_id']}",
        "",
        f"Read{' and acknowledge' if body['requires_acknowledgement'] else ''} it in your inbox:",
        body["inbox_url"],
    ]
    return "\n".join(lines) + "\n"
