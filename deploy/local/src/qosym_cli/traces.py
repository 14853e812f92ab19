"""`qosym trace TRACE_ID`: one trace's span tree with timings, read from the local stack's trace files.

Every process of the local stack writes its spans as OTLP JSON lines to ``<home>/traces/<service>-<process>.jsonl``
(qosym_chassis.telemetry). A request's trace continues into every consumer through the message's ``traceparent``,
so one tree runs from the HTTP request to the last consumer; the relay's batch span lives in a trace of its own and
*links* to the requests whose events it sent: it is listed under the tree as a linked span.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    service: str
    process: str
    start_ns: int
    end_ns: int
    status: str = ""
    links: tuple[str, ...] = ()
    children: list[Span] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _attributes(items: Iterable[dict[str, Any]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        value = item.get("value", {})
        values[item["key"]] = str(next(iter(value.values()), "")) if isinstance(value, dict) else str(value)
    return values


def read_spans(folder: Path) -> Iterator[Span]:
    """Every span in the folder's OTLP JSON lines files (a line cut short by a process killed mid-write is skipped)."""
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    batch = json.loads(line)
                except json.JSONDecodeError:
                    continue
                for resource_spans in batch.get("resourceSpans", []):
                    resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
                    for scope in resource_spans.get("scopeSpans", []):
                        for span in scope.get("spans", []):
                            yield Span(
                                trace_id=span["traceId"].lower(),
                                span_id=span["spanId"].lower(),
                                parent_id=(span.get("parentSpanId") or "").lower(),
                                name=span.get("name", ""),
                                service=resource.get("service.name", "?"),
                                process=resource.get("qosym.process", "?"),
                                start_ns=int(span.get("startTimeUnixNano", 0)),
                                end_ns=int(span.get("endTimeUnixNano", 0)),
                                status=str(span.get("status", {}).get("code", "") or ""),
                                links=tuple(link["traceId"].lower() for link in span.get("links", [])),
                            )


@dataclass(frozen=True)
class Trace:
    trace_id: str
    roots: list[Span]
    linked: list[Span]  # spans of other traces that link to this one (the relay's batch spans)

    @property
    def start_ns(self) -> int:
        return min(span.start_ns for span in self.roots)

    def spans(self) -> Iterator[tuple[int, Span]]:
        """Depth-first, children in start order: (depth, span)."""
        stack = [(0, root) for root in reversed(self.roots)]
        while stack:
            depth, span = stack.pop()
            yield depth, span
            stack.extend((depth + 1, child) for child in reversed(span.children))


def find_trace(folder: Path, trace_id: str) -> Trace | None:
    wanted = trace_id.strip().lower()
    members: dict[str, Span] = {}
    linked: list[Span] = []
    for span in read_spans(folder):
        if span.trace_id == wanted:
            members[span.span_id] = span
        elif wanted in span.links:
            linked.append(span)
    if not members:
        return None
    roots: list[Span] = []
    for span in members.values():
        parent = members.get(span.parent_id)
        # a parent missing from the files (its process was killed before exporting) makes its children roots
        (parent.children if parent is not None else roots).append(span)
    for span in members.values():
        span.children.sort(key=lambda child: child.start_ns)
    roots.sort(key=lambda span: span.start_ns)
    linked.sort(key=lambda span: span.start_ns)
    return Trace(wanted, roots, linked)


def render(trace: Trace) -> list[str]:
    """One line per span: offset from the trace's start, duration, service/process, the name indented by depth."""
    origin = trace.start_ns
    lines = [f"trace {trace.trace_id}", f"{'start ms':>9} {'took ms':>9}  {'where':<24} span"]
    for depth, span in trace.spans():
        failed = "  [error]" if span.status in {"2", "STATUS_CODE_ERROR"} else ""
        lines.append(
            f"{(span.start_ns - origin) / 1e6:>9.1f} {span.duration_ms:>9.1f}  "
            f"{span.service + '/' + span.process:<24} {'  ' * depth}{span.name}{failed}"
        )
    for span in trace.linked:
        lines.append(
            f"{(span.start_ns - origin) / 1e6:>9.1f} {span.duration_ms:>9.1f}  "
            f"{span.service + '/' + span.process:<24} (linked) {span.name}"
        )
    return lines


def as_json(trace: Trace) -> dict[str, Any]:
    def node(span: Span) -> dict[str, Any]:
        return {
            "name": span.name,
            "service": span.service,
            "process": span.process,
            "span_id": span.span_id,
            "start_ms": round((span.start_ns - trace.start_ns) / 1e6, 3),
            "duration_ms": round(span.duration_ms, 3),
            "children": [node(child) for child in span.children],
        }

    return {
        "trace_id": trace.trace_id,
        "spans": [node(root) for root in trace.roots],
        "linked": [
            {"name": s.name, "service": s.service, "process": s.process, "trace_id": s.trace_id} for s in trace.linked
        ],
    }
