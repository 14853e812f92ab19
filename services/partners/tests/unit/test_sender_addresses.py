"""In production a webhook never reaches the platform's own network through a host *name*: the sender resolves the
endpoint's name, refuses it when any address it resolves to is private, loopback or link-local, and connects to the
address it checked (the name kept for the Host header and TLS), so a DNS answer cannot change in between."""

from __future__ import annotations

import httpx
import pytest

from partners.adapters.sender import WebhookSender

pytestmark = pytest.mark.unit


async def test_a_name_that_resolves_to_the_loopback_is_refused_without_a_connection() -> None:
    seen: list[httpx.Request] = []
    sender = WebhookSender(5, transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204)))
    answer = await sender.post("https://localhost:9443/hook", b"{}", {})  # the machine's own resolver
    assert answer.status_code is None and answer.error == "EndpointResolvesToPrivateAddress"
    assert seen == []


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7", "169.254.169.254", "fd00::1", "0.0.0.0"])
async def test_every_private_answer_is_refused(address: str) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["203.0.113.9", address]  # one private address among public ones is enough to refuse

    seen: list[httpx.Request] = []
    sender = WebhookSender(
        5, transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204)), resolve=resolve
    )
    answer = await sender.post("https://partner.example/hook", b"{}", {})
    assert answer.error == "EndpointResolvesToPrivateAddress" and seen == []


async def test_the_checked_address_is_the_one_connected_to_with_the_name_for_host_and_tls() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        assert (host, port) == ("partner.example", 443)
        return ["93.184.216.34"]

    seen: list[httpx.Request] = []
    sender = WebhookSender(
        5, transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204)), resolve=resolve
    )
    answer = await sender.post("https://partner.example/hook?x=1", b"{}", {"webhook-id": "msg_1"})
    assert answer.status_code == 204
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34/hook?x=1"
    assert request.headers["host"] == "partner.example"
    assert request.extensions["sni_hostname"] == "partner.example"
    assert request.headers["webhook-id"] == "msg_1"


async def test_development_may_post_to_a_local_receiver() -> None:
    seen: list[httpx.Request] = []
    sender = WebhookSender(
        5, transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204)), private_allowed=True
    )
    assert (await sender.post("http://127.0.0.1:9000/webhooks", b"{}", {})).status_code == 204
    assert str(seen[0].url) == "http://127.0.0.1:9000/webhooks"
