"""``python -m registry import``: families registered in bulk through the registry's own use cases, as a process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qosym_chassis.iin import check_digit
from tests.support import imports
from tests.support.events import message, region_event

from .test_children_api import CHILD_IIN, scalar
from .test_people_and_identity import ADULT_IIN

pytestmark = pytest.mark.component


def valid_iin(first11: str) -> str:
    digit = check_digit(first11)
    assert digit is not None
    return first11 + str(digit)


SECOND_CHILD = valid_iin("17030350001")
OTHER_ADULT = valid_iin("85020240002")


@pytest.fixture
async def registry_db(service_db, consumer) -> str:
    url = await service_db("registry")
    await (await consumer("registry", url)).deliver(message(region_event()))
    return url


def run_import(stack, url: str, jwks: str, folder: Path, lines: list[str]) -> tuple[int, list[dict]]:
    return imports.run_import("registry", stack, url, jwks, folder, lines, "--concurrency", "4", "--actor", "op-7")


def family(iin: str, *kids: str, district: str = "yesil") -> str:
    children = [{"iin": k, "region_code": "astana", "district_code": district} for k in kids]
    return json.dumps({"iin": iin, "phone": "+77011234567", "consent": {"data_processing": True}, "children": children})


async def test_families_are_registered_once_with_their_events_and_refusals_name_the_field(
    registry_db, stack_servers, jwks_url, tmp_path
):
    lines = [
        family(ADULT_IIN, CHILD_IIN, SECOND_CHILD),
        "{not json",
        family(OTHER_ADULT),
        json.dumps({"iin": OTHER_ADULT, "phone": "+77011234567", "consent": {"data_processing": True}, "pet": "cat"}),
        family(OTHER_ADULT[:-1] + str((int(OTHER_ADULT[-1]) + 1) % 10)),  # a wrong check digit
    ]
    code, answers = run_import(stack_servers, registry_db, jwks_url, tmp_path, lines)

    assert code == 1
    assert [a["line"] for a in answers] == [1, 2, 3, 4, 5], answers
    assert "result" in answers[0], answers[0]
    first = answers[0]["result"]
    assert first["created"] is True and len(first["children"]) == 2
    assert answers[1]["error"]["status"] == 422
    assert answers[2]["result"]["children"] == []
    assert [e["field"] for e in answers[3]["error"]["errors"]] == ["pet"]
    assert answers[4]["error"]["errors"][0]["field"] == "iin"
    assert CHILD_IIN not in json.dumps(answers) and ADULT_IIN not in json.dumps(answers)
    assert await scalar(registry_db, "select count(*) from child") == 2
    assert await scalar(registry_db, "select count(*) from outbox where event_type = 'registry.ChildRegistered'") == 2
    assert (
        await scalar(registry_db, "select count(*) from outbox where event_type = 'registry.GuardianshipEstablished'")
        == 2
    )
    assert (
        await scalar(registry_db, "select count(*) from audit_log where actor = 'operator:op-7'") == 4
    )  # 2 children, 2 links

    # again, with a child of the first family now claimed by another person (records run concurrently: one file)
    again, answers = run_import(
        stack_servers, registry_db, jwks_url, tmp_path, [lines[0], family(OTHER_ADULT, CHILD_IIN)]
    )
    assert again == 1
    assert answers[0]["result"] == {**first, "created": False}  # the same person and children, nothing new
    assert answers[1]["error"] == {
        "status": 409,
        "detail": "this child is already registered by another guardian",
        "errors": [],
    }
    assert await scalar(registry_db, "select count(*) from outbox") == 4
