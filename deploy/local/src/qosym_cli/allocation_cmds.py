"""``qosym region apply``, ``qosym round simulate`` and ``qosym lottery verify``: allocation from the command line.

``lottery verify`` deliberately re-implements the published ranking and award rules (services/allocation
README, "Ranking and awards") instead of importing the service: it is what any auditor can run against
the public endpoints alone.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import httpx
import typer
import yaml

from qosym_cli import output
from qosym_cli.errors import StackError
from qosym_cli.paths import default_home
from qosym_cli.tokens import mint_token

console = output.console
region_app = typer.Typer(help="Regions as data.", no_args_is_help=True)
round_app = typer.Typer(help="Allocation rounds.", no_args_is_help=True)
lottery_app = typer.Typer(help="The public lottery.", no_args_is_help=True)

UrlOption = Annotated[str | None, typer.Option("--url", help="allocation API base URL (default: the local stack)")]
HomeOption = Annotated[Path | None, typer.Option("--home", help="stack data folder (default: $QOSYM_HOME)")]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="QOSYM_TOKEN", help="an administrator's bearer token (default: minted for the local stack)"
    ),
]
REGION_SCHEMA = Path(__file__).resolve().parents[3] / "regions" / "region.schema.json"


def _home(home: Path | None) -> Path:
    return (home or default_home()).expanduser().resolve()


def _base_url(url: str | None, home: Path | None) -> str:
    if url:
        return url.rstrip("/")
    from qosym_cli.stack import LocalStack

    return LocalStack(_home(home)).api_url("allocation")


def make_client(base_url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=120.0)


def problem_lines(response: httpx.Response) -> list[str]:
    """The field-level errors of a problem+json response, one line each."""
    try:
        body = response.json()
    except ValueError:
        return [f"{response.status_code}: {response.text[:300]}"]
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        return [f"{e.get('field', '?')}: {e.get('message', '')}" for e in errors]
    detail = body.get("detail") or body.get("title") if isinstance(body, dict) else body
    return [f"{response.status_code}: {detail}"]


def _fail(lines: list[str]) -> typer.Exit:
    for line in lines:
        output.failed(line)
    return typer.Exit(1)


def read_mapping(path: Path, option: str) -> dict[str, Any]:
    """A YAML/JSON mapping from a file named on the command line; a one-line error and exit 1 otherwise."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail([f"{option}: cannot read {path}: {exc.strerror or exc}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail([f"{option}: {path} is not valid YAML or JSON: {first}"]) from None
    if not isinstance(document, dict):
        raise _fail([f"{option}: {path} must hold a mapping"])
    return document


# --- region apply -----------------------------------------------------------------------------------


def put_region(client: httpx.Client, path: Path) -> tuple[bool, list[str]]:
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        return False, [f"{path}: cannot read it: {exc.strerror or exc}"]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return False, [f"{path}: not valid YAML: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"]
    if not isinstance(document, dict) or not isinstance(document.get("code"), str):
        return False, [f"{path}: a region file is a mapping with a code"]
    try:
        response = client.put(f"/v1/regions/{document['code']}", json=document)
    except httpx.HTTPError as exc:
        return False, [f"request failed: {exc}"]
    if response.is_success:
        revision = response.json().get("revision")
        verb = "added" if response.status_code == 201 else "applied"
        return True, [f"region {document['code']} {verb} (revision {revision})"]
    return False, problem_lines(response)


def schema_errors(document: dict[str, Any], schema_path: Path = REGION_SCHEMA) -> list[str]:
    """The region file's departures from deploy/regions/region.schema.json, one line per field."""
    import jsonschema

    plain = json.loads(json.dumps(document, default=str))  # YAML dates become the ISO strings the API reads
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    return [
        f"{error.json_path.removeprefix('$.') or '(file)'}: {error.message}" for error in validator.iter_errors(plain)
    ]


def differences(current: Any, proposed: Any, path: str = "") -> list[str]:
    """What applying ``proposed`` would change in ``current``: one line per differing leaf the file names."""
    if isinstance(current, dict) and isinstance(proposed, dict):
        lines: list[str] = []
        for key in proposed:
            where = f"{path}.{key}" if path else str(key)
            if key not in current:
                lines.append(f"+ {where}: {json.dumps(proposed[key], ensure_ascii=False)}")
            else:
                lines += differences(current[key], proposed[key], where)
        return lines
    if isinstance(current, list) and isinstance(proposed, list) and len(current) == len(proposed):
        # element by element: an item the file writes shorter (defaults left out) is no change
        return [line for n, (was, will) in enumerate(zip(current, proposed, strict=True)) for line in
                differences(was, will, f"{path}[{n}]")]  # fmt: skip
    if current != proposed:
        old, new = json.dumps(current, ensure_ascii=False), json.dumps(proposed, ensure_ascii=False)
        return [f"~ {path}: {old} -> {new}"]
    return []


def region_dry_run(client: httpx.Client, path: Path) -> tuple[bool, list[str]]:
    """Validate the file against the schema and show what it would change; nothing is sent but a public GET."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        return False, [f"{path}: cannot read it as YAML: {exc}"]
    if not isinstance(document, dict) or not isinstance(document.get("code"), str):
        return False, [f"{path}: a region file is a mapping with a code"]
    errors = schema_errors(document)
    if errors:
        return False, errors
    proposed = json.loads(json.dumps(document, default=str))
    try:
        response = client.get(f"/v1/regions/{document['code']}")
    except httpx.HTTPError as exc:
        return False, [f"request failed: {exc}"]
    if response.status_code == 404:
        return True, [f"region {document['code']} is new: applying adds it"]
    if not response.is_success:
        return False, problem_lines(response)
    changes = differences(response.json()["config"], proposed)
    revision = response.json().get("revision")
    if not changes:
        return True, [f"region {document['code']} (revision {revision}): no change"]
    return True, [f"region {document['code']} (revision {revision}) would change:", *changes]


@region_app.command("apply")
def region_apply(
    file: Annotated[Path, typer.Argument(help="a region YAML file (the shape of deploy/regions/*.yaml)")],
    url: UrlOption = None,
    token: TokenOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate against the schema and show the difference; change nothing")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Add or update a region from its YAML file; prints per-field errors and exits 1 on failure. With --url and
    --token (or QOSYM_TOKEN) against any deployment; without them, the local stack."""
    bearer = token or (None if dry_run else mint_token(_home(home), "administrator", "qosym-cli"))
    try:
        with make_client(_base_url(url, home), bearer) as client:
            ok, lines = region_dry_run(client, file) if dry_run else put_region(client, file)
    except StackError as exc:
        raise _fail([str(exc)]) from None
    if not ok:
        raise _fail(lines)
    for line in lines:
        output.succeeded(line)


# --- round simulate ---------------------------------------------------------------------------------


@round_app.command("simulate")
def round_simulate(
    round_id: Annotated[str, typer.Argument(help="the round id")],
    weights: Annotated[Path | None, typer.Option("--weights", help="YAML/JSON mapping category -> weight")] = None,
    quotas: Annotated[Path | None, typer.Option("--quotas", help="YAML/JSON district -> direction -> count")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    home: HomeOption = None,
) -> None:
    """What-if: how many would gain or lose a voucher, per district and category, with other weights/quotas."""
    body: dict[str, Any] = {}
    if weights:
        body["weights"] = read_mapping(weights, "--weights")
    if quotas:
        body["quotas"] = read_mapping(quotas, "--quotas")
    bearer = token or mint_token(_home(home), "administrator", "qosym-cli")
    try:
        with make_client(_base_url(url, home), bearer) as client:
            response = client.post(f"/v1/rounds/{round_id}/simulate", json=body)
    except (httpx.HTTPError, StackError) as exc:
        raise _fail([f"allocation is unreachable: {exc}"]) from None
    if not response.is_success:
        raise _fail(problem_lines(response))
    console.print_json(json.dumps(response.json()))


# --- lottery verify ---------------------------------------------------------------------------------


def expected_outcomes(published: dict[str, Any]) -> list[tuple[str, bool, str | None, int | None]]:
    """(public id, awarded, via, waitlist position) in ranking order, by the published rules."""
    entries = sorted(published["entries"], key=lambda e: (-e["score"], e["lottery_number"]))
    quotas = {(d, x): q for d, row in published["quotas"].items() for x, q in row.items()}
    cost = published["voucher_cost_tiyn"]
    budget = published["budget_tiyn"]
    cap = published["voucher_count"]
    via: dict[str, str] = {}
    seen: Counter[tuple[str, str]] = Counter()
    first = []
    for e in entries:
        cell = (e["district_code"], e["direction"])
        seen[cell] += 1
        if seen[cell] <= quotas.get(cell, 0):
            first.append(e)
    running = spent = 0
    for n, e in enumerate(first, start=1):
        running += cost[e["direction"]]
        if running <= budget and (cap is None or n <= cap):
            via[e["public_id"]] = "quota"
            spent += cost[e["direction"]]
    room: Counter[str] = Counter()
    for (_, direction), q in quotas.items():
        room[direction] += q
    for e in entries:
        if e["public_id"] in via:
            room[e["direction"]] -= 1
    count = len(via)
    taken: Counter[str] = Counter()
    second = []
    for e in entries:
        if e["public_id"] in via:
            continue
        taken[e["direction"]] += 1
        if taken[e["direction"]] <= room[e["direction"]]:
            second.append(e)
    running = 0
    for n, e in enumerate(second, start=1):
        running += cost[e["direction"]]
        if running <= budget - spent and (cap is None or count + n <= cap):
            via[e["public_id"]] = "flow"
    result = []
    position: Counter[tuple[str, str]] = Counter()  # within each district × direction queue
    for e in entries:
        if e["public_id"] in via:
            result.append((e["public_id"], True, via[e["public_id"]], None))
        else:
            position[(e["district_code"], e["direction"])] += 1
            result.append((e["public_id"], False, None, position[(e["district_code"], e["direction"])]))
    return result


def verify_published(published: dict[str, Any], committed_sha256: str | None = None) -> list[str]:
    """Every discrepancy between the published list and a re-run of the lottery (empty: verified)."""
    problems: list[str] = []
    seed = bytes.fromhex(published["seed_hex"])
    digest = hashlib.sha256(seed).hexdigest()
    if digest != published["seed_sha256"] or (committed_sha256 and digest != committed_sha256):
        problems.append("the revealed seed does not hash to the committed sha256")
    for e in published["entries"]:
        if hashlib.sha256(seed + UUID(e["public_id"]).bytes).hexdigest() != e["lottery_number"]:
            problems.append(f"lottery number of {e['public_id']} is not sha256(seed ‖ public id)")
    ranked = sorted(published["entries"], key=lambda e: (-e["score"], e["lottery_number"]))
    if [e["public_id"] for e in ranked] != [
        e["public_id"] for e in sorted(published["entries"], key=lambda e: e["rank"])
    ]:
        problems.append("the published ranks are not the order score desc, lottery number asc")
    published_outcomes = {  # what the allocation decided (the entry's outcome and position now follow re-offers)
        e["public_id"]: (
            e.get("allocated_outcome", e["outcome"]) == "awarded",
            e["via"],
            e.get("allocated_waitlist_position", e["waitlist_position"]),
        )
        for e in published["entries"]
    }
    for public_id, awarded, via, position in expected_outcomes(published):
        if published_outcomes[public_id] != (awarded, via, position):
            problems.append(
                f"{public_id}: published {published_outcomes[public_id]}, the rules give {(awarded, via, position)}"
            )
    return problems


@lottery_app.command("verify")
def lottery_verify(
    round_id: Annotated[str, typer.Argument(help="the round id")],
    url: UrlOption = None,
    home: HomeOption = None,
) -> None:
    """Re-run the lottery from the public seed and list; exit 0 if it matches the awards, 1 otherwise."""
    try:
        with make_client(_base_url(url, home)) as client:
            round_response = client.get(f"/v1/rounds/{round_id}")
            listed = client.get(f"/v1/rounds/{round_id}/published-list")
    except (httpx.HTTPError, StackError) as exc:
        raise _fail([f"allocation is unreachable: {exc}"]) from None
    if not round_response.is_success:
        raise _fail(problem_lines(round_response))
    if not listed.is_success:
        raise _fail(problem_lines(listed))
    published = listed.json()
    problems = verify_published(published, round_response.json()["seed_sha256"])
    if problems:
        raise _fail([*problems[:50], f"{len(problems)} discrepancies"])
    awarded = sum(1 for e in published["entries"] if e["outcome"] == "awarded")
    output.succeeded(
        f"round {round_id}: seed matches its commitment; {len(published['entries'])} lottery numbers, "
        f"the order and {awarded} awards re-computed and identical"
    )
