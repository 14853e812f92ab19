"""Composition root of conversations: settings and context in, the service's dependencies out."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.adapters.sealing import AttachmentBox
from conversations.config import ConversationsSettings
from conversations.service_layer.dependencies import Dependencies
from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret


@dataclass(frozen=True)
class Conversations:
    settings: ConversationsSettings
    context: ServiceContext
    deps: Dependencies


def dependencies(settings: ConversationsSettings, context: ServiceContext) -> Dependencies:
    return Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        attachments=AttachmentBox(load_or_create_secret(settings.keys_dir, "conversations-attachments")),
    )


def bootstrap(settings: ConversationsSettings, context: ServiceContext) -> Conversations:
    return Conversations(settings=settings, context=context, deps=dependencies(settings, context))
