"""Every topic of the platform: one per producing aggregate stream and major version.

Partitions bound how many consumer processes of one service share a topic's work (a group member beyond the
partitions of its busiest topic sits idle), and order holds per key within a partition. For a nation (500,000
children): the streams with an event per child, application, voucher, enrolment, timesheet or notification get
``NATIONAL`` partitions; medium streams (reviews, risks, payables, messages) ``MEDIUM``; rounds, budgets, batches and
the reference data a few (a region's configuration stays on one partition, in order over every region).
Partitions can be added to a live topic but never removed, and adding them moves keys: change them between rounds,
with every consumer caught up (docs/operations.md, "Consumer replicas").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    key: str
    partitions: int = 3


NATIONAL = 12  # an event per child / application / voucher / enrolment / timesheet / notification
MEDIUM = 6


REGISTRY_CHILD = Topic("registry.child.v1", "registry", "child_id", partitions=NATIONAL)
REGISTRY_GUARDIANSHIP = Topic("registry.guardianship.v1", "registry", "child_id", partitions=NATIONAL)
ALLOCATION_REGION = Topic("allocation.region.v1", "allocation", "region_code", partitions=1)
ALLOCATION_ROUND = Topic("allocation.round.v1", "allocation", "round_id")
ALLOCATION_APPLICATION = Topic("allocation.application.v1", "allocation", "application_id", partitions=NATIONAL)
ALLOCATION_VOUCHER = Topic("allocation.voucher.v1", "allocation", "voucher_id", partitions=NATIONAL)
ALLOCATION_ASSIGNMENT = Topic("allocation.assignment.v1", "allocation", "enrolment_id", partitions=NATIONAL)
CATALOG_PROVIDER = Topic("catalog.provider.v1", "catalog", "provider_id")
CATALOG_PROGRAMME = Topic("catalog.programme.v1", "catalog", "programme_id")
# keyed by child: one child's enrolments stay in order (a club change = Ended, then Requested)
CATALOG_ENROLMENT = Topic("catalog.enrolment.v1", "catalog", "child_id", partitions=NATIONAL)
CATALOG_REVIEW = Topic("catalog.review.v1", "catalog", "review_id", partitions=MEDIUM)
ATTENDANCE_TIMESHEET = Topic("attendance.timesheet.v1", "attendance", "timesheet_id", partitions=NATIONAL)
ATTENDANCE_RISK = Topic("attendance.risk.v1", "attendance", "subject_id", partitions=MEDIUM)
PAYMENTS_PAYABLE = Topic("payments.payable.v1", "payments", "provider_id", partitions=MEDIUM)
PAYMENTS_BATCH = Topic("payments.batch.v1", "payments", "batch_id")
PAYMENTS_BUDGET = Topic("payments.budget.v1", "payments", "round_id")
NOTIFICATIONS_DELIVERY = Topic("notifications.delivery.v1", "notifications", "person_id", partitions=NATIONAL)
# keyed by thread: one thread's messages stay in order
CONVERSATIONS_MESSAGE = Topic("conversations.message.v1", "conversations", "thread_id", partitions=MEDIUM)

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
