"""Every topic of the platform: one per producing aggregate stream and major version."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    key: str
    partitions: int = 3


REGISTRY_CHILD = Topic("registry.child.v1", "registry", "child_id")
REGISTRY_GUARDIANSHIP = Topic("registry.guardianship.v1", "registry", "child_id")
ALLOCATION_REGION = Topic("allocation.region.v1", "allocation", "region_code", partitions=1)
ALLOCATION_ROUND = Topic("allocation.round.v1", "allocation", "round_id")
ALLOCATION_APPLICATION = Topic("allocation.application.v1", "allocation", "application_id")
ALLOCATION_VOUCHER = Topic("allocation.voucher.v1", "allocation", "voucher_id")
ALLOCATION_ASSIGNMENT = Topic("allocation.assignment.v1", "allocation", "enrolment_id")
CATALOG_PROVIDER = Topic("catalog.provider.v1", "catalog", "provider_id")
CATALOG_PROGRAMME = Topic("catalog.programme.v1", "catalog", "programme_id")
# keyed by child: one child's enrolments stay in order (a club change = Ended, then Requested)
CATALOG_ENROLMENT = Topic("catalog.enrolment.v1", "catalog", "child_id")
CATALOG_REVIEW = Topic("catalog.review.v1", "catalog", "review_id")
ATTENDANCE_TIMESHEET = Topic("attendance.timesheet.v1", "attendance", "timesheet_id")
ATTENDANCE_RISK = Topic("attendance.risk.v1", "attendance", "subject_id")
PAYMENTS_PAYABLE = Topic("payments.payable.v1", "payments", "provider_id")
PAYMENTS_BATCH = Topic("payments.batch.v1", "payments", "batch_id")
PAYMENTS_BUDGET = Topic("payments.budget.v1", "payments", "round_id")
NOTIFICATIONS_DELIVERY = Topic("notifications.delivery.v1", "notifications", "person_id")
# keyed by thread: one thread's messages stay in order
CONVERSATIONS_MESSAGE = Topic("conversations.message.v1", "conversations", "thread_id")

ALL_TOPICS: tuple[Topic, ...] = (
    REGISTRY_CHILD,
    REGISTRY_GUARDIANSHIP,
    ALLOCATION_REGION,
    ALLOCATION_ROUND,
    ALLOCATION_APPLICATION,
    ALLOCATION_VOUCHER,
    ALLOCATION_ASSIGNMENT,
    CATALOG_PROVIDER,
    CATALOG_PROGRAMME,
    CATALOG_ENROLMENT,
    CATALOG_REVIEW,
    ATTENDANCE_TIMESHEET,
    ATTENDANCE_RISK,
    PAYMENTS_PAYABLE,
    PAYMENTS_BATCH,
    PAYMENTS_BUDGET,
    NOTIFICATIONS_DELIVERY,
    CONVERSATIONS_MESSAGE,
)
