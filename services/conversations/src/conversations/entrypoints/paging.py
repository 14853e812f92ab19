"""A use case's page as the HTTP answer: the chassis's ``OffsetPage`` (``items``, ``total``, ``offset``, ``limit``)."""

from __future__ import annotations

from typing import TypeVar

from conversations.service_layer.paging import Page
from qosym_chassis.inputs import OffsetPage

T = TypeVar("T")


def offset_page(page: Page[T]) -> OffsetPage[T]:
    return OffsetPage[T](items=page.items, total=page.total, offset=page.offset, limit=page.limit)
