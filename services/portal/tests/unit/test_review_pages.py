"""The operators' review pages' own behaviour, the network under the API client replaced (the real registry is driven
by tests/browser/test_operator_journey.py): the queue of categories as registry scopes it, the evidence document
streamed through, decisions and checks sent as registry takes them, assisted registration and its confirmation code,
registry's refusals next to the field they name in the page's language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.i18n import catalogue
from tests.support.portal_pages import FakeApis, csrf, portal_client, staff_tokens, submit_staff_sign_in

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]
CLAIM_ID = "c1a10000-0000-4000-8000-000000000001"
CHILD_ID = "c41d0000-0000-4000-8000-000000000004"
CHANGE_ID = "c4a90000-0000-4000-8000-000000000005"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
REGION = {
    "code": "astana",
    "name": {"en": "Astana", "kk": "Астана", "ru": "Астана"},
    "districts": [{"code": "yesil", "name": {"en": "Yesil district", "kk": "Есіл ауданы", "ru": "район Есиль"}}],
}
CLAIM = {
    "id": CLAIM_ID,
    "child_id": CHILD_ID,
    "code": "large_family",
    "status": "declared",
    "valid_from": None,
    "valid_until": None,
    "decided_by": None,
    "reason": None,
    "declared_at": "2026-12-01T09:30:00+00:00",
    "decided_at": None,
    "region_code": "astana",
    "district_code": "yesil",
    "child_iin_masked": "********0123",
}
QUEUE = {"items": [CLAIM], "total": 1, "offset": 0, "limit": 50}


Services = FakeApis


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def portal(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    with portal_client(tmp_path, services, language="ru") as client:
        yield client


def sign_in(
    portal: TestClient, services: Services, role: str = "operator", scope: dict[str, str] | None = None
) -> None:
    tokens = staff_tokens(role, {"region": "astana"} if scope is None else scope, "op-1")
    services.on("POST", "/v1/auth/staff/login", 200, tokens)
    submit_staff_sign_in(portal)


RU = catalogue("ru")


def test_the_operator_sees_the_regions_queue_with_each_child_masked(portal: TestClient, services: Services) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/review/categories", 200, QUEUE)
    page = portal.get("/admin/categories")
    assert page.status_code == 200
    assert "********0123" in page.text and RU["category.large_family"] in page.text and "2026-12-01" in page.text
    assert f'href="/admin/categories/{CLAIM_ID}"' in page.text
    assert RU["review.nav.categories"] in page.text and RU["review.nav.assisted"] in page.text
    request = next(r for r in services.seen if r.url.path == "/v1/review/categories")
    assert request.headers["authorization"].startswith("Bearer header.")  # the operator's own token: registry scopes


def test_an_empty_queue_and_an_administrator_refused_by_registry_are_told_so(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/review/categories", 200, {"items": [], "total": 0, "offset": 0, "limit": 50})
    assert RU["review.categories.none"] in portal.get("/admin/categories").text
    sign_in(portal, services, "administrator", {})
    services.on("GET", "/v1/review/categories", 403, {"status": 403, "title": "Forbidden"})
    page = portal.get("/admin/categories")
    assert page.status_code == 200 and RU["review.categories.operators_only"] in page.text


def test_the_evidence_is_streamed_through_as_registry_serves_it_and_never_cached(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    disposition = f'attachment; filename="evidence-{CHILD_ID}.png"'
    services.routes[("GET", f"/v1/categories/{CLAIM_ID}/evidence")] = lambda _: httpx.Response(
        200,
        content=PNG,
        headers={"content-type": "image/png", "content-disposition": disposition, "x-content-type-options": "nosniff"},
    )
    answer = portal.get(f"/admin/categories/{CLAIM_ID}/evidence")
    assert answer.status_code == 200 and answer.content == PNG
    assert answer.headers["content-type"] == "image/png" and answer.headers["cache-control"] == "no-store"
    assert (
        answer.headers["content-disposition"] == disposition and answer.headers["x-content-type-options"] == "nosniff"
    )
    services.on("GET", f"/v1/categories/{CLAIM_ID}/evidence", 404, {"status": 404, "title": "no such claim"})
    assert portal.get(f"/admin/categories/{CLAIM_ID}/evidence").status_code == 404


def test_a_claim_is_verified_with_its_validity_or_rejected_with_a_reason(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/review/categories", 200, QUEUE)
    page = portal.get(f"/admin/categories/{CLAIM_ID}")
    assert page.status_code == 200 and "********0123" in page.text and 'type="date"' in page.text
    services.on("POST", f"/v1/categories/{CLAIM_ID}/verify", 200, {})
    form = {"decision": "verify", "valid_from": "", "valid_until": "2027-08-31", "reason": "", "csrf": csrf(portal)}
    done = portal.post(f"/admin/categories/{CLAIM_ID}/decision", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/categories?verified={CLAIM_ID}"
    assert services.sent("POST", f"/v1/categories/{CLAIM_ID}/verify") == {
        "valid_from": None,
        "valid_until": "2027-08-31",
        "reason": None,
    }
    services.on("POST", f"/v1/categories/{CLAIM_ID}/reject", 200, {})
    form = {"decision": "reject", "valid_from": "2026-01-01", "reason": "справка просрочена", "csrf": csrf(portal)}
    done = portal.post(f"/admin/categories/{CLAIM_ID}/decision", data=form, follow_redirects=False)
    assert done.headers["location"] == f"/admin/categories?rejected={CLAIM_ID}"
    assert services.sent("POST", f"/v1/categories/{CLAIM_ID}/reject") == {"reason": "справка просрочена"}


def test_registrys_refusal_of_a_decision_lands_next_to_the_field(portal: TestClient, services: Services) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/review/categories", 200, QUEUE)
    problem = {"status": 422, "errors": [{"field": "valid_until", "type": "before_valid_from", "message": "x"}]}
    services.on("POST", f"/v1/categories/{CLAIM_ID}/verify", 422, problem)
    form = {"decision": "verify", "valid_from": "2027-01-01", "valid_until": "2026-01-01", "csrf": csrf(portal)}
    page = portal.post(f"/admin/categories/{CLAIM_ID}/decision", data=form)
    assert page.status_code == 422
    assert f'<p class="field-error" id="valid_until-error">{RU["errors.review_before_valid_from"]}' in page.text
    assert 'aria-describedby="valid_until-hint valid_until-error"' in page.text and 'value="2026-01-01"' in page.text
    services.on("POST", f"/v1/categories/{CLAIM_ID}/verify", 409, {"status": 409, "title": "already decided"})
    page = portal.post(f"/admin/categories/{CLAIM_ID}/decision", data=form)
    assert page.status_code == 409 and RU["errors.conflict"] in page.text
    services.on("GET", "/v1/review/categories", 200, {"items": [], "total": 0, "offset": 0, "limit": 50})
    page = portal.post(f"/admin/categories/{CLAIM_ID}/decision", data=form)  # decided meanwhile: the queue, told so
    assert page.status_code == 409 and RU["errors.conflict"] in page.text and RU["review.categories.none"] in page.text


def test_a_claim_not_in_the_operators_queue_is_not_found(portal: TestClient, services: Services) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/review/categories", 200, {"items": [], "total": 0, "offset": 0, "limit": 50})
    assert portal.get(f"/admin/categories/{CLAIM_ID}").status_code == 404


def test_the_state_registry_check_verifies_or_says_what_it_answered(portal: TestClient, services: Services) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/review/categories", 200, QUEUE)
    checked = {"id": CLAIM_ID, "code": "large_family", "valid_from": None, "valid_until": None}
    services.on("POST", f"/v1/categories/{CLAIM_ID}/check", 200, checked | {"status": "verified", "confirmed": True})
    done = portal.post(f"/admin/categories/{CLAIM_ID}/check", data={"csrf": csrf(portal)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/categories?verified={CLAIM_ID}&checked=1"
    services.on("POST", f"/v1/categories/{CLAIM_ID}/check", 200, checked | {"status": "declared", "confirmed": False})
    page = portal.post(f"/admin/categories/{CLAIM_ID}/check", data={"csrf": csrf(portal)})
    assert page.status_code == 200 and RU["review.claim.check_not_confirmed"] in page.text
    services.on("POST", f"/v1/categories/{CLAIM_ID}/check", 502, {"status": 502, "title": "state registry"})
    page = portal.post(f"/admin/categories/{CLAIM_ID}/check", data={"csrf": csrf(portal)})
    assert page.status_code == 503 and RU["errors.review_state_registry_down"] in page.text


def test_a_verified_claims_validity_is_amended_with_both_dates_and_a_reason(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    assert 'action="/admin/categories/' in portal.get(f"/admin/categories/{CLAIM_ID}/amend").text
    services.on("POST", f"/v1/categories/{CLAIM_ID}/amend", 200, {})
    form = {"valid_from": "", "valid_until": "2027-05-31", "reason": "справка короче", "csrf": csrf(portal)}
    done = portal.post(f"/admin/categories/{CLAIM_ID}/amend", data=form, follow_redirects=False)
    assert done.headers["location"] == f"/admin/categories?amended={CLAIM_ID}"
    assert services.sent("POST", f"/v1/categories/{CLAIM_ID}/amend") == {
        "valid_from": None,
        "valid_until": "2027-05-31",
        "reason": "справка короче",
    }
    services.on("POST", f"/v1/categories/{CLAIM_ID}/amend", 409, {"status": 409, "title": "not verified"})
    page = portal.post(f"/admin/categories/{CLAIM_ID}/amend", data=form)
    assert page.status_code == 409 and RU["errors.review_not_verified"] in page.text


def test_an_assisted_registration_sends_the_parents_code_and_refusals_land_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    page = portal.get("/admin/assisted")
    assert page.status_code == 200 and '<option value="astana" selected>' in page.text
    form = {"parent_iin": "900101300017 ", "iin": "180905600123", "region_code": "astana", "district_code": "yesil"}
    problem = {"status": 422, "errors": [{"field": "parent_iin", "type": "person_not_registered", "message": "x"}]}
    services.on("POST", "/v1/assisted/children", 422, problem)
    refused = portal.post("/admin/assisted", data=form | {"csrf": csrf(portal)})
    assert refused.status_code == 422
    assert f'id="parent_iin-error">{RU["errors.review_person_not_registered"]}' in refused.text
    services.on("POST", "/v1/assisted/children", 202, {"change_id": CHANGE_ID})
    started = portal.post(
        "/admin/assisted", data=form | {"declared_sex": "F", "csrf": csrf(portal)}, follow_redirects=False
    )
    assert started.status_code == 303 and started.headers["location"] == f"/admin/assisted/{CHANGE_ID}"
    assert services.sent("POST", "/v1/assisted/children") == {
        "parent_iin": "900101300017",
        "iin": "180905600123",
        "region_code": "astana",
        "district_code": "yesil",
        "declared_sex": "F",
    }
    missing = portal.post("/admin/assisted", data={"csrf": csrf(portal)})
    assert (
        missing.status_code == 422 and 'id="iin-error"' in missing.text and 'id="district_code-error"' in missing.text
    )


def test_the_operator_types_the_parents_code_a_wrong_one_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    pending = portal.get(f"/admin/assisted/{CHANGE_ID}")
    assert pending.status_code == 200 and pending.headers["cache-control"] == "no-store"
    assert RU["review.assisted_confirm.code"] in pending.text
    confirm = f"/v1/assisted/{CHANGE_ID}/confirm"
    problem = {"status": 422, "errors": [{"field": "code", "type": "code_invalid", "message": "wrong"}]}
    services.on("POST", confirm, 422, problem)
    wrong = portal.post(f"/admin/assisted/{CHANGE_ID}", data={"code": "000000", "csrf": csrf(portal)})
    assert wrong.status_code == 422 and f'id="code-error">{RU["errors.code_wrong"]}' in wrong.text
    child = {
        "id": CHILD_ID,
        "iin_masked": "********0123",
        "birth_date": "2018-09-05",
        "sex": "F",
        "region_code": "astana",
        "district_code": "yesil",
    }
    services.on("POST", confirm, 200, child)
    done = portal.post(f"/admin/assisted/{CHANGE_ID}", data={"code": " 123456 ", "csrf": csrf(portal)})
    assert done.status_code == 200 and "********0123" in done.text and RU["review.assisted_done.done"] in done.text
    assert services.sent("POST", confirm) == {"code": "123456"}
    services.on("POST", confirm, 404, {"status": 404, "title": "no such pending change"})
    gone = portal.post(f"/admin/assisted/{CHANGE_ID}", data={"code": "123456", "csrf": csrf(portal)})
    assert gone.status_code == 422 and RU["errors.review_no_pending_change"] in gone.text
