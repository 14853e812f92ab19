"""Composition root of notifications."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.config import NotificationsSettings
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Notifications:
    settings: NotificationsSettings
    context: ServiceContext


def bootstrap(settings: NotificationsSettings, context: ServiceContext) -> Notifications:
    return Notifications(settings=settings, context=context)
