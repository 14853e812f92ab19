"""``qosym bench``: benchmarks against the running stack (docs/performance.md, "Benchmark commands")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from qosym_cli import output
from qosym_cli.errors import StackError
from qosym_cli.paths import default_home

bench_app = typer.Typer(
    help="Benchmarks against the running stack (start it with `qosym up --fresh`); --json: one object per line.",
    no_args_is_help=True,
)

HomeOption = Annotated[Path | None, typer.Option("--home", help="stack data folder (default: $QOSYM_HOME)")]
JsonOption = Annotated[bool, typer.Option("--json", help="one JSON object per line instead of a table")]
SeedOption = Annotated[int, typer.Option("--seed", help="the synthetic data's seed")]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", help="HTTP clients at once")]
TimeoutOption = Annotated[float, typer.Option("--timeout", help="seconds to wait for the pipeline to settle")]


def _home(home: Path | None) -> Path:
    return (home or default_home()).expanduser().resolve()


def _run(title: str, home: Path | None, as_json: bool, body: Callable[[Any], Any]) -> None:
    from qosym_cli.bench.common import emit, running_stack

    try:
        stack = running_stack(_home(home))
        outcome = body(stack)
    except StackError as error:
        output.failed(str(error))
        raise typer.Exit(1) from None
    findings, how = _findings(stack, outcome.facts.get("started_at"))
    outcome.facts["findings"] = len(findings)
    outcome.facts["checked_by"] = how
    notes = [*outcome.notes, *(f"finding: {f.line()}" for f in findings[:20])]
    notes.append(f"{how} after the run: {len(findings)} findings")
    facts = {k: v for k, v in outcome.facts.items() if k != "started_at"}
    emit(title, outcome.figures, as_json=as_json, notes=notes, facts={**facts, "problems": outcome.problems})
    if not as_json:  # in JSON the facts line carries them
        for problem in outcome.problems:
            output.failed(problem)
    if outcome.problems or findings or outcome.facts.get("new_dead_letters") or outcome.facts.get("new_parked"):
        raise typer.Exit(1)


def _findings(stack: Any, since: str | None) -> tuple[list[Any], str]:
    """``qosym check``'s findings (delivery judged for the run's own events), after the pipeline came to rest.

    ``qosym check`` holds a connection to every service database at once; when the server has no slot left for
    them (the stack's own pools can hold all of its ``max_connections``), the ledger is still reconciled through
    payments' API (``qosym payments reconcile``) and the output says the delivery check was not run."""
    import asyncpg

    from qosym_cli.check import check, reconciliation
    from qosym_cli.paths import repo_root
    from qosym_cli.tokens import mint_token

    auditor = mint_token(stack.home, "auditor", "qosym-bench")
    try:
        found = check(
            stack.state.database_urls,
            stack.api_url("payments"),
            auditor,
            repo_root() / "docs" / "asyncapi",
            since=datetime.fromisoformat(since) if since else None,
        )
        return found, "qosym check"
    except asyncpg.TooManyConnectionsError:
        return reconciliation(stack.api_url("payments"), auditor), (
            "qosym payments reconcile (qosym check could not connect: the server's connection slots are all held)"
        )


@bench_app.command("round")
def bench_round(
    applications: Annotated[int, typer.Option("--applications", help="applications in the round")] = 1000,
    setup_via: Annotated[
        str,
        typer.Option(
            "--setup",
            help="how families and applications are set up: 'api' (HTTP, as people do) or 'import' (each "
            "service's `python -m SERVICE import`: the same use cases without HTTP, for large rounds)",
        ),
    ] = "api",
    seed: SeedOption = 1,
    concurrency: ConcurrencyOption = 16,
    timeout: TimeoutOption = 3600.0,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """A round of N applications closed and allocated through the API, timed until every consumer applied every
    event (lag 0 in every group, every outbox published); baselines: raw COPY of N rows, raw produce+consume."""
    from qosym_cli.bench import round as bench

    if setup_via not in {"api", "import"}:
        output.failed("--setup: 'api' or 'import'")
        raise typer.Exit(2)
    _run(
        "qosym bench round",
        home,
        as_json,
        lambda stack: bench.run(stack, applications, seed, concurrency, timeout, setup_via),
    )


@bench_app.command("surge")
def bench_surge(
    parents: Annotated[int, typer.Option("--parents", help="parents, each registering a child and applying")] = 500,
    seed: SeedOption = 1,
    concurrency: ConcurrencyOption = 32,
    timeout: TimeoutOption = 3600.0,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """N parents each registered, registering a child and applying, over HTTP from a separate process with
    development tokens signed by the stack's key; baseline: /health/live of the same server, same concurrency."""
    from qosym_cli.bench import surge as bench

    _run("qosym bench surge", home, as_json, lambda stack: bench.run(stack, parents, seed, concurrency, timeout))


@bench_app.command("catalog")
def bench_catalog(
    rps: Annotated[float, typer.Option("--rps", help="search requests per second (open loop)")] = 100.0,
    duration: Annotated[float, typer.Option("--duration", help="seconds of load")] = 20.0,
    providers: Annotated[int, typer.Option("--providers", help="synthetic providers, 3 programmes each")] = 10,
    seed: SeedOption = 1,
    concurrency: ConcurrencyOption = 64,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Catalogue search at R requests/s for a fixed duration from a separate process; baseline: /health/live of
    the catalog API at the same rate."""
    from qosym_cli.bench import catalog as bench

    _run(
        "qosym bench catalog",
        home,
        as_json,
        lambda stack: bench.run(stack, rps, duration, providers, seed, concurrency),
    )


@bench_app.command("month")
def bench_month(
    enrolments: Annotated[int, typer.Option("--enrolments", help="enrolments whose month ends")] = 1000,
    seed: SeedOption = 1,
    concurrency: ConcurrencyOption = 16,
    timeout: TimeoutOption = 3600.0,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """A month-end of N enrolments: timed from the first timesheet submission until the month's payment batch is
    built and every consumer caught up; the ledger reconciled after (qosym check). Restarts attendance's API
    with its clock on the 2nd of next month for the month-end, and back."""
    from qosym_cli.bench import month as bench

    _run("qosym bench month", home, as_json, lambda stack: bench.run(stack, enrolments, seed, concurrency, timeout))
