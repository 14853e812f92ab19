"""Events published by the allocation service (owned by the allocation developers)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal, get_args
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent

# Reason codes: closed sets, so no free text travels on the bus (an explanation, if any, stays in allocation).
AssignmentRejectReason = Literal["no_valid_voucher", "already_assigned", "age_band", "wrong_region"]
"""Why allocation could not assign a voucher to an enrolment (catalog repeats it in EnrolmentRejected)."""

VoucherRevokeReason = Literal[
    "eligibility_not_confirmed",
    "false_information",
    "duplicate_award",
    "left_region",
    "guardian_request",
    "administrative_error",
    "other",
]
"""Why an administrator revoked a voucher; the administrator's note stays in allocation's database."""


class LocalisedName(BaseModel):
    model_config = ConfigDict(frozen=True)

    en: str
    kk: str
    ru: str


class District(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: LocalisedName
    child_population: int | None = Field(
        default=None,
        ge=0,
        description="children of the region's child age (child_age_min..child_age_max) living in the district, "
        "where the region file gives it (insights' coverage per 1,000 children); absent in older events",
    )


class ConsultationPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    district: str
    opening_days: list[str] = Field(default_factory=lambda: ["saturday", "sunday"])


class TreasuryAccount(BaseModel):
    """The account a region's payment orders are paid from (the debtor of pain.001): IBAN and BIC in compact form."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(max_length=140, examples=["Astana city budget, education department"])
    iban: str = Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", examples=["KZ05070KZT0000000001"])
    bic: str = Field(pattern=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$", examples=["KKMFKZ2A"])


class RegionConfiguredV1(IntegrationEvent):
    """The whole current configuration of a region (event-carried state transfer)."""

    topic: ClassVar[str] = topics.ALLOCATION_REGION.name
    key_field: ClassVar[str] = "region_code"

    event_type: Literal["allocation.RegionConfigured"] = "allocation.RegionConfigured"
    event_version: Literal[1] = 1

    region_code: str = Field(examples=["astana"])
    revision: int = Field(description="increases by one with every change of the region", ge=1)
    name: LocalisedName
    timezone: str = Field(examples=["Asia/Almaty"])
    districts: list[District]
    consultation_points: list[ConsultationPoint]
    directions: list[str] = Field(examples=[["sports", "creativity", "intellectual"]])
    child_age_min: int
    child_age_max: int
    voucher_monthly_value_tiyn: dict[str, int] = Field(description="per direction, integer tiyn")
    voucher_months: int
    priority_weights: dict[str, int]
    budget_tiyn: int
    direction_quotas: dict[str, float] = Field(description="share of a round's vouchers per direction")
    treasury_account: TreasuryAccount | None = Field(
        default=None, description="where the region file names it: its payment orders' debtor account (payments)"
    )


# --- rounds, applications and vouchers (allocation issue) -----------------------------------------


class RoundOpenedV1(IntegrationEvent):
    """A round accepts applications. The lottery seed's hash is committed here, the seed stays secret."""

    topic: ClassVar[str] = topics.ALLOCATION_ROUND.name
    key_field: ClassVar[str] = "round_id"

    event_type: Literal["allocation.RoundOpened"] = "allocation.RoundOpened"
    event_version: Literal[1] = 1

    round_id: UUID
    region_code: str
    application_opens_at: AwareDatetime
    application_closes_at: AwareDatetime
    reference_date: date = Field(description="the date the age band and categories are checked on")
    seed_sha256: str = Field(description="hex sha256 of the 32-byte lottery seed (revealed at close)")
    budget_tiyn: int | None = Field(
        default=None, ge=0, description="the round's budget in tiyn (payments appropriates it)"
    )


EarlyCloseReason = Literal["demand_met", "emergency", "schedule_change", "configuration_error"]
EARLY_CLOSE_REASONS: tuple[str, ...] = get_args(EarlyCloseReason)


class RoundClosedV1(IntegrationEvent):
    """Applications are closed; the seed is revealed so anyone can re-run the lottery."""

    topic: ClassVar[str] = topics.ALLOCATION_ROUND.name
    key_field: ClassVar[str] = "round_id"

    event_type: Literal["allocation.RoundClosed"] = "allocation.RoundClosed"
    event_version: Literal[1] = 1

    round_id: UUID
    region_code: str
    seed_hex: str = Field(description="the lottery seed, hex; sha256 of its bytes equals RoundOpened.seed_sha256")
    applications: int = Field(ge=0)
    early_close_reason: EarlyCloseReason | None = Field(
        default=None, description="set when an administrator closed the round before its announced window end"
    )


class ApplicationSubmittedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.ALLOCATION_APPLICATION.name
    key_field: ClassVar[str] = "application_id"

    event_type: Literal["allocation.ApplicationSubmitted"] = "allocation.ApplicationSubmitted"
    event_version: Literal[1] = 1

    application_id: UUID
    round_id: UUID
    child_id: UUID
    region_code: str
    district_code: str
    direction: str


class ApplicationWithdrawnV1(IntegrationEvent):
    topic: ClassVar[str] = topics.ALLOCATION_APPLICATION.name
    key_field: ClassVar[str] = "application_id"

    event_type: Literal["allocation.ApplicationWithdrawn"] = "allocation.ApplicationWithdrawn"
    event_version: Literal[1] = 1

    application_id: UUID
    round_id: UUID
    child_id: UUID


class ApplicationWaitlistedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.ALLOCATION_APPLICATION.name
    key_field: ClassVar[str] = "application_id"

    event_type: Literal["allocation.ApplicationWaitlisted"] = "allocation.ApplicationWaitlisted"
    event_version: Literal[1] = 1

    application_id: UUID
    round_id: UUID
    child_id: UUID
    position: int = Field(
        ge=1,
        description="the place in the child's own district × direction queue (1 = next to be offered a returned "
        "voucher); published at allocation and again each time the place changes",
    )


class VoucherAwardedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.ALLOCATION_VOUCHER.name
    key_field: ClassVar[str] = "voucher_id"

    event_type: Literal["allocation.VoucherAwarded"] = "allocation.VoucherAwarded"
    event_version: Literal[1] = 1

    voucher_id: UUID
    application_id: UUID
    child_id: UUID
    region_code: str
    district_code: str
    round_id: UUID
    direction: str
    monthly_value_tiyn: int = Field(gt=0)
    months: int = Field(ge=1)
    valid_until: date
    assign_by: date | None = Field(default=None, description="use it (enrol) by this date or it expires")


class VoucherAssignedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.ALLOCATION_VOUCHER.name
    key_field: ClassVar[str] = "voucher_id"

    event_type: Literal["allocation.VoucherAssigned"] = "allocation.VoucherAssigned"
    event_version: Literal[1] = 1

    voucher_id: UUID
    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    direction: str
    monthly_value_tiyn: int
    valid_until: date


class VoucherAssignmentRejectedV1(IntegrationEvent):
    """The saga's refusal, on its own topic keyed by the enrolment (there may be no voucher at all)."""

    topic: ClassVar[str] = topics.ALLOCATION_ASSIGNMENT.name
    key_field: ClassVar[str] = "enrolment_id"

    event_type: Literal["allocation.VoucherAssignmentRejected"] = "allocation.VoucherAssignmentRejected"
    event_version: Literal[1] = 1

    enrolment_id: UUID
    child_id: UUID
    reason: AssignmentRejectReason


class VoucherReleasedV1(IntegrationEvent):
    """The voucher left its enrolment (or its holder gave it up); it may be assigned again within the grace period."""

    topic: ClassVar[str] = topics.ALLOCATION_VOUCHER.name
    key_field: ClassVar[str] = "voucher_id"

    event_type: Literal["allocation.VoucherReleased"] = "allocation.VoucherReleased"
    event_version: Literal[1] = 1

    voucher_id: UUID
    child_id: UUID
    round_id: UUID
    enrolment_id: UUID | None = None
    reason: Literal["enrolment_ended", "declined"]
    reassignable_until: date | None = Field(default=None, description="None: returned to the round at once")


class VoucherExpiredV1(IntegrationEvent):
    """Never assigned by the deadline, or released and not re-assigned within the grace period: back to the round."""

    topic: ClassVar[str] = topics.ALLOCATION_VOUCHER.name
    key_field: ClassVar[str] = "voucher_id"

    event_type: Literal["allocation.VoucherExpired"] = "allocation.VoucherExpired"
    event_version: Literal[1] = 1

    voucher_id: UUID
    child_id: UUID
    round_id: UUID
    reason: Literal["not_assigned_by_deadline", "release_grace_ended"]


class VoucherRevokedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.ALLOCATION_VOUCHER.name
    key_field: ClassVar[str] = "voucher_id"

    event_type: Literal["allocation.VoucherRevoked"] = "allocation.VoucherRevoked"
    event_version: Literal[1] = 1

    voucher_id: UUID
    child_id: UUID
    round_id: UUID
    reason: VoucherRevokeReason = Field(
        description="a reason code (v1 carried free text until 2026-12; the administrator's note stays in allocation)"
    )
