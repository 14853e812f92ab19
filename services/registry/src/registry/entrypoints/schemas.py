"""HTTP models of the registry API (not the events)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from qosym_chassis.inputs import SafeText, SaneDate, single_line
from qosym_contracts.types import DistrictCode, RegionCode

DISPLAY_NAME_MAX = 60
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=DISPLAY_NAME_MAX),
    AfterValidator(single_line),
    Field(
        description="how the child's coaches call them, e.g. a first name and an initial (trimmed; shown only to "
        "the staff of the providers the child is enrolled with, never published in an event)",
        examples=["Aigerim S."],
    ),
]


class RegisterChildIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"iin": "180905600123", "region_code": "astana", "district_code": "yesil"}]},
    )

    iin: SafeText = Field(max_length=32, description="the child's IIN: 12 digits 0-9", examples=["180905600123"])
    region_code: RegionCode
    district_code: DistrictCode = Field(examples=["yesil"])
    declared_birth_date: SaneDate | None = Field(
        default=None, description="checked against the IIN; a mismatch is flagged"
    )
    declared_sex: Literal["F", "M"] | None = None
    name: DisplayName | None = None


class MoveChildIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"district_code": "nura"}]})

    region_code: RegionCode | None = Field(default=None, description="unchanged when omitted")
    district_code: DistrictCode | None = Field(default=None, description="unchanged when omitted")
    name: DisplayName | None = Field(
        default=None, description="the display name; unchanged when omitted, removed when null"
    )


class ChildOut(BaseModel):
    id: UUID
    iin_masked: str = Field(description="only the last four digits are ever shown", examples=["********0123"])
    birth_date: date
    sex: Literal["F", "M"]
    region_code: str
    district_code: str
    flags: list[str] = Field(default_factory=list, description="declared data that disagrees with the IIN")
    name: str | None = Field(default=None, description="the display name, if the guardian gave one")


class EnrolledChildOut(BaseModel):
    """What a provider's staff may know of a child enrolled with them: the id and the display name, nothing else."""

    id: UUID
    name: str | None = Field(description="the display name; None when the guardian gave none")


class DevTokenIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "operator", "scope": {"region": "astana"}}]}
    )

    role: Literal["parent", "operator", "administrator", "provider_staff", "auditor", "partner", "ops"]
    subject: UUID | None = None
    scope: dict[
        Literal["region", "district", "provider", "consultation_point"],
        Annotated[str, Field(min_length=1, max_length=100)],
    ] = Field(default_factory=dict, description='e.g. {"region": "astana"}: an operator\'s token must name its region')


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    subject: str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterPersonIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"iin": "900101300017", "phone": "+77011234567", "consent": {"data_processing": True}}]
        },
    )

    iin: SafeText = Field(max_length=32, description="the adult's IIN", examples=["900101300017"])
    phone: SafeText = Field(max_length=32, description="international format", examples=["+77011234567"])
    consent: dict[Literal["data_processing", "notifications", "state_registry_check"], bool] = Field(
        description="consent per purpose; data_processing must be granted"
    )
    declared_birth_date: SaneDate | None = None
    declared_sex: Literal["F", "M"] | None = None


class RegistrationOut(BaseModel):
    registration_id: UUID = Field(description="confirm it with the code sent to the phone: POST /v1/people/confirm")
    expires_in: int


class ConfirmRegistrationIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"registration_id": "3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f", "code": "123456"}]},
    )

    registration_id: UUID
    code: str = Field(pattern=r"^[0-9]{6}$")


class PersonOut(BaseModel):
    id: UUID
    iin_masked: str
    birth_date: date
    sex: Literal["F", "M"]
    flags: list[str]


class ConsentIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"purpose": "notifications", "granted": True}]}
    )

    purpose: Literal["data_processing", "notifications", "state_registry_check"]
    granted: bool


class LinkGuardianIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"iin": "900101300017", "relation": "guardian"}]}
    )

    iin: SafeText = Field(max_length=32)
    relation: Literal["parent", "guardian", "trustee"] = "guardian"


class CodeRequestIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"iin": "900101300017"}]})

    iin: SafeText = Field(max_length=32)


class ChallengeOut(BaseModel):
    challenge_id: UUID
    expires_in: int


class CodeConfirmIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"challenge_id": "3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f", "code": "123456"}]},
    )

    challenge_id: UUID
    code: SafeText = Field(pattern=r"^[0-9]{6}$")


class RefreshIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refresh_token": "Zq3v9m1X0aBcDeFgHiJkLmNoPqRsTuVw"}]}
    )

    refresh_token: SafeText = Field(min_length=10, max_length=200)


class SessionOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    subject: str
    role: str


class StaffLoginIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"username": "aigul.op", "password": "correct horse battery staple", "totp": "123456"}]
        },
    )

    username: SafeText = Field(min_length=1, max_length=100)
    password: SafeText = Field(min_length=1, max_length=200)
    totp: SafeText = Field(pattern=r"^[0-9]{6}$")


class StaffScope(_In):
    region: SafeText | None = None
    district: SafeText | None = None
    provider: SafeText | None = None
    consultation_point: SafeText | None = None


class CreateStaffIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"username": "aigul.op", "role": "operator", "scope": {"region": "astana", "district": "yesil"}}
            ]
        },
    )

    username: SafeText = Field(min_length=3, max_length=100, pattern=r"^[a-z0-9._-]+$")
    role: StaffRole
    scope: StaffScope = Field(default_factory=StaffScope)


StaffRole = Literal["operator", "administrator", "provider_staff", "auditor"]


class StaffAccessIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "operator", "scope": {"region": "almaty"}}]},
    )

    role: StaffRole | None = None
    scope: StaffScope


class StaffOut(BaseModel):
    id: UUID
    username: str
    role: str
    scope: dict[str, str]
    active: bool


class StaffListOut(BaseModel):
    items: list[StaffOut]


class StaffCreatedOut(BaseModel):
    id: UUID
    username: str
    one_time_password: str
    totp_secret: str
    totp_uri: str


class DecisionIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"valid_until": "2027-08-31", "reason": "certificate seen"}]}
    )

    valid_from: SaneDate | None = None
    valid_until: SaneDate | None = None
    reason: SafeText | None = Field(default=None, max_length=500)


class AmendmentIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"valid_from": None, "valid_until": "2027-05-31", "reason": "the certificate ends earlier"}]
        },
    )

    """An explicit change of a verified claim's validity: both dates must be given (a null valid_from keeps the
    current start, a null valid_until means no end), so nothing is dropped by leaving a field out."""

    valid_from: SaneDate | None
    valid_until: SaneDate | None
    reason: SafeText = Field(min_length=1, max_length=500)


class AssistedChildIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"parent_iin": "900101300017", "iin": "180905600123", "region_code": "astana", "district_code": "yesil"}
            ]
        },
    )

    parent_iin: SafeText = Field(
        max_length=32, description="the parent's IIN; the parent confirms with a one-time code"
    )
    iin: SafeText = Field(max_length=32, description="the child's IIN")
    region_code: RegionCode
    district_code: DistrictCode
    declared_birth_date: SaneDate | None = None
    declared_sex: Literal["F", "M"] | None = None


class AssistedMoveIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"parent_iin": "900101300017", "district_code": "nura"}]}
    )

    parent_iin: SafeText = Field(max_length=32, description="the IIN of one of the child's guardians, who confirms")
    region_code: RegionCode | None = None
    district_code: DistrictCode | None = None


class AssistedConfirmIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "123456"}]})

    code: SafeText = Field(pattern=r"^[0-9]{6}$", description="the code the parent received")


class ServiceAccountIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "social-services"}]})

    name: SafeText = Field(min_length=1, max_length=200, examples=["social-services"])


class ServiceAccountOut(BaseModel):
    client_id: str
    client_secret: str


class GuardianLinkedOut(BaseModel):
    guardian_id: UUID


class ChangePreparedOut(BaseModel):
    change_id: UUID = Field(description="confirm it with the code the parent received: POST /v1/assisted/{id}/confirm")


class KeyRotatedOut(BaseModel):
    kid: str
