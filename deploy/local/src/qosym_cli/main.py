"""The ``qosym`` command: run the embedded local stack and operate services."""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from qosym_chassis.auth import ROLES as AUTH_ROLES
from qosym_cli import allocation_cmds, audit_cmds, output, payments_cmds
from qosym_cli.bench import bench_app
from qosym_cli.chaos import chaos_command
from qosym_cli.errors import StackError
from qosym_cli.health import ProcessMetrics
from qosym_cli.paths import FRONTEND_ROLE, FRONTENDS, ROLES, SERVICES, default_home, roles_of
from qosym_cli.processes import tail
from qosym_cli.stack import SERVERS, LocalStack, ProcessStatus, parse_replicas
from qosym_cli.tokens import mint_token

app = typer.Typer(help="Qosym operations: the embedded local stack, replay and dead letters.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: messages a consumer could not apply.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
parked_app = typer.Typer(
    help="Parked events: waiting for a prerequisite (an unknown child, round ...).", no_args_is_help=True
)
app.add_typer(parked_app, name="parked")
app.add_typer(allocation_cmds.region_app, name="region")
app.add_typer(allocation_cmds.round_app, name="round")
app.add_typer(allocation_cmds.lottery_app, name="lottery")
app.add_typer(payments_cmds.payments_app, name="payments")
app.add_typer(audit_cmds.audit_app, name="audit")
app.add_typer(bench_app, name="bench")
app.command("chaos")(chaos_command)

console = output.console
T = TypeVar("T")

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="stack data folder (default: $QOSYM_HOME or <repo>/.qosym)")
]
ServiceOption = Annotated[str | None, typer.Option("--service", help="only this service")]


def _home(home: Path | None) -> Path:
    return (home or default_home()).expanduser().resolve()


def _fail(message: str) -> typer.Exit:
    output.failed(message)
    return typer.Exit(1)


def _step(title: str, action: Callable[[], T], summary: Callable[[T], str] | None = None) -> T:
    with console.status(f"[cyan]{title}…"):
        started = time.monotonic()
        result = action()
    note = summary(result) if summary else ""
    console.print(f"[green]✓[/] {title} [dim]({time.monotonic() - started:.1f} s)[/] {escape(note)}", highlight=False)
    return result


# --- up / down ---------------------------------------------------------------------------------


@app.command()
def up(
    fresh: Annotated[bool, typer.Option("--fresh", help="stop everything and wipe the data folder first")] = False,
    home: HomeOption = None,
    no_services: Annotated[bool, typer.Option("--no-services", hidden=True)] = False,
    no_seed: Annotated[bool, typer.Option("--no-seed", hidden=True)] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for readiness")] = 180.0,
    only: Annotated[str | None, typer.Option("--services", hidden=True, help="comma list of services")] = None,
    replicas: Annotated[
        list[str] | None,
        typer.Option(
            "--replicas",
            help="SERVICE=N, repeatable: N consumers processes of that service in its one consumer group "
            "(remembered by the next `up`; SERVICE=1 goes back to one)",
        ),
    ] = None,
) -> None:
    """Start PostgreSQL, Redis, the broker and every service; seed the demo data (regions, providers and programmes, open rounds, a family)."""
    chosen = _chosen_services(only)
    try:
        counts = parse_replicas(list(replicas), chosen) if replicas else None
    except StackError as error:
        raise _fail(str(error)) from None
    stack = LocalStack(_home(home), services=chosen, replicas=counts)
    seeded = True
    try:
        if fresh:
            _step("wiping the data folder", stack.wipe, lambda _: str(stack.home))
        _step("allocating ports", stack.plan)
        _step("servers", stack.start_servers, lambda lines: "; ".join(lines))
        _step("databases", stack.create_databases, lambda made: f"created {len(made)}" if made else "all exist")
        if not no_services:
            _step("migrations", stack.run_migrations)
        _step("topics", stack.create_topics, _topics_summary)
        if not no_services:
            _start_and_wait(stack, timeout)
            seeded = no_seed or "allocation" not in stack.services or _seed(stack)
    except StackError as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; what started keeps running (qosym status / qosym down)") from None
    _print_where_to_go(stack, with_services=not no_services)
    if not no_services and not seeded:
        raise _fail(
            "the stack runs, but the demo data was not all seeded (see above; after an interrupted first run: qosym up --fresh)"
        )


def _topics_summary(lines: list[str]) -> str:
    """``created 18``, or what was created or changed by name (a topic left short of its partitions says so)."""
    if not lines:
        return "all exist"
    changed = [line for line in lines if " " in line]
    created = len(lines) - len(changed)
    return "; ".join([*([f"created {created}"] if created else []), *changed])


def _chosen_services(only: str | None) -> tuple[str, ...]:
    if not only:
        return SERVICES
    chosen = tuple(name.strip() for name in only.split(",") if name.strip())
    unknown = [name for name in chosen if name not in SERVICES]
    if unknown:
        raise _fail(f"unknown services {unknown}; choose from: {', '.join(SERVICES)}")
    return chosen


def _started_summary(started: list[str]) -> str:
    return f"started {len(started)} processes" if started else "all already running"


def _start_and_wait(stack: LocalStack, timeout: float) -> None:
    _step("services", stack.start_services, _started_summary)
    with console.status("[cyan]readiness…") as status:
        started = time.monotonic()

        def show(waiting: list[str]) -> None:
            shown = ", ".join(waiting[:6]) + (" …" if len(waiting) > 6 else "")
            status.update(f"[cyan]readiness… waiting for {len(waiting)}: {shown}")

        stack.wait_until_ready(timeout_s=timeout, on_progress=show)
    console.print(f"[green]✓[/] readiness [dim]({time.monotonic() - started:.1f} s)[/]", highlight=False)


def _seed(stack: LocalStack) -> bool:
    results = _step("demo data", stack.seed_demo_data)
    for result in results:
        mark = "[green]✓[/]" if result.ok else "[yellow]![/]"
        console.print(f"  {mark} {escape(result.what)}: {escape(str(result.detail))}", highlight=False)
    return all(result.ok for result in results)


def _print_where_to_go(stack: LocalStack, *, with_services: bool) -> None:
    table = Table(title="Qosym local stack", show_lines=False)
    table.add_column("what")
    table.add_column("where")
    if with_services:
        for frontend in stack.frontends:
            table.add_row(f"{frontend}: open in a browser", stack.frontend_url(frontend))
            if frontend == "portal" and stack.demo_staff_file().exists():
                table.add_row(
                    "portal: staff sign-in",
                    f"{stack.frontend_url(frontend)}/staff/login · accounts in {stack.demo_staff_file()}",
                )
        for service in stack.services:
            table.add_row(f"{service} API docs", f"{stack.api_url(service)}/docs")
    from qosym_cli.databases import _redact

    server = stack.state.postgres_server_url
    table.add_row("PostgreSQL", _redact(server) if server else "external (per-service URLs)")
    table.add_row("Redis", stack.state.redis_url or "")
    table.add_row("Kafka bootstrap", stack.state.kafka_bootstrap_servers or "")
    mail = stack.state.processes.get("mail")
    if mail is not None:
        table.add_row("mail (SMTP catcher)", f"smtp://127.0.0.1:{mail.port} → e-mails saved in {stack.home / 'mail'}")
    table.add_row("data folder", str(stack.home))
    table.add_row(
        "operate",
        "uv run qosym status · uv run qosym logs SERVICE · uv run qosym token --role ROLE · uv run qosym down",
    )
    console.print(table)


@app.command()
def down(home: HomeOption = None) -> None:
    """Stop every process of the local stack (data is kept; `up --fresh` wipes it)."""
    stack = LocalStack(_home(home))
    if not stack.state_file_exists():
        output.plain(f"nothing to stop: no stack at {stack.home}")
        return
    stopped = _step("stopping", stack.stop, lambda names: f"{len(names)} processes")
    if stopped:
        console.print("  " + ", ".join(stopped), highlight=False)


# --- status / logs -----------------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _status_row(row: ProcessStatus) -> list[str]:
    health = f"[green]{row.detail}[/]" if row.healthy else f"[red]{row.detail}[/]"
    return [
        row.name,
        str(row.pid or ""),
        str(row.port or ""),
        health,
        _number(row.metrics.consumer_lag),
        _number(row.metrics.outbox_backlog),
        _number(row.metrics.dead_letters),
        _parked(row.metrics),
    ]


def _parked(metrics: ProcessMetrics) -> str:
    """Parked events, with how many wait longer than QOSYM_PARKING_REPORT_AFTER_S (in red)."""
    if metrics.parked is None:
        return ""
    overdue = metrics.parked_overdue or 0
    return f"{metrics.parked:g} [red]({overdue:g} overdue)[/]" if overdue else f"{metrics.parked:g}"


@app.command()
def status(home: HomeOption = None) -> None:
    """One row per process: health, consumer lag, outbox backlog, dead letters, parked events. Exit 1 unless all
    healthy."""
    stack = LocalStack(_home(home))
    if not stack.state_file_exists():
        raise _fail(f"no stack at {stack.home}; start it with qosym up")
    rows = stack.status()
    table = Table(title=f"Qosym local stack ({stack.home})")
    table.add_column("process", no_wrap=True)
    for column in ("pid", "port"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("health", no_wrap=True)
    for column in ("lag", "backlog", "dead letters", "parked"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*_status_row(row))
    console.print(table)
    if not all(row.healthy for row in rows):
        raise typer.Exit(1)


def _log_files(stack: LocalStack, service: str, process: str | None) -> list[Path]:
    if service in SERVERS:
        return [stack.log_path(service)]
    if service not in (*SERVICES, *FRONTENDS):
        raise _fail(f"unknown service {service!r}; choose one of: {', '.join((*SERVERS, *SERVICES, *FRONTENDS))}")
    roles = (process,) if process else roles_of(service)
    files = []
    for role in roles:
        replicas = [Path(r.log) for r in stack.state.replicas_of(service, role)]  # every consumers replica's log
        files += replicas or [stack.log_path(f"{service}-{role}")]
    return files


@app.command()
def logs(
    service: Annotated[str, typer.Argument(help="a service, or postgres / redis / kafka")],
    process: Annotated[
        str | None, typer.Option("--process", help="api, consumers or relay (web for the portal)")
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="how many lines to show")] = 40,
    home: HomeOption = None,
) -> None:
    """Print the tail of a process's log."""
    if process is not None and process not in (*ROLES, FRONTEND_ROLE):
        raise _fail(f"--process must be one of: {', '.join((*ROLES, FRONTEND_ROLE))}")
    stack = LocalStack(_home(home))
    files = _log_files(stack, service, process)
    for path in files:
        console.rule(str(path), style="dim")
        console.out(tail(path, lines), highlight=False)
    if follow:
        _follow(files)


def _follow(files: list[Path]) -> None:
    positions = {path: path.stat().st_size if path.exists() else 0 for path in files}
    prefix = len(files) > 1
    try:
        while True:
            for path in files:
                if not path.exists():
                    continue
                with path.open("rb") as handle:
                    handle.seek(positions[path])
                    chunk = handle.read()
                    positions[path] = handle.tell()
                for line in chunk.decode("utf-8", errors="replace").splitlines():
                    console.out(f"{path.stem}: {line}" if prefix else line, highlight=False)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


# --- replay / dead letters / tokens ------------------------------------------------------------


def _ops() -> ModuleType:
    """The database operations module, imported on demand (SQLAlchemy is slow to import)."""
    from qosym_cli import ops

    return ops


def _report_errors(results: dict[str, object]) -> bool:
    failed = False
    for service, result in results.items():
        if isinstance(result, Exception):
            output.failed(f"{service}: {type(result).__name__}: {str(result)[:200]}")
            failed = True
    return failed


@app.command()
def replay(
    since: Annotated[str, typer.Option("--since", help="ISO datetime, or a duration like 2h / 30m / 1d")],
    service: ServiceOption = None,
    home: HomeOption = None,
) -> None:
    """Mark outbox rows created since then for publishing again (after a broker lost its log)."""
    try:
        moment = _ops().parse_since(since)
        urls = _ops().database_urls(_home(home), service)
    except StackError as error:
        raise _fail(str(error)) from None
    results = asyncio.run(_ops().replay(urls, moment))
    for name, marked in results.items():
        if not isinstance(marked, Exception):
            console.print(f"{name}: {marked} rows marked for replay since {moment.isoformat()}", highlight=False)
    if _report_errors(dict(results)):
        raise typer.Exit(1)


@dlq_app.command("list")
def dlq_list(service: ServiceOption = None, home: HomeOption = None) -> None:
    """Unresolved dead letters of every (or one) service."""
    try:
        urls = _ops().database_urls(_home(home), service)
    except StackError as error:
        raise _fail(str(error)) from None
    results = asyncio.run(_ops().dead_letters(urls))
    table = Table(title="Dead letters")
    for column in ("service", "id", "consumer", "topic", "attempts", "error", "last failed"):
        table.add_column(column)
    for name, letters in results.items():
        if isinstance(letters, Exception):
            continue
        for letter in letters:
            table.add_row(
                name,
                str(letter.id),
                letter.consumer,
                letter.topic,
                str(letter.attempts),
                (letter.error or "")[:80],
                letter.last_failed_at.isoformat(timespec="seconds") if letter.last_failed_at else "",
            )
    console.print(table)
    if _report_errors(dict(results)):
        raise typer.Exit(1)


@dlq_app.command("retry")
def dlq_retry(
    service: ServiceOption = None,
    ids: Annotated[list[int] | None, typer.Option("--id", help="dead letter id (repeatable); default: all")] = None,
    home: HomeOption = None,
) -> None:
    """Ask the consumers to apply dead letters again (picked up within a few seconds)."""
    try:
        urls = _ops().database_urls(_home(home), service)
    except StackError as error:
        raise _fail(str(error)) from None
    results = asyncio.run(_ops().retry(urls, list(ids) if ids else None))
    for name, count in results.items():
        if not isinstance(count, Exception):
            console.print(f"{name}: {count} dead letters queued for retry", highlight=False)
    if _report_errors(dict(results)):
        raise typer.Exit(1)


@parked_app.command("list")
def parked_list(
    service: ServiceOption = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="only those parked longer than this (2h / 30m / 1d)")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Events parked until their prerequisite arrives, in arrival order, of every (or one) service."""
    try:
        urls = _ops().database_urls(_home(home), service)
        age = None if older_than is None else datetime.now(UTC) - _ops().parse_since(older_than)
    except StackError as error:
        raise _fail(str(error)) from None
    results = asyncio.run(_ops().parked(urls, age))
    table = Table(title="Parked events")
    for column in ("service", "id", "event type", "awaits", "parked at", "note"):
        table.add_column(column)
    for name, events in results.items():
        if isinstance(events, Exception):
            continue
        for event in events:
            table.add_row(
                name,
                str(event.id),
                event.event_type,
                event.awaits,
                event.parked_at.isoformat(timespec="seconds"),
                (event.last_error or "")[:60],
            )
    console.print(table)
    if _report_errors(dict(results)):
        raise typer.Exit(1)


@parked_app.command("release")
def parked_release(
    service: ServiceOption = None,
    ids: Annotated[list[int] | None, typer.Option("--id", help="parked event id (repeatable); default: all")] = None,
    home: HomeOption = None,
) -> None:
    """Ask the consumers to apply parked events now, whatever they await (one still waiting stays parked)."""
    try:
        urls = _ops().database_urls(_home(home), service)
    except StackError as error:
        raise _fail(str(error)) from None
    results = asyncio.run(_ops().release_parked(urls, list(ids) if ids else None))
    for name, count in results.items():
        if not isinstance(count, Exception):
            console.print(f"{name}: {count} parked events queued for release", highlight=False)
    if _report_errors(dict(results)):
        raise typer.Exit(1)


@parked_app.command("dead-letter")
def parked_dead_letter(
    ids: Annotated[list[int], typer.Option("--id", help="parked event id (repeatable)")],
    service: ServiceOption = None,
    home: HomeOption = None,
) -> None:
    """Give up on parked events: each becomes a dead letter (``qosym dlq retry`` can apply it later)."""
    try:
        urls = _ops().database_urls(_home(home), service)
    except StackError as error:
        raise _fail(str(error)) from None
    results = asyncio.run(_ops().dead_letter_parked(urls, list(ids)))
    for name, count in results.items():
        if not isinstance(count, Exception):
            console.print(f"{name}: {count} parked events dead-lettered", highlight=False)
    if _report_errors(dict(results)):
        raise typer.Exit(1)


TokenRole = enum.StrEnum("TokenRole", {role: role for role in AUTH_ROLES})  # type: ignore[misc]  # a functional enum built from data


@app.command()
def token(
    role: Annotated[TokenRole, typer.Option("--role", help="the token's role", case_sensitive=False)],
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            help="the token's sub claim (a parent's person id); default: a stable id for this role and scope",
        ),
    ] = None,
    ttl: Annotated[int, typer.Option("--ttl", help="lifetime in seconds")] = 3600,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="KEY=VALUE, repeatable: region=astana, district=yesil, provider=PROVIDER_ID"),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Print a development token signed with the local stack's key (local stack only)."""
    pairs = [item.partition("=") for item in scope or []]
    if any(not key or not sep or not value for key, sep, value in pairs):
        raise _fail("--scope takes KEY=VALUE, e.g. --scope region=astana")
    claims = {key: value for key, _, value in pairs} or None
    if role == "operator" and not (claims or {}).get("region"):
        raise _fail("an operator serves one region: add --scope region=CODE (every service refuses one without)")
    if subject is None:  # a staff member's id, as the services expect one (notifications keys an inbox by it)
        described = ",".join(f"{key}={value}" for key, value in sorted((claims or {}).items()))
        subject = str(uuid.uuid5(uuid.NAMESPACE_URL, f"qosym-cli:{role.value}:{described}"))
    typer.echo(mint_token(_home(home), role.value, subject, ttl_s=ttl, scope=claims))


@app.command()
def report(
    region: Annotated[str, typer.Option("--region", help="the region's code, e.g. astana")],
    period: Annotated[str, typer.Option("--period", help="the month YYYY-MM (the budget is its year's)")],
    out: Annotated[Path, typer.Option("--out", help="the PDF to write")] = Path("qosym-report.pdf"),
    lang: Annotated[str, typer.Option("--lang", help="ru, kk or en (the title page also names the other one)")] = "ru",
    home: HomeOption = None,
) -> None:
    """Write a PDF of a region's insights figures (demand, activation, retention, equity, budget) from the running
    stack's insights API, as an auditor."""
    import re

    import httpx

    from qosym_cli.report import ReportError, build_report

    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", period):
        raise _fail("--period takes a month, YYYY-MM")
    stack = LocalStack(_home(home))
    try:
        base = stack.api_url("insights")
    except (KeyError, StackError) as exc:
        raise _fail("insights is not part of this stack: run `qosym up` first") from exc
    auditor = mint_token(stack.home, "auditor", "qosym-report")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {auditor}"}, timeout=30) as client:
        try:
            written = build_report(client, region, period, lang, out)
        except (ReportError, httpx.HTTPError) as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"wrote {written}")


@app.command("check")
def check_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="machine output: {findings: [{kind, subject, detail}]}")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="judge delivery only of events produced from this ISO time on (default: all)"),
    ] = None,
    home: HomeOption = None,
) -> None:
    """After quiescence, compare what every service holds (docs/reliability.md, "The checker"): payments'
    reconciliation, every subscribed event consumed exactly once, quotas, budgets and capacities, projections equal
    to their sources. One line per finding; exit 1 on any."""
    from datetime import datetime

    from qosym_cli.check import as_json as findings_json
    from qosym_cli.check import check
    from qosym_cli.paths import repo_root

    stack = LocalStack(_home(home))
    if not stack.state.database_urls:
        raise _fail("no stack here: run `qosym up` first")
    started = datetime.fromisoformat(since) if since else None
    try:
        findings = check(
            stack.state.database_urls,
            stack.api_url("payments"),
            mint_token(stack.home, "auditor", "qosym-check"),
            repo_root() / "docs" / "asyncapi",
            since=started,
        )
    except (OSError, StackError) as exc:
        raise _fail(f"cannot read the stack: {exc}") from exc
    if as_json:
        typer.echo(findings_json(findings))
    else:
        for finding in findings:
            output.failed(finding.line())
        if findings:
            output.plain(f"{len(findings)} findings")
        else:
            output.succeeded("checked: 0 findings")
    if findings:
        raise typer.Exit(1)


@app.command("trace")
def trace_command(
    trace_id: Annotated[
        str, typer.Argument(help="the trace id (32 hex digits), as a problem+json or a log line gives it")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="machine output: the span tree as one JSON object")] = False,
    home: HomeOption = None,
) -> None:
    """One trace's span tree with timings, from the local stack's trace files: the request, its SQL, the outbox,
    every consumer the event reached; the relay's batch spans that link to it are listed under it."""
    import json

    from qosym_cli.traces import as_json as trace_json
    from qosym_cli.traces import find_trace, render

    folder = _home(home) / "traces"
    if not folder.is_dir():
        raise _fail(f"no trace files in {folder}: run `qosym up` first")
    found = find_trace(folder, trace_id)
    if found is None:
        raise _fail(f"no span of trace {trace_id} in {folder} (spans are written within a second of ending)")
    if as_json:
        typer.echo(json.dumps(trace_json(found)))
        return
    for line in render(found):
        typer.echo(line)


if __name__ == "__main__":
    app()
