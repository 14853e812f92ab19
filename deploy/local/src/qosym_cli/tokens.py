"""Development tokens signed with the local stack's key (the registry publishes it on its JWKS)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt

from qosym_chassis.keys import load_or_create_secret, load_or_create_signing_key

ISSUER = "qosym-registry"
AUDIENCE = "qosym"


def keys_dir(home: Path) -> Path:
    return home / "keys"


def mint_token(home: Path, role: str, subject: str, ttl_s: int = 600, scope: Any = None) -> str:
    """A development token signed with the stack's key (``scope`` as given: tests also sign malformed ones)."""
    kid, private_key = load_or_create_signing_key(keys_dir(home))
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl_s,
    }
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})


def role_password(home: Path, role: str) -> str:
    """A database role's password, generated into the stack's keys folder on first use (never committed)."""
    return load_or_create_secret(keys_dir(home), f"postgres-{role}").hex()
