"""Attachments are stored sealed (AES-GCM, bound to their id) in the database: a dump of the table reads nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass(frozen=True)
class AttachmentBox:
    key: bytes

    def seal(self, attachment_id: UUID, plain: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, plain, f"attachment:{attachment_id}".encode())

    def open(self, attachment_id: UUID, sealed: bytes) -> bytes:
        return AESGCM(self.key).decrypt(sealed[:12], sealed[12:], f"attachment:{attachment_id}".encode())
