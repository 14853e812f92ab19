"""A rate-limit refusal as the HTTP answer: 429 problem+json with Retry-After."""

from __future__ import annotations

from fastapi import Response

from qosym_chassis.errors import problem_response
from registry.service_layer.limits import RateLimited


def too_many(refused: RateLimited) -> Response:
    response = problem_response(429, "Too many requests", refused.detail, type_="rate-limited")
    response.headers["Retry-After"] = str(refused.retry_after)
    return response
