"""No free text on the bus: every string an event carries is a closed code set, has a pattern or a format, or is
on the justified allow-list below.

A ``max_length`` alone does not make a string safe to publish (``VoucherRevoked.reason`` was bounded at 500
characters and still carried whatever an administrator typed), so it does not count here. A new string field
fails this test until it gets an enum (``Literal``), a ``pattern`` or a format (uuid, date, date-time), or an
entry here saying why it is not free text and not personal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qosym_contracts.event_index import ALL_EVENTS

pytestmark = pytest.mark.unit

# codes: set by configuration (region files) or by code, never typed by a person on the way to the bus
CODE_FIELDS: dict[str, str] = {
    "region_code": "a region code from the region files",
    "district_code": "a district code from the region files",
    "direction": "a programme direction code of the region (sports, creativity, …)",
    "directions": "the region's direction codes",
    "language": "a programme's teaching language code (kk, ru, en)",
    "timezone": "an IANA time zone name from the region file",
    "code": "a district or priority-category code from the region files",
    "kind": "an attestation kind or a notification kind: codes set by the services",
    "district": "a district code of a consultation point",
    "opening_days": "weekday names of a consultation point",
    "seed_sha256": "a hex digest, not text",
    "seed_hex": "the revealed lottery seed in hex, not text",
    "bin": "a legal entity's business identification number (public)",
    "iban": "the organisation's bank account number (needed by payments' pain.001 orders)",
    "bank_bic": "the bank's BIC",
}

# public catalogue and configuration data: names of places and organisations, never of people
PUBLIC_TEXT: dict[str, str] = {
    "LocalisedName.en": "public names of regions, districts and programme titles (catalogue data)",
    "LocalisedName.kk": "public names of regions, districts and programme titles (catalogue data)",
    "LocalisedName.ru": "public names of regions, districts and programme titles (catalogue data)",
    "ConsultationPoint.name": "a public consultation office, from the region file",
    "ConsultationPoint.address": "a public consultation office's address, from the region file",
    "TreasuryAccount.name": "a public body's paying account name, from the region file (payment orders print it)",
    "ProviderVerifiedV1.name": "the provider's registered legal name (public registry entry; payment orders need it)",
    "RiskFlagRaisedV1.summary": "composed by attendance's own SQL from counts and codes, never from user input",
}


def _loose_strings(schema: dict[str, Any], defs: dict[str, Any], path: str) -> Iterator[str]:
    """Every string leaf under ``schema`` without an enum, const, pattern or format (``$ref``s are walked as defs)."""
    if "$ref" in schema:
        return  # a nested model: checked under its own name
    if schema.get("type") == "string" and not ({"enum", "const", "pattern", "format"} & set(schema)):
        yield path
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for option in schema.get(key, []):
            yield from _loose_strings(option, defs, path)
    if isinstance(schema.get("items"), dict):
        yield from _loose_strings(schema["items"], defs, f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _loose_strings(schema["additionalProperties"], defs, f"{path}{{}}")


def free_text_fields() -> set[str]:
    found: set[str] = set()
    for event in ALL_EVENTS:
        schema = event.model_json_schema(mode="serialization")
        defs = schema.get("$defs", {})
        models = {event.__name__: schema, **defs}
        for model, body in models.items():
            for field, sub in body.get("properties", {}).items():
                for leaf in _loose_strings(sub, defs, f"{model}.{field}"):
                    if field not in CODE_FIELDS:
                        found.add(leaf)
    return found


def test_no_event_carries_unexplained_free_text() -> None:
    loose = free_text_fields() - set(PUBLIC_TEXT)
    assert not loose, (
        "string fields on the bus without an enum, pattern or format: make them reason codes (Literal), give "
        f"them a pattern, or justify them in PUBLIC_TEXT/CODE_FIELDS: {sorted(loose)}"
    )


def test_the_allow_list_has_no_stale_entries() -> None:
    assert set(PUBLIC_TEXT) <= free_text_fields(), "an allow-listed field is gone or now constrained: drop its entry"


def test_the_walker_catches_a_new_free_text_field() -> None:
    from typing import ClassVar

    from pydantic import Field

    from qosym_contracts.allocation import VoucherRevokedV1

    class Probe(VoucherRevokedV1):
        note: str = Field(max_length=500)
        tags: list[str] = Field(default_factory=list)
        code: str = Field(pattern=r"^[a-z_]+$")
        key_field: ClassVar[str] = "voucher_id"

    schema = Probe.model_json_schema(mode="serialization")
    loose = {leaf for f, sub in schema["properties"].items() for leaf in _loose_strings(sub, {}, f"Probe.{f}")}
    assert loose == {"Probe.note", "Probe.tags[]"}


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("VoucherRevokedV1", "reason"),
        ("EnrolmentEndedV1", "reason"),
        ("EnrolmentRejectedV1", "reason"),
        ("ProviderSuspendedV1", "reason"),
        ("VoucherAssignmentRejectedV1", "reason"),
    ],
)
def test_reasons_are_closed_code_sets(model: str, field: str) -> None:
    event = next(e for e in ALL_EVENTS if e.__name__ == model)
    prop = event.model_json_schema(mode="serialization")["properties"][field]
    assert prop.get("enum"), f"{model}.{field} must be a closed set of reason codes"
    assert all(code.replace("_", "").isalpha() and code.islower() for code in prop["enum"])


def test_staff_appear_by_opaque_id_only() -> None:
    from qosym_contracts.payments import PaymentBatchApprovedV1

    props = PaymentBatchApprovedV1.model_json_schema(mode="serialization")["properties"]
    assert props["prepared_by"]["format"] == props["approved_by"]["format"] == "uuid"
