"""Issuing short-lived EdDSA-signed access tokens and publishing the verification keys (JWKS).

Keys live in the keys directory as ``jwt-<kid>.pem``. The newest signs; the newest few stay in the JWKS so
tokens signed before a rotation keep verifying until they expire. ``rotate`` adds a new key.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from qosym_chassis.clock import Clock
from qosym_chassis.keys import load_or_create_signing_key

KEYS_PUBLISHED = 3


def _age(kid: str) -> tuple[int, str]:
    """dev-1 (the first key) is the oldest; rotated kids are r<nanoseconds>, ordered by time."""
    return (int(kid[1:]), kid) if kid.startswith("r") and kid[1:].isdigit() else (0, kid)


def load_keys(keys_dir: Path) -> list[tuple[str, Ed25519PrivateKey]]:
    """Every signing key in the directory, oldest first (creating the first one on first run)."""
    load_or_create_signing_key(keys_dir)
    kids = sorted((path.name[4:-4] for path in keys_dir.glob("jwt-*.pem")), key=_age)
    return [load_or_create_signing_key(keys_dir, kid) for kid in kids]


@dataclass
class TokenIssuer:
    keys: list[tuple[str, Ed25519PrivateKey]]
    issuer: str
    audience: str
    ttl: timedelta
    keys_dir: Path | None = field(default=None)
    # every service verifies iat/exp against its real clock: a token is dated by the unshifted chassis clock even
    # when the registry runs "next month" in development (QOSYM_CLOCK_OFFSET_S)
    clock: Clock = field(default_factory=Clock)

    @property
    def kid(self) -> str:
        return self.keys[-1][0]

    def issue(
        self, *, subject: str, role: str, scope: dict[str, str] | None = None, acting_for: str | None = None
    ) -> str:
        now = self.clock.now()
        claims: dict[str, Any] = {
            "sub": subject,
            "role": role,
            "scope": scope or {},
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": str(uuid4()),
        }
        if acting_for:
            claims["act"] = acting_for
        kid, key = self.keys[-1]
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})

    def rotate(self) -> str:
        """Create a new signing key; it signs from now on, older ones stay published for verification."""
        if self.keys_dir is None:
            raise RuntimeError("no keys directory to rotate in")
        kid = f"r{time.time_ns()}"
        load_or_create_signing_key(self.keys_dir, kid)
        self.keys = load_keys(self.keys_dir)
        return kid

    def jwks(self) -> list[dict[str, str]]:
        """The newest keys' public JWKs (Ed25519: ``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg``), newest first."""
        published: list[dict[str, str]] = []
        for kid, key in self.keys[-KEYS_PUBLISHED:]:
            public = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
            public.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
            published.append(public)
        return published[::-1]
