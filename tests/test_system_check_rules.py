"""`qosym check`'s rules (docs/reliability.md, "The checker"): pure functions over plain rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qosym_cli.check import (
    Finding,
    InboxRow,
    OutboxRow,
    Voucher,
    asyncapi_documents,
    capacity_findings,
    delivery_findings,
    projection_findings,
    quota_findings,
    reconciliation_findings,
    subscriptions,
)

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 1, tzinfo=UTC)
AWARDED = ("allocation.voucher.v1", "allocation.VoucherAwarded")
EXPIRED = ("allocation.voucher.v1", "allocation.VoucherExpired")


def out(event_id: str, kind=AWARDED, at: datetime = T0, published: bool = True) -> OutboxRow:
    return OutboxRow(event_id, kind[1], kind[0], at, published)


def inn(event_id: str, topic: str = AWARDED[0], at: datetime = T0) -> InboxRow:
    return InboxRow(event_id, topic, at + timedelta(seconds=1))


def kinds(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.kind, f.subject) for f in findings]


def test_subscriptions_are_the_receive_operations_of_each_asyncapi_document_by_their_event_type():
    document = {
        "components": {"schemas": {"VoucherAwardedV1": {"properties": {"event_type": {"const": AWARDED[1]}}}}},
        "operations": {
            "payments:allocation.voucher.v1:VoucherAwardedV1": {"action": "receive"},
            "payments.payable.v1:PaymentAccruedV1": {"action": "send"},
        },
    }
    assert subscriptions({"payments": document}) == {"payments": {AWARDED}}


def test_the_repository_documents_name_payments_a_subscriber_of_awarded_vouchers():
    root = Path(__file__).resolve().parents[1]
    subscribed = subscriptions(asyncapi_documents(root / "docs" / "asyncapi"))
    assert AWARDED in subscribed["payments"] and AWARDED not in subscribed["registry"]
    assert json.loads((root / "docs" / "asyncapi" / "payments.json").read_text())["operations"]


def test_every_subscribed_event_consumed_once_is_clean():
    outboxes = {"allocation": [out("e1"), out("e2", EXPIRED)]}
    inboxes = {"payments": [inn("e1"), inn("e2")], "catalog": [inn("e1")]}
    subscribed = {"payments": {AWARDED, EXPIRED}, "catalog": {AWARDED}}
    assert delivery_findings(outboxes, inboxes, {}, subscribed) == []


def test_an_event_a_subscriber_never_consumed_is_lost_and_one_it_dead_lettered_is_named_so():
    outboxes = {"allocation": [out("e1"), out("e2")]}
    found = delivery_findings(outboxes, {"payments": []}, {"payments": {"e2"}}, {"payments": {AWARDED}})
    assert kinds(found) == [("lost", "e1"), ("dead-lettered", "e2")]
    assert "payments" in found[0].detail and "allocation" in found[0].detail


def test_an_event_of_a_type_the_consumer_ignores_needs_no_inbox_row_but_one_it_applied_is_unexpected():
    outboxes = {"allocation": [out("e1", EXPIRED)]}
    assert delivery_findings(outboxes, {"catalog": []}, {}, {"catalog": {AWARDED}}) == []
    found = delivery_findings(outboxes, {"catalog": [inn("e1")]}, {}, {"catalog": {AWARDED}})
    assert kinds(found) == [("unexpected", "e1")]


def test_an_inbox_row_no_outbox_holds_is_unexpected_unless_older_than_what_the_outbox_keeps():
    outboxes = {"allocation": [out("kept", at=T0)]}
    inboxes = {"payments": [inn("kept"), inn("forged", at=T0), inn("pruned", at=T0 - timedelta(days=30))]}
    found = delivery_findings(outboxes, inboxes, {}, {"payments": {AWARDED}})
    assert kinds(found) == [("unexpected", "forged")]


def test_duplicates_and_unpublished_rows_are_findings():
    outboxes = {"allocation": [out("e1"), out("e2", published=False)]}
    inboxes = {"payments": [inn("e1"), inn("e1"), inn("e2")]}
    found = delivery_findings(outboxes, inboxes, {}, {"payments": {AWARDED}})
    assert sorted(kinds(found)) == [("duplicated", "e1"), ("unpublished", "e2")]


def test_since_limits_delivery_to_later_events():
    outboxes = {"allocation": [out("old", at=T0), out("new", at=T0 + timedelta(hours=1))]}
    found = delivery_findings(outboxes, {"payments": []}, {}, {"payments": {AWARDED}}, since=T0 + timedelta(minutes=1))
    assert kinds(found) == [("lost", "new")]


def voucher(direction="sports", district="yesil", via="quota", cost=100, status="awarded") -> Voucher:
    return Voucher("r1", district, direction, via, cost, status)


def test_live_vouchers_within_quotas_and_budget_are_clean_and_released_ones_do_not_count():
    vouchers = [voucher(), voucher(via="flow", district="nura"), voucher(status="released")]
    assert quota_findings(vouchers, {("r1", "sports"): 2}, {("r1", "yesil", "sports"): 1}, {"r1": 200}) == []


def test_vouchers_over_a_quota_or_the_budget_are_findings():
    vouchers = [voucher(), voucher(status="assigned"), voucher(direction="arts")]
    found = quota_findings(
        vouchers, {("r1", "sports"): 1, ("r1", "arts"): 1}, {("r1", "yesil", "sports"): 2}, {"r1": 250}
    )
    assert kinds(found) == [("over-quota", "r1 sports"), ("over-quota", "r1 yesil arts"), ("over-budget", "r1")]


def test_confirmed_enrolments_over_capacity_are_findings():
    assert capacity_findings({"p1": 2, "p2": 1}, {"p1": 2}) == []
    assert kinds(capacity_findings({"p1": 2}, {"p1": 3, "p9": 1})) == [("over-capacity", "p1"), ("over-capacity", "p9")]


def test_a_projection_equal_to_its_source_is_clean_and_every_difference_is_named():
    assert projection_findings("regions", {"astana": 2}, {"astana": 2}) == []
    found = projection_findings("regions", {"astana": 2, "almaty": 1}, {"astana": 1, "shymkent": 1})
    assert kinds(found) == [
        ("projection-missing", "almaty"),
        ("projection-differs", "astana"),
        ("projection-extra", "shymkent"),
    ]
    keyed = projection_findings("guardians", {("c1", "g1"): True}, {})
    assert kinds(keyed) == [("projection-missing", "c1 g1")] and "guardians" in keyed[0].detail


def test_payments_reconciliation_findings_are_carried_over():
    report = {"findings": [{"check": "vouchers_match_allocation", "subject": "v1", "detail": "unknown to payments"}]}
    assert reconciliation_findings(report) == [Finding("vouchers_match_allocation", "v1", "unknown to payments")]
    assert reconciliation_findings({"findings": []}) == []
