"""E-mail through a real SMTP server (aiosmtplib): plain text, one message per delivery.

The Message-ID is derived from the delivery id, so a resend after a crash between the server's acceptance and
our commit carries the same id and mail clients show it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from uuid import UUID

import aiosmtplib


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    start_tls: bool = False
    timeout_s: float = 10.0

    async def send(self, *, delivery_id: UUID, to: str, subject: str, body: str, language: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{delivery_id}@notifications.qosym>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        message["Content-Language"] = language  # after set_content, which clears Content-* headers
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.start_tls,
            use_tls=False,
            timeout=self.timeout_s,
        )
