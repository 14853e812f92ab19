from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from qosym_cli.stack import LocalStack
from tests.support.people import register_person


@dataclass
class Parent:
    id: str
    headers: dict[str, str]
    iin: str = ""


@pytest.fixture
def new_parent(token: Callable[..., str], api: Callable[[str], httpx.Client]) -> Callable[[], Parent]:
    """A registered adult person with a parent token for their person id (a dev token: no SMS in the inbox)."""

    def make() -> Parent:
        person_id, iin = register_person(api("registry"), token)
        return Parent(person_id, {"Authorization": f"Bearer {token('parent', person_id)}"}, iin)

    return make


@pytest.fixture
def staff_headers(token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('administrator')}"}


@pytest.fixture
def api(running_stack: LocalStack) -> Callable[[str], httpx.Client]:
    clients: list[httpx.Client] = []

    def client(service: str) -> httpx.Client:
        made = httpx.Client(base_url=running_stack.api_url(service), timeout=10)
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.close()
