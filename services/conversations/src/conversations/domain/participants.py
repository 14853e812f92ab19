"""Who takes part in a thread: pure rules (docs/architecture.md, "Service anatomy").

A thread is attached to one object (an application, an enrolment, a timesheet month, a dispute) and held between
the child's guardians and one counterpart: the provider's staff (the object names a provider) or the consultation
point (the operators of the object's region, and of its district when the operator's token names one). Nobody
else reads it, whatever their role: an administrator or an auditor is not a participant.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

ObjectType = Literal["application", "enrolment", "timesheet", "dispute"]
Counterpart = Literal["provider", "consultation_point"]
Side = Literal["guardian", "provider_staff", "operator"]

OBJECT_TYPES: tuple[ObjectType, ...] = ("application", "enrolment", "timesheet", "dispute")
COUNTERPARTS: tuple[Counterpart, ...] = ("provider", "consultation_point")


@dataclass(frozen=True)
class Caller:
    """Who calls, reduced to what the rules need (the token's role, subject and scope)."""

    role: str
    subject: str
    provider_id: str | None = None
    region_code: str | None = None
    district_code: str | None = None


@dataclass(frozen=True)
class Subject:
    """The object a thread is attached to, as the projections know it."""

    object_type: ObjectType
    object_id: UUID
    child_id: UUID
    provider_id: UUID | None
    region_code: str | None
    district_code: str | None


class NotAParticipant(Exception):
    """The caller takes no part in this thread (answered as if the thread did not exist)."""


class NoSuchCounterpart(Exception):
    """The object has no such counterpart (an application has no provider; an object without a region)."""


def check_counterpart(subject: Subject, counterpart: Counterpart) -> None:
    if counterpart == "provider" and subject.provider_id is None:
        raise NoSuchCounterpart("this object has no provider to talk to")
    if counterpart == "consultation_point" and subject.region_code is None:
        raise NoSuchCounterpart("this object's region is not known yet")


def side_of(caller: Caller, subject: Subject, counterpart: Counterpart, guardians: Collection[str]) -> Side:
    """The caller's side in the thread, or NotAParticipant."""
    if caller.role == "parent":
        if caller.subject in guardians:
            return "guardian"
    elif caller.role == "provider_staff":
        if (
            counterpart == "provider"
            and subject.provider_id is not None
            and caller.provider_id == str(subject.provider_id)
        ):
            return "provider_staff"
    elif (
        caller.role == "operator"
        and counterpart == "consultation_point"
        and caller.region_code is not None
        and caller.region_code == subject.region_code
        and (caller.district_code is None or caller.district_code == subject.district_code)
    ):
        return "operator"
    raise NotAParticipant("not a participant of this thread")


def other_side(counterpart: Counterpart) -> Side:
    return "provider_staff" if counterpart == "provider" else "operator"


@dataclass(frozen=True)
class Thread:
    thread_id: UUID
    subject: Subject
    counterpart: Counterpart
    started_by_side: Side
    started_at: datetime
