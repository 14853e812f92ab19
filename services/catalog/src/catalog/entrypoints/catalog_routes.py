"""Providers, programmes, search and enrolments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from catalog.bootstrap import Catalog
from catalog.entrypoints.routes import CODE_PATTERN, CatalogDep
from catalog.entrypoints.schemas import (
    AttestationIn,
    AttestationOut,
    ChangeClubIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    ComplaintResolutionIn,
    DecisionIn,
    EndIn,
    EnrolmentIn,
    EnrolmentOut,
    ExpiringOut,
    FacilityIn,
    FacilityOut,
    ProgrammeChangeIn,
    ProgrammeFields,
    ProgrammeOut,
    ProgrammePage,
    ProviderIn,
    ProviderOut,
    QualityPage,
    StaffIn,
    StaffOut,
)
from catalog.service_layer import complaints, enrolments, programmes, providers, quality, staff
from catalog.service_layer.access import Caller
from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import FieldError
from qosym_chassis.inputs import MAX_MONEY

catalog_router = APIRouter()
T = TypeVar("T")

Operator = Annotated[Principal, Depends(require_roles("operator", "administrator"))]
Admin = Annotated[Principal, Depends(require_roles("administrator", "ops"))]
Registrant = Annotated[Principal, Depends(require_roles("provider_staff", "operator"))]
Manager = Annotated[Principal, Depends(require_roles("provider_staff", "operator", "administrator"))]
Requester = Annotated[Principal, Depends(require_roles("parent", "operator"))]
Participant = Annotated[Principal, Depends(require_roles("parent", "provider_staff", "operator", "administrator"))]
ProviderStaff = Annotated[Principal, Depends(require_roles("provider_staff"))]
Parent = Annotated[Principal, Depends(require_roles("parent"))]
ComplaintReader = Annotated[Principal, Depends(require_roles("parent", "operator", "administrator"))]


def _now(catalog: Catalog) -> datetime:
    """The service clock (QOSYM_CLOCK_OFFSET_S may shift it in development)."""
    return catalog.context.clock.now()


def _today(catalog: Catalog) -> date:
    return _now(catalog).date()


def caller_of(principal: Principal) -> Caller:
    """Who is calling; what they may reach is decided in :mod:`catalog.service_layer.access`."""
    return Caller.of(principal)


async def run(action: Awaitable[T], not_found: str = "") -> T:
    return await action


async def _invalidating(catalog: Any, action: Callable[[], Awaitable[T]], not_found: str = "not found") -> T:
    result = await run(action(), not_found)
    await catalog.cache.invalidate()
    return result


# --- providers ------------------------------------------------------------------------------------


@catalog_router.post(
    "/v1/providers", status_code=status.HTTP_201_CREATED, tags=["providers"], responses={409: {}, 422: {}}
)
async def register_provider(body: ProviderIn, who: Registrant, catalog: CatalogDep) -> ProviderOut:
    """Register an organisation (BIN, address, contacts, bank details); it waits for an operator's check."""
    row = await run(providers.register(catalog.context.session_factory, caller_of(who), body.model_dump()))
    return ProviderOut(**row)


@catalog_router.get("/v1/providers", tags=["providers"])
async def list_providers(
    who: Operator,
    catalog: CatalogDep,
    status: Literal["pending", "verified", "rejected", "suspended"] | None = None,
    region_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    bin: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> list[ProviderOut]:
    """For operators: the providers of their region (and district), e.g. the review queue (``status=pending``)."""
    rows = await providers.listed(catalog.context.session_factory, caller_of(who), status, region_code, bin)
    return [ProviderOut(**row) for row in rows]


@catalog_router.get("/v1/providers/{provider_id}", tags=["providers"], responses={404: {}})
async def get_provider(provider_id: UUID, who: Manager, catalog: CatalogDep) -> ProviderOut:
    row = await run(providers.get(catalog.context.session_factory, caller_of(who), provider_id), "no such provider")
    return ProviderOut(**row)


@catalog_router.post("/v1/providers/{provider_id}/decision", tags=["providers"], responses={404: {}, 422: {}})
async def decide_provider(provider_id: UUID, body: DecisionIn, who: Operator, catalog: CatalogDep) -> ProviderOut:
    """Verify or reject a pending provider; suspend a verified one (its programmes stop taking enrolments)."""
    row = await _invalidating(
        catalog,
        lambda: providers.decide(
            catalog.context.session_factory,
            caller_of(who),
            provider_id,
            body.action,
            body.reason,
            reason_code=body.reason_code,
        ),
        "no such provider",
    )
    return ProviderOut(**row)


@catalog_router.get("/v1/providers/{provider_id}/enrolments", tags=["enrolments"], responses={404: {}})
async def provider_enrolments(provider_id: UUID, who: Manager, catalog: CatalogDep) -> list[EnrolmentOut]:
    rows = await run(
        enrolments.of_provider(catalog.context.session_factory, caller_of(who), provider_id), "no such provider"
    )
    return [EnrolmentOut(**r) for r in rows]


# --- programmes -----------------------------------------------------------------------------------


def _programme_out(row: dict[str, Any]) -> ProgrammeOut:
    return ProgrammeOut(**{**row, "free_seats": row.get("free_seats", row["capacity"] - row.get("reserved", 0))})


@catalog_router.post(
    "/v1/providers/{provider_id}/programmes",
    status_code=status.HTTP_201_CREATED,
    tags=["programmes"],
    responses={404: {}, 409: {}, 422: {}},
)
async def publish_programme(
    provider_id: UUID, body: ProgrammeFields, who: Manager, catalog: CatalogDep
) -> ProgrammeOut:
    """Publish a programme of a verified provider (its own staff, or an operator)."""
    row = await _invalidating(
        catalog,
        lambda: programmes.publish(
            catalog.context.session_factory, caller_of(who), provider_id, body.model_dump(mode="json"), _today(catalog)
        ),
        "no such provider",
    )
    return _programme_out(row)


@catalog_router.patch("/v1/programmes/{programme_id}", tags=["programmes"], responses={404: {}, 409: {}, 422: {}})
async def change_programme(
    programme_id: UUID, body: ProgrammeChangeIn, who: Manager, catalog: CatalogDep
) -> ProgrammeOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            raise FieldError(key, "cannot be null")
    row = await _invalidating(
        catalog,
        lambda: programmes.change(
            catalog.context.session_factory, caller_of(who), programme_id, changes, _today(catalog)
        ),
        "no such programme",
    )
    return _programme_out(row)


@catalog_router.post("/v1/programmes/{programme_id}/close", tags=["programmes"], responses={404: {}})
async def close_programme(programme_id: UUID, who: Manager, catalog: CatalogDep) -> dict[str, int]:
    """Close a programme: no new enrolments, and the active ones end with reason programme_closed."""
    ended = await _invalidating(
        catalog,
        lambda: programmes.close(catalog.context.session_factory, caller_of(who), programme_id, now=_now(catalog)),
        "no such programme",
    )
    return {"enrolments_ended": ended}


@catalog_router.get("/v1/programmes", tags=["programmes"], responses={422: {}})
async def search_programmes(
    catalog: CatalogDep,
    region_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    district_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    direction: Literal["sports", "creativity", "intellectual"] | None = None,
    age: Annotated[int | None, Query(ge=0, le=30)] = None,
    language: Literal["kk", "ru", "en"] | None = None,
    free_seats: bool = False,
    max_price_tiyn: Annotated[int | None, Query(ge=0, le=MAX_MONEY)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=500)] = None,
    sort: Literal["title", "price", "-price", "free_seats", "distance"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ProgrammePage:
    """Public search of published programmes of verified providers (cached in Redis, invalidated on changes)."""
    filters: dict[str, Any] = {
        "region_code": region_code,
        "district_code": district_code,
        "direction": direction,
        "age": age,
        "language": language,
        "free_seats": free_seats,
        "max_price_tiyn": max_price_tiyn,
        "lat": lat,
        "lon": lon,
        "radius_km": radius_km,
        "sort": sort,
        "limit": limit,
        "offset": offset,
    }
    if (lat is None) != (lon is None):
        raise FieldError("lon" if lon is None else "lat", "lat and lon go together")
    if radius_km is not None and lat is None:
        raise FieldError("radius_km", "needs lat and lon")
    version, cached = await catalog.cache.get(filters)
    if cached is not None:
        return ProgrammePage.model_validate(cached)

    async def query() -> dict[str, Any]:
        async with catalog.context.session_factory() as session:
            return await programmes.search(session, filters, _now(catalog), catalog.settings.timesheet_grace_days)

    page = ProgrammePage.model_validate(await run(query()))
    await catalog.cache.put(version, filters, page.model_dump(mode="json"))
    return page


@catalog_router.get("/v1/programmes/{programme_id}", tags=["programmes"], responses={404: {}})
async def get_programme(programme_id: UUID, catalog: CatalogDep) -> ProgrammeOut:
    row = await run(
        programmes.get_public(
            catalog.context.session_factory, programme_id, _now(catalog), catalog.settings.timesheet_grace_days
        ),
        "no such programme",
    )
    return _programme_out(row)


@catalog_router.get("/v1/admin/programmes/quality", tags=["admin"], responses={422: {}})
async def programme_quality(
    who: Operator,
    catalog: CatalogDep,
    region_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    district_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    status_: Annotated[Literal["published", "suspended", "closed"] | None, Query(alias="status")] = None,
    sort: Literal[
        "title",
        "retention_2m",
        "-retention_2m",
        "retention_3m",
        "-retention_3m",
        "dispute_rate",
        "-dispute_rate",
        "complaints",
        "-complaints",
    ] = "title",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> QualityPage:
    """A region's programmes with their quality signals (retention after 2 and 3 months, dispute rate, complaints).

    An operator's region (and district) comes from their scope; an administrator names the region.
    Rates sort with the programmes nobody is counted in yet last.
    """
    page = await run(
        quality.region_listing(
            catalog.context.session_factory,
            caller_of(who),
            {"region_code": region_code, "district_code": district_code, "status": status_},
            sort,
            limit,
            offset,
            _now(catalog),
            catalog.settings.timesheet_grace_days,
        )
    )
    return QualityPage.model_validate(page)


# --- enrolments -----------------------------------------------------------------------------------


@catalog_router.post(
    "/v1/enrolments",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["enrolments"],
    responses={404: {}, 409: {}, 422: {}},
)
async def request_enrolment(body: EnrolmentIn, who: Requester, catalog: CatalogDep) -> EnrolmentOut:
    """Reserve a seat for the caller's child; the voucher is assigned asynchronously (status requested)."""
    row = await _invalidating(
        catalog,
        lambda: enrolments.request(
            catalog.context.session_factory, caller_of(who), body.child_id, body.programme_id, now=_now(catalog)
        ),
    )
    return EnrolmentOut(**row)


@catalog_router.get("/v1/enrolments/{enrolment_id}", tags=["enrolments"], responses={404: {}})
async def get_enrolment(enrolment_id: UUID, who: Participant, catalog: CatalogDep) -> EnrolmentOut:
    row = await run(enrolments.get(catalog.context.session_factory, caller_of(who), enrolment_id), "no such enrolment")
    return EnrolmentOut(**row)


@catalog_router.get("/v1/children/{child_id}/enrolments", tags=["enrolments"], responses={404: {}})
async def child_enrolments(child_id: UUID, who: Requester, catalog: CatalogDep) -> list[EnrolmentOut]:
    rows = await run(enrolments.of_child(catalog.context.session_factory, caller_of(who), child_id), "no such child")
    return [EnrolmentOut(**r) for r in rows]


@catalog_router.post("/v1/enrolments/{enrolment_id}/end", tags=["enrolments"], responses={404: {}, 409: {}})
async def end_enrolment(enrolment_id: UUID, body: EndIn, who: Participant, catalog: CatalogDep) -> EnrolmentOut:
    """The parent, the provider or an operator ends an enrolment; the seat and the voucher are released."""
    row = await _invalidating(
        catalog,
        lambda: enrolments.end(
            catalog.context.session_factory, caller_of(who), enrolment_id, body.reason, now=_now(catalog)
        ),
        "no such enrolment",
    )
    return EnrolmentOut(**row)


@catalog_router.post("/v1/enrolments/{enrolment_id}/decline", tags=["enrolments"], responses={404: {}, 409: {}})
async def decline_enrolment(enrolment_id: UUID, body: EndIn, who: ProviderStaff, catalog: CatalogDep) -> EnrolmentOut:
    """The provider declines a child within the decline window (QOSYM_DECLINE_WINDOW_DAYS of the request)."""
    row = await _invalidating(
        catalog,
        lambda: enrolments.decline(
            catalog.context.session_factory,
            caller_of(who),
            enrolment_id,
            body.reason,
            catalog.settings.decline_window_days,
            now=_now(catalog),
        ),
        "no such enrolment",
    )
    return EnrolmentOut(**row)


@catalog_router.post(
    "/v1/enrolments/{enrolment_id}/change-club",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["enrolments"],
    responses={404: {}, 409: {}, 422: {}},
)
async def change_club(enrolment_id: UUID, body: ChangeClubIn, who: Requester, catalog: CatalogDep) -> EnrolmentOut:
    """End this enrolment and request a seat in another programme; allocation moves the voucher."""
    row = await _invalidating(
        catalog,
        lambda: enrolments.change_club(
            catalog.context.session_factory,
            caller_of(who),
            enrolment_id,
            body.programme_id,
            body.reason,
            now=_now(catalog),
        ),
        "no such enrolment",
    )
    return EnrolmentOut(**row)


@catalog_router.post("/v1/admin/enrolments/expire", tags=["admin"])
async def expire_enrolments(who: Admin, catalog: CatalogDep) -> dict[str, int]:
    """Run the expiry sweep now (the consumers process runs it every QOSYM_ENROLMENT_EXPIRY_SWEEP_INTERVAL_S):
    confirmed enrolments never attended within QOSYM_FIRST_SESSION_DAYS of confirmation end, once the timesheet of
    the window's last month has arrived (see the README)."""
    ended = await _invalidating(
        catalog,
        lambda: enrolments.expire_unattended(
            catalog.context.session_factory,
            _now(catalog),
            catalog.settings.first_session_days,
            catalog.settings.timesheet_grace_days,
        ),
    )
    return {"expired": ended}


# --- staff, facilities, attestations --------------------------------------------------------------


@catalog_router.post(
    "/v1/providers/{provider_id}/staff",
    status_code=status.HTTP_201_CREATED,
    tags=["staff"],
    responses={404: {}, 409: {}, 422: {}},
)
async def add_staff(provider_id: UUID, body: StaffIn, who: Manager, catalog: CatalogDep) -> StaffOut:
    """Add a staff member (IIN validated, stored encrypted with a blind index, returned masked)."""
    row = await run(
        staff.add_staff(
            catalog.context.session_factory,
            catalog.protector,
            caller_of(who),
            provider_id,
            body.model_dump(),
            _today(catalog),
        ),
        "no such provider",
    )
    return StaffOut(**row)


@catalog_router.post(
    "/v1/providers/{provider_id}/facilities", status_code=status.HTTP_201_CREATED, tags=["staff"], responses={404: {}}
)
async def add_facility(provider_id: UUID, body: FacilityIn, who: Manager, catalog: CatalogDep) -> FacilityOut:
    row = await run(
        staff.add_facility(catalog.context.session_factory, caller_of(who), provider_id, body.model_dump()),
        "no such provider",
    )
    return FacilityOut(**row)


@catalog_router.post(
    "/v1/providers/{provider_id}/attestations",
    status_code=status.HTTP_201_CREATED,
    tags=["staff"],
    responses={404: {}, 422: {}},
)
async def add_attestation(provider_id: UUID, body: AttestationIn, who: Manager, catalog: CatalogDep) -> AttestationOut:
    """Record a certificate (criminal record / qualification for staff, sanitary / fire for facilities).

    Then the suspension sweep runs at once, so a renewed certificate brings its programmes back immediately.
    """
    row = await _invalidating(
        catalog,
        lambda: staff.add_attestation(catalog.context.session_factory, caller_of(who), provider_id, body.model_dump()),
        "no such provider",
    )
    await programmes.sweep_attestations(
        catalog.context.session_factory, _today(catalog), catalog.settings.attestation_warning_days, catalog.cache
    )
    return AttestationOut(**row)


@catalog_router.get("/v1/providers/{provider_id}/attestations/expiring", tags=["staff"], responses={404: {}})
async def expiring_attestations(
    provider_id: UUID,
    who: Manager,
    catalog: CatalogDep,
    within_days: Annotated[int | None, Query(ge=0, le=366)] = None,
) -> list[ExpiringOut]:
    """Attestations expiring within ``within_days`` (default QOSYM_ATTESTATION_WARNING_DAYS, 30) or expired."""
    days = catalog.settings.attestation_warning_days if within_days is None else within_days
    rows = await run(
        staff.expiring(catalog.context.session_factory, caller_of(who), provider_id, _today(catalog), days),
        "no such provider",
    )
    return [ExpiringOut(**r) for r in rows]


# --- complaints -----------------------------------------------------------------------------------


@catalog_router.post(
    "/v1/complaints", status_code=status.HTTP_201_CREATED, tags=["complaints"], responses={404: {}, 422: {}}
)
async def file_complaint(body: ComplaintIn, who: Parent, catalog: CatalogDep) -> ComplaintOut:
    """A guardian complains about a programme their child attends or attended (operators of the region resolve it)."""
    row = await _invalidating(
        catalog,
        lambda: complaints.file(
            catalog.context.session_factory,
            caller_of(who),
            body.child_id,
            body.programme_id,
            body.category,
            body.text,
            now=_now(catalog),
        ),
    )
    return ComplaintOut(**row)


@catalog_router.get("/v1/complaints", tags=["complaints"], responses={422: {}})
async def list_complaints(
    who: ComplaintReader,
    catalog: CatalogDep,
    status_: Annotated[Literal["open", "resolved"] | None, Query(alias="status")] = None,
    programme_id: UUID | None = None,
    region_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    district_code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ComplaintPage:
    """A parent's own complaints; an operator's region (and district) of scope; an administrator's any. Newest first."""
    filters = {
        "status": status_,
        "programme_id": programme_id,
        "region_code": region_code,
        "district_code": district_code,
    }
    page = await run(complaints.listing(catalog.context.session_factory, caller_of(who), filters, limit, offset))
    return ComplaintPage.model_validate(page)


@catalog_router.get("/v1/complaints/{complaint_id}", tags=["complaints"], responses={404: {}})
async def get_complaint(complaint_id: UUID, who: ComplaintReader, catalog: CatalogDep) -> ComplaintOut:
    row = await run(complaints.get(catalog.context.session_factory, caller_of(who), complaint_id), "no such complaint")
    return ComplaintOut(**row)


@catalog_router.post(
    "/v1/complaints/{complaint_id}/resolve", tags=["complaints"], responses={404: {}, 409: {}, 422: {}}
)
async def resolve_complaint(
    complaint_id: UUID, body: ComplaintResolutionIn, who: Operator, catalog: CatalogDep
) -> ComplaintOut:
    """An operator of the complaint's region records the outcome (once); the parent sees it."""
    row = await _invalidating(
        catalog,
        lambda: complaints.resolve(
            catalog.context.session_factory,
            caller_of(who),
            complaint_id,
            body.outcome,
            body.resolution,
            now=_now(catalog),
        ),
        "no such complaint",
    )
    return ComplaintOut(**row)
