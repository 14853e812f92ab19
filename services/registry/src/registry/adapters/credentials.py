"""Staff passwords (argon2), TOTP second factor, one-time codes and opaque refresh tokens (hashed at rest)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pwdlib import PasswordHash

_passwords = PasswordHash.recommended()
DECOY_TOTP_SECRET = pyotp.random_base32()  # checked for unknown staff names: the same work as a known one


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def password_matches(password: str, hashed: str) -> bool:
    return _passwords.verify(password, hashed)


def new_password() -> str:
    return secrets.token_urlsafe(15)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_matches(secret: str, code: str) -> bool:
    return pyotp.TOTP(secret).verify(code, valid_window=1)


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Qosym")


def new_otp_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


@dataclass(frozen=True)
class SecretBox:
    """HMAC for codes (a 6-digit code needs a key, not a bare hash) and AES-GCM for stored secrets."""

    key: bytes

    def code_hash(self, challenge_id: str, code: str) -> bytes:
        return hmac.new(self.key, f"{challenge_id}:{code}".encode(), hashlib.sha256).digest()

    def seal(self, plain: bytes, *, context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, plain, context.encode())

    def open(self, blob: bytes, *, context: str) -> bytes:
        return AESGCM(self.key).decrypt(blob[:12], blob[12:], context.encode())
