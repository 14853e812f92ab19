"""A seeded demo of one region's round and months, as the events the producers publish, and helpers to feed them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    District,
    LocalisedName,
    RoundClosedV1,
    RoundOpenedV1,
    VoucherAwardedV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
    SessionMark,
)
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1, ProgrammePublishedV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.payments import PaymentAccruedV1, ProviderPaidV1
from qosym_contracts.registry import ChildCategoriesVerifiedV1, ChildRegisteredV1, VerifiedCategory
from tests.support.events import region_event

DISTRICTS = ("almaty_d", "baikonur", "yesil")
DIRECTIONS = ("creativity", "sports")
CATEGORIES = ("disability", "large_family", "orphan")
MONTHLY = {"sports": 1_500_000, "creativity": 1_200_000}
CHILD_POPULATION = {"almaty_d": 1_200, "baikonur": 900, "yesil": 1_500}  # the region file's, per district


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Demo:
    """Every event of the demo, in the order the producers published them."""

    region_code: str
    events: list[IntegrationEvent] = field(default_factory=list)
    round_id: UUID | None = None

    def of(self, kind: type[IntegrationEvent]) -> list[IntegrationEvent]:
        return [e for e in self.events if isinstance(e, kind)]


def seeded_demo(seed: int = 7, region_code: str = "astana", children: int = 90) -> Demo:
    rnd = random.Random(seed)

    def uid() -> UUID:
        return UUID(int=rnd.getrandbits(128), version=4)

    demo = Demo(region_code)
    add = demo.events.append
    districts = [
        District(
            code=d, name=LocalisedName(en=d.title(), kk=d.title(), ru=d.title()), child_population=CHILD_POPULATION[d]
        )
        for d in DISTRICTS
    ]
    add(
        region_event(
            region_code=region_code,
            districts=districts,
            directions=list(DIRECTIONS),
            voucher_monthly_value_tiyn=MONTHLY,
            occurred_at=utc(2026, 8, 1),
        )
    )
    round_id = demo.round_id = uid()
    add(
        RoundOpenedV1(
            round_id=round_id,
            region_code=region_code,
            application_opens_at=utc(2026, 8, 10),
            application_closes_at=utc(2026, 8, 31),
            reference_date=date(2026, 9, 1),
            seed_sha256="0" * 64,
            budget_tiyn=500_000_000,
            occurred_at=utc(2026, 8, 10),
        )
    )
    providers = [uid() for _ in range(3)]
    programmes: list[tuple[UUID, UUID, str, str]] = []
    for district in DISTRICTS:
        for direction in DIRECTIONS:
            programme_id, provider_id = uid(), rnd.choice(providers)
            programmes.append((programme_id, provider_id, district, direction))
            add(
                ProgrammePublishedV1(
                    programme_id=programme_id,
                    provider_id=provider_id,
                    direction=direction,
                    region_code=region_code,
                    district_code=district,
                    age_min=5,
                    age_max=17,
                    language="ru",
                    sessions_per_month=8,
                    price_per_month_tiyn=MONTHLY[direction],
                    capacity=rnd.randint(5, 15),
                    schedule=[],
                    occurred_at=utc(2026, 8, 5),
                )
            )
    awarded: list[tuple[UUID, UUID, UUID, str, str, datetime]] = []
    for n in range(children):
        child_id, district, direction = uid(), rnd.choice(DISTRICTS), rnd.choice(DIRECTIONS)
        add(
            ChildRegisteredV1(
                child_id=child_id,
                guardian_id=uid(),
                birth_date=date(rnd.randint(2010, 2021), 3, 1),
                sex=rnd.choice(["F", "M"]),
                region_code=region_code,
                district_code=district,
                occurred_at=utc(2026, 8, 1, 10) + timedelta(minutes=n),
            )
        )
        categories = rnd.sample(CATEGORIES, rnd.choice([0, 0, 0, 1, 1, 2]))
        if categories:
            add(
                ChildCategoriesVerifiedV1(
                    child_id=child_id,
                    region_code=region_code,
                    occurred_at=utc(2026, 8, 2),
                    categories=[VerifiedCategory(code=c, valid_from=date(2026, 1, 1)) for c in categories],
                )
            )
        application_id = uid()
        submitted = utc(2026, 8, 10) + timedelta(hours=rnd.randint(0, 400))
        add(
            ApplicationSubmittedV1(
                application_id=application_id,
                round_id=round_id,
                child_id=child_id,
                region_code=region_code,
                district_code=district,
                direction=direction,
                occurred_at=submitted,
            )
        )
        if rnd.random() < 0.6 + 0.2 * bool(categories):
            voucher_id = uid()
            add(
                VoucherAwardedV1(
                    voucher_id=voucher_id,
                    application_id=application_id,
                    child_id=child_id,
                    region_code=region_code,
                    district_code=district,
                    round_id=round_id,
                    direction=direction,
                    monthly_value_tiyn=MONTHLY[direction],
                    months=9,
                    valid_until=date(2027, 5, 31),
                    occurred_at=utc(2026, 9, 1),
                )
            )
            awarded.append((voucher_id, child_id, application_id, district, direction, submitted))
        else:
            add(
                ApplicationWaitlistedV1(
                    application_id=application_id,
                    round_id=round_id,
                    child_id=child_id,
                    position=1,
                    occurred_at=utc(2026, 9, 1),
                )
            )
    add(
        RoundClosedV1(
            round_id=round_id,
            region_code=region_code,
            seed_hex="00",
            applications=children,
            occurred_at=utc(2026, 9, 1),
        )
    )
    for voucher_id, child_id, _, district, direction, _ in awarded:
        fate = rnd.random()
        if fate < 0.1:
            add(
                VoucherRevokedV1(
                    voucher_id=voucher_id,
                    child_id=child_id,
                    round_id=round_id,
                    reason="other",
                    occurred_at=utc(2026, 9, 5),
                )
            )
            continue
        if fate < 0.25:
            continue  # never enrolled
        programme_id, provider_id, _, _ = next(p for p in programmes if p[2] == district and p[3] == direction)
        enrolment_id = uid()
        confirmed = utc(2026, 9, rnd.randint(2, 20))
        add(
            EnrolmentConfirmedV1(
                enrolment_id=enrolment_id,
                child_id=child_id,
                programme_id=programme_id,
                provider_id=provider_id,
                voucher_id=voucher_id,
                direction=direction,
                region_code=region_code,
                district_code=district,
                price_per_month_tiyn=MONTHLY[direction],
                sessions_per_month=8,
                occurred_at=confirmed,
            )
        )
        months = ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"]
        stays = rnd.randint(1, 6)
        if stays < 6:
            add(
                EnrolmentEndedV1(
                    enrolment_id=enrolment_id,
                    child_id=child_id,
                    reason="left",
                    occurred_at=confirmed + timedelta(days=30 * stays + 3),
                )
            )
        for period in months[:stays]:
            timesheet_id = uid()
            year, month = int(period[:4]), int(period[5:])
            attended = rnd.randint(0, 8)
            base = {
                "timesheet_id": timesheet_id,
                "enrolment_id": enrolment_id,
                "child_id": child_id,
                "programme_id": programme_id,
                "provider_id": provider_id,
                "region_code": region_code,
                "period": period,
                "planned_sessions": 8,
            }
            submitted_at = datetime(year, month, 28, tzinfo=UTC)
            sessions = [
                SessionMark(date=date(year, month, 2 + 3 * i), status="attended" if i < attended else "absent")
                for i in range(8)
            ]
            add(
                AttendanceSubmittedV1(
                    **base,
                    district_code=district,
                    attended_sessions=attended,
                    sessions=sessions,
                    confirm_by=submitted_at + timedelta(days=5),
                    occurred_at=submitted_at,
                )
            )
            if rnd.random() < 0.15:
                dispute_id = uid()
                add(
                    AttendanceDisputedV1(
                        **base, dispute_id=dispute_id, disputed_sessions=1, occurred_at=submitted_at + timedelta(days=1)
                    )
                )
                add(
                    DisputeResolvedV1(
                        **base,
                        dispute_id=dispute_id,
                        payable_sessions=attended,
                        attended_sessions=attended,
                        outcome="provider_upheld",
                        occurred_at=submitted_at + timedelta(days=3),
                    )
                )
            else:
                add(
                    AttendanceConfirmedV1(
                        **base,
                        payable_sessions=attended,
                        attended_sessions=attended,
                        basis=rnd.choice(["guardian_confirmed", "deemed_confirmed"]),
                        occurred_at=submitted_at + timedelta(days=2),
                    )
                )
            if year == 2026:
                add(
                    PaymentAccruedV1(
                        accrual_id=uid(),
                        provider_id=provider_id,
                        enrolment_id=enrolment_id,
                        child_id=child_id,
                        voucher_id=voucher_id,
                        programme_id=programme_id,
                        timesheet_id=timesheet_id,
                        region_code=region_code,
                        period=period,
                        amount_tiyn=MONTHLY[direction] * attended // 8,
                        payable_sessions=attended,
                        planned_sessions=8,
                        price_per_month_tiyn=MONTHLY[direction],
                        occurred_at=submitted_at + timedelta(days=6),
                    )
                )
    for provider_id in providers:
        add(
            ProviderPaidV1(
                batch_id=uid(),
                provider_id=provider_id,
                region_code=region_code,
                period="2026-10",
                amount_tiyn=1_000_000 + rnd.randint(0, 1000),
                paid_at=utc(2026, 11, 15),
                treasury_reference="T-1",
                occurred_at=utc(2026, 11, 15),
            )
        )
    return demo
