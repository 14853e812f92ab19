"""Protecting national ID numbers at rest: AES-GCM encryption bound to the row and a keyed HMAC blind index.

Two separate keys; the ciphertext is bound to its row through the associated data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass(frozen=True)
class IinProtector:
    encryption_key: bytes
    index_key: bytes

    def blind_index(self, iin: str) -> bytes:
        return hmac.new(self.index_key, iin.encode(), hashlib.sha256).digest()

    def encrypt(self, iin: str, *, row_id: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.encryption_key).encrypt(nonce, iin.encode(), f"iin:{row_id}".encode())

    def decrypt(self, blob: bytes, *, row_id: str) -> str:
        return AESGCM(self.encryption_key).decrypt(blob[:12], blob[12:], f"iin:{row_id}".encode()).decode()
