"""Development keys, generated on first run and never committed.

Production mounts the same files from its secret store (QOSYM_KEYS_DIR).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_or_create_signing_key(keys_dir: Path, kid: str = "dev-1") -> tuple[str, Ed25519PrivateKey]:
    return kid, load_or_create_ed25519_key(keys_dir / f"jwt-{kid}.pem")


def load_or_create_ed25519_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key in PKCS#8 PEM (JWT signing, audit heads), created when missing."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with contextlib.suppress(FileExistsError):
            _write_private(path, pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return loaded


def load_or_create_secret(keys_dir: Path, name: str, size: int = 32) -> bytes:
    """A random symmetric key (AES-GCM or HMAC), stored hex-encoded."""
    path = keys_dir / f"{name}.key"
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            _write_private(path, secrets.token_hex(size).encode())
    return bytes.fromhex(path.read_text().strip())
