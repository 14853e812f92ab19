"""The matrix's own rule, on a made-up OpenAPI document: an operation that takes an object id and has no entry
fails, an entry for an operation that is gone fails, a public listing needs its reason, and duplicates fail."""

from __future__ import annotations

import pytest

from tests.security.matrix import Case, Entry, Public, World, coverage_problems, operations

pytestmark = pytest.mark.unit


def param(name: str, where: str) -> dict[str, str]:
    return {"name": name, "in": where}


DOC = {
    "paths": {
        "/v1/things/{thing_id}": {"get": {"parameters": [param("thing_id", "path")]}},
        "/v1/things": {
            "get": {"parameters": [param("region_code", "query"), param("limit", "query")]},
            "post": {},
        },
        "/v1/search": {"get": {"parameters": [param("q", "query"), param("offset", "query")]}},
        "/v1/children": {"get": {"parameters": [param("child_id", "query")]}},
    }
}


async def factory(_: World) -> Case:
    raise AssertionError("not called")


def test_path_ids_and_tenant_selecting_query_parameters_are_ids() -> None:
    assert operations(DOC) == {
        ("GET", "/v1/things/{thing_id}"): ["thing_id"],
        ("GET", "/v1/things"): ["region_code"],
        ("POST", "/v1/things"): [],
        ("GET", "/v1/search"): [],
        ("GET", "/v1/children"): ["child_id"],
    }


def test_an_operation_with_an_id_and_no_entry_fails() -> None:
    entries = [Entry("GET", "/v1/things/{thing_id}", factory, owners=("administrator",))]
    problems = coverage_problems(DOC, entries, [Public("GET", "/v1/things", "published")])
    assert problems == [
        "GET /v1/children: takes child_id but has no matrix entry (add an Entry, or Public with a reason)"
    ]


def test_an_entry_for_an_operation_that_no_longer_exists_fails() -> None:
    entries = [
        Entry("GET", "/v1/things/{thing_id}", factory, owners=("administrator",)),
        Entry("GET", "/v1/children", factory, owners=("guardian",)),
        Entry("POST", "/v1/things/{thing_id}/close", factory, owners=("administrator",)),
    ]
    problems = coverage_problems(DOC, entries, [Public("GET", "/v1/gone", "was public")])
    assert sorted(problems) == [
        "GET /v1/gone: in the matrix but not in the OpenAPI document",
        "GET /v1/things: takes region_code but has no matrix entry (add an Entry, or Public with a reason)",
        "POST /v1/things/{thing_id}/close: in the matrix but not in the OpenAPI document",
    ]


def test_duplicates_and_an_operation_both_public_and_in_the_matrix_fail() -> None:
    entries = [
        Entry("GET", "/v1/things/{thing_id}", factory, owners=("administrator",)),
        Entry("GET", "/v1/things/{thing_id}", factory, owners=("administrator",)),
        Entry("GET", "/v1/children", factory, owners=("guardian",), variant="one"),
        Entry("GET", "/v1/children", factory, owners=("guardian",), variant="another"),
    ]
    problems = coverage_problems(DOC, entries, [Public("GET", "/v1/things", "x"), Public("GET", "/v1/children", "y")])
    assert sorted(problems) == [
        "GET /v1/children: both public and in the matrix",
        "GET /v1/things/{thing_id}: listed twice",
    ]
