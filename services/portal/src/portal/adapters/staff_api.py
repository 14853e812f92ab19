"""The calls the provider and administrator pages make, each one a service's public API with the user's token.

Nothing here decides anything: the functions name the endpoint and unwrap pages (``items``). Rules (who may mark,
what is payable, maker–checker) are the services'; their refusals come back as ``ApiProblem``.
"""

from __future__ import annotations

from typing import Any

from portal.adapters.api_client import ApiClient, ApiProblem

PAGE = {"limit": 100}


def items(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, dict):
        return list(answer.get("items", []))
    return list(answer or [])


# --- catalog: the organisation, its programmes and enrolments --------------------------------------------


async def provider(api: ApiClient, provider_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("catalog", f"/v1/providers/{provider_id}")
    return answer


async def register_provider(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("catalog", "/v1/providers", json=body)
    return answer


async def providers(api: ApiClient, status: str | None = None) -> list[dict[str, Any]]:
    params = {**PAGE, **({"status": status} if status else {})}
    return items(await api.get("catalog", "/v1/providers", params=params))


async def decide_provider(api: ApiClient, provider_id: str, action: str) -> None:
    await api.post("catalog", f"/v1/providers/{provider_id}/decision", json={"action": action})


async def enrolments(api: ApiClient, provider_id: str) -> list[dict[str, Any]]:
    return items(await api.get("catalog", f"/v1/providers/{provider_id}/enrolments", params=PAGE))


async def programmes_of(api: ApiClient, provider_id: str) -> list[dict[str, Any]]:
    """The provider's own programmes, published, suspended and closed alike."""
    return items(await api.get("catalog", f"/v1/providers/{provider_id}/programmes", params=PAGE))


async def programme(api: ApiClient, programme_id: str) -> dict[str, Any] | None:
    """A programme as the public API shows it (None when it is not shown: suspended or closed)."""
    try:
        answer: dict[str, Any] = await api.get("catalog", f"/v1/programmes/{programme_id}")
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise
    return answer


async def expiring_attestations(api: ApiClient, provider_id: str) -> list[dict[str, Any]]:
    return items(await api.get("catalog", f"/v1/providers/{provider_id}/attestations/expiring", params=PAGE))


# --- attendance: a group's month --------------------------------------------------------------------------


async def current_period(api: ApiClient, region_code: str) -> str:
    answer = await api.get("attendance", f"/v1/regions/{region_code}/current-period")
    return str(answer["period"])


async def sheet(api: ApiClient, programme_id: str, period: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("attendance", f"/v1/programmes/{programme_id}/timesheets/{period}")
    return answer


async def child_names(api: ApiClient, provider_id: str, child_ids: list[str]) -> dict[str, str | None]:
    """The display names of the provider's enrolled children (registry), by child id; a child the registry does
    not list for this provider is missing from the answer."""
    names: dict[str, str | None] = {}
    wanted = sorted(set(child_ids))
    for start in range(0, len(wanted), PAGE["limit"]):
        chunk = wanted[start : start + PAGE["limit"]]
        answer = await api.get("registry", f"/v1/providers/{provider_id}/children", params={**PAGE, "child_id": chunk})
        names.update({str(item["id"]): item.get("name") for item in items(answer)})
    return names


async def mark(api: ApiClient, programme_id: str, period: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.call(
        "PUT", "attendance", f"/v1/programmes/{programme_id}/timesheets/{period}/marks", json=body
    )
    return answer


async def submit(api: ApiClient, programme_id: str, period: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("attendance", f"/v1/programmes/{programme_id}/timesheets/{period}/submit")
    return answer


async def timesheets(api: ApiClient, period: str | None = None) -> list[dict[str, Any]]:
    params = {**PAGE, **({"period": period} if period else {})}
    return items(await api.get("attendance", "/v1/timesheets", params=params))


# --- payments: the provider's money; batches ------------------------------------------------------------


async def accruals(api: ApiClient, provider_id: str, period: str | None = None) -> list[dict[str, Any]]:
    params = {**PAGE, **({"period": period} if period else {})}
    return items(await api.get("payments", f"/v1/providers/{provider_id}/accruals", params=params))


async def statement(api: ApiClient, provider_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("payments", f"/v1/providers/{provider_id}/statement")
    return answer


async def payments_of(api: ApiClient, provider_id: str) -> list[dict[str, Any]]:
    return items(await api.get("payments", f"/v1/providers/{provider_id}/payments", params=PAGE))


async def batches(api: ApiClient) -> list[dict[str, Any]]:
    return items(await api.get("payments", "/v1/batches", params=PAGE))


async def batch(api: ApiClient, batch_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("payments", f"/v1/batches/{batch_id}")
    return answer


async def prepare_batch(api: ApiClient, region_code: str, period: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post(
        "payments", "/v1/batches", json={"region_code": region_code, "period": period}
    )
    return answer


async def approve_batch(api: ApiClient, batch_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("payments", f"/v1/batches/{batch_id}/approve")
    return answer


# --- allocation: regions and rounds -----------------------------------------------------------------------


async def regions(api: ApiClient) -> list[dict[str, Any]]:
    return [r.get("config", r) for r in items(await api.get("allocation", "/v1/regions"))]


async def apply_region(api: ApiClient, code: str, config: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.call("PUT", "allocation", f"/v1/regions/{code}", json=config)
    return answer


async def rounds(api: ApiClient) -> list[dict[str, Any]]:
    return items(await api.get("allocation", "/v1/rounds"))


async def round_of(api: ApiClient, round_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("allocation", f"/v1/rounds/{round_id}")
    return answer


async def create_round(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("allocation", "/v1/rounds", json=body)
    return answer


async def simulate_round(api: ApiClient, round_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """What-if: allocation ranks and awards again in memory and answers the difference; nothing is stored."""
    answer: dict[str, Any] = await api.post("allocation", f"/v1/rounds/{round_id}/simulate", json=body)
    return answer


async def round_action(api: ApiClient, round_id: str, action: str, body: dict[str, Any] | None = None) -> None:
    await api.post("allocation", f"/v1/rounds/{round_id}/{action}", json=body)


# --- catalog: the provider's coaches, facilities, attestations and new programmes ----------------------------


async def staff_of(api: ApiClient, provider_id: str) -> list[dict[str, Any]]:
    return items(await api.get("catalog", f"/v1/providers/{provider_id}/staff", params=PAGE))


async def facilities_of(api: ApiClient, provider_id: str) -> list[dict[str, Any]]:
    return items(await api.get("catalog", f"/v1/providers/{provider_id}/facilities", params=PAGE))


async def add_staff(api: ApiClient, provider_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("catalog", f"/v1/providers/{provider_id}/staff", json=body)
    return answer


async def add_facility(api: ApiClient, provider_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("catalog", f"/v1/providers/{provider_id}/facilities", json=body)
    return answer


async def add_attestation(api: ApiClient, provider_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("catalog", f"/v1/providers/{provider_id}/attestations", json=body)
    return answer


async def publish_programme(api: ApiClient, provider_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("catalog", f"/v1/providers/{provider_id}/programmes", json=body)
    return answer


# --- registry: staff accounts -----------------------------------------------------------------------------


async def create_staff(api: ApiClient, username: str, role: str, scope: dict[str, str]) -> dict[str, Any]:
    """A staff account; the answer carries the one-time password and TOTP secret, shown once."""
    body = {"username": username, "role": role, "scope": scope}
    answer: dict[str, Any] = await api.post("registry", "/v1/staff", json=body)
    return answer


async def staff_accounts(api: ApiClient) -> list[dict[str, Any]]:
    """Every staff account's username, role and scope (registry's ``GET /v1/staff``; never a secret)."""
    return items(await api.get("registry", "/v1/staff", params={"limit": 500}))


async def change_staff_access(api: ApiClient, staff_id: str, role: str, scope: dict[str, str]) -> dict[str, Any]:
    """Replace the account's scope and role (registry's ``PATCH /v1/staff/{id}``, audited there)."""
    body = {"role": role, "scope": scope}
    answer: dict[str, Any] = await api.call("PATCH", "registry", f"/v1/staff/{staff_id}", json=body)
    return answer


# --- catalog and conversations: answering families (declining, changing and closing, messages, reviews) -------


async def enrolment(api: ApiClient, enrolment_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("catalog", f"/v1/enrolments/{enrolment_id}")
    return answer


async def decline_enrolment(api: ApiClient, enrolment_id: str, reason: str) -> dict[str, Any]:
    """The provider declines a child (catalog allows it within its decline window of the request, else 409)."""
    answer: dict[str, Any] = await api.post(
        "catalog", f"/v1/enrolments/{enrolment_id}/decline", json={"reason": reason}
    )
    return answer


async def change_programme(api: ApiClient, programme_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Only the fields sent change (catalog's ``PATCH``; a closed programme is a 409)."""
    answer: dict[str, Any] = await api.call("PATCH", "catalog", f"/v1/programmes/{programme_id}", json=changes)
    return answer


async def close_programme(api: ApiClient, programme_id: str) -> dict[str, Any]:
    """No new enrolments; the active ones end (``programme_closed``); the answer counts them."""
    answer: dict[str, Any] = await api.post("catalog", f"/v1/programmes/{programme_id}/close")
    return answer


async def reviews_of(api: ApiClient, programme_id: str) -> list[dict[str, Any]]:
    return items(await api.get("catalog", f"/v1/programmes/{programme_id}/reviews", params=PAGE))


async def answer_review(api: ApiClient, review_id: str, text: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.post("catalog", f"/v1/reviews/{review_id}/answer", json={"text": text})
    return answer


async def threads(api: ApiClient) -> list[dict[str, Any]]:
    return items(await api.get("conversations", "/v1/threads", params=PAGE))


async def thread(api: ApiClient, thread_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await api.get("conversations", f"/v1/threads/{thread_id}")
    return answer


async def thread_messages(api: ApiClient, thread_id: str) -> list[dict[str, Any]]:
    return items(await api.get("conversations", f"/v1/threads/{thread_id}/messages", params=PAGE))


async def post_message(api: ApiClient, thread_id: str, language: str, text: str) -> dict[str, Any]:
    body = {"language": language, "text": text}
    answer: dict[str, Any] = await api.post("conversations", f"/v1/threads/{thread_id}/messages", json=body)
    return answer


async def mark_thread_read(api: ApiClient, thread_id: str) -> None:
    await api.post("conversations", f"/v1/threads/{thread_id}/read")
