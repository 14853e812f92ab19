"""Attachments keep registry's evidence limits: PDF, JPEG or PNG by their first bytes, at most 5 MiB."""

from __future__ import annotations

import pytest

from conversations.domain.messages import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENTS_PER_MESSAGE,
    AttachmentRefused,
    check_attachment,
)

pytestmark = pytest.mark.unit

PDF = b"%PDF-1.7\n" + b"0" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 100


@pytest.mark.parametrize(("content", "kind"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
def test_allowed_types_are_recognised_by_their_bytes(content: bytes, kind: str) -> None:
    assert check_attachment(content, 0) == kind


@pytest.mark.parametrize(
    ("content", "already", "code"),
    [
        (b"MZ\x90\x00 an executable", 0, "attachment_type"),
        (b"<html><script>", 0, "attachment_type"),
        (b"", 0, "attachment_empty"),
        (b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES, 0, "attachment_too_large"),
        (PDF, ATTACHMENTS_PER_MESSAGE, "too_many_attachments"),
    ],
)
def test_other_files_are_refused(content: bytes, already: int, code: str) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        check_attachment(content, already)
    assert refused.value.code == code


def test_exactly_the_limit_is_allowed() -> None:
    assert check_attachment(b"%PDF-" + b"0" * (ATTACHMENT_MAX_BYTES - 5), ATTACHMENTS_PER_MESSAGE - 1)
