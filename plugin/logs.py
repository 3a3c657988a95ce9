"""Structured logs: one JSON object per line on stderr, each tagged with its request id.

Several gunicorn workers and a consumer write to the same stream, so lines must
be machine-readable and joinable by request. What goes in is deliberately thin:
method, path without its query string, status, timings and ids. Bodies, message
text, headers and settings never do, because logs travel further than the database.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .config import Settings

HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
access_log = logging.getLogger("trustdesk.access")


class JsonFormatter(_JsonFormatter):
    """timestamp (ISO 8601, UTC), level, logger, message, then any `extra=` fields."""

    def __init__(self) -> None:
        super().__init__(["levelname", "name", "message"], rename_fields={"levelname": "level", "name": "logger"},
                         reserved_attrs=[*RESERVED_ATTRS, "taskName"])

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        """Put the timestamp first, then the library's fields."""
        log_data["timestamp"] = datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)


class RequestIdFilter(logging.Filter):
    """Tag records emitted during a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and g.get("request_id"):
            record.request_id = g.request_id
        return True


class JsonStderrHandler(logging.StreamHandler):
    """JSON lines on whatever sys.stderr is when a record is emitted."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())

    # Looked up per record, not bound once: test runners and daemons swap sys.stderr.
    @property
    def stream(self):  # noqa: ANN201 - a text stream
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def init_logging(settings: Settings) -> None:
    """Send every log record to stderr as JSON at the configured level (the handler once per process)."""
    root = logging.getLogger()
    if not any(isinstance(handler, JsonStderrHandler) for handler in root.handlers):
        root.addHandler(JsonStderrHandler())
    root.setLevel(settings.log_level)


def gunicorn_logconfig(level: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its error log as our JSON, its access log off (we write our own)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            # A logconfig_dict turns gunicorn's access log on; silence it here.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"()": JsonStderrHandler}},
        "formatters": {},
    }


def request_id() -> str:
    """The caller's X-Request-Id when it is safe to echo and log, else a new one."""
    given = request.headers.get(HEADER, "")
    return given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex


def _start() -> None:
    g.request_id = request_id()
    g.log_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.get("log_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started is not None else None
    access_log.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"method": request.method, "path": request.path, "status": response.status_code,
                           "duration_ms": duration_ms})
    if g.get("request_id"):
        response.headers[HEADER] = g.request_id
    return response


def init_app(app: Flask) -> None:
    """Give each request an id (echoed in X-Request-Id) and one access-log line."""
    app.before_request(_start)
    app.after_request(_finish)
