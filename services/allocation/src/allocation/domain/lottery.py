"""The lottery: a seed committed before the round opens and revealed after it closes.

seed = 32 random bytes; the round publishes sha256(seed) (hex) when it is created and opened, and the
seed itself once applications are closed. Each application's lottery number is
sha256(seed ‖ public_id.bytes) as lowercase hex, where public_id is a random UUID given to the
application (no personal data). Anyone can recompute both from the published list.
"""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID


def new_seed() -> bytes:
    return secrets.token_bytes(32)


def seed_sha256(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def lottery_number(seed: bytes, public_id: UUID) -> str:
    return hashlib.sha256(seed + public_id.bytes).hexdigest()
