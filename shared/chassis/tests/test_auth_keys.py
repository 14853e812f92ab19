"""Token verification holds the identity provider's keys in memory: one fetch serves every request until the
cache's lifetime ends; a rotated key (an unknown kid) is fetched at once, but at most once per interval however
many tokens name it; a provider that is down keeps the keys already held verifying."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from qosym_chassis.auth import JwksCache, JwtVerifier
from qosym_chassis.errors import Unauthorized

pytestmark = pytest.mark.unit


class Provider:
    """An identity provider: signing keys by kid, the JWKS it publishes, and whether it answers at all."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.up = True
        self.rotate("k1")

    def rotate(self, kid: str) -> None:
        self.keys[kid] = Ed25519PrivateKey.generate()
        self.kid = kid

    async def jwks(self) -> dict[str, Any]:
        if not self.up:
            import httpx

            raise httpx.ConnectError("the provider is down")
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "EdDSA"})
        return {"keys": keys}

    def token(self, subject: str = "p-1", kid: str | None = None, role: str = "parent") -> str:
        now = int(time.time())
        claims = {"sub": subject, "role": role, "iss": "qosym-registry", "aud": "qosym", "iat": now, "exp": now + 600}
        chosen = kid or self.kid
        return jwt.encode(claims, self.keys[chosen], algorithm="EdDSA", headers={"kid": chosen})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(provider: Provider, clock: Clock, *, memo_size: int = 10_000) -> JwtVerifier:
    cache = JwksCache("http://provider/jwks.json", ttl_s=300, min_refresh_s=1, fetch=provider.jwks, clock=clock)
    return JwtVerifier("http://provider/jwks.json", issuer="qosym-registry", audience="qosym", keys=cache,
                       memo_size=memo_size)  # fmt: skip


async def test_many_tokens_are_verified_with_one_fetch_of_the_keys():
    provider, clock = Provider(), Clock()
    verifier = make(provider, clock, memo_size=1)
    for n in range(50):
        principal = await verifier.verify(provider.token(f"p-{n}"))
        assert principal.subject == f"p-{n}"
    assert verifier.keys.fetches == 1


async def test_the_keys_are_fetched_again_when_their_lifetime_ends_and_a_dropped_key_stops_verifying():
    provider, clock = Provider(), Clock()
    verifier = make(provider, clock, memo_size=1)
    old = provider.token("p-old")
    await verifier.verify(old)
    provider.rotate("k2")
    del provider.keys["k1"]
    clock.now += 301
    await verifier.verify(provider.token("p-new"))
    assert verifier.keys.fetches == 2
    with pytest.raises(Unauthorized):
        await verifier.verify(old)


async def test_a_rotated_key_is_fetched_at_once_and_unknown_kids_are_fetched_at_most_once_per_interval():
    provider, clock = Provider(), Clock()
    verifier = make(provider, clock)
    await verifier.verify(provider.token("p-1"))
    provider.rotate("k2")
    clock.now += 1
    assert (await verifier.verify(provider.token("p-2"))).subject == "p-2"
    assert verifier.keys.fetches == 2
    forged_kid = jwt.encode(
        {"sub": "x", "role": "parent", "iss": "qosym-registry", "aud": "qosym", "iat": 1, "exp": 2**31},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "k-forged"},
    )
    clock.now += 2
    for _ in range(20):
        with pytest.raises(Unauthorized):
            await verifier.verify(forged_kid)
    assert verifier.keys.fetches == 3
    clock.now += 2
    with pytest.raises(Unauthorized):
        await verifier.verify(forged_kid)
    assert verifier.keys.fetches == 4


async def test_a_provider_that_is_down_leaves_the_held_keys_verifying():
    provider, clock = Provider(), Clock()
    verifier = make(provider, clock, memo_size=1)
    await verifier.verify(provider.token("p-1"))
    provider.up = False
    clock.now += 301
    assert (await verifier.verify(provider.token("p-2"))).subject == "p-2"
    assert (await verifier.verify(provider.token("p-3"))).subject == "p-3"
    assert verifier.keys.fetches == 2  # the failed refetch is not retried on every request


async def test_keys_never_fetched_are_reported_unreachable():
    provider, clock = Provider(), Clock()
    provider.up = False
    verifier = make(provider, clock)
    with pytest.raises(Unauthorized, match="unreachable"):
        await verifier.verify(provider.token())


async def test_a_token_is_remembered_only_until_its_expiry_and_an_expired_token_is_refused():
    provider, clock = Provider(), Clock()
    verifier = make(provider, clock)
    now = int(time.time())
    claims = {"sub": "p-1", "role": "parent", "iss": "qosym-registry", "aud": "qosym", "iat": now - 100}
    expired = jwt.encode({**claims, "exp": now - 10}, provider.keys["k1"], algorithm="EdDSA", headers={"kid": "k1"})
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(expired)
    assert expired not in verifier._memo
    token = jwt.encode({**claims, "exp": now + 60}, provider.keys["k1"], algorithm="EdDSA", headers={"kid": "k1"})
    await verifier.verify(token)
    assert verifier._memo[token][1] == now + 60 + 5  # exp plus the leeway jwt.decode allows


async def test_a_remembered_principal_is_a_copy_a_route_cannot_alter_for_the_next_request():
    provider, clock = Provider(), Clock()
    verifier = make(provider, clock)
    now = int(time.time())
    claims = {"sub": "op-1", "role": "operator", "scope": {"region": "astana"}, "iss": "qosym-registry",
              "aud": "qosym", "iat": now, "exp": now + 600}  # fmt: skip
    token = jwt.encode(claims, provider.keys["k1"], algorithm="EdDSA", headers={"kid": "k1"})
    first = await verifier.verify(token)
    first.scope["region"] = "almaty"
    second = await verifier.verify(token)
    second.scope["region"] = "shymkent"
    assert (await verifier.verify(token)).scope == {"region": "astana"}


async def test_requests_arriving_while_the_first_fetch_runs_wait_for_it_instead_of_being_refused():
    """A freshly started process gets many requests at once: the first fetches the keys, and every request that
    arrives while that fetch is in flight waits for it (found by `qosym chaos`: they were answered 401 "keys
    unreachable" after every API restart)."""

    provider, clock = Provider(), Clock()
    release = asyncio.Event()

    async def slow_jwks() -> dict[str, Any]:
        await release.wait()
        return await provider.jwks()

    verifier = JwtVerifier(
        "http://idp/jwks", issuer="qosym-registry", audience="qosym", keys=JwksCache("u", fetch=slow_jwks, clock=clock)
    )
    first = asyncio.create_task(verifier.verify(provider.token("p-1")))
    await asyncio.sleep(0)  # the first caller holds the lock and is fetching
    clock.now += 0.01  # the others arrive a moment later, within the refetch interval
    others = [asyncio.create_task(verifier.verify(provider.token(f"p-{n}"))) for n in range(2, 6)]
    await asyncio.sleep(0)
    release.set()
    verified = await asyncio.gather(first, *others)
    assert [p.subject for p in verified] == [f"p-{n}" for n in range(1, 6)]
    assert verifier.keys.fetches == 1
