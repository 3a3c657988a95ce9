"""Prometheus metrics: request counts and timings, flags raised, failed write-backs, queue depth.

`trustdesk serve` runs several gunicorn workers and a consumer process, so
counters live in prometheus_client's multiprocess files when
PROMETHEUS_MULTIPROC_DIR is set (serve sets it before anything imports this
module) and every scrape sums them, whichever worker answers. Queue depth is
read at scrape time rather than stored, so it is never stale. Labels hold
route templates and fixed words only: never a raw path, a secret or message text.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Iterator

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from .services import Services, services
from .storage import WriteBack

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
WRITE_BACK_STATUSES = ("pending", "running", "done", "dead")
log = logging.getLogger("trustdesk.metrics")

REQUESTS = Counter("trustdesk_http_requests_total", "HTTP requests answered.", ["method", "endpoint", "status"])
DURATION = Histogram("trustdesk_http_request_duration_seconds", "Time to answer an HTTP request.",
                     ["method", "endpoint"],
                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
FLAGS = Counter("trustdesk_flags_total", "Labels flagged on analysed tickets.", ["label"])
WRITE_BACK_FAILURES = Counter("trustdesk_write_back_failures_total", "Failed write-back attempts.",
                              ["integration", "outcome"])

bp = Blueprint("metrics", __name__)


def record_flags(analysis: dict) -> None:
    """Count each label flagged in an analysis."""
    for label in analysis.get("flags", ()):
        FLAGS.labels(label=label).inc()


def record_write_back_failure(integration: str, outcome: str) -> None:
    """Count a failed write-back attempt; outcome is retry or dead."""
    WRITE_BACK_FAILURES.labels(integration=integration, outcome=outcome).inc()


class QueueCollector:
    """Queue depth and write-backs by status, read when scraped; an unreadable source is skipped."""

    def __init__(self, source: Services) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        try:
            pending = self.source.queue.pending_count()
        except Exception as exc:  # a scrape must answer even when the queue is down
            log.warning("metrics: cannot read the queue depth (%s)", type(exc).__name__)
        else:
            yield GaugeMetricFamily("trustdesk_queue_pending", "Jobs waiting in the queue.", value=pending)
        try:
            counts = self._write_backs()
        except Exception as exc:  # likewise when the database is
            log.warning("metrics: cannot count write-backs (%s)", type(exc).__name__)
            return
        gauge = GaugeMetricFamily("trustdesk_write_backs", "Write-back jobs by status.", labels=["status"])
        for status in sorted(set(WRITE_BACK_STATUSES) | set(counts)):
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge

    def _write_backs(self) -> dict[str, int]:
        with self.source.sessions() as session:
            rows = session.execute(select(WriteBack.status, func.count()).group_by(WriteBack.status))
            return {status: count for status, count in rows}


def scrape_registry(source: Services) -> CollectorRegistry:
    """A registry for one scrape: every process's metrics (or this one's) plus the queue gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # a registry is a collector too: it yields its metrics
    registry.register(QueueCollector(source))
    return registry


@bp.get("/metrics")
def scrape() -> Response:
    """Metrics in Prometheus text format (no auth: for a scraper on the internal network)."""
    return Response(generate_latest(scrape_registry(services())), content_type=CONTENT_TYPE_LATEST)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response: Response) -> Response:
    method = request.method if request.method in METHODS else "other"
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(method=method, endpoint=endpoint, status=str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        DURATION.labels(method=method, endpoint=endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Count and time every request and serve /metrics."""
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)
