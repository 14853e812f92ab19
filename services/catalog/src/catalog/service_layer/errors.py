"""Use-case failures, mapped to HTTP problems by the entrypoints."""

from __future__ import annotations


class NotFoundError(Exception):
    """Missing, or not the caller's to see (answered the same way)."""


class ConflictError(Exception):
    pass
