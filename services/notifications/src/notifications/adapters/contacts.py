"""Contact details at rest: AES-GCM, each value bound to its person and field (a copied cell does not decrypt)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass(frozen=True)
class ContactBox:
    key: bytes

    def seal(self, value: str, *, person_id: UUID, field: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, value.encode(), f"contact:{field}:{person_id}".encode())

    def open(self, blob: bytes | None, *, person_id: UUID, field: str) -> str | None:
        if blob is None:
            return None
        return AESGCM(self.key).decrypt(blob[:12], blob[12:], f"contact:{field}:{person_id}".encode()).decode()
