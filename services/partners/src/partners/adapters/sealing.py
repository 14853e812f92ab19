"""Signing secrets are stored sealed (AES-GCM, bound to their subscription): a dump of the table signs nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass(frozen=True)
class SecretBox:
    key: bytes

    def __repr__(self) -> str:
        return "SecretBox(…)"

    def seal(self, subscription_id: UUID, secret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, secret.encode(), f"subscription:{subscription_id}".encode())

    def open(self, subscription_id: UUID, sealed: bytes) -> str:
        return AESGCM(self.key).decrypt(sealed[:12], sealed[12:], f"subscription:{subscription_id}".encode()).decode()
