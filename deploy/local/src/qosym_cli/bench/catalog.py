"""``qosym bench catalog --rps R``: the public programme search at a fixed rate, from a separate process.

Set-up through the APIs (reported, not measured): a synthetic region, providers registered, verified by the
region's operator, each with a coach and a facility with valid attestations and three published programmes. The
load is open-loop (a request is due every 1/R s whatever the answers take) over a fixed set of searches chosen by
``--seed`` (region, district, direction, age, sort). The baseline is ``/health/live`` of the same catalog API at the
same rate and duration; ratio = p99 latency / the baseline's p99 latency.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from qosym_cli.bench import load, setup, synth
from qosym_cli.bench.common import troubles
from qosym_cli.bench.load import Load, Request
from qosym_cli.bench.round import Outcome
from qosym_cli.bench.setup import bearer, expect
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token


def schedule(k: int) -> list[dict[str, Any]]:
    """Twice a week, a different pair of days per programme (one coach teaches all three)."""
    return [{"weekday": 1 + k, "start": "16:00", "end": "17:00"}, {"weekday": 4 + k, "start": "16:00", "end": "17:00"}]


def provider(
    catalog: httpx.Client, home: Any, region: dict[str, Any], ids: synth.Identities, n: int, capacity: int = 20
) -> tuple[str, list[str]]:
    """A verified provider with three published programmes of ``capacity`` seats (one per direction, in that order):
    its id and their ids."""
    code, district = region["code"], synth.districts(region)[n % len(region["districts"])]
    address = f"Bench St., {n + 1}"
    created = expect(
        catalog.post(
            "/v1/providers",
            json={
                "bin": ids.bin(),
                "name": f"Bench club {n + 1}",
                "region_code": code,
                "district_code": district,
                "address": address,
                "contacts": {"phone": "+7 701 000 00 00", "email": "club@example.kz"},
                "bank": {"bank_name": "Halyk Bank", "bik": "HSBKKZKX", "iban": "KZ86125KZT5004100100"},
            },
            headers=bearer(mint_token(home, "provider_staff", "qosym-bench")),
        ),
        201,
    )
    provider_id = str(created["id"])
    operator = bearer(mint_token(home, "operator", "qosym-bench", scope={"region": code}))
    expect(catalog.post(f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=operator), 200)
    staff = bearer(mint_token(home, "provider_staff", "qosym-bench", scope={"provider": provider_id}))
    valid = str(date.today() + timedelta(days=365))
    coach = expect(
        catalog.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "Bench Coach", "iin": ids.adult(), "role": "coach"},
            headers=staff,
        ),
        201,
    )["id"]
    hall = expect(
        catalog.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Hall 1", "address": address, "capacity": max(30, capacity)},
            headers=staff,
        ),
        201,
    )["id"]
    for subject_type, subject, kinds in (
        ("staff", coach, ("criminal_record", "qualification")),
        ("facility", hall, ("sanitary", "fire")),
    ):
        for kind in kinds:
            expect(
                catalog.post(
                    f"/v1/providers/{provider_id}/attestations",
                    json={
                        "subject_type": subject_type,
                        "subject_id": subject,
                        "kind": kind,
                        "number": f"BENCH-{kind[:3].upper()}-{n}",
                        "valid_until": valid,
                    },
                    headers=staff,
                ),
                201,
            )
    made = []
    for k, direction in enumerate(synth.DIRECTIONS):
        title = f"Bench {direction} {n + 1}"
        body = {
            "direction": direction,
            "title": {"kk": title, "ru": title, "en": title},
            "description": {"kk": title, "ru": title, "en": title},
            "age_min": 6,
            "age_max": 12,
            "language": ("kk", "ru", "en")[k],
            "schedule": schedule(k),
            "sessions_per_month": 8,
            "price_per_month_tiyn": 1_000_000 + 10_000 * n + k,
            "capacity": capacity,
            "district_code": district,
            "address": address,
            "lat": 51.12 + 0.001 * n,
            "lon": 71.43 + 0.001 * k,
            "coach_ids": [coach],
            "facility_id": hall,
        }
        made.append(
            str(expect(catalog.post(f"/v1/providers/{provider_id}/programmes", json=body, headers=staff), 201)["id"])
        )
    return provider_id, made


def searches(seed: int, region: dict[str, Any], count: int = 64) -> list[Request]:
    rng = synth.rng_for(seed, "catalog:searches")
    found = []
    for _ in range(count):
        params: dict[str, Any] = {"region_code": region["code"]}
        if rng.random() < 0.6:
            params["district_code"] = rng.choice(synth.districts(region))
        if rng.random() < 0.6:
            params["direction"] = rng.choice(synth.DIRECTIONS)
        if rng.random() < 0.4:
            params["age"] = rng.randrange(6, 13)
        if rng.random() < 0.3:
            params["sort"] = rng.choice(("title", "price", "-price", "free_seats", "rating"))
        found.append(Request("GET", "/v1/programmes", params=params))
    return found


def run(stack: LocalStack, rps: float, duration_s: float, providers: int, seed: int, concurrency: int) -> Outcome:
    outcome = Outcome()
    started_at = datetime.now(UTC)
    region = synth.region(seed, "catalog")
    setup.apply_region(stack, region)
    ids = synth.Identities(synth.rng_for(seed, "catalog:providers"))
    programmes: list[str] = []
    with httpx.Client(base_url=stack.api_url("catalog"), timeout=60) as catalog:
        for n in range(providers):
            programmes += provider(catalog, stack.home, region, ids, n)[1]
        setup.quiet(stack)
        listed = expect(catalog.get("/v1/programmes", params={"region_code": region["code"], "limit": 100}), 200)
    before = troubles(stack)
    url = stack.api_url("catalog")
    measured = load.run(Load(url, searches(seed, region), concurrency, rps, duration_s)).latencies
    base = load.health_baseline(url, requests=1, concurrency=concurrency, rate=rps, duration_s=duration_s).latencies
    figure = measured.figure(f"catalog: search at {rps:g}/s for {duration_s:g} s", unit="p99_ms")
    baseline = base.figure(f"baseline: /health/live at {rps:g}/s", unit="p99_ms")
    figure.compared_to(baseline.p99_ms)
    outcome.figures += [figure, baseline]
    after = troubles(stack)
    seen = int(listed.get("total", len(listed.get("items", []))))
    outcome.facts = {
        "region": region["code"],
        "programmes_published": len(programmes),
        "programmes_found": seen,
        "requests": measured.sent,
        "errors": measured.errors,
        "statuses": measured.statuses,
        "new_dead_letters": after[0] - before[0],
        "new_parked": after[1] - before[1],
        "started_at": started_at.isoformat(),
    }
    if measured.errors:
        outcome.problems.append(f"{measured.errors} searches failed: {measured.statuses}")
    outcome.notes.append(
        f"open loop at {rps:g} requests/s (at most {concurrency} in flight), latency counted from when each request "
        "was due; ratio: p99 / the baseline's p99 at the same rate"
    )
    if seen != len(programmes):
        outcome.problems.append(
            f"search finds {seen} of the {len(programmes)} programmes published in {region['code']}"
        )
    return outcome
