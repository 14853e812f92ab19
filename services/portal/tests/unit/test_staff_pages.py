"""The provider's and administrator's pages' own behaviour, with the network under the API client replaced (the
real services are driven by tests/browser/test_provider_*.py and test_admin_*.py): what each form sends to which
API, problem+json next to its field in the page's language, maker–checker refusals as a message, the pain.001
file passed through as a download."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.entrypoints.pages import tenge
from portal.entrypoints.staff_format import shift_period
from portal.i18n import catalogue
from tests.support.portal_pages import (
    FakeApis,
    access_token,
    csrf,
    portal_client,
    staff_tokens,
    submit_staff_sign_in,
)

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]
PROVIDER_ID = "5b1f0c1e-0000-4000-8000-000000000001"
PROGRAMME_ID = "5b1f0c1e-0000-4000-8000-000000000002"
ENROLMENT_ID = "5b1f0c1e-0000-4000-8000-000000000003"
CHILD_ID = "c41d0000-0000-4000-8000-000000000004"
REGION = {
    "code": "astana",
    "name": {"en": "Astana", "kk": "Астана", "ru": "Астана"},
    "districts": [{"code": "yesil", "name": {"en": "Yesil district", "kk": "Есіл ауданы", "ru": "район Есиль"}}],
    "directions": ["sports"],
}


Services = FakeApis


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def portal(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    with portal_client(tmp_path, services) as client:
        yield client


def sign_in(portal: TestClient, services: Services, role: str, scope: dict[str, str], subject: str = "s-1") -> None:
    services.on("POST", "/v1/auth/staff/login", 200, staff_tokens(role, scope, subject))
    submit_staff_sign_in(portal)


def test_money_reads_as_tenge_and_months_shift_across_years() -> None:
    assert tenge(123_456_789) == "1\u202f234\u202f567,89 ₸"
    assert tenge(5) == "0,05 ₸"
    assert (shift_period("2026-01", -1), shift_period("2026-12", 1)) == ("2025-12", "2027-01")


def test_a_provider_without_an_organisation_registers_one_and_errors_land_next_to_their_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "provider_staff", {})
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    page = portal.get("/provider")
    assert page.status_code == 200 and 'action="/provider/register"' in page.text
    problem = {"status": 422, "errors": [{"field": "bank.iban", "type": "invalid", "message": "bad IBAN"}]}
    services.on("POST", "/v1/providers", 422, problem)
    form = {
        "name": "Club",
        "bin": "080540014021",
        "region_code": "astana",
        "district_code": "yesil",
        "address": "Kabanbay Batyr 45",
        "phone": "+7 701 000 00 00",
        "email": "",
        "bank_name": "Halyk",
        "bik": "HSBKKZKX",
        "iban": "KZ86 125K ZT50 0410 0100",
        "csrf": csrf(portal),
    }
    refused = portal.post("/provider/register", data=form)
    assert refused.status_code == 422
    assert '<p class="field-error" id="iban-error">' in refused.text
    assert catalogue("kk")["errors.invalid"] in refused.text
    assert services.sent("POST", "/v1/providers") == {
        "name": "Club",
        "bin": "080540014021",
        "region_code": "astana",
        "district_code": "yesil",
        "address": "Kabanbay Batyr 45",
        "contacts": {"phone": "+7 701 000 00 00"},
        "bank": {"bank_name": "Halyk", "bik": "HSBKKZKX", "iban": "KZ86125KZT5004100100"},
    }
    services.on("POST", "/v1/providers", 201, {"id": PROVIDER_ID, "name": "Club", "status": "pending"})
    done = portal.post("/provider/register", data=form)
    assert done.status_code == 200 and PROVIDER_ID in done.text
    assert catalogue("kk")["provider.status.pending"] in done.text


def sheet(status: str = "draft") -> dict[str, object]:
    session = {"date": "2026-11-03", "starts_at": "16:00:00", "ends_at": "17:00:00", "closure": None}
    return {
        "programme_id": PROGRAMME_ID,
        "period": "2026-11",
        "timezone": "Asia/Almaty",
        "rules_revision": 0,
        "closure_days": [],
        "sessions": [session],
        "enrolments": [
            {
                "enrolment_id": ENROLMENT_ID,
                "child_id": CHILD_ID,
                "timesheet_id": None,
                "status": status,
                "first_day": "2026-11-01",
                "last_day": None,
                "marks": [],
                "unmarked": [session],
            }
        ],
    }


def test_a_group_is_marked_in_one_click_and_single_sessions_are_sent_as_marks(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    path = f"/v1/programmes/{PROGRAMME_ID}/timesheets/2026-11"
    services.on("GET", path, 200, sheet())
    services.on("PUT", f"{path}/marks", 200, sheet())
    page = portal.get(f"/provider/programmes/{PROGRAMME_ID}/attendance/2026-11")
    cell = f"mark:{ENROLMENT_ID}:2026-11-03:16:00"
    assert page.status_code == 200 and f'name="{cell}"' in page.text
    url = f"/provider/programmes/{PROGRAMME_ID}/attendance/2026-11"
    assert portal.post(f"{url}/all", data={"csrf": csrf(portal)}, follow_redirects=False).status_code == 303
    assert services.sent("PUT", f"{path}/marks") == {"all_scheduled": "attended"}
    services.seen.clear()
    form = {cell: "absent", "csrf": csrf(portal)}
    assert portal.post(f"{url}/marks", data=form, follow_redirects=False).status_code == 303
    assert services.sent("PUT", f"{path}/marks") == {
        "marks": [{"enrolment_id": ENROLMENT_ID, "date": "2026-11-03", "starts_at": "16:00", "status": "absent"}]
    }
    assert portal.get(f"/provider/programmes/{PROGRAMME_ID}/attendance/26-11").status_code == 400  # not a month


OTHER_CHILD_ID = "c41d0000-0000-4000-8000-000000000005"


def two_children() -> dict[str, object]:
    group = sheet()
    enrolments = group["enrolments"]
    assert isinstance(enrolments, list)
    second = {**enrolments[0], "enrolment_id": "5b1f0c1e-0000-4000-8000-000000000006", "child_id": OTHER_CHILD_ID}
    return {**group, "enrolments": [*enrolments, second]}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_coach_sees_each_childs_name_from_the_registry_or_a_short_id(
    portal: TestClient, services: Services, language: str
) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    portal.cookies.set("qosym_lang", language)
    services.on("GET", f"/v1/programmes/{PROGRAMME_ID}/timesheets/2026-11", 200, two_children())
    names = f"/v1/providers/{PROVIDER_ID}/children"
    services.on(
        "GET", names, 200, {"items": [{"id": CHILD_ID, "name": "Aigerim S."}, {"id": OTHER_CHILD_ID, "name": None}]}
    )
    page = portal.get(f"/provider/programmes/{PROGRAMME_ID}/attendance/2026-11")
    assert page.status_code == 200
    assert '<span class="child-name">Aigerim S.</span>' in page.text
    fallback = catalogue(language)["provider.attendance.child"].format(id=OTHER_CHILD_ID[:8])
    assert f'<span class="child-name">{fallback}</span>' in page.text
    asked = next(r for r in services.seen if r.url.path == names)
    assert sorted(asked.url.params.get_list("child_id")) == [CHILD_ID, OTHER_CHILD_ID]
    assert asked.headers["authorization"] == f"Bearer {access_token({'provider': PROVIDER_ID})}"  # the coach's own
    assert catalogue(language)["provider.attendance.names_unavailable"] not in page.text


def test_without_the_registry_the_month_is_still_marked_by_short_id(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    services.on("GET", f"/v1/programmes/{PROGRAMME_ID}/timesheets/2026-11", 200, sheet())
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/children", 503, {"title": "Unavailable", "status": 503})
    page = portal.get(f"/provider/programmes/{PROGRAMME_ID}/attendance/2026-11")
    assert page.status_code == 200
    assert catalogue("kk")["provider.attendance.child"].format(id=CHILD_ID[:8]) in page.text
    assert catalogue("kk")["provider.attendance.names_unavailable"] in page.text


def test_the_provider_sees_accruals_by_month(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    accrual = {
        "accrual_id": "a-1",
        "period": "2026-11",
        "child_id": CHILD_ID,
        "enrolment_id": ENROLMENT_ID,
        "programme_id": PROGRAMME_ID,
        "voucher_id": "v-1",
        "amount_tiyn": 1_234_567,
        "payable_sessions": 8,
        "planned_sessions": 8,
        "price_per_month_tiyn": 1_234_567,
        "status": "accrued",
        "batch_id": None,
        "paid_at": None,
        "treasury_reference": None,
        "posted_at": "2026-12-02T10:00:00Z",
    }
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/accruals", 200, {"items": [accrual]})
    months = [{"period": "2026-11", "accrued_tiyn": 1_234_567, "paid_tiyn": 0, "children": []}]
    statement = {"provider_id": PROVIDER_ID, "payable_balance_tiyn": 1_234_567, "months": months}
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/statement", 200, statement)
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/payments", 200, {"items": []})
    portal.cookies.set("qosym_lang", "ru")
    page = portal.get("/provider/money?period=2026-11")
    assert page.status_code == 200
    assert "12\u202f345,67 ₸" in page.text and catalogue("ru")["provider.accrual_status.accrued"] in page.text
    assert next(r for r in services.seen if r.url.path.endswith("/accruals")).url.params["period"] == "2026-11"


def test_a_region_file_is_read_as_yaml_and_sent_to_allocation(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator", {})
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    services.on("PUT", "/v1/regions/steppe", 201, {"code": "steppe", "revision": 1})
    text = "code: steppe\nname: {en: Steppe, kk: Дала, ru: Степь}\nvoucher: {months: 9}\nfrom: 2026-09-01\n"
    files = {"file": ("steppe.yaml", text.encode(), "application/yaml")}
    done = portal.post("/admin/regions", data={"csrf": csrf(portal)}, files=files, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/regions?applied=steppe"
    assert services.sent("PUT", "/v1/regions/steppe") == {
        "code": "steppe",
        "name": {"en": "Steppe", "kk": "Дала", "ru": "Степь"},
        "voucher": {"months": 9},
        "from": "2026-09-01",
    }
    problem = {"status": 422, "errors": [{"field": "body.voucher.months", "type": "greater_than", "message": "> 0"}]}
    services.on("PUT", "/v1/regions/steppe", 422, problem)
    refused = portal.post("/admin/regions", data={"csrf": csrf(portal)}, files=files)
    assert refused.status_code == 422 and '<p class="field-error" id="file-error">' in refused.text
    assert "<code>voucher.months</code>" in refused.text
    broken = {"file": ("x.yaml", b"code: [unclosed", "application/yaml")}
    unreadable = portal.post("/admin/regions", data={"csrf": csrf(portal)}, files=broken)
    assert unreadable.status_code == 422 and catalogue("kk")["errors.yaml_invalid"] in unreadable.text


BATCH = {
    "batch_id": "b-1",
    "region_code": "astana",
    "period": "2026-11",
    "status": "prepared",
    "prepared_by": "s-1",
    "approved_by": None,
    "providers": 1,
    "total_tiyn": 100,
    "prepared_at": "2026-12-02T10:00:00Z",
    "order_sha256": None,
    "approved_at": None,
    "paid_at": None,
    "items": [],
    "held_back_providers": [],
}


def test_the_maker_is_told_another_administrator_approves(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator", {}, subject="s-1")
    services.on("GET", "/v1/batches/b-1", 200, BATCH)
    problem = {"status": 403, "detail": "the maker of a batch cannot approve it"}
    services.on("POST", "/v1/batches/b-1/approve", 403, problem)
    portal.cookies.set("qosym_lang", "en")
    page = portal.post("/admin/batches/b-1/approve", data={"csrf": csrf(portal)})
    assert page.status_code == 403
    assert catalogue("en")["errors.batch_own"] in page.text


def test_the_payment_order_is_a_download(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator", {})
    xml = b"<?xml version='1.0'?><Document/>"
    services.routes[("GET", "/v1/batches/b-1/payment-order")] = lambda _: httpx.Response(
        200, content=xml, headers={"content-type": "application/xml", "x-content-sha256": "abc"}
    )
    answer = portal.get("/admin/batches/b-1/payment-order")
    assert answer.status_code == 200 and answer.content == xml
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-sha256"] == "abc"


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_provider_home_shows_organisation_programmes_enrolments_and_lapsing_attestations(
    portal: TestClient, services: Services, language: str
) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    organisation = {
        "id": PROVIDER_ID,
        "bin": "080540014021",
        "name": "Barys",
        "region_code": "astana",
        "district_code": "yesil",
        "address": "Kabanbay Batyr 45",
        "contacts": {},
        "bank": {"iban": "KZ86125KZT5004100100"},
        "status": "verified",
        "status_reason": None,
    }
    services.on("GET", f"/v1/providers/{PROVIDER_ID}", 200, organisation)
    enrolment = {
        "id": ENROLMENT_ID,
        "programme_id": PROGRAMME_ID,
        "provider_id": PROVIDER_ID,
        "child_id": CHILD_ID,
        "status": "confirmed",
        "reason": None,
        "voucher_id": None,
        "requested_at": "2026-11-02T10:00:00Z",
        "confirmed_at": "2026-11-02T10:01:00Z",
        "ended_at": None,
    }
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/enrolments", 200, {"items": [enrolment]})
    title = {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"}
    programme = {"id": PROGRAMME_ID, "title": title, "direction": "sports", "price_per_month_tiyn": 1_200_000}
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/programmes", 200, {"items": [programme]})
    lapsing = {"subject_type": "facility", "subject_id": "f-1", "name": "Hall 1", "kind": "fire"}
    lapsing |= {"valid_until": "2026-12-01", "expired": True}
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/attestations/expiring", 200, {"items": [lapsing]})
    services.on("GET", "/v1/regions/astana/current-period", 200, {"period": "2027-01"})
    portal.cookies.set("qosym_lang", language)
    page = portal.get("/provider")
    words = catalogue(language)
    assert page.status_code == 200
    assert "Barys" in page.text and title[language] in page.text
    assert words["provider.enrolment_status.confirmed"] in page.text
    assert words["provider.attestation.fire"] in page.text and words["provider.expiring.expired"] in page.text
    assert f"/provider/programmes/{PROGRAMME_ID}/attendance/2026-12" in page.text  # last month, across the year


def test_the_administrators_pages_render_rounds_batches_and_providers(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator", {})
    a_round = {"round_id": "r-1", "region_code": "astana", "name": "Autumn", "state": "open", "awarded_count": 0}
    services.on("GET", "/v1/rounds", 200, {"items": [a_round]})
    services.on("GET", "/v1/batches", 200, {"items": [BATCH]})
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    pending = {"id": PROVIDER_ID, "name": "Barys", "bin": "080540014021", "region_code": "astana"}
    pending |= {"district_code": "yesil", "status": "pending"}
    services.on("GET", "/v1/providers", 200, {"items": [pending]})
    en = catalogue("en")
    portal.cookies.set("qosym_lang", "en")
    home = portal.get("/admin")
    assert home.status_code == 200 and 'action="/admin/rounds/r-1/close"' in home.text
    listed = portal.get("/admin/batches")
    assert listed.status_code == 200 and "/admin/batches/b-1" in listed.text and "1 ₸" in listed.text
    providers = portal.get("/admin/providers")
    assert providers.status_code == 200 and f"{en['admin.providers.verify']}: Barys" in providers.text
    services.on("POST", "/v1/rounds/r-1/close", 422, {"errors": [{"field": "reason", "type": "missing"}]})
    refused = portal.post("/admin/rounds/r-1/close", data={"csrf": csrf(portal)})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    services.on("POST", "/v1/batches", 409, {"status": 409, "detail": "nothing to pay"})
    nothing = portal.post("/admin/batches", data={"region_code": "astana", "period": "2026-11", "csrf": csrf(portal)})
    assert nothing.status_code == 409 and en["errors.batch_nothing_to_pay"] in nothing.text
    wrong = portal.post("/admin/batches", data={"region_code": "astana", "period": "11.2026", "csrf": csrf(portal)})
    assert wrong.status_code == 422 and 'id="period-error"' in wrong.text


COACH_ID = "5b1f0c1e-0000-4000-8000-000000000005"
HALL_ID = "5b1f0c1e-0000-4000-8000-000000000006"


def team_apis(services: Services) -> None:
    staff = {"id": COACH_ID, "full_name": "Aigerim S.", "role": "coach", "iin_masked": "********0017"}
    hall = {"id": HALL_ID, "name": "Hall 1", "address": "Kabanbay Batyr 45", "capacity": 30}
    page = {"total": 1, "limit": 100, "offset": 0}
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/staff", 200, {"items": [staff], **page})
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/facilities", 200, {"items": [hall], **page})
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/attestations/expiring", 200, {"items": [], **page, "total": 0})


def test_coaches_facilities_and_attestations_are_catalogs_and_its_refusals_land_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    team_apis(services)
    page = portal.get("/provider/team")
    assert page.status_code == 200 and "Aigerim S." in page.text and f'value="facility:{HALL_ID}"' in page.text
    problem = {"status": 422, "errors": [{"field": "iin", "type": "iin_checksum", "message": "bad"}]}
    services.on("POST", f"/v1/providers/{PROVIDER_ID}/staff", 422, problem)
    form = {"full_name": "Ruslan", "iin": "900101300018", "role": "coach", "csrf": csrf(portal)}
    refused = portal.post("/provider/team/staff", data=form)
    assert refused.status_code == 422 and '<p class="field-error" id="iin-error">' in refused.text
    assert catalogue("kk")["errors.iin_checksum"] in refused.text
    attestation = {
        "subject_id": f"facility:{HALL_ID}",
        "kind": "fire",
        "number": "F-1",
        "valid_until": "2027-06-30",
        "csrf": csrf(portal),
    }
    services.on("POST", f"/v1/providers/{PROVIDER_ID}/attestations", 201, {"id": "a-1"})
    saved = portal.post("/provider/team/attestations", data=attestation, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/provider/team?saved=attestation"
    assert services.sent("POST", f"/v1/providers/{PROVIDER_ID}/attestations") == {
        "subject_type": "facility",
        "subject_id": HALL_ID,
        "kind": "fire",
        "number": "F-1",
        "valid_until": "2027-06-30",
    }


def test_a_programme_is_sent_as_catalog_takes_it_and_published_or_refused_next_to_its_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "provider_staff", {"provider": PROVIDER_ID})
    team_apis(services)
    organisation = {"id": PROVIDER_ID, "region_code": "astana", "district_code": "yesil", "address": "Kabanbay 45"}
    services.on("GET", f"/v1/providers/{PROVIDER_ID}", 200, organisation)
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    assert 'name="coach_ids"' in portal.get("/provider/programmes/new").text
    form = {
        "title_kk": "Жүзу",
        "title_ru": "Плавание",
        "title_en": "Swimming",
        "direction": "sports",
        "language": "ru",
        "age_min": "6",
        "age_max": "12",
        "weekday": ["2", "4"],
        "start": "16:00",
        "end": "17:00",
        "sessions_per_month": "8",
        "price": "12000",
        "capacity": "10",
        "district_code": "yesil",
        "address": "Kabanbay 45",
        "lat": "51,1282",
        "lon": "71.4304",
        "coach_ids": [COACH_ID],
        "facility_id": HALL_ID,
        "csrf": csrf(portal),
    }
    path = f"/v1/providers/{PROVIDER_ID}/programmes"
    problem = {"status": 409, "errors": [{"field": "coach_ids", "type": "attestation", "message": "lapsed"}]}
    services.on("POST", path, 409, problem)
    refused = portal.post("/provider/programmes/new", data=form)
    assert refused.status_code == 422 and 'id="coach_ids-error"' in refused.text
    assert services.sent("POST", path) == {
        "direction": "sports",
        "title": {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"},
        "description": {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"},
        "age_min": 6,
        "age_max": 12,
        "language": "ru",
        "schedule": [
            {"weekday": 2, "start": "16:00", "end": "17:00"},
            {"weekday": 4, "start": "16:00", "end": "17:00"},
        ],
        "sessions_per_month": 8,
        "price_per_month_tiyn": 1_200_000,
        "capacity": 10,
        "district_code": "yesil",
        "address": "Kabanbay 45",
        "lat": 51.1282,
        "lon": 71.4304,
        "coach_ids": [COACH_ID],
        "facility_id": HALL_ID,
    }
    published = {
        "id": PROGRAMME_ID,
        "title": {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"},
        "direction": "sports",
        "price_per_month_tiyn": 1_200_000,
        "capacity": 10,
        "status": "published",
    }
    services.on("POST", path, 201, published)
    done = portal.post("/provider/programmes/new", data=form)
    assert done.status_code == 200 and 'data-status="published"' in done.text


def test_an_administrator_creates_a_staff_account_and_sees_its_secrets_once(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "administrator", {})
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    services.on("GET", "/v1/staff", 200, {"items": []})
    form_page = portal.get(f"/admin/staff?provider={PROVIDER_ID}")
    assert form_page.status_code == 200 and f'value="{PROVIDER_ID}"' in form_page.text
    created = {
        "id": "s-2",
        "username": "club.coach",
        "one_time_password": "pw-once",
        "totp_secret": "SECRET",
        "totp_uri": "otpauth://totp/Qosym:club.coach?secret=SECRET",
    }
    services.on("POST", "/v1/staff", 201, created)
    form = {"username": "club.coach", "role": "provider_staff", "region": "", "district": "", "provider": PROVIDER_ID}
    answer = portal.post("/admin/staff", data={**form, "csrf": csrf(portal)})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert 'id="staff-password">pw-once<' in answer.text and 'id="staff-totp-secret">SECRET<' in answer.text
    assert services.sent("POST", "/v1/staff") == {
        "username": "club.coach",
        "role": "provider_staff",
        "scope": {"provider": PROVIDER_ID},
    }
    services.on("POST", "/v1/staff", 409, {"status": 409, "title": "this username is taken"})
    taken = portal.post("/admin/staff", data={**form, "csrf": csrf(portal)})
    assert taken.status_code == 409 and 'id="username-error"' in taken.text
    assert catalogue("kk")["errors.username_taken"] in taken.text


STAFF_ID = "5fa10000-0000-4000-8000-000000000009"


def test_an_administrator_changes_a_staff_accounts_access_refusals_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "administrator", {})
    portal.cookies.set("qosym_lang", "ru")
    ru = catalogue("ru")
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    account = {"id": STAFF_ID, "username": "dana.op", "role": "operator", "scope": {"region": "astana"}, "active": True}
    services.on("GET", "/v1/staff", 200, {"items": [account]})
    listed = portal.get("/admin/staff")
    assert (
        f'href="/admin/staff/{STAFF_ID}"' in listed.text and f"{ru['admin.staff.scope_region']}: astana" in listed.text
    )
    form_page = portal.get(f"/admin/staff/{STAFF_ID}")
    assert form_page.status_code == 200 and '<option value="operator" selected>' in form_page.text
    assert '<option value="astana" selected>' in form_page.text
    path = f"/v1/staff/{STAFF_ID}"
    refused = {"status": 422, "errors": [{"field": "scope.region", "type": "missing", "message": "name it"}]}
    services.on("PATCH", path, 422, refused)
    data = {"csrf": csrf(portal), "role": "operator", "region": "", "district": "", "provider": ""}
    answer = portal.post(f"/admin/staff/{STAFF_ID}", data=data)
    assert answer.status_code == 422 and 'id="region-error"' in answer.text and ru["errors.missing"] in answer.text
    assert services.sent("PATCH", path) == {"role": "operator", "scope": {}}
    services.on("PATCH", path, 409, {"status": 409, "title": "own account"})
    own = portal.post(f"/admin/staff/{STAFF_ID}", data=data)
    assert own.status_code == 409 and ru["errors.staff_own"] in own.text
    services.on("PATCH", path, 200, {**account, "role": "auditor", "scope": {}})
    done = portal.post(f"/admin/staff/{STAFF_ID}", data={**data, "role": "auditor"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/staff?changed=dana.op"
    assert portal.get(f"/admin/staff/{PROGRAMME_ID}").status_code == 404  # an id registry does not list


ROUND_ID = "70e1d000-0000-4000-8000-000000000007"
ASTANA = REGION | {"timezone": "Asia/Almaty", "directions": ["sports", "creativity"]}


def test_an_administrator_creates_a_round_sent_as_allocation_takes_it(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator", {})
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": ASTANA}]})
    services.on("GET", "/v1/rounds", 200, {"items": []})
    portal.cookies.set("qosym_lang", "ru")
    ru = catalogue("ru")
    assert 'href="/admin/rounds/new"' in portal.get("/admin").text
    first = portal.get("/admin/rounds/new")
    assert first.status_code == 200 and 'name="region_code"' in first.text and "quotas.yesil" not in first.text
    form = portal.get("/admin/rounds/new", params={"region_code": "astana"})
    assert 'id="quotas.yesil.sports"' in form.text and f"район Есиль, {ru['direction.creativity']}" in form.text
    data = {
        "csrf": csrf(portal),
        "region_code": "astana",
        "name": "Осень",
        "budget_tiyn": "135000",
        "quotas.yesil.sports": "1",
        "quotas.yesil.creativity": "",
        "application_opens_at": "2026-08-01T09:00",
        "application_closes_at": "2026-08-15T18:00",
        "reference_date": "2026-09-01",
        "voucher_valid_until": "2027-06-30",
    }
    services.on("POST", "/v1/rounds", 201, {"round_id": ROUND_ID})
    made = portal.post("/admin/rounds/new", data=data, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/admin?done=create")
    assert services.sent("POST", "/v1/rounds") == {
        "region_code": "astana",
        "name": "Осень",
        "budget_tiyn": 13_500_000,
        "quotas": {"yesil": {"sports": 1}},
        "application_opens_at": "2026-08-01T09:00:00+05:00",
        "application_closes_at": "2026-08-15T18:00:00+05:00",
        "reference_date": "2026-09-01",
        "voucher_valid_until": "2027-06-30",
    }
    refusal = {"errors": [{"field": "budget_tiyn", "type": "greater_than"}]}
    refusal["errors"] += [{"field": "quotas.yesil.sports", "type": "greater_than_equal"}]
    services.on("POST", "/v1/rounds", 422, refusal)
    refused = portal.post("/admin/rounds/new", data=data)
    assert refused.status_code == 422 and 'id="budget_tiyn-error"' in refused.text
    assert 'id="quotas.yesil.sports-error"' in refused.text and ru["errors.invalid"] in refused.text
    services.on("POST", "/v1/rounds", 422, {"errors": [{"field": "body", "type": "value_error"}]})
    general = portal.post("/admin/rounds/new", data=data)
    assert general.status_code == 422 and 'role="alert"' in general.text and ru["errors.value_error"] in general.text
    empty = portal.post("/admin/rounds/new", data={"csrf": csrf(portal), "region_code": "astana"})
    assert empty.status_code == 422 and 'id="name-error"' in empty.text and 'id="reference_date-error"' in empty.text


def test_an_administrator_simulates_changed_weights_and_sees_the_difference(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "administrator", {})
    allocated = {"round_id": ROUND_ID, "region_code": "astana", "name": "Autumn", "state": "allocated"}
    allocated |= {"awarded_count": 1, "priority_weights": {"orphan": 120, "large_family": 60}}
    allocated |= {"quotas": {"yesil": {"sports": 1}}}
    services.on("GET", "/v1/rounds", 200, {"items": [allocated]})
    services.on("GET", f"/v1/rounds/{ROUND_ID}", 200, allocated)
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": ASTANA}]})
    portal.cookies.set("qosym_lang", "kk")
    kk = catalogue("kk")
    home = portal.get("/admin")
    assert f'href="/admin/rounds/{ROUND_ID}/simulate"' in home.text and kk["admin.rounds.simulate"] in home.text
    form = portal.get(f"/admin/rounds/{ROUND_ID}/simulate")
    assert form.status_code == 200 and 'id="weights.large_family"' in form.text and 'value="60"' in form.text
    assert kk["category.large_family"] in form.text and 'id="quotas.yesil.creativity"' in form.text
    answer = {"round_id": ROUND_ID, "applications": 3, "awarded_now": 1, "awarded_simulated": 1}
    answer |= {"spent_simulated_tiyn": 13_500_000, "gain": 1, "lose": 1}
    answer |= {"by_district": {"yesil": {"gain": 1, "lose": 1}}}
    answer |= {"by_category": {"large_family": {"gain": 1, "lose": 0}, "none": {"gain": 0, "lose": 1}}}
    services.on("POST", f"/v1/rounds/{ROUND_ID}/simulate", 200, answer)
    data = {"csrf": csrf(portal), "weights.orphan": "120", "weights.large_family": "200"}
    data |= {"quotas.yesil.sports": "1", "quotas.yesil.creativity": "0"}
    shown = portal.post(f"/admin/rounds/{ROUND_ID}/simulate", data=data)
    assert services.sent("POST", f"/v1/rounds/{ROUND_ID}/simulate") == {
        "weights": {"orphan": 120, "large_family": 200},
        "quotas": {"yesil": {"sports": 1, "creativity": 0}},
    }
    assert shown.status_code == 200 and kk["admin.simulate.difference"] in shown.text
    assert 'data-figure="lose">1<' in shown.text and "Есіл ауданы" in shown.text
    assert kk["admin.simulate.no_category"] in shown.text and "135 000 ₸" in shown.text.replace("\u202f", " ")
    assert 'value="200"' in shown.text  # the form keeps what was tried
    services.on(
        "POST",
        f"/v1/rounds/{ROUND_ID}/simulate",
        422,
        {"errors": [{"field": "weights.large_family", "type": "less_than_equal"}]},
    )
    refused = portal.post(f"/admin/rounds/{ROUND_ID}/simulate", data=data)
    assert refused.status_code == 422 and 'id="weights.large_family-error"' in refused.text
    services.on("POST", f"/v1/rounds/{ROUND_ID}/simulate", 409, {"status": 409, "detail": "not allocated"})
    conflict = portal.post(f"/admin/rounds/{ROUND_ID}/simulate", data=data)
    assert conflict.status_code == 409 and kk["errors.round_not_allocated"] in conflict.text
    bad = portal.post(f"/admin/rounds/{ROUND_ID}/simulate", data=data | {"weights.orphan": "a lot"})
    assert bad.status_code == 422 and 'id="weights.orphan-error"' in bad.text
