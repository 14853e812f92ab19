"""``python -m registry bootstrap-admin``: the first administrator of a production deployment, as a process.

Created once, while no administrator exists; the secrets go to a file created with mode 0600 (never overwritten),
never to the process's output or its traces; the grant is on the audit trail; the account signs in.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pyotp
import pytest

from tests.support import imports

from .test_children_api import scalar

pytestmark = pytest.mark.component

SECRET_KEYS = ("one_time_password", "totp_secret", "totp_uri")


def bootstrap_admin(stack, url: str, jwks: str, folder: Path, *arguments: str):
    return imports.run_command("registry", stack, url, jwks, folder, "bootstrap-admin", *arguments, dev_mode=False)


async def test_the_first_administrator_is_created_once_with_its_secrets_in_a_private_file(
    service_db, stack_servers, jwks_url, api_client, tmp_path
):
    url = await service_db("registry")
    secrets_file = tmp_path / "first-admin.json"

    # a secrets file that exists already is never overwritten, and nothing is created
    secrets_file.write_text("keep me")
    refused_file = bootstrap_admin(
        stack_servers, url, jwks_url, tmp_path, "--username", "first.admin", "--secrets-file", str(secrets_file)
    )
    assert refused_file.returncode == 4, refused_file.stderr
    assert "exists" in refused_file.stderr and str(secrets_file) in refused_file.stderr
    assert secrets_file.read_text() == "keep me"
    assert await scalar(url, "select count(*) from staff") == 0
    secrets_file.unlink()

    created = bootstrap_admin(
        stack_servers, url, jwks_url, tmp_path, "--username", "first.admin", "--secrets-file", str(secrets_file)
    )
    assert created.returncode == 0, created.stderr
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    secrets = json.loads(secrets_file.read_text())
    assert secrets["username"] == "first.admin" and secrets["role"] == "administrator"
    assert secrets["totp_uri"].startswith("otpauth://totp/") and secrets["totp_secret"] in secrets["totp_uri"]
    traces = tmp_path / "traces.jsonl"
    written = created.stdout + created.stderr + (traces.read_text() if traces.exists() else "")
    for key in SECRET_KEYS:
        assert secrets[key] not in written, key  # never printed, logged or traced
    assert "first.admin" in created.stderr and str(secrets_file) in created.stderr

    assert await scalar(url, "select role from staff where username = 'first.admin'") == "administrator"
    audit = await scalar(
        url,
        "select json_build_object('actor', actor, 'entity_id', entity_id, 'data', data)::text from audit_log "
        "where action = 'role.granted' and entity = 'staff'",
    )
    row = json.loads(str(audit))
    assert row["actor"] == "system:bootstrap-admin" and row["entity_id"] == secrets["staff_id"]
    assert row["data"] == {"role": "administrator", "scope": {}, "via": "bootstrap-admin"}
    assert not any(secrets[key] in str(audit) for key in SECRET_KEYS)

    # with an administrator in place: refused, and the second secrets file is not left behind
    second_file = tmp_path / "second-admin.json"
    again = bootstrap_admin(
        stack_servers, url, jwks_url, tmp_path, "--username", "second.admin", "--secrets-file", str(second_file)
    )
    assert again.returncode == 3, again.stderr
    assert "an administrator exists already" in again.stderr
    assert not second_file.exists()
    assert await scalar(url, "select count(*) from staff") == 1

    # the administrator signs in with what the file holds
    async with api_client("registry", url) as client:
        login = await client.post(
            "/v1/auth/staff/login",
            json={
                "username": "first.admin",
                "password": secrets["one_time_password"],
                "totp": pyotp.TOTP(secrets["totp_secret"]).now(),
            },
        )
    assert login.status_code == 200, login.text
    assert login.json()["role"] == "administrator"


async def test_a_bad_username_is_refused_before_anything_is_written(service_db, stack_servers, jwks_url, tmp_path):
    url = await service_db("registry")
    secrets_file = tmp_path / "admin.json"

    done = bootstrap_admin(
        stack_servers, url, jwks_url, tmp_path, "--username", "Not A Name", "--secrets-file", str(secrets_file)
    )
    missing = bootstrap_admin(stack_servers, url, jwks_url, tmp_path, "--username", "first.admin")

    assert done.returncode == 2 and "--username" in done.stderr
    assert missing.returncode == 2 and "--secrets-file" in missing.stderr
    assert not secrets_file.exists()
    assert await scalar(url, "select count(*) from staff") == 0
