"""Helpdesk adapters, and the one registry the service routes webhooks through.

The registry is an explicit list: an adapter's `name` equals its folder, its
route is /webhooks/<name> and its documentation is <name>/doc.md. No discovery
by trying imports.
"""

from __future__ import annotations

from .base import Adapter
from .chatwoot.adapter import ChatwootAdapter
from .freshdesk.adapter import FreshdeskAdapter
from .front.adapter import FrontAdapter
from .generic.adapter import GenericAdapter
from .helpscout.adapter import HelpScoutAdapter
from .intercom.adapter import IntercomAdapter
from .jira.adapter import JiraAdapter
from .zammad.adapter import ZammadAdapter
from .zendesk.adapter import ZendeskAdapter

ADAPTERS: tuple[type[Adapter], ...] = (
    GenericAdapter,
    ZendeskAdapter,
    FreshdeskAdapter,
    JiraAdapter,
    HelpScoutAdapter,
    IntercomAdapter,
    FrontAdapter,
    ZammadAdapter,
    ChatwootAdapter,
)
BY_NAME: dict[str, type[Adapter]] = {adapter.name: adapter for adapter in ADAPTERS}


def adapter_class(name: str) -> type[Adapter] | None:
    """The adapter registered under `name`, or None for an unknown integration."""
    return BY_NAME.get(name)
