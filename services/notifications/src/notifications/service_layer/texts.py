"""A message's text in the reader's language: the template, the programme's title, the explanation link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import people_repository, programmes_repository
from notifications.adapters.templates import Renderer
from notifications.domain.messages import Message


@dataclass(frozen=True)
class RenderedMessage:
    id: UUID
    seq: int
    kind: str
    subject_id: UUID
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    title: str
    body: str
    language: str


@dataclass(frozen=True)
class Texts:
    renderer: Renderer
    default_language: str
    default_timezone: str
    explanation_url: str

    def link(self, payload: dict[str, Any]) -> str | None:
        application_id = payload.get("application_id")
        return self.explanation_url.format(application_id=application_id) if application_id else None

    async def render(
        self, session: AsyncSession, messages: list[Message], language: str, timezone: str | None = None
    ) -> list[RenderedMessage]:
        titles = await programmes_repository.programme_titles(
            session, [UUID(str(m.payload["programme_id"])) for m in messages if m.payload.get("programme_id")]
        )
        families = await people_repository.children_of(session, sorted({p for m in messages if (p := _person(m))}))
        out = []
        for message in messages:
            programme_id = message.payload.get("programme_id")
            text = self.renderer.render(
                message.kind,
                language,
                message.payload,
                programme=titles.get(UUID(str(programme_id))) if programme_id else None,
                explanation_url=self.link(message.payload),
                timezone=timezone or self.default_timezone,
            )
            which = _which_child(families, message)
            title = text.title
            if which is not None:  # a parent of several children: say which one, without personal data
                title = f"{title} · {self.renderer.phrases(language).get('child', {}).get('ordinal', 'child {n} of {count}')}"
                title = title.format(n=which[0], count=which[1])
            out.append(
                RenderedMessage(
                    id=message.id,
                    seq=message.seq,
                    kind=message.kind,
                    subject_id=message.subject_id,
                    payload=message.payload,
                    created_at=message.created_at,
                    read_at=message.read_at,
                    title=title,
                    body=text.body,
                    language=language,
                )
            )
        return out


def _person(message: Message) -> UUID | None:
    kind, _, value = message.audience.partition(":")
    if kind != "person" or not message.payload.get("child_id"):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def _which_child(families: dict[UUID, list[UUID]], message: Message) -> tuple[int, int] | None:
    """(n, count) when the message is about one of a person's several children: "child 2 of 3"."""
    person = _person(message)
    children = families.get(person) if person else None
    if not children or len(children) < 2:
        return None
    try:
        return children.index(UUID(str(message.payload["child_id"]))) + 1, len(children)
    except ValueError:
        return None
