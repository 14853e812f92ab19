"""The signed-in person's session, kept only in an encrypted HttpOnly cookie (Fernet: AES-128-CBC + HMAC-SHA256).

The key is ``QOSYM_SESSION_KEY`` (production, from the secret store) or ``<keys_dir>/portal-session.key``,
generated on first run and never committed. The cookie carries the registry's access and refresh tokens, who the
person is (subject and role, as the registry answered) and when the access token expires.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "qosym_session"
CSRF_COOKIE = "qosym_csrf"
LANGUAGE_COOKIE = "qosym_lang"
SESSION_MAX_AGE_S = 12 * 3600


@dataclass
class Session:
    access_token: str
    refresh_token: str
    expires_at: float
    subject: str
    role: str
    scope: dict[str, str] = field(default_factory=dict)

    def expires_soon(self, now: float | None = None, margin_s: float = 30.0) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - margin_s


def load_or_create_key(keys_dir: Path, configured: str | None = None) -> bytes:
    if configured:
        return configured.encode()
    path = keys_dir / "portal-session.key"
    if path.exists():
        return path.read_bytes().strip()
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(key)
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)  # first writer wins: two processes starting at once agree on one key
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


class SessionCodec:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def dump(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps(asdict(session)).encode()).decode()

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            raw = json.loads(self._fernet.decrypt(cookie.encode(), ttl=SESSION_MAX_AGE_S))
            return Session(**raw)
        except (InvalidToken, ValueError, TypeError):
            return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)
