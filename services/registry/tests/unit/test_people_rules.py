import json
from datetime import date
from uuid import uuid4

import httpx
import pytest

from qosym_chassis.iin import parse_iin
from qosym_chassis.sms import HttpSmsGateway
from registry.adapters.state_registry import HttpStateRegistry
from registry.domain.errors import RegistrationRefused
from registry.domain.people import check_adult, check_phone, declared_mismatches, sniff_evidence

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)


def test_a_guardian_must_be_an_adult() -> None:
    check_adult(parse_iin("061211600012", today=TODAY), TODAY)  # 19
    with pytest.raises(RegistrationRefused) as error:
        check_adult(parse_iin("180905600123", today=TODAY), TODAY)
    assert error.value.code == "guardian_not_adult"


def test_declared_data_that_disagrees_with_the_iin_is_flagged() -> None:
    iin = parse_iin("900101300017", today=TODAY)
    assert declared_mismatches(iin, None, None) == []
    assert declared_mismatches(iin, date(1990, 1, 1), "M") == []
    assert declared_mismatches(iin, date(1990, 1, 2), "F") == ["declared_birth_date_mismatch", "declared_sex_mismatch"]


@pytest.mark.parametrize(("raw", "ok"), [("+7 701 123-45-67", True), ("87011234567", False), ("+7", False)])
def test_phones_are_international(raw: str, ok: bool) -> None:
    if ok:
        assert check_phone(raw) == "+77011234567"
    else:
        with pytest.raises(RegistrationRefused):
            check_phone(raw)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.4", "application/pdf"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"MZ\x90\x00", None),
        (b"<svg", None),
    ],
)
def test_evidence_type_comes_from_magic_bytes(head: bytes, kind: str | None) -> None:
    assert sniff_evidence(head) == kind


async def test_sms_gateway_posts_the_documented_contract() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    gateway = HttpSmsGateway("http://sms.test/prefix", token="t", transport=httpx.MockTransport(handler))
    person = uuid4()
    await gateway.send(person_id=person, phone="+77011234567", text="code 123456")
    assert seen[0].url.path == "/prefix/v1/messages"
    assert json.loads(seen[0].content) == {"to": "+77011234567", "text": "code 123456", "reference": str(person)}
    assert seen[0].headers["authorization"] == "Bearer t"


async def test_state_registry_client_reads_the_documented_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/status-checks"
        assert json.loads(request.content) == {"iin": "180905600123", "category": "orphan"}
        return httpx.Response(200, json={"confirmed": True, "valid_until": "2027-06-30"})

    client = HttpStateRegistry("http://gov.test", transport=httpx.MockTransport(handler))
    result = await client.check(iin="180905600123", category="orphan")
    assert result.confirmed and result.valid_until == date(2027, 6, 30)
