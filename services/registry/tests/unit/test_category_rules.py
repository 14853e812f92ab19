"""Category claims: one decision on a declared claim, validity dates in order, amendments of verified claims."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from qosym_chassis.errors import Conflict, FieldError
from registry.domain import categories as rules
from registry.domain.errors import Refused, RegistrationRefused
from registry.domain.model import RegionRules

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ASTANA = RegionRules("astana", frozenset({"yesil"}), 6, 18, category_codes=frozenset({"orphan", "disability"}))


def test_only_a_category_of_the_childs_region_is_declared() -> None:
    rules.check_declarable("orphan", ASTANA)
    for code, region in (("large_family", ASTANA), ("orphan", None)):
        with pytest.raises(RegistrationRefused) as refused:
            rules.check_declarable(code, region)
        assert (refused.value.field, refused.value.code) == ("code", "unknown_category")


def test_verifying_starts_today_unless_a_start_is_given() -> None:
    claim = uuid4()
    today = rules.decide(claim, "declared", verified=True, decided_by="operator:a", now=NOW)
    assert (today.status, today.valid_from, today.valid_until) == ("verified", date(2026, 11, 23), None)
    assert (today.decided_by, today.decided_at, today.reason) == ("operator:a", NOW, None)
    given = rules.decide(
        claim,
        "declared",
        verified=True,
        decided_by="operator:a",
        now=NOW,
        valid_from=date(2026, 9, 1),
        valid_until=date(2027, 8, 31),
        reason="certificate seen",
    )
    assert (given.valid_from, given.valid_until, given.reason) == (
        date(2026, 9, 1),
        date(2027, 8, 31),
        "certificate seen",
    )


def test_a_verified_claim_cannot_end_before_it_starts() -> None:
    with pytest.raises(RegistrationRefused) as refused:
        rules.decide(
            uuid4(), "declared", verified=True, decided_by="operator:a", now=NOW, valid_until=date(2026, 11, 22)
        )
    assert (refused.value.field, refused.value.code) == ("valid_until", "before_valid_from")
    same_day = rules.decide(
        uuid4(), "declared", verified=True, decided_by="operator:a", now=NOW, valid_until=NOW.date()
    )
    assert same_day.valid_until == same_day.valid_from == NOW.date()


def test_a_rejection_carries_no_validity_whatever_dates_were_sent() -> None:
    rejected = rules.decide(
        uuid4(),
        "declared",
        verified=False,
        decided_by="operator:a",
        now=NOW,
        valid_from=date(2027, 1, 1),
        valid_until=date(2026, 1, 1),
        reason="not an orphan",
    )
    assert (rejected.status, rejected.valid_from, rejected.valid_until, rejected.reason) == (
        "rejected",
        None,
        None,
        "not an orphan",
    )


@pytest.mark.parametrize("status", ["verified", "rejected"])
def test_a_decided_claim_is_not_decided_again(status: str) -> None:
    claim = uuid4()
    for verified in (True, False):
        with pytest.raises(Refused) as refused:
            rules.decide(claim, status, verified=verified, decided_by="operator:a", now=NOW)
        assert f"already {status}" in str(refused.value) and f"/v1/categories/{claim}/amend" in str(refused.value)


def test_an_amendment_keeps_the_start_unless_given_and_a_null_end_means_none() -> None:
    kept = rules.amend(
        "verified", date(2026, 9, 1), decided_by="operator:b", now=NOW, valid_from=None, valid_until=None, reason="typo"
    )
    assert (kept.status, kept.valid_from, kept.valid_until, kept.reason) == ("verified", date(2026, 9, 1), None, "typo")
    moved = rules.amend(
        "verified",
        date(2026, 9, 1),
        decided_by="operator:b",
        now=NOW,
        valid_from=date(2026, 10, 1),
        valid_until=date(2027, 5, 31),
        reason="the certificate ends earlier",
    )
    assert (moved.valid_from, moved.valid_until, moved.decided_by, moved.decided_at) == (
        date(2026, 10, 1),
        date(2027, 5, 31),
        "operator:b",
        NOW,
    )
    startless = rules.amend(
        "verified", None, decided_by="operator:b", now=NOW, valid_from=None, valid_until=None, reason="x"
    )
    assert startless.valid_from == NOW.date()


def test_an_amendment_keeps_the_dates_in_order_against_the_kept_start() -> None:
    with pytest.raises(RegistrationRefused) as refused:
        rules.amend(
            "verified",
            date(2026, 9, 1),
            decided_by="o",
            now=NOW,
            valid_from=None,
            valid_until=date(2026, 8, 31),
            reason="x",
        )
    assert refused.value.field == "valid_until"


@pytest.mark.parametrize("status", ["declared", "rejected"])
def test_only_a_verified_claim_is_amended(status: str) -> None:
    with pytest.raises(Refused, match=f"this one is {status}"):
        rules.amend(status, None, decided_by="o", now=NOW, valid_from=None, valid_until=None, reason="x")


def test_the_published_set_is_the_verified_codes_in_order() -> None:
    claims = [("orphan", "verified"), ("disability", "declared"), ("large_family", "verified"), ("a", "rejected")]
    assert rules.verified_codes(claims) == ["large_family", "orphan"]
    assert rules.verified_codes([]) == []


async def test_claim_refusals_are_conflicts_and_field_errors() -> None:
    async def verify(status: str, valid_until: date | None) -> rules.Decision:
        return rules.decide(uuid4(), status, verified=True, decided_by="o", now=NOW, valid_until=valid_until)

    with pytest.raises(Conflict) as again:
        await verify("verified", None)
    assert again.value.status == 409 and again.value.detail.startswith("this claim is already verified")
    with pytest.raises(FieldError) as backwards:
        await verify("declared", date(2020, 1, 1))
    assert backwards.value.errors == [
        {"field": "valid_until", "message": "valid_until is before valid_from", "type": "before_valid_from"}
    ]
