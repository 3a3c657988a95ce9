"""What the running service holds: settings, database, model, playbooks, adapters.

Built once per process by create_app and kept on the app, so a request never
loads a model or opens an engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from flask import Flask, current_app
from huey import Huey
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from guidance.engine import Context
from guidance.llm import ChatBackend
from guidance.partners import with_common
from integrations import ADAPTERS
from integrations.base import Adapter
from models.predict import Analyzer

from .config import Settings
from .storage import make_engine, session_factory, upgrade


@dataclass
class Services:
    """The process-wide objects requests use."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker
    analyzer: Analyzer
    guidance: Context
    adapters: dict[str, Adapter]
    queue: Huey | None = None
    write_back_task: Callable[[str, str], object] | None = None
    live: Any = None  # plugin.runtime.Live: follows settings and model activations
    after_analysis_task: Callable[[int], object] | None = None  # plugin.alerts: lead alerts and shadow model
    send_alert_task: Callable[[int], object] | None = None  # plugin.alerts: send one lead alert


def adapter_settings(settings: Settings) -> Mapping[str, str]:
    """The TRUSTDESK_* values adapters read: every extra variable plus the named generic ones."""
    values = dict(settings.extra)
    if settings.generic_webhook_secret:
        values["TRUSTDESK_GENERIC_WEBHOOK_SECRET"] = settings.generic_webhook_secret
    if settings.generic_callback_url:
        values["TRUSTDESK_GENERIC_CALLBACK_URL"] = settings.generic_callback_url
    return values


def build(settings: Settings) -> Services:
    """Open the database (migrating it), load the model and playbooks, make the adapters."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    analyzer = Analyzer.load(settings.model_path)
    partners = with_common(settings.partners)
    backend = ChatBackend(settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout) \
        if settings.llm_url else None
    from .playbook_files import effective

    context = Context(analyzer, effective(settings.data_dir), partners, backend)  # shipped, with the admins' edits
    adapters = {cls.name: cls(adapter_settings(settings)) for cls in ADAPTERS}
    built = Services(settings, engine, session_factory(engine), analyzer, context, adapters)
    _follow_runtime(built)
    from .jobs import make_queue, register

    built.queue = make_queue(settings)
    built.write_back_task = register(built.queue, lambda: built)
    from . import alerts

    built.after_analysis_task, built.send_alert_task = alerts.register(built.queue, lambda: built)
    return built


def _follow_runtime(built: Services) -> None:
    """Register the known models, then take on the active model and the admins' settings."""
    from sqlalchemy.exc import IntegrityError

    from models.store import DEFAULT_MODEL_DIR

    from . import runtime, versions

    built.live = runtime.Live(built.analyzer, built.settings.model_path, built.settings.partners)
    for attempt in range(2):  # workers starting together may race to register the same rows
        try:
            with built.sessions.begin() as session:
                versions.at_start(session, built.settings.model_path or DEFAULT_MODEL_DIR, built.settings.data_dir)
            break
        except IntegrityError:
            if attempt:
                raise
    built.live.refresh(built, force=True)


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the services to the app."""
    app.extensions["trustdesk"] = build(settings)


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions["trustdesk"]
