"""Login: parents by IIN + one-time code, staff by password + TOTP; rotating refresh tokens; staff accounts;
partner service accounts (OAuth2 client credentials); the signing keys."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from qosym_chassis.errors import Conflict, FieldError, NotFound, Unauthorized
from qosym_chassis.iin import parse_iin
from registry.adapters import audit, credentials, identity_repository, people_repository
from registry.adapters.audit import Actor
from registry.adapters.identity_repository import StaffAccount, UsernameTaken
from registry.adapters.identity_repository import StaffSummary as StaffSummary  # the entrypoints' type
from registry.domain.login_limits import code_request_counters
from registry.domain.people import OTP_MAX_ATTEMPTS, OTP_TTL_S
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.limits import first_over, login_outcome, login_refused

REFRESH_TTL = timedelta(days=30)
CLIENT_ID = re.compile(r"svc-[0-9a-f]{12}")
LOGIN_FAILED = "the code or credentials are wrong, expired or already used"


class LoginFailed(Exception):
    """Wrong, expired or used code or credentials: one answer for all, so nothing is revealed (internal: each use
    case answers it as ``Unauthorized`` with its own message)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    subject: str
    role: str


@dataclass(frozen=True)
class Challenge:
    challenge_id: UUID
    expires_in: int


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    expires_in: int
    subject: str


@dataclass(frozen=True)
class NewStaff:
    id: UUID
    username: str
    password: str
    totp_secret: str
    totp_uri: str


@dataclass(frozen=True)
class NewServiceAccount:
    client_id: str
    client_secret: str


async def request_code(deps: Dependencies, iin_raw: str, address: str) -> Challenge:
    """Send a 6-digit code to the phone on record (the answer is the same whether or not the IIN is known);
    limited per address and per IIN."""
    index = deps.protector.blind_index(iin_raw.strip(" "))
    await first_over(
        deps, code_request_counters(deps.limits, index.hex(), address), "too many code requests; try again later"
    )
    return Challenge(await send_code(deps, iin_raw), OTP_TTL_S)


async def send_code(deps: Dependencies, iin_raw: str, approves: str | None = None) -> UUID:
    """A challenge id always comes back, and the work is the same for a known and an unknown IIN.

    Both look the person up, make and hash a code and run the same insert statement, which copies the person
    row it names into a challenge; for an unknown IIN it names nobody and inserts nothing. A login code goes out
    in the background: the answer never waits for the gateway. ``approves`` says what the code approves when it
    is not a login (an operator's prepared change, which waits for the gateway and hears when it fails): who
    asks, where and for which child, never an IIN.
    """
    iin = parse_iin(iin_raw, today=deps.clock.today())
    challenge_id = uuid4()
    async with deps.sessions() as session, session.begin():
        found = await people_repository.find_person_by_index(session, deps.protector.blind_index(iin.value))
        known = found is not None and bool(found.phone)
        code = credentials.new_otp_code()
        await identity_repository.add_challenge(
            session,
            challenge_id,
            found.id if known and found is not None else None,
            deps.box.code_hash(str(challenge_id), code),
            deps.clock.now() + timedelta(seconds=OTP_TTL_S),
        )
    if known and found is not None and found.phone:
        if approves:
            text = f"Qosym code: {code}. {approves} Tell it to no one else. It expires in 5 minutes."
            await deps.sms.send(person_id=found.id, phone=found.phone, text=text)
        else:
            deps.outgoing_sms.dispatch(
                person_id=found.id, phone=found.phone, text=f"Qosym code: {code}. It expires in 5 minutes."
            )
    return challenge_id


async def check_code(deps: Dependencies, challenge_id: UUID, code: str) -> UUID:
    """The person id once the code matches; every wrong try counts, the fifth closes the challenge."""
    async with deps.sessions() as session, session.begin():
        row = await identity_repository.lock_challenge(session, challenge_id)
        if row is None or row.used_at is not None or row.attempts >= OTP_MAX_ATTEMPTS:
            raise LoginFailed()
        if row.expires_at <= deps.clock.now():
            raise LoginFailed()
        wrong = not hmac.compare_digest(row.code_hash, deps.box.code_hash(str(challenge_id), code))
        if wrong:
            await identity_repository.count_wrong_code(session, challenge_id)
        else:
            await identity_repository.use_challenge(session, challenge_id, deps.clock.now())
    if wrong:
        raise LoginFailed()
    return UUID(str(row.person_id))


async def verify_code(deps: Dependencies, challenge_id: UUID, code: str) -> Tokens:
    """Exchange the code for an access token and a rotating refresh token."""
    try:
        person_id = await check_code(deps, challenge_id, code)
    except LoginFailed as exc:
        raise Unauthorized(LOGIN_FAILED) from exc
    return await issue_tokens(deps, str(person_id), "parent")


async def issue_tokens(
    deps: Dependencies, subject: str, role: str, scope: dict[str, str] | None = None, family_id: UUID | None = None
) -> Tokens:
    opaque = credentials.new_opaque_token()
    async with deps.sessions() as session, session.begin():
        await identity_repository.add_refresh_token(
            session,
            credentials.sha256(opaque),
            family_id or uuid4(),
            subject,
            role,
            scope or {},
            deps.clock.now() + REFRESH_TTL,
        )
    access = deps.tokens.issue(subject=subject, role=role, scope=scope)
    return Tokens(access, opaque, int(deps.tokens.ttl.total_seconds()), subject, role)


async def refresh(deps: Dependencies, opaque: str) -> Tokens:
    """Rotate: the old token is spent; presenting a spent one again revokes its whole family (theft)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await identity_repository.lock_refresh_token(session, credentials.sha256(opaque))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Unauthorized("the refresh token is invalid, expired or revoked")
        reused = row.used_at is not None
        if reused:
            await identity_repository.revoke_family(session, row.family_id, now)
        else:
            await identity_repository.spend_refresh_token(session, row.token_hash, now)
    if reused:
        raise Unauthorized("the refresh token is invalid, expired or revoked")
    return await issue_tokens(deps, row.subject, row.role, row.scope, row.family_id)


async def logout(deps: Dependencies, opaque: str) -> None:
    """Revoke the session the refresh token belongs to (idempotent)."""
    async with deps.sessions() as session, session.begin():
        family = await identity_repository.family_of(session, credentials.sha256(opaque))
        if family is not None:
            await identity_repository.revoke_family(session, family, deps.clock.now())


# --- staff ------------------------------------------------------------------------------------------


def _check_staff_scope(role: str, scope: dict[str, str]) -> None:
    if role == "operator" and not scope.get("region"):
        # an operator's token must name its region (the chassis refuses one that does not): never create one without
        raise FieldError("scope.region", "an operator serves one region: name it", code="missing")


async def create_staff(deps: Dependencies, actor: Actor, username: str, role: str, scope: dict[str, str]) -> NewStaff:
    """A staff account; the one-time password and TOTP secret are shown once."""
    _check_staff_scope(role, scope)
    password, totp_secret, staff_id = credentials.new_password(), credentials.new_totp_secret(), uuid4()
    try:
        async with deps.sessions() as session, session.begin():
            await identity_repository.add_staff(
                session,
                id=staff_id,
                username=username,
                password_hash=credentials.hash_password(password),
                totp_ciphertext=deps.box.seal(totp_secret.encode(), context=f"totp:{staff_id}"),
                role=role,
                scope=scope,
            )
            await audit.append(session, actor, "role.granted", "staff", staff_id, {"role": role, "scope": scope})
    except UsernameTaken as exc:
        raise Conflict("this username is taken") from exc
    return NewStaff(staff_id, username, password, totp_secret, credentials.totp_uri(totp_secret, username))


async def list_staff(deps: Dependencies, limit: int) -> list[StaffSummary]:
    async with deps.sessions() as session:
        return await identity_repository.list_staff(session, limit)


async def change_staff_access(
    deps: Dependencies, actor: Actor, staff_id: UUID, role: str | None, scope: dict[str, str]
) -> StaffSummary:
    """Replace a staff account's scope (and role, when given); audited as ``role.changed`` with what it was before.

    The account's sessions are revoked, so its next sign-in carries the new role and scope (an access token already
    issued lives out its 15 minutes). An administrator cannot change their own account: another administrator does.
    """
    if str(staff_id) == actor.subject:
        raise Conflict("an administrator cannot change their own account: ask another administrator")
    async with deps.sessions() as session, session.begin():
        current = await identity_repository.lock_staff(session, staff_id)
        if current is None:
            raise NotFound("no such staff account")
        new_role = role or current.role
        _check_staff_scope(new_role, scope)
        await identity_repository.change_staff_access(session, staff_id, new_role, scope)
        await identity_repository.revoke_sessions_of(session, str(staff_id), deps.clock.now())
        await audit.append(
            session,
            actor,
            "role.changed",
            "staff",
            staff_id,
            {"role": new_role, "scope": scope, "previous_role": current.role, "previous_scope": dict(current.scope)},
        )
    return StaffSummary(current.id, current.username, new_role, scope, current.active)


async def staff_login(deps: Dependencies, username: str, password: str, totp: str, address: str) -> Tokens:
    """Password + TOTP; rate-limited per address and per username, locked after repeated failures.

    The second factor first: the argon2 hash runs only once the TOTP code is right, so guessing costs no CPU.
    An unknown or inactive name and a wrong code both fail before any hash, in the same time: nothing tells
    whether the name exists.
    """
    await login_refused(deps, "staff", username, address)
    try:
        row = await _staff_credentials(deps, username, password, totp)
    except LoginFailed as exc:
        await login_outcome(deps, "staff", username, ok=False)
        raise Unauthorized(LOGIN_FAILED) from exc
    await login_outcome(deps, "staff", username, ok=True)
    return await issue_tokens(deps, str(row.id), row.role, dict(row.scope))


async def _staff_credentials(deps: Dependencies, username: str, password: str, totp: str) -> StaffAccount:
    async with deps.sessions() as session:
        row = await identity_repository.staff_by_username(session, username)
    if row is None or not row.active:
        credentials.totp_matches(credentials.DECOY_TOTP_SECRET, totp)  # the same cheap work as a known name
        await _audit_login(deps, row, "unknown_account" if row is None else "inactive_account")
        raise LoginFailed()
    secret = deps.box.open(row.totp_ciphertext, context=f"totp:{row.id}").decode()
    if not credentials.totp_matches(secret, totp) or not credentials.password_matches(password, row.password_hash):
        await _audit_login(deps, row, "wrong_credentials")
        raise LoginFailed()
    await _audit_login(deps, row, None)
    return row


async def _audit_login(deps: Dependencies, row: StaffAccount | None, failure: str | None) -> None:
    """Every staff login goes on the trail, refused ones too (the typed username never: it may be a password)."""
    staff_id = str(row.id) if row is not None else "unknown"
    async with deps.sessions() as session, session.begin():
        if failure is None and row is not None:
            await audit.append(session, Actor(staff_id, row.role), "staff.login", "staff", staff_id, {})
        else:
            await audit.append(
                session, Actor("anonymous", "anonymous"), "staff.login_failed", "staff", staff_id, {"reason": failure}
            )


class AdministratorExists(Conflict):
    """The production bootstrap is for the first administrator only: the next ones are created by an administrator."""


async def bootstrap_first_administrator(
    deps: Dependencies, username: str, keep: Callable[[NewStaff], Awaitable[None]]
) -> NewStaff:
    """Production: the first administrator, only while no active administrator exists (``python -m registry
    bootstrap-admin``). ``keep`` receives the one-time password and TOTP secret before the account commits, so a
    secret that could not be kept leaves no account behind; the audit trail records the grant (no secret)."""
    password, totp_secret, staff_id = credentials.new_password(), credentials.new_totp_secret(), uuid4()
    created = NewStaff(staff_id, username, password, totp_secret, credentials.totp_uri(totp_secret, username))
    try:
        async with deps.sessions() as session, session.begin():
            await identity_repository.lock_administrator_bootstrap(session)
            if await identity_repository.any_administrator(session):
                raise AdministratorExists("an administrator exists already: ask one to create the account")
            await identity_repository.add_staff(
                session,
                id=staff_id,
                username=username,
                password_hash=credentials.hash_password(password),
                totp_ciphertext=deps.box.seal(totp_secret.encode(), context=f"totp:{staff_id}"),
                role="administrator",
                scope={},
            )
            await audit.append(
                session,
                Actor("bootstrap-admin", "system"),
                "role.granted",
                "staff",
                staff_id,
                {"role": "administrator", "scope": {}, "via": "bootstrap-admin"},
            )
            await keep(created)
    except UsernameTaken as exc:
        raise Conflict("this username is taken") from exc
    return created


async def bootstrap_admin(deps: Dependencies) -> NewStaff | None:
    """Development: the first run creates an administrator when there is no staff at all."""
    async with deps.sessions() as session:
        if await identity_repository.any_staff(session):
            return None
    try:
        return await create_staff(deps, Actor("bootstrap", "system"), "admin", "administrator", {})
    except Conflict:
        return None


# --- partner service accounts (OAuth2 client credentials) ----------------------------------------------


async def create_service_account(deps: Dependencies, actor: Actor, name: str) -> NewServiceAccount:
    """A partner system's client credentials; the secret is shown once."""
    client_id, secret = f"svc-{uuid4().hex[:12]}", credentials.new_opaque_token()
    async with deps.sessions() as session, session.begin():
        await identity_repository.add_service_account(session, client_id, name, credentials.hash_password(secret))
        await audit.append(session, actor, "role.granted", "service_account", client_id, {"role": "partner"})
    return NewServiceAccount(client_id, secret)


async def client_credentials(deps: Dependencies, client_id: str, secret: str, address: str) -> AccessToken:
    """OAuth2 client-credentials grant: an access token with role partner when the client id and secret match an
    active account; rate-limited per address and per client id, locked after repeated failures.

    A client id that is not of the issued form (``svc-`` and 12 hex digits) fails before any lookup or hash."""
    await login_refused(deps, "client", client_id, address)
    try:
        subject = await _client_subject(deps, client_id, secret)
    except LoginFailed as exc:
        await login_outcome(deps, "client", client_id, ok=False)
        raise Unauthorized("unknown client or wrong secret") from exc
    await login_outcome(deps, "client", client_id, ok=True)
    return AccessToken(deps.tokens.issue(subject=subject, role="partner"), deps.access_token_ttl_s, subject)


async def _client_subject(deps: Dependencies, client_id: str, secret: str) -> str:
    if not CLIENT_ID.fullmatch(client_id):
        raise LoginFailed()
    async with deps.sessions() as session:
        row = await identity_repository.service_account_by_id(session, client_id)
    if row is None or not row.active:
        credentials.hash_password(secret)
        raise LoginFailed()
    if not credentials.password_matches(secret, row.secret_hash):
        raise LoginFailed()
    return client_id


async def rotate_keys(deps: Dependencies, actor: Actor) -> str:
    """A new signing key: it signs from now on; the previous keys stay in the JWKS while tokens live."""
    kid = deps.tokens.rotate()
    async with deps.sessions() as session, session.begin():
        await audit.append(session, actor, "signing_key.rotated", "jwks", kid, {})
    return kid


@dataclass(frozen=True)
class Jwks:
    keys: list[dict[str, str]]


def jwks(deps: Dependencies) -> Jwks:
    """The public keys that verify the registry's tokens."""
    return Jwks(deps.tokens.jwks())


def dev_token(deps: Dependencies, subject: str, role: str, scope: dict[str, str]) -> AccessToken:
    """Development only: a token for any role."""
    if role == "operator" and not scope.get("region"):
        raise FieldError("scope.region", "an operator serves one region: name it", code="missing")
    return AccessToken(deps.tokens.issue(subject=subject, role=role, scope=scope), deps.access_token_ttl_s, subject)
