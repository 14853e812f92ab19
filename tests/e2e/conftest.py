from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from qosym_cli.stack import LocalStack


@dataclass
class Parent:
    id: str
    headers: dict[str, str]


@pytest.fixture
def new_parent(token: Callable[..., str]) -> Callable[[], Parent]:
    def make() -> Parent:
        subject = str(uuid.uuid4())
        return Parent(subject, {"Authorization": f"Bearer {token('parent', subject)}"})

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
