"""``python -m registry bootstrap-admin --username NAME --secrets-file PATH``: the first administrator of a deployment.

Production has no development bootstrap (the api creates an ``admin`` only with ``QOSYM_DEV_MODE``, and logs its
secrets): this command creates the first administrator once, while no active administrator exists, and writes its
one-time password and TOTP secret (with the ``otpauth://`` URI for an authenticator app) to a file it creates with
mode 0600, never to the log or the terminal. The grant is on the audit trail (``role.granted`` by
``system:bootstrap-admin``). Every later staff account is created by an administrator (``POST /v1/staff``).

Exit codes: 0 created; 2 bad arguments; 3 refused, an administrator exists (or the username is taken); 4 refused,
the secrets file exists or cannot be created. The secrets are written before the account commits, so a file that
cannot be written leaves no account; a refusal after the file was created removes it again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path

from qosym_chassis.context import build_context
from qosym_chassis.errors import Conflict
from registry.bootstrap import bootstrap
from registry.config import RegistrySettings
from registry.service_layer import identity
from registry.service_layer.identity import NewStaff

USERNAME = re.compile(r"^[a-z0-9._-]{3,100}$")  # as POST /v1/staff takes it
CREATED, USAGE, ADMINISTRATOR_EXISTS, SECRETS_FILE_REFUSED = 0, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m registry bootstrap-admin", description="Create the first administrator of a deployment."
    )
    parser.add_argument("--username", required=True, help="the administrator's username (a-z 0-9 . _ -, 3-100)")
    parser.add_argument(
        "--secrets-file", required=True, type=Path, help="created with mode 0600 (never overwritten): the secrets"
    )
    return parser


def _create_secrets_file(path: Path) -> int:
    """Exclusively (an existing file or link is never followed or overwritten), readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # whatever the umask
    return fd


def _secrets(created: NewStaff) -> bytes:
    document = {
        "username": created.username,
        "staff_id": str(created.id),
        "role": "administrator",
        "one_time_password": created.password,
        "totp_secret": created.totp_secret,
        "totp_uri": created.totp_uri,
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def main(settings: RegistrySettings, argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and USAGE
    if not USERNAME.fullmatch(args.username):
        print("bootstrap-admin: --username: 3 to 100 of a-z, 0-9, '.', '_', '-'", file=sys.stderr)
        return USAGE
    path: Path = args.secrets_file
    try:
        fd = _create_secrets_file(path)
    except FileExistsError:
        print(f"bootstrap-admin: refused: {path} exists (it is never overwritten)", file=sys.stderr)
        return SECRETS_FILE_REFUSED
    except OSError as error:
        print(f"bootstrap-admin: refused: cannot create {path}: {error.strerror}", file=sys.stderr)
        return SECRETS_FILE_REFUSED

    async def keep(created: NewStaff) -> None:
        os.write(fd, _secrets(created))
        os.fsync(fd)

    async def run() -> NewStaff:
        context = build_context(settings, "bootstrap-admin")
        try:
            deps = bootstrap(settings, context).deps
            return await identity.bootstrap_first_administrator(deps, args.username, keep)
        finally:
            await context.close()

    try:
        created = asyncio.run(run())
    except Conflict as refusal:
        os.close(fd)
        path.unlink(missing_ok=True)
        print(f"bootstrap-admin: refused: {refusal.detail}", file=sys.stderr)
        return ADMINISTRATOR_EXISTS
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    print(
        f"bootstrap-admin: administrator {created.username!r} created (staff id {created.id}); its one-time "
        f"password and TOTP secret are in {path} (mode 0600): hand them over, then delete the file",
        file=sys.stderr,
    )
    return CREATED
