"""The local stack's mail catcher: an SMTP server (aiosmtpd) that keeps every message as a file.

``python -m qosym_cli.mailcatcher --port P --dir <home>/mail`` accepts any message on 127.0.0.1:P and writes it
to ``<home>/mail/<UTC time>-<id>.eml`` (written whole, then renamed, so a reader never sees half a message).
Open the files with any mail client or a text editor. Nothing is relayed anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from qosym_cli.ports import HOST


class MailFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.to_thread(self.keep, envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def keep(self, content: bytes) -> Path:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.partial"
        partial.write_bytes(content)
        return partial.rename(self.folder / name)


async def serve(port: int, folder: Path) -> None:
    loop = asyncio.get_running_loop()
    handler = MailFolder(folder)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="qosym-mail", enable_SMTPUTF8=True), host=HOST, port=port
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"mail catcher on smtp://{HOST}:{port}, messages in {folder}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m qosym_cli.mailcatcher")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.port, args.dir))


def mail_dir(home: Path) -> Path:
    return home / "mail"


if __name__ == "__main__":
    main()
