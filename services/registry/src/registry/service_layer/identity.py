"""Login: parents by IIN + one-time code, staff by password + TOTP; rotating refresh tokens; staff accounts."""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import DateTime, LargeBinary, insert, literal, select, update
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.exc import IntegrityError

from qosym_chassis.iin import parse_iin
from qosym_chassis.protection import IinProtector
from registry.adapters import audit, credentials, repository
from registry.adapters.audit import Actor
from registry.adapters.credentials import SecretBox
from registry.adapters.orm import otp_challenge, person, refresh_token, service_account, staff
from registry.adapters.sms import BackgroundSms, SmsSender
from registry.adapters.tokens import TokenIssuer
from registry.domain.people import OTP_MAX_ATTEMPTS, OTP_TTL_S
from registry.service_layer.handlers import Sessions

log = logging.getLogger("registry.identity")
REFRESH_TTL = timedelta(days=30)
STAFF_ROLES = ("operator", "administrator", "provider_staff", "auditor")
CLIENT_ID = re.compile(r"svc-[0-9a-f]{12}")


class LoginFailed(Exception):
    """Wrong, expired or used code or credentials: one answer for all, so nothing is revealed."""


class Conflict(Exception):
    pass


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    subject: str
    role: str


async def request_code(
    sessions: Sessions,
    protector: IinProtector,
    box: SecretBox,
    sms: BackgroundSms | SmsSender,
    iin_raw: str,
    today: date,
    approves: str | None = None,
) -> UUID:
    """A challenge id always comes back, and the work is the same for a known and an unknown IIN.

    Both look the person up, make and hash a code and run the same insert statement, which copies the person
    row it names into a challenge; for an unknown IIN it names nobody and inserts nothing. The SMS goes out in
    the background: the answer never waits for the gateway. ``approves`` says what the code approves when it is
    not a login (an operator's prepared change): who asks, where and for which child, never an IIN.
    """
    iin = parse_iin(iin_raw, today=today)
    challenge_id = uuid4()
    async with sessions() as session, session.begin():
        found = await repository.find_person_by_index(session, protector.blind_index(iin.value))
        known = found is not None and bool(found.phone)
        code = credentials.new_otp_code()
        values = select(
            literal(challenge_id, PgUUID(as_uuid=True)),
            person.c.id,
            literal(box.code_hash(str(challenge_id), code), LargeBinary()),
            literal(datetime.now(UTC) + timedelta(seconds=OTP_TTL_S), DateTime(timezone=True)),
        ).where(person.c.id == (found.id if known and found is not None else uuid4()))
        await session.execute(insert(otp_challenge).from_select(["id", "person_id", "code_hash", "expires_at"], values))
    if known and found is not None and found.phone:
        text = f"Qosym code: {code}. It expires in 5 minutes."
        if approves:
            text = f"Qosym code: {code}. {approves} Tell it to no one else. It expires in 5 minutes."
        if isinstance(sms, BackgroundSms):
            sms.dispatch(person_id=found.id, phone=found.phone, text=text)
        else:  # an operator's assisted flow waits for the gateway (and hears when it fails)
            await sms.send(person_id=found.id, phone=found.phone, text=text)
    return challenge_id


async def confirm_code(sessions: Sessions, box: SecretBox, challenge_id: UUID, code: str) -> UUID:
    """The person id once the code matches; every wrong try counts, the fifth closes the challenge."""
    async with sessions() as session, session.begin():
        row = (
            (await session.execute(select(otp_challenge).where(otp_challenge.c.id == challenge_id).with_for_update()))
            .mappings()
            .first()
        )
        if row is None or row["used_at"] is not None or row["attempts"] >= OTP_MAX_ATTEMPTS:
            raise LoginFailed()
        if row["expires_at"] <= datetime.now(UTC):
            raise LoginFailed()
        if not hmac.compare_digest(row["code_hash"], box.code_hash(str(challenge_id), code)):
            await session.execute(
                update(otp_challenge)
                .where(otp_challenge.c.id == challenge_id)
                .values(attempts=otp_challenge.c.attempts + 1)
            )
            wrong = True
        else:
            await session.execute(
                update(otp_challenge).where(otp_challenge.c.id == challenge_id).values(used_at=datetime.now(UTC))
            )
            wrong = False
    if wrong:
        raise LoginFailed()
    return UUID(str(row["person_id"]))


async def issue_tokens(
    sessions: Sessions,
    issuer: TokenIssuer,
    subject: str,
    role: str,
    scope: dict[str, str] | None = None,
    family_id: UUID | None = None,
) -> Tokens:
    opaque = credentials.new_opaque_token()
    async with sessions() as session, session.begin():
        await session.execute(
            insert(refresh_token).values(
                token_hash=credentials.sha256(opaque),
                family_id=family_id or uuid4(),
                subject=subject,
                role=role,
                scope=scope or {},
                expires_at=datetime.now(UTC) + REFRESH_TTL,
            )
        )
    access = issuer.issue(subject=subject, role=role, scope=scope)
    return Tokens(access, opaque, int(issuer.ttl.total_seconds()), subject, role)


async def refresh(sessions: Sessions, issuer: TokenIssuer, opaque: str) -> Tokens:
    """Rotate: the old token is spent; presenting a spent one again revokes its whole family (theft)."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        row = (
            (
                await session.execute(
                    select(refresh_token)
                    .where(refresh_token.c.token_hash == credentials.sha256(opaque))
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
            raise LoginFailed()
        if row["used_at"] is not None:
            await session.execute(
                update(refresh_token)
                .where(refresh_token.c.family_id == row["family_id"], refresh_token.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            reused = True
        else:
            await session.execute(
                update(refresh_token).where(refresh_token.c.token_hash == row["token_hash"]).values(used_at=now)
            )
            reused = False
    if reused:
        raise LoginFailed()
    return await issue_tokens(sessions, issuer, row["subject"], row["role"], row["scope"], row["family_id"])


async def logout(sessions: Sessions, opaque: str) -> None:
    async with sessions() as session, session.begin():
        family = (
            await session.execute(
                select(refresh_token.c.family_id).where(refresh_token.c.token_hash == credentials.sha256(opaque))
            )
        ).scalar()
        if family is not None:
            await session.execute(
                update(refresh_token)
                .where(refresh_token.c.family_id == family, refresh_token.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )


# --- staff ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewStaff:
    id: UUID
    username: str
    password: str
    totp_secret: str
    totp_uri: str


async def create_staff(
    sessions: Sessions, box: SecretBox, actor: Actor, username: str, role: str, scope: dict[str, str]
) -> NewStaff:
    password, totp_secret, staff_id = credentials.new_password(), credentials.new_totp_secret(), uuid4()
    try:
        async with sessions() as session, session.begin():
            await session.execute(
                insert(staff).values(
                    id=staff_id,
                    username=username,
                    password_hash=credentials.hash_password(password),
                    totp_ciphertext=box.seal(totp_secret.encode(), context=f"totp:{staff_id}"),
                    role=role,
                    scope=scope,
                )
            )
            await audit.append(session, actor, "role.granted", "staff", staff_id, {"role": role, "scope": scope})
    except IntegrityError as exc:
        raise Conflict("this username is taken") from exc
    return NewStaff(staff_id, username, password, totp_secret, credentials.totp_uri(totp_secret, username))


async def staff_login(sessions: Sessions, box: SecretBox, username: str, password: str, totp: str) -> dict[str, Any]:
    """The second factor first: the argon2 hash runs only once the TOTP code is right, so guessing costs no CPU.

    An unknown or inactive name and a wrong code both fail before any hash, in the same time: nothing tells
    whether the name exists.
    """
    async with sessions() as session:
        row = (await session.execute(select(staff).where(staff.c.username == username))).mappings().first()
    if row is None or not row["active"]:
        credentials.totp_matches(credentials.DECOY_TOTP_SECRET, totp)  # the same cheap work as a known name
        raise LoginFailed()
    secret = box.open(row["totp_ciphertext"], context=f"totp:{row['id']}").decode()
    if not credentials.totp_matches(secret, totp) or not credentials.password_matches(password, row["password_hash"]):
        raise LoginFailed()
    return {"subject": str(row["id"]), "role": row["role"], "scope": dict(row["scope"])}


async def bootstrap_admin(sessions: Sessions, box: SecretBox) -> NewStaff | None:
    """Development: the first run creates an administrator when there is no staff at all."""
    async with sessions() as session:
        if (await session.execute(select(staff.c.id).limit(1))).first() is not None:
            return None
    try:
        return await create_staff(sessions, box, Actor("bootstrap", "system"), "admin", "administrator", {})
    except Conflict:
        return None


async def verify_audit(sessions: Sessions) -> audit.Verification:
    async with sessions() as session:
        return await audit.verify(session)


# --- partner service accounts (OAuth2 client credentials) ----------------------------------------------


async def create_service_account(sessions: Sessions, actor: Actor, name: str) -> tuple[str, str]:
    client_id, secret = f"svc-{uuid4().hex[:12]}", credentials.new_opaque_token()
    async with sessions() as session, session.begin():
        await session.execute(
            insert(service_account).values(
                client_id=client_id, name=name, secret_hash=credentials.hash_password(secret)
            )
        )
        await audit.append(session, actor, "role.granted", "service_account", client_id, {"role": "partner"})
    return client_id, secret


async def client_credentials(sessions: Sessions, client_id: str, secret: str) -> str:
    """The subject of a partner token when the client id and secret match an active account.

    A client id that is not of the issued form (``svc-`` and 12 hex digits) fails before any lookup or hash."""
    if not CLIENT_ID.fullmatch(client_id):
        raise LoginFailed()
    async with sessions() as session:
        row = (
            (await session.execute(select(service_account).where(service_account.c.client_id == client_id)))
            .mappings()
            .first()
        )
    if row is None or not row["active"]:
        credentials.hash_password(secret)
        raise LoginFailed()
    if not credentials.password_matches(secret, row["secret_hash"]):
        raise LoginFailed()
    return client_id


async def rotate_keys(sessions: Sessions, issuer: TokenIssuer, actor: Actor) -> str:
    kid = issuer.rotate()
    async with sessions() as session, session.begin():
        await audit.append(session, actor, "signing_key.rotated", "jwks", kid, {})
    return kid
