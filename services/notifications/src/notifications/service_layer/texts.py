"""A message's text in the reader's language: the template, the programme's title, the explanation link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import repository
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
        titles = await repository.programme_titles(
            session, [UUID(str(m.payload["programme_id"])) for m in messages if m.payload.get("programme_id")]
        )
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
            out.append(
                RenderedMessage(
                    id=message.id,
                    seq=message.seq,
                    kind=message.kind,
                    subject_id=message.subject_id,
                    payload=message.payload,
                    created_at=message.created_at,
                    read_at=message.read_at,
                    title=text.title,
                    body=text.body,
                    language=language,
                )
            )
        return out
