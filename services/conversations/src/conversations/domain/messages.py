"""Rules of a message: its languages, its text and its attachments (the same limits as registry's evidence)."""

from __future__ import annotations

from typing import Literal

Language = Literal["kk", "ru", "en"]
TEXT_MAX = 4000
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENTS_PER_MESSAGE = 5
_MAGIC = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


class AttachmentRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def sniff(content: bytes) -> str | None:
    """The document type from its first bytes (never the client's Content-Type), or None when not allowed."""
    return next((kind for magic, kind in _MAGIC.items() if content.startswith(magic)), None)


def check_attachment(content: bytes, already: int) -> str:
    """The attachment's media type when it may be attached (PDF, JPEG or PNG, at most 5 MiB, 5 per message)."""
    if already >= ATTACHMENTS_PER_MESSAGE:
        raise AttachmentRefused("too_many_attachments", f"at most {ATTACHMENTS_PER_MESSAGE} attachments a message")
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise AttachmentRefused("attachment_too_large", "an attachment is at most 5 MiB")
    if not content:
        raise AttachmentRefused("attachment_empty", "the file is empty")
    kind = sniff(content)
    if kind is None:
        raise AttachmentRefused("attachment_type", "a PDF, JPEG or PNG file")
    return kind
