"""The calls the oversight pages make (disputes, risk flags, records to check, reconciliation, audit trails), each one
a service's public API with the signed-in person's token.

Nothing here decides anything: who sees which dispute or flag (an operator their region's), who may resolve or
review, what a finding is and whether a trail verifies are the services' answers.
"""

from __future__ import annotations

from typing import Any

from portal.adapters.api_client import ApiClient

AUDITED_SERVICES = ("registry", "payments")
"""The services that keep an audit trail (``audit_trail = True``) and so answer ``/v1/audit/…``."""


def _page(answer: Any) -> dict[str, Any]:
    """A chassis page (``items``, ``total``, ``limit``, ``offset``) as a dict, whatever came back."""
    return answer if isinstance(answer, dict) else {"items": list(answer or []), "total": len(answer or [])}


# --- attendance: disputes --------------------------------------------------------------------------------


async def disputes(api: ApiClient, status: str | None, offset: int, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset, **({"status": status} if status else {})}
    return _page(await api.get("attendance", "/v1/disputes", params=params))


async def timesheet(api: ApiClient, timesheet_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("attendance", f"/v1/timesheets/{timesheet_id}")
    return answer


async def resolve_dispute(api: ApiClient, dispute_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("attendance", f"/v1/disputes/{dispute_id}/resolve", json=body)
    return answer


# --- attendance: risk flags ------------------------------------------------------------------------------


async def risk_flags(api: ApiClient, filters: dict[str, str], offset: int, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {**{k: v for k, v in filters.items() if v}, "limit": limit, "offset": offset}
    return _page(await api.get("attendance", "/v1/risk-flags", params=params))


async def risk_flag(api: ApiClient, flag_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("attendance", f"/v1/risk-flags/{flag_id}")
    return answer


async def review_risk_flag(api: ApiClient, flag_id: str, outcome: str, note: str) -> dict[str, Any]:
    body = {"outcome": outcome, "note": note}
    answer: dict[str, Any] = await api.post("attendance", f"/v1/risk-flags/{flag_id}/review", json=body)
    return answer


# --- registry: records whose declared data disagrees with the IIN ------------------------------------------


async def records_to_check(api: ApiClient, offset: int, limit: int) -> dict[str, Any]:
    return _page(await api.get("registry", "/v1/review/flags", params={"limit": limit, "offset": offset}))


async def clear_record_flags(api: ApiClient, entity: str, row_id: str) -> None:
    await api.post("registry", f"/v1/review/flags/{entity}/{row_id}/clear")


# --- payments: reconciliation ------------------------------------------------------------------------------


async def reconciliation(api: ApiClient, region_code: str, period: str) -> dict[str, Any]:
    params = {k: v for k, v in (("region_code", region_code), ("period", period)) if v}
    answer: dict[str, Any] = await api.get("payments", "/v1/reconciliation", params=params)
    return answer


# --- audit trails ------------------------------------------------------------------------------------------


async def audit_entries(api: ApiClient, service: str, filters: dict[str, str], limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {**{k: v for k, v in filters.items() if v}, "limit": limit}
    answer: dict[str, Any] = await api.get(service, "/v1/audit/entries", params=params)
    return answer


async def audit_verification(api: ApiClient, service: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get(service, "/v1/audit/verify")
    return answer
