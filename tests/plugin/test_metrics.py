"""/metrics: request counts and timings by route, flags, write-back failures, queue depth; right across workers."""

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from integrations.generic.adapter import signed_headers
from plugin.app import create_app
from plugin.metrics import record_flags, record_write_back_failure
from plugin.services import services
from plugin.storage import WriteBack


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "generic_webhook_secret": "hook-secret"})


@pytest.fixture
def client(app):
    return app.test_client()


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text page, keyed by name and labels."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client) -> tuple[str, dict]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    return text, parse(text)


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_and_timed_by_route_never_by_raw_path(client):
    _, before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page?token=abc")
    client.post("/webhooks/generic", data=b"{}", headers=signed_headers("wrong", b"{}"))
    text, after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("trustdesk_http_requests_total", method="GET", endpoint="/healthz", status="200") == 2
    assert delta("trustdesk_http_requests_total", method="GET", endpoint="unmatched", status="404") == 1
    assert delta("trustdesk_http_requests_total", method="POST", endpoint="/webhooks/<name>", status="401") == 1
    assert delta("trustdesk_http_request_duration_seconds_count", method="GET", endpoint="/healthz") == 2
    assert delta("trustdesk_http_request_duration_seconds_bucket", method="GET", endpoint="/healthz", le="+Inf") == 2
    buckets = {dict(labels)["le"] for name, labels in after
               if name == "trustdesk_http_request_duration_seconds_bucket" and ("endpoint", "/healthz") in labels}
    assert buckets == {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5",
                       "5.0", "+Inf"}
    assert "/no/such/page" not in text and "token" not in text and "hook-secret" not in text


def test_flags_and_write_back_failures_are_counted(client):
    _, before = scrape(client)
    record_flags({"flags": ["blame", "deflection"]})
    record_flags({"flags": ["deflection"]})
    record_flags({"flags": []})
    record_write_back_failure("generic", "retry")
    record_write_back_failure("generic", "dead")
    _, after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    labels = ("blame", "deflection", "escalation_risk")
    flagged = {label: delta("trustdesk_flags_total", label=label) for label in labels}
    assert flagged == {"blame": 1, "deflection": 2, "escalation_risk": 0}
    for outcome in ("retry", "dead"):
        assert delta("trustdesk_write_back_failures_total", integration="generic", outcome=outcome) == 1


def test_queue_gauges_are_read_at_scrape_time(app, client):
    _, samples = scrape(client)
    assert value(samples, "trustdesk_queue_pending") == 0
    assert {s: value(samples, "trustdesk_write_backs", status=s) for s in ("pending", "running", "done", "dead")} \
        == {"pending": 0, "running": 0, "done": 0, "dead": 0}
    with app.app_context():
        services().write_back_task("generic", "e-1")
        with services().sessions.begin() as session:
            session.add_all([WriteBack(source="generic", event_id="e-1"),
                             WriteBack(source="generic", event_id="e-2", status="dead")])
    _, samples = scrape(client)
    assert value(samples, "trustdesk_queue_pending") == 1
    assert value(samples, "trustdesk_write_backs", status="pending") == 1
    assert value(samples, "trustdesk_write_backs", status="dead") == 1


def test_an_unreadable_queue_or_database_skips_its_gauge(app, client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("down")

    with app.app_context():
        monkeypatch.setattr(services().queue, "pending_count", broken)
        monkeypatch.setattr(services(), "sessions", broken)
    with caplog.at_level(logging.WARNING, logger="trustdesk.metrics"):
        text, samples = scrape(client)
    assert "trustdesk_queue_pending" not in text and "trustdesk_write_backs" not in text
    assert "trustdesk_http_requests_total" in text
    assert "queue depth" in caplog.text and "write-backs" in caplog.text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz_total(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=5).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "trustdesk_http_requests_total" and s.labels["endpoint"] == "/healthz")


def workers_that_counted(metrics_dir: Path, endpoint: str) -> int:
    """How many processes' counter files hold requests to `endpoint` (checks the requests were spread)."""
    return sum(1 for path in metrics_dir.glob("counter_*.db")
               if any(s.labels.get("endpoint") == endpoint and s.value
                      for m in MultiProcessCollector.merge([str(path)]) for s in m.samples))


def test_counts_are_summed_across_gunicorn_workers(tmp_path):
    exe = shutil.which("trustdesk") or str(Path(sys.executable).with_name("trustdesk"))
    base, metrics_dir = f"http://127.0.0.1:{free_port()}", tmp_path / "var" / "metrics"
    metrics_dir.mkdir(parents=True)
    (metrics_dir / "counter_1.db").write_bytes(b"left from an earlier run: serve must clear it")
    env = {**os.environ, "TRUSTDESK_DATA_DIR": str(tmp_path / "var")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([exe, "serve", "--bind", base.removeprefix("http://"), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(8) as pool:
            # Concurrent requests on fresh connections, so both workers answer some of them.
            def burst(path: str, count: int) -> list[int]:
                return list(pool.map(lambda _: requests.get(f"{base}{path}", timeout=10).status_code, range(count)))

            while True:  # until both workers have booted and answered
                try:
                    if burst("/readyz", 8) and workers_that_counted(metrics_dir, "/readyz") == 2:
                        break
                except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a worker still loading
                    pass
                assert server.poll() is None and time.monotonic() < deadline, \
                    "both workers did not start (or wrote no metric files)"
                time.sleep(0.3)
            assert burst("/healthz", 40) == [200] * 40
        assert workers_that_counted(metrics_dir, "/healthz") == 2
        assert [healthz_total(base) for _ in range(4)] == [40] * 4
    finally:
        server.terminate()
        server.wait(timeout=30)
