"""Evidence documents on disk: random names, AES-GCM encrypted at rest (the name is the associated data)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import anyio

from registry.adapters.credentials import SecretBox


@dataclass(frozen=True)
class EvidenceStore:
    directory: Path
    box: SecretBox

    async def put(self, content: bytes) -> str:
        name = secrets.token_hex(16)
        sealed = self.box.seal(content, context=f"evidence:{name}")
        await anyio.to_thread.run_sync(self._write, name, sealed)
        return name

    def _write(self, name: str, sealed: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_bytes(sealed)

    async def get(self, name: str) -> bytes:
        sealed = await anyio.Path(self.directory / name).read_bytes()
        return self.box.open(sealed, context=f"evidence:{name}")

    async def delete(self, name: str) -> None:
        await anyio.Path(self.directory / name).unlink(missing_ok=True)
