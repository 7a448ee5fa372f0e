"""The clinic's email about a new urgent request: a link, and nothing else.

No name, no contact details, no health data: email is not a safe place for them, and
the link only opens for a logged-in clinician. Sending happens on a background thread
so the person's request never waits on, or fails because of, the mail server.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable
from email.message import EmailMessage

from miliacheck.config import Settings

log = logging.getLogger("miliacheck.mail")


def message(settings: Settings, consultation_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "New urgent consultation request"
    msg["From"] = settings.smtp_from
    msg["To"] = settings.clinic_email
    link = f"{settings.public_url.rstrip('/')}/clinic/requests/{consultation_id}"
    msg.set_content(
        "A new request needs to be seen today.\n\n"
        f"Open it (clinician login needed): {link}\n\n"
        "This email holds no personal or health information by design.\n"
    )
    return msg


def send(settings: Settings, consultation_id: str) -> None:
    """Send now (raises on failure); ``notifier`` wraps it for the app."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message(settings, consultation_id))


def notifier(settings: Settings, wait: bool = False) -> Callable[[str, str], None]:
    """``notify(id, level)`` for consultations.create: emails urgent requests only."""

    def notify(consultation_id: str, level: str) -> None:
        if level != "urgent" or not (settings.smtp_host and settings.clinic_email):
            return

        def run() -> None:
            try:
                send(settings, consultation_id)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning(
                    "could not email the clinic about a new urgent request: %s", type(exc).__name__
                )

        thread = threading.Thread(target=run, name="clinic-mail", daemon=True)
        thread.start()
        if wait:
            thread.join()

    return notify
