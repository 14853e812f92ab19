"""``qosym chaos``: seeded fault runs over the whole lifecycle on the running stack (docs/reliability.md,
"qosym chaos").

Each seed draws a plan from ``random.Random(seed)`` (plan.py): SIGKILLs of service processes, a consumer armed at
a chassis kill point, a PostgreSQL restart, Redis stopped and started, dropped database connections, an outbox
replay window (duplicated deliveries) and a malformed record on a topic, each placed in a lifecycle phase at a
delay. The lifecycle (registrations, a round allocated, enrolments, a month of attendance confirmed, the month's
payment batch) runs through them; then the pipeline is let come to rest and ``qosym check`` runs. A seed fails on
any finding, any step that did not complete, or any fault that could not be shown to have happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qosym_cli import output
from qosym_cli.paths import default_home


def chaos_command(
    seeds: Annotated[int, typer.Option("--seeds", help="how many seeds to run")] = 10,
    start: Annotated[int, typer.Option("--start", help="the first seed")] = 1,
    seed: Annotated[int | None, typer.Option("--seed", help="run exactly this one seed's plan")] = None,
    children: Annotated[int, typer.Option("--children", help="children in each seed's lifecycle")] = 300,
    concurrency: Annotated[int, typer.Option("--concurrency", help="HTTP clients at once")] = 16,
    plan_only: Annotated[bool, typer.Option("--plan", help="print the plans, inject nothing")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object per seed (then one for the histogram)")
    ] = False,
    home: Annotated[Path | None, typer.Option("--home", help="stack data folder (default: $QOSYM_HOME)")] = None,
) -> None:
    """Seeded fault runs over a full lifecycle on the running stack, each checked by `qosym check`; exit 1 if any
    seed fails. Start the stack first (`qosym up --fresh`)."""
    from qosym_cli.bench.common import running_stack
    from qosym_cli.chaos.run import histogram, plan_for, run_seed
    from qosym_cli.errors import StackError

    chosen = [seed] if seed is not None else list(range(start, start + seeds))
    try:
        stack = running_stack((home or default_home()).expanduser().resolve())
    except StackError as error:
        output.failed(str(error))
        raise typer.Exit(1) from None
    if plan_only:
        for number in chosen:
            faults = [f.as_dict() for f in plan_for(stack, number)]
            if as_json:
                print(json.dumps({"seed": number, "plan": faults}), flush=True)
            else:
                output.plain(f"seed {number}:")
                for fault in plan_for(stack, number):
                    output.plain(f"  {fault.line()}")
        return
    results = []
    for number in chosen:
        result = run_seed(stack, number, children, concurrency)
        results.append(result)
        if as_json:
            print(json.dumps(result.as_dict(), default=str), flush=True)
        else:
            _print_seed(result)
    total = histogram(results)
    failed = [r.seed for r in results if not r.ok]
    if as_json:
        print(
            json.dumps({"histogram": dict(sorted(total.items())), "seeds": len(results), "failed": failed}), flush=True
        )
    else:
        table = Table(title=f"faults injected over {len(results)} seeds")
        table.add_column("kind")
        table.add_column("count", justify="right")
        table.add_column("")
        most = max(total.values(), default=1)
        for kind, count in sorted(total.items()):
            table.add_row(kind, str(count), "█" * max(1, round(30 * count / most)))
        output.console.print(table)
        output.plain(
            f"{len(results) - len(failed)} of {len(results)} seeds passed" + (f"; failed: {failed}" if failed else "")
        )
    if failed:
        raise typer.Exit(1)


def _print_seed(result: object) -> None:
    from qosym_cli.chaos.run import SeedResult

    assert isinstance(result, SeedResult)
    verdict = "[green]passed[/]" if result.ok else "[red]FAILED[/]"
    table = Table(title=f"seed {result.seed}: {result.children} children, {result.seconds:.0f} s — {verdict}")
    for column in ("phase", "fault", "target", "ok", "what happened"):
        table.add_column(column)
    for done in result.injected:
        fault = done.fault
        table.add_row(
            fault.phase,
            fault.kind,
            " ".join(p for p in (fault.target, fault.detail) if p),
            "yes" if done.ok else "[red]no[/]",
            done.note,
        )
    output.console.print(table)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.by_kind().items()))
    output.plain(f"  faults by kind: {kinds}")
    output.plain(f"  findings: {len(result.findings)}")
    for line in result.findings[:20]:
        output.plain(f"    {line}")
    if result.failed_step:
        output.failed(f"  step did not complete: {result.failed_step}")
    if len(result.injected) != len(result.plan):
        output.failed(f"  {len(result.injected)} of {len(result.plan)} planned faults injected")
    if result.retried:
        output.plain("  requests sent again: " + ", ".join(f"{k} {n}" for k, n in result.retried.items()))
