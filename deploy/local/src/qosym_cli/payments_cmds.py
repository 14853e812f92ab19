"""``qosym payments reconcile``: the payments ledger checked against itself, allocation and attendance.

It mints an auditor token for the local stack (or takes ``--token``) and calls the payments API, which
forwards the token to allocation and attendance. Exit 0 when there is no finding, 1 otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer

from qosym_cli import output
from qosym_cli.allocation_cmds import problem_lines
from qosym_cli.paths import default_home
from qosym_cli.tokens import mint_token

console = output.console
payments_app = typer.Typer(help="Payments: the ledger and its reconciliation.", no_args_is_help=True)


def _base_url(url: str | None, home: Path) -> str:
    if url:
        return url.rstrip("/")
    from qosym_cli.stack import LocalStack

    return LocalStack(home).api_url("payments")


@payments_app.command("reconcile")
def reconcile(
    region: Annotated[str | None, typer.Option("--region", help="only this region (default: every region)")] = None,
    period: Annotated[str | None, typer.Option("--period", help="only this month, YYYY-MM")] = None,
    url: Annotated[str | None, typer.Option("--url", help="payments API base URL (default: the local stack)")] = None,
    home: Annotated[Path | None, typer.Option("--home", help="stack data folder (default: $QOSYM_HOME)")] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="QOSYM_TOKEN", help="an auditor's bearer token")
    ] = None,
) -> None:
    """Check that the ledger sums to zero, every balance equals its entries, nothing is below zero, allocation's
    vouchers are funded and attendance's confirmed timesheets are accrued; print every difference."""
    folder = (home or default_home()).expanduser().resolve()
    bearer = token or mint_token(folder, "auditor", "qosym-cli")
    params = {k: v for k, v in (("region_code", region), ("period", period)) if v}
    try:
        with httpx.Client(base_url=_base_url(url, folder), timeout=300.0) as client:
            response = client.get("/v1/reconciliation", params=params, headers={"Authorization": f"Bearer {bearer}"})
    except httpx.HTTPError as exc:
        output.failed(f"payments is unreachable: {exc}")
        raise typer.Exit(1) from None
    if not response.is_success:
        for line in problem_lines(response):
            output.failed(line)
        raise typer.Exit(1)
    report = response.json()
    scope = f"{report['region_code'] or 'every region'}, months {', '.join(report['periods']) or 'none yet'}"
    findings = report["findings"]
    if not findings:
        output.succeeded(f"reconciled ({scope}): {len(report['checks'])} checks, 0 findings")
        return
    for finding in findings:
        output.failed(f"{finding['check']} {finding['subject']}: {finding['detail']}")
    output.plain(f"{len(findings)} findings ({scope})")
    raise typer.Exit(1)
