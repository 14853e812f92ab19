"""The lifecycle a seed drives through faults, as ``qosym bench month`` drives it (its synthetic data and its
steps), phase by phase: every request is retried through faults with an ``Idempotency-Key`` (chaos.http), and
between steps the stack is healed and the pipeline waited for at rest.

Each phase checks its own outcome (every person, child, application, award, confirmed enrolment, confirmed month
and accrual counted; the batch built): a step that did not complete raises LifecycleError and fails the seed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from qosym_cli.bench import synth
from qosym_cli.bench.catalog import provider
from qosym_cli.bench.common import relay_metrics, server_url
from qosym_cli.bench.month import next_month_at
from qosym_cli.bench.round import quotas_for
from qosym_cli.chaos import http
from qosym_cli.chaos.faults import Injector
from qosym_cli.chaos.http import Call, Retries
from qosym_cli.errors import StackError
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token

PER_PROGRAMME = 1000
QUIET_TIMEOUT_S = 900.0
AT_REST_FOR_S = 12.0


class LifecycleError(StackError):
    """A lifecycle step did not complete; the message says which and how far it got."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _problem(response: Any) -> str:
    return (
        f"{response.request.method} {response.request.url.path} answered {response.status_code}: {response.text[:300]}"
    )


def expect(response: Any, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise LifecycleError(_problem(response))
    return response.json() if response.content else None


def all_answered(responses: list[Any], what: str, *statuses: int) -> list[Any]:
    wrong = [r for r in responses if r.status_code not in statuses]
    if wrong:
        counts: dict[int, int] = defaultdict(int)
        for r in wrong:
            counts[r.status_code] += 1
        raise LifecycleError(f"{what}: {len(wrong)} of {len(responses)} failed ({dict(counts)}); {_problem(wrong[0])}")
    return [r.json() if r.content else None for r in responses]


@dataclass
class Lifecycle:
    stack: LocalStack
    injector: Injector
    seed: int
    children: int
    nonce: str  # the data's identity (region, IINs): a replayed seed gets the same plan, fresh people
    concurrency: int = 16
    retries: Retries = field(default_factory=Retries)
    facts: dict[str, Any] = field(default_factory=dict)
    _state: dict[str, Any] = field(default_factory=dict)

    def phases(self) -> dict[str, Callable[[], None]]:
        return {
            "registrations": self.registrations,
            "round": self.round,
            "enrolments": self.enrolments,
            "month": self.month,
            "batch": self.batch,
        }

    # --- plumbing ---------------------------------------------------------------------------------------------

    def quiet(self, timeout_s: float = QUIET_TIMEOUT_S) -> None:
        """Heal the stack (a killed or fired process started again), then wait for every outbox published and every
        consumer group at lag 0; a fault in the middle (PostgreSQL or the broker unreachable) only restarts the wait."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            try:
                self.injector.heal()
                if self._at_rest():
                    return
                last = "still moving"
            except Exception as error:  # a fault mid-wait, or not settled yet: heal and wait again
                last = f"{type(error).__name__}: {str(error)[:300]}"
                time.sleep(1.0)
        raise LifecycleError(f"the pipeline did not come to rest within {timeout_s:.0f} s ({last})")

    def _at_rest(self) -> bool:
        """Every outbox published (counted in each database) and every consumers process reporting lag 0 on its
        gauge (``qosym status``'s column), both holding for ``AT_REST_FOR_S`` (longer than two refreshes of the
        gauge). The bench's broker-side lag read is not used: tansu answers ListOffsets of a partition never
        written to only by timing out."""
        since: float | None = None
        deadline = time.monotonic() + 120.0
        while time.monotonic() < deadline:
            backlog = sum(
                self._count(service, "select count(*) from outbox where published_at is null")
                for service in self.stack.state.database_urls
            )
            lags = [m.consumer_lag for name, m in relay_metrics(self.stack).items() if name.endswith("-consumers")]
            quiet = backlog == 0 and all(lag == 0 for lag in lags)
            now = time.monotonic()
            if quiet:
                since = now if since is None else since
                if now - since >= AT_REST_FOR_S:
                    return True
            else:
                since = None
            time.sleep(1.0)
        return False

    def _url(self, service: str) -> str:
        return self.stack.api_url(service)

    def _count(self, service: str, sql: str, *args: Any) -> int:
        async def run() -> int:
            conn = await asyncpg.connect(server_url(self.stack, service).replace("+asyncpg", ""))
            try:
                return int(await conn.fetchval(sql, *args))
            finally:
                await conn.close()

        deadline = time.monotonic() + 120
        while True:
            try:
                return asyncio.run(run())
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    def _token(self, role: str, subject: str, scope: dict[str, str] | None = None) -> dict[str, str]:
        return bearer(mint_token(self.stack.home, role, subject, scope=scope, ttl_s=86400))

    # --- phases -----------------------------------------------------------------------------------------------

    def registrations(self) -> None:
        what = "chaos" + self.nonce
        region = synth.region(self.seed, what)
        code = region["code"]
        admin = self._token("administrator", "qosym-chaos")
        with http.client(self._url("allocation"), self.retries, admin) as allocation:
            expect(allocation.put(f"/v1/regions/{code}", json=region), 200, 201)
        self.quiet()
        families = synth.families(self.seed, what, self.children, synth.districts(region), date.today())
        operator = self._token("operator", "qosym-chaos-operator", {"region": code})
        people = [
            Call("POST", "/v1/people", {"iin": p.iin, "phone": p.phone, "consent": {"data_processing": True}}, operator)
            for p, _ in families
        ]
        parents = [
            str(b["id"])
            for b in all_answered(http.bulk(self._url("registry"), people, self.retries), "register people", 201)
        ]
        calls, owners = [], []
        for parent_id, (_, kids) in zip(parents, families, strict=True):
            headers = self._token("parent", parent_id)
            for kid in kids:
                body = {"iin": kid.iin, "region_code": code, "district_code": kid.district}
                calls.append(Call("POST", "/v1/children", body, headers))
                owners.append(parent_id)
        answers = all_answered(http.bulk(self._url("registry"), calls, self.retries), "register children", 201)
        child_ids: dict[str, list[str]] = defaultdict(list)
        for owner, body in zip(owners, answers, strict=True):
            child_ids[owner].append(str(body["id"]))
        self._state.update(region=region, families=families, parents=parents, child_ids=child_ids)
        self.facts.update(region=code, people=len(parents), children=len(answers))
        self.quiet()

    def round(self) -> None:
        region, families, parents = self._state["region"], self._state["families"], self._state["parents"]
        kids = [k for _, k in families]
        quotas = quotas_for(kids, share=1.0)
        monthly, months = region["voucher"]["monthly_value"], region["voucher"]["months"]
        budget = sum(n * monthly[d] * months for row in quotas.values() for d, n in row.items())
        now = datetime.now(UTC)
        admin = self._token("administrator", "qosym-chaos")
        with http.client(self._url("allocation"), self.retries, admin) as allocation:
            created = expect(
                allocation.post(
                    "/v1/rounds",
                    json={
                        "region_code": region["code"],
                        "name": f"chaos seed {self.seed} {uuid.uuid4().hex[:6]}",
                        "budget_tiyn": budget,
                        "quotas": quotas,
                        "application_opens_at": (now - timedelta(minutes=1)).isoformat(),
                        "application_closes_at": (now + timedelta(days=1)).isoformat(),
                        "reference_date": str(date.today()),
                        "voucher_valid_until": str(date.today() + timedelta(days=300)),
                    },
                ),
                201,
            )
            round_id = str(created["round_id"])
            expect(allocation.post(f"/v1/rounds/{round_id}/open"), 200)
        calls = []
        for parent_id, (_, children) in zip(parents, families, strict=True):
            headers = self._token("parent", parent_id)
            for child_id, kid in zip(self._state["child_ids"][parent_id], children, strict=True):
                body = {"child_id": child_id, "direction": kid.direction}
                calls.append(Call("POST", f"/v1/rounds/{round_id}/applications", body, headers))
        all_answered(http.bulk(self._url("allocation"), calls, self.retries), "apply", 201)
        self.quiet()
        with http.client(self._url("allocation"), self.retries, admin) as allocation:
            expect(allocation.post(f"/v1/rounds/{round_id}/close", json={"reason": "schedule_change"}), 200)
            summary = expect(allocation.post(f"/v1/rounds/{round_id}/allocate"), 200)
        if summary["awarded"] != self.children:
            raise LifecycleError(f"the round awarded {summary['awarded']} of {self.children} vouchers")
        self.facts.update(round_id=round_id, applications=len(calls), awarded=summary["awarded"])
        self.quiet()

    def enrolments(self) -> None:
        region, families, parents = self._state["region"], self._state["families"], self._state["parents"]
        per_direction: dict[str, int] = defaultdict(int)
        for _, kids in families:
            for kid in kids:
                per_direction[kid.direction] += 1
        needed = max(1, -(-max(per_direction.values()) // PER_PROGRAMME))
        ids = synth.Identities(synth.rng_for(self.seed, f"chaos{self.nonce}:providers"))
        staff: dict[str, dict[str, str]] = {}
        owned: dict[str, list[str]] = {}
        seats: dict[str, list[str]] = defaultdict(list)
        with http.client(self._url("catalog"), self.retries) as catalog:
            for n in range(needed):
                provider_id, made = provider(catalog, self.stack.home, region, ids, n, capacity=PER_PROGRAMME)
                staff[provider_id] = self._token("provider_staff", "qosym-chaos", {"provider": provider_id})
                for direction, programme_id in zip(synth.DIRECTIONS, made, strict=True):
                    seats[direction].append(programme_id)
                owned[provider_id] = made
        self.quiet()
        calls, taken = [], defaultdict(int)
        for parent_id, (_, kids) in zip(parents, families, strict=True):
            headers = self._token("parent", parent_id)
            for child_id, kid in zip(self._state["child_ids"][parent_id], kids, strict=True):
                programme_id = seats[kid.direction][taken[kid.direction] // PER_PROGRAMME]
                taken[kid.direction] += 1
                calls.append(
                    Call("POST", "/v1/enrolments", {"child_id": child_id, "programme_id": programme_id}, headers)
                )
        all_answered(http.bulk(self._url("catalog"), calls, self.retries), "request enrolments", 202)
        self.quiet()
        programmes = [p for made in owned.values() for p in made]
        confirmed = self._count(
            "catalog",
            "select count(*) from enrolment where status = 'confirmed' and programme_id = any($1::uuid[])",
            programmes,
        )
        if confirmed != self.children:
            raise LifecycleError(f"{confirmed} of {self.children} enrolments confirmed")
        self._state.update(staff=staff, owned=owned)
        self.facts.update(providers=len(staff), confirmed_enrolments=confirmed)

    def month(self) -> None:
        region = self._state["region"]
        zone = ZoneInfo(region["timezone"])
        period = datetime.now(zone).strftime("%Y-%m")
        offset = int((next_month_at(datetime.now(UTC), zone) - datetime.now(UTC)).total_seconds())
        self.shift_attendance(offset)
        staff, owned = self._state["staff"], self._state["owned"]
        attendance = self._url("attendance")
        marking = [
            Call("PUT", f"/v1/programmes/{p}/timesheets/{period}/marks", {"all_scheduled": "attended"}, headers)
            for provider_id, headers in staff.items()
            for p in owned[provider_id]
        ]
        all_answered(http.bulk(attendance, marking, self.retries), "mark the groups", 200)
        self.quiet()
        submits = [Call("POST", f"/v1/providers/{p}/timesheets/{period}/submit", None, h) for p, h in staff.items()]
        submitted = all_answered(http.bulk(attendance, submits, self.retries), "submit timesheets", 200)
        heads = [self._token("parent", p) for p in self._state["parents"]]
        months = all_answered(
            http.bulk(
                attendance, [Call("GET", "/v1/timesheets", None, h, {"period": period}) for h in heads], self.retries
            ),
            "read the months",
            200,
        )
        confirms = [
            Call("POST", "/v1/timesheets/confirm", {"timesheet_ids": [m["id"] for m in body["items"]]}, h)
            for h, body in zip(heads, months, strict=True)
            if body["items"]
        ]
        answers = all_answered(http.bulk(attendance, confirms, self.retries), "confirm the months", 200)
        confirmed = sum(len(body["confirmed"]) for body in answers)
        if confirmed != self.children:
            raise LifecycleError(f"{confirmed} of {self.children} months confirmed")
        self.quiet()
        accruals = self._count(
            "payments",
            "select count(*) from accrual where region_code = $1 and period = $2",
            region["code"],
            period,
        )
        if accruals != self.children:
            raise LifecycleError(f"{accruals} accruals posted for {self.children} confirmed months")
        self._state["period"] = period
        self.facts.update(
            period=period,
            submitted=sum(int(b["submitted"]) for b in submitted),
            months_confirmed=confirmed,
            accruals=accruals,
        )

    def batch(self) -> None:
        maker = str(uuid.uuid5(uuid.NAMESPACE_URL, "qosym-chaos:batch-maker"))
        admin = self._token("administrator", maker)
        with http.client(self._url("payments"), self.retries, admin) as payments:
            made = expect(
                payments.post(
                    "/v1/batches", json={"region_code": self._state["region"]["code"], "period": self._state["period"]}
                ),
                201,
            )
        if not made.get("items"):
            raise LifecycleError(f"batch {made.get('batch_id')} has no items")
        self.facts.update(
            batch_id=made["batch_id"], batch_items=len(made["items"]), batch_total_tiyn=made["total_tiyn"]
        )
        self.quiet()

    def shift_attendance(self, offset_s: int) -> None:
        """Attendance's API restarted with its clock moved (``QOSYM_CLOCK_OFFSET_S``, development mode), as the
        month bench does; a fault that kills it meanwhile restarts it shifted too (the injector's overrides)."""
        with self.injector.lock:
            if offset_s:
                self.injector.overrides["attendance-api"] = {"QOSYM_CLOCK_OFFSET_S": str(offset_s)}
            else:
                self.injector.overrides.pop("attendance-api", None)
            self.injector.restart("attendance-api")
