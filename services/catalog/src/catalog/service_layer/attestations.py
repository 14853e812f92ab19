"""Attestations (certificates of staff and facilities): recorded, listed when expiring, and the daily sweep that
suspends programmes whose attestations lapsed (and restores them once renewed) and reminds providers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from catalog.adapters import programme_repository, staff_repository
from catalog.domain.programmes import RuleBroken, check_attestation_kind
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import AttestationOut, ExpiringOut
from catalog.service_layer.programmes import programme_event
from catalog.service_layer.staff import managed
from qosym_chassis import outbox
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.catalog import AttestationExpiringV1, ProgrammeChangedV1


async def add_attestation(
    deps: Dependencies, caller: Caller, provider_id: UUID, data: dict[str, Any]
) -> AttestationOut:
    """Record a certificate; then the sweep runs at once, so a renewed one brings its programmes back immediately."""
    async with deps.sessions() as session, session.begin():
        await managed(session, caller, provider_id)
        check_attestation_kind(data["subject_type"], data["kind"])
        if not await staff_repository.subject_of(session, provider_id, data["subject_type"], data["subject_id"]):
            raise RuleBroken("subject_id", f"no such {data['subject_type']} at this provider", "unknown")
        row = await staff_repository.add_attestation(session, provider_id, data)
    await deps.cache.invalidate()
    await sweep_attestations(deps)
    return AttestationOut(**row)


async def expiring(
    deps: Dependencies, caller: Caller, provider_id: UUID, within_days: int | None, limit: int, offset: int
) -> OffsetPage[ExpiringOut]:
    """The latest attestation of each subject and kind that expires within ``within_days`` (default
    QOSYM_ATTESTATION_WARNING_DAYS) or already has, soonest first."""
    today = deps.clock.today()
    days = deps.settings.attestation_warning_days if within_days is None else within_days
    async with deps.sessions() as session:
        await managed(session, caller, provider_id)
        rows = await staff_repository.expiring(session, provider_id, today + timedelta(days=days))
    items = [ExpiringOut(**r, expired=r["valid_until"] < today) for r in rows]
    return OffsetPage[ExpiringOut](items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


async def suspend_lapsed_groups(deps: Dependencies, today: date) -> int:
    """Suspend every published programme whose coach or facility lacks a valid attestation on ``today``,
    and publish again every suspended one whose attestations are all valid again.

    One transaction; each programme that moved gets a ProgrammeChanged (full state) in the outbox, and the
    search cache version is bumped after the commit. Idempotent: a second run on the same day changes nothing.
    Returns how many programmes moved.
    """
    async with deps.sessions() as session, session.begin():
        suspended = await programme_repository.suspend_lapsed(session, today)
        restored = await programme_repository.restore_attested(session, today)
        for row in sorted([*suspended, *restored], key=lambda r: str(r["id"])):
            await outbox.add_event(session, await programme_event(session, ProgrammeChangedV1, row))
    moved = len(suspended) + len(restored)
    if moved:
        await deps.cache.invalidate()
    return moved


async def notify_expiring(deps: Dependencies, today: date) -> int:
    """Publish AttestationExpiring once per attestation and state: ``expiring`` (within the warning days),
    ``expired``.

    Only the latest attestation of each subject and kind counts (a renewed one silences the old). The business key
    ``attestation_notice (attestation_id, state)`` makes a second sweep, or a concurrent one, publish nothing again.
    Rejected providers are not reminded. Returns how many notices were published.
    """
    published = 0
    async with deps.sessions() as session, session.begin():
        for row in await staff_repository.notices_due(session, today, deps.settings.attestation_warning_days):
            if not await staff_repository.claim_notice(session, row["id"], row["state"]):
                continue  # a concurrent sweep noticed it first
            await outbox.add_event(
                session,
                AttestationExpiringV1(
                    attestation_id=row["id"],
                    provider_id=row["provider_id"],
                    region_code=row["region_code"],
                    subject_type=row["subject_type"],
                    subject_id=row["subject_id"],
                    kind=row["kind"],
                    valid_until=row["valid_until"],
                    expired=row["state"] == "expired",
                ),
            )
            published += 1
    return published


async def sweep_attestations(deps: Dependencies) -> int:
    """The attestation sweep: suspend / restore programmes, then remind providers of expiring attestations.

    Two transactions, each idempotent on its own. Returns how many programmes moved plus notices published.
    """
    today = deps.clock.today()
    moved = await suspend_lapsed_groups(deps, today)
    return moved + await notify_expiring(deps, today)
