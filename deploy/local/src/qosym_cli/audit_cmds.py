"""``qosym audit verify`` and ``qosym audit head``: each service's keyed audit trail and its signed heads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from qosym_cli.paths import default_home
from qosym_cli.state import load_state, state_path
from qosym_cli.tokens import mint_token

TRAILS: tuple[str, ...] = ("registry", "payments")  # the services that keep an audit trail
audit_app = typer.Typer(help="The services' keyed audit trails and their signed heads.", no_args_is_help=True)
console = Console()

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="stack data folder (default: $QOSYM_HOME or <repo>/.qosym)")
]
ServicesOption = Annotated[
    list[str] | None, typer.Option("--service", help=f"only this service (repeatable): {', '.join(TRAILS)}")
]
UrlOption = Annotated[str | None, typer.Option("--url", help="the service's API base URL (with one --service)")]


def make_client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120.0)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]✗[/] {message}", highlight=False)
    return typer.Exit(1)


def _targets(home: Path | None, services: list[str] | None, url: str | None) -> tuple[Path, dict[str, str]]:
    folder = (home or default_home()).expanduser().resolve()
    chosen = services or list(TRAILS)
    unknown = [s for s in chosen if s not in TRAILS]
    if unknown:
        raise _fail(f"{', '.join(unknown)} keeps no audit trail; choose from: {', '.join(TRAILS)}")
    if url is not None:
        if len(chosen) != 1:
            raise _fail("--url needs exactly one --service")
        return folder, {chosen[0]: url.rstrip("/")}
    if not state_path(folder).exists():
        raise _fail(f"no stack at {folder}; start it with qosym up (or give --service and --url)")
    processes = load_state(folder).processes
    urls = {}
    for service in chosen:
        record = processes.get(f"{service}-api")
        if record is None:
            raise _fail(f"{service} is not part of the stack at {folder}")
        urls[service] = f"http://127.0.0.1:{record.port}"
    return folder, urls


@audit_app.command("verify")
def verify(home: HomeOption = None, service: ServicesOption = None, url: UrlOption = None) -> None:
    """Recompute each trail's keyed macs and links and check them against every signed head; exit 1 and name
    what broke (the first bad row, or the head whose rows are gone)."""
    folder, targets = _targets(home, service, url)
    token = mint_token(folder, "auditor", "qosym-cli")
    broken = []
    for name, base in targets.items():
        try:
            with make_client(base, token) as client:
                response = client.get("/v1/audit/verify")
                response.raise_for_status()
        except httpx.HTTPError as error:
            raise _fail(f"{name}: audit verify failed: {error}") from None
        result = response.json()
        if result["ok"]:
            heads = f"{result['heads_checked']} signed heads, newest at seq={result['latest_head_seq']}"
            console.print(f"[green]✓[/] {name}: audit trail intact ({result['rows']} rows; {heads})", highlight=False)
        else:
            where = f" at seq={result['first_broken_seq']}" if result["first_broken_seq"] is not None else ""
            chain = result.get("first_broken_chain")
            if where and chain and chain != name:
                where += f" of chain {chain}"
            broken.append(f"{name}: audit trail broken{where}: {result['reason']}")
    if broken:
        raise _fail("\n".join(broken))


@audit_app.command("head")
def head(home: HomeOption = None, service: ServicesOption = None, url: UrlOption = None) -> None:
    """Sign and write each trail's current head now (the relays also do it every QOSYM_AUDIT_HEAD_INTERVAL_S)."""
    folder, targets = _targets(home, service, url)
    token = mint_token(folder, "auditor", "qosym-cli")
    for name, base in targets.items():
        try:
            with make_client(base, token) as client:
                response = client.post("/v1/audit/heads")
                response.raise_for_status()
        except httpx.HTTPError as error:
            raise _fail(f"{name}: publishing the audit head failed: {error}") from None
        body = response.json()
        console.print(f"[green]✓[/] {name}: head at seq={body['last_seq']} written ({body['file']})", highlight=False)
