"""Every kind has a template in kk, ru and en, and each renders with a sample event's payload."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import get_args
from uuid import uuid4

import pytest

from notifications.adapters.templates import TEMPLATES, Renderer, money
from notifications.domain import messages as m
from notifications.domain import notices
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWithdrawnV1,
    AssignmentRejectReason,
    VoucherExpiredV1,
    VoucherReleasedV1,
    VoucherRevokedV1,
    VoucherRevokeReason,
)
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
    RiskFlagRaisedV1,
)
from qosym_contracts.catalog import (
    AttestationExpiringV1,
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    EnrolmentEndReason,
    EnrolmentRejectedV1,
    EnrolmentRequestedV1,
)
from qosym_contracts.conversations import MessagePostedV1
from qosym_contracts.payments import (
    BudgetThresholdReachedV1,
    PaymentAccruedV1,
    PaymentBatchApprovedV1,
    ProviderPaidV1,
    VoucherFundingRefusedV1,
)
from qosym_contracts.reviews import ReviewHiddenV1, ReviewHideReason, ReviewPublishedV1

pytestmark = pytest.mark.unit
LANGUAGES = ("kk", "ru", "en")


def _id() -> str:
    return str(uuid4())


def _timesheet() -> dict:
    return {
        "timesheet_id": uuid4(),
        "enrolment_id": uuid4(),
        "child_id": uuid4(),
        "programme_id": uuid4(),
        "provider_id": uuid4(),
        "region_code": "astana",
        "period": "2026-11",
        "planned_sessions": 8,
    }


def sample_events() -> list:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    return [
        ApplicationSubmittedV1(
            application_id=uuid4(),
            round_id=uuid4(),
            child_id=uuid4(),
            region_code="astana",
            district_code="yesil",
            direction="sports",
        ),
        ApplicationWithdrawnV1(application_id=uuid4(), round_id=uuid4(), child_id=uuid4()),
        VoucherReleasedV1(
            voucher_id=uuid4(),
            child_id=uuid4(),
            round_id=uuid4(),
            reason="enrolment_ended",
            reassignable_until=date(2026, 12, 20),
        ),
        VoucherExpiredV1(voucher_id=uuid4(), child_id=uuid4(), round_id=uuid4(), reason="not_assigned_by_deadline"),
        VoucherRevokedV1(voucher_id=uuid4(), child_id=uuid4(), round_id=uuid4(), reason="eligibility_not_confirmed"),
        EnrolmentRequestedV1(
            enrolment_id=uuid4(),
            child_id=uuid4(),
            programme_id=uuid4(),
            provider_id=uuid4(),
            direction="sports",
            region_code="astana",
            district_code="yesil",
            age_min=6,
            age_max=12,
        ),
        EnrolmentConfirmedV1(
            enrolment_id=uuid4(),
            child_id=uuid4(),
            programme_id=uuid4(),
            provider_id=uuid4(),
            voucher_id=uuid4(),
            direction="sports",
            region_code="astana",
            district_code="yesil",
            price_per_month_tiyn=1_450_050,
            sessions_per_month=8,
        ),
        EnrolmentRejectedV1(enrolment_id=uuid4(), child_id=uuid4(), programme_id=uuid4(), reason="age_band"),
        EnrolmentEndedV1(enrolment_id=uuid4(), child_id=uuid4(), reason="left"),
        AttestationExpiringV1(
            attestation_id=uuid4(),
            provider_id=uuid4(),
            region_code="astana",
            subject_type="staff",
            subject_id=uuid4(),
            kind="criminal_record",
            valid_until=date(2026, 12, 15),
        ),
        AttendanceSubmittedV1(
            **_timesheet(), district_code="yesil", attended_sessions=7, sessions=[], confirm_by=now + timedelta(days=5)
        ),
        AttendanceConfirmedV1(**_timesheet(), payable_sessions=7, attended_sessions=7, basis="guardian_confirmed"),
        AttendanceDisputedV1(**_timesheet(), dispute_id=uuid4(), disputed_sessions=2),
        DisputeResolvedV1(
            **_timesheet(), dispute_id=uuid4(), payable_sessions=6, attended_sessions=6, outcome="partly_upheld"
        ),
        RiskFlagRaisedV1(
            flag_id=uuid4(),
            rule="coach_double_booked",
            subject_type="staff",
            subject_id=uuid4(),
            provider_id=uuid4(),
            region_code="astana",
            period="2026-11",
            severity="high",
            summary="two groups at 17:00 on Tuesdays",
        ),
        PaymentAccruedV1(
            accrual_id=uuid4(),
            provider_id=uuid4(),
            enrolment_id=uuid4(),
            child_id=uuid4(),
            voucher_id=uuid4(),
            programme_id=uuid4(),
            timesheet_id=uuid4(),
            region_code="astana",
            period="2026-11",
            amount_tiyn=1_268_793,
            payable_sessions=7,
            planned_sessions=8,
            price_per_month_tiyn=1_450_050,
        ),
        ProviderPaidV1(
            batch_id=uuid4(),
            provider_id=uuid4(),
            region_code="astana",
            period="2026-11",
            amount_tiyn=12_687_930,
            paid_at=now,
            treasury_reference="KZT-2026-11-0042",
        ),
        PaymentBatchApprovedV1(
            batch_id=uuid4(),
            region_code="astana",
            period="2026-11",
            providers=12,
            total_tiyn=987_654_300,
            order_sha256="a" * 64,
            prepared_by=_id(),
            approved_by=_id(),
        ),
        BudgetThresholdReachedV1(
            round_id=uuid4(),
            region_code="astana",
            threshold_percent=80,
            budget_tiyn=100_000_000_00,
            committed_tiyn=80_000_000_00,
            spent_tiyn=12_000_000_00,
            forecast_tiyn=95_000_000_00,
        ),
        VoucherFundingRefusedV1(
            round_id=uuid4(),
            voucher_id=uuid4(),
            region_code="astana",
            requested_tiyn=13_500_000,
            available_tiyn=200_000,
        ),
    ]


def sample_payloads() -> dict[str, dict]:
    """A payload for every kind, built by the same code that builds them from events."""
    payloads: dict[str, dict] = {}
    for event in sample_events():
        builder = notices.DIRECT.get(type(event)) or notices.application_received
        for notice in builder(event):
            payloads[notice.kind] = notice.payload
    child, application, voucher = _id(), _id(), _id()
    voucher_payload = {
        "voucher_id": voucher,
        "application_id": application,
        "round_id": _id(),
        "child_id": child,
        "direction": "creativity",
        "monthly_value_tiyn": 1_500_000,
        "months": 9,
        "valid_until": "2027-05-31",
        "assign_by": "2026-12-10",
    }
    payloads[m.VOUCHER_AWARDED] = voucher_payload
    payloads[m.VOUCHER_REOFFERED] = voucher_payload
    payloads[m.VOUCHER_USE_REMINDER] = {**voucher_payload, "deadline": "2026-12-10T19:00:00+00:00"}
    payloads[m.ATTENDANCE_CONFIRM_REMINDER] = {
        **payloads[m.ATTENDANCE_SUBMITTED],
        "deadline": payloads[m.ATTENDANCE_SUBMITTED]["confirm_by"],
    }
    payloads[m.WAITLISTED] = {
        "application_id": application,
        "round_id": _id(),
        "child_id": child,
        "position": 4,
        "previous_position": None,
    }
    payloads[m.WAITLIST_POSITION_CHANGED] = {**payloads[m.WAITLISTED], "position": 3, "previous_position": 4}
    payloads[m.ROUND_CLOSED] = {"application_id": application, "round_id": _id(), "child_id": child}
    payloads[m.CHILD_REGISTERED] = m.child_registered(uuid4(), uuid4(), "astana", "yesil").payload
    posted = MessagePostedV1(
        thread_id=uuid4(),
        message_id=uuid4(),
        object_type="enrolment",
        object_id=uuid4(),
        counterpart="provider",
        author_role="guardian",
        author_id=uuid4(),
        recipient_provider_id=uuid4(),
    )
    payloads[m.MESSAGE_POSTED] = notices.message_posted(posted)[0].payload
    review = {
        "review_id": uuid4(),
        "programme_id": uuid4(),
        "provider_id": uuid4(),
        "enrolment_id": uuid4(),
        "child_id": uuid4(),
        "guardian_id": uuid4(),
    }
    payloads[m.REVIEW_PUBLISHED] = notices.review_published(ReviewPublishedV1(**review))[0].payload
    payloads[m.REVIEW_HIDDEN] = notices.review_hidden(ReviewHiddenV1(**review, reason_code="personal_data"))[0].payload
    payloads[m.SMS] = {"text": "Qosym code: 314159"}
    return payloads


def test_every_kind_has_a_template_in_each_language_and_nothing_else_is_there() -> None:
    renderer = Renderer()
    for language in LANGUAGES:
        assert renderer.kinds(language) == set(m.KINDS), language


def test_every_kind_has_a_sample_payload() -> None:
    assert set(sample_payloads()) == set(m.KINDS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", m.KINDS)
def test_each_template_renders_with_a_sample_event(kind: str, language: str) -> None:
    payload = sample_payloads()[kind]
    title = {"en": "Football, under 12", "ru": "Футбол до 12 лет", "kk": "Футбол, 12 жасқа дейін"}

    text = Renderer(strict=True).render(
        kind,
        language,
        payload,
        programme=title,
        explanation_url=f"https://qosym.example/explain/{payload.get('application_id')}",
    )

    assert text.title and "\n" not in text.title
    assert text.body
    assert "{{" not in text.title + text.body and "{%" not in text.body
    if "programme_id" in payload and kind in {
        m.ENROLMENT_CONFIRMED,
        m.ENROLMENT_REQUESTED,
        m.REVIEW_HIDDEN,
        m.REVIEW_PUBLISHED,
    }:
        assert title[language] in text.body
    if kind in {m.VOUCHER_AWARDED, m.WAITLISTED, m.WAITLIST_POSITION_CHANGED}:
        assert f"https://qosym.example/explain/{payload['application_id']}" in text.body


def test_codes_are_translated_and_amounts_are_tenge() -> None:
    renderer = Renderer(strict=True)
    payload = sample_payloads()[m.ENROLMENT_REJECTED]

    assert "age band" in renderer.render(m.ENROLMENT_REJECTED, "en", payload).body
    assert "возраст" in renderer.render(m.ENROLMENT_REJECTED, "ru", payload).body
    assert "жасы" in renderer.render(m.ENROLMENT_REJECTED, "kk", payload).body
    assert money(1_450_050) == "14 500.50 ₸"
    assert money(1_500_000) == "15 000 ₸"


def test_every_language_translates_the_same_codes() -> None:
    loaded = {lang: json.loads((TEMPLATES / lang / "phrases.json").read_text("utf-8")) for lang in LANGUAGES}
    shapes = {lang: {group: set(codes) for group, codes in phrases.items()} for lang, phrases in loaded.items()}

    assert shapes["kk"] == shapes["ru"] == shapes["en"]


def test_a_programme_without_a_known_title_still_reads_well() -> None:
    payload = sample_payloads()[m.ENROLMENT_CONFIRMED]

    assert "the programme" in Renderer(strict=True).render(m.ENROLMENT_CONFIRMED, "en", payload).body


@pytest.mark.parametrize(
    "codes",
    [VoucherRevokeReason, EnrolmentEndReason, AssignmentRejectReason],
    ids=["VoucherRevoked", "EnrolmentEnded", "EnrolmentRejected"],
)
def test_every_reason_code_on_the_bus_reads_as_words_in_every_language(codes) -> None:
    """The bus carries reason codes, never a person's text: each code the contracts allow has a phrase in kk/ru/en."""
    for lang in LANGUAGES:
        phrases = json.loads((TEMPLATES / lang / "phrases.json").read_text("utf-8"))["reason"]
        missing = set(get_args(codes)) - set(phrases)
        assert not missing, f"{lang}/phrases.json has no 'reason' phrase for {sorted(missing)}"


def test_a_revoked_voucher_tells_the_family_why_in_their_language() -> None:
    renderer = Renderer(strict=True)
    payload = {"voucher_id": str(uuid4()), "child_id": str(uuid4()), "reason": "left_region"}
    assert "moved out of the region" in renderer.render(m.VOUCHER_REVOKED, "en", payload).body
    assert "переехал" in renderer.render(m.VOUCHER_REVOKED, "ru", payload).body
    assert "left_region" not in renderer.render(m.VOUCHER_REVOKED, "kk", payload).body


def test_a_confirm_by_deadline_reads_as_the_end_of_the_last_day() -> None:
    payload = {
        "period": "2026-12",
        "attended_sessions": 7,
        "planned_sessions": 8,
        "confirm_by": "2027-01-05T19:00:00+00:00",  # the end of 5 January in Asia/Almaty (UTC+5)
    }
    renderer = Renderer()
    for language in ("kk", "ru", "en"):
        for kind in ("attendance_submitted", "attendance_confirm_reminder"):
            text = renderer.render(kind, language, payload, timezone="Asia/Almaty")
            assert "05.01.2027 23:59" in text.title + text.body and "06.01.2027" not in text.title + text.body


@pytest.mark.parametrize(
    ("language", "kind", "payload", "expected"),
    [
        ("en", "enrolment_confirmed", {"sessions_per_month": 1, "price_per_month_tiyn": 100}, "1 session a month"),
        ("en", "enrolment_confirmed", {"sessions_per_month": 8, "price_per_month_tiyn": 100}, "8 sessions a month"),
        ("ru", "enrolment_confirmed", {"sessions_per_month": 21, "price_per_month_tiyn": 100}, "21 занятие в месяц"),
        ("ru", "enrolment_confirmed", {"sessions_per_month": 3, "price_per_month_tiyn": 100}, "3 занятия в месяц"),
        ("ru", "enrolment_confirmed", {"sessions_per_month": 12, "price_per_month_tiyn": 100}, "12 занятий в месяц"),
        ("en", "payment_batch_approved", {"period": "2026-12", "providers": 1, "total_tiyn": 1}, "(1 provider,"),
        ("ru", "payment_batch_approved", {"period": "2026-12", "providers": 2, "total_tiyn": 1}, "(2 поставщика,"),
        (
            "en",
            "voucher_awarded",
            {"direction": "sports", "monthly_value_tiyn": 1, "months": 1, "valid_until": "2027-06-30"},
            "for 1 month,",
        ),
        (
            "en",
            "payment_accrued",
            {"period": "2026-12", "amount_tiyn": 1, "payable_sessions": 1, "planned_sessions": 1},
            "1 of 1 session.",
        ),
    ],
)
def test_counts_take_the_right_plural(language, kind, payload, expected) -> None:
    text = Renderer().render(kind, language, payload)
    assert expected in text.body, text.body


@pytest.mark.parametrize(
    ("language", "object_type", "expected"),
    [
        ("en", "enrolment", "New message in a conversation about an enrolment"),
        ("ru", "dispute", "Новое сообщение в переписке о споре"),
        ("kk", "timesheet", "Айлық табель туралы сөйлесуде жаңа хабарлама"),
    ],
)
def test_a_new_message_names_what_the_conversation_is_about_and_the_thread(language, object_type, expected) -> None:
    thread = str(uuid4())
    payload = {"thread_id": thread, "object_type": object_type}

    text = Renderer(strict=True).render(m.MESSAGE_POSTED, language, payload)

    assert text.title == expected
    assert thread in text.body


def test_every_reason_a_review_is_hidden_for_reads_as_words_in_every_language() -> None:
    """ReviewHidden carries the reason's category only (never the operator's words): each reads in kk/ru/en."""
    renderer = Renderer(strict=True)
    for lang in LANGUAGES:
        phrases = json.loads((TEMPLATES / lang / "phrases.json").read_text("utf-8"))["review_reason"]
        assert set(phrases) == set(get_args(ReviewHideReason)), lang
        for code in get_args(ReviewHideReason):
            body = renderer.render(m.REVIEW_HIDDEN, lang, {"reason": code}).body
            assert phrases[code] in body and code not in body.replace(phrases[code], ""), (lang, code)
