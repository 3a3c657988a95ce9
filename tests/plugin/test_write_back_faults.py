"""Every accepted event is written back once: API down, slow or rate-limiting, a worker killed
mid-job, a restart between receiving and writing back, one event handed to two workers at once."""

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import responses
from sqlalchemy import select

from integrations.generic.adapter import signed_headers
from plugin import jobs
from plugin.app import create_app
from plugin.services import services
from plugin.storage import WriteBack, utcnow

SECRET = "faults-secret"
CALLBACK = "https://hooks.example.test/trustdesk"
FIXTURE = Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json"


def make_app(tmp_path, database_url=None):
    config = {"TESTING": True, "data_dir": str(tmp_path / "var"), "generic_webhook_secret": SECRET,
              "generic_callback_url": CALLBACK}
    if database_url:
        config["database_url"] = database_url
    return create_app(config)


def deliver(app) -> str:
    body = FIXTURE.read_bytes()
    response = app.test_client().post("/webhooks/generic", data=body, headers=signed_headers(SECRET, body))
    assert response.status_code == 200
    return response.json["event_id"]


def row(event_id) -> WriteBack:
    with services().sessions() as session:
        return session.scalars(select(WriteBack).where(WriteBack.event_id == event_id)).one()


def run_queue() -> None:
    queue = services().queue
    while (task := queue.dequeue()) is not None:
        queue.execute(task)


@pytest.mark.parametrize("failure", [requests.ConnectionError("connection refused"), requests.ReadTimeout("slow"),
                                     "503", "429"])
def test_api_down_slow_or_limiting_then_back_writes_once(tmp_path, failure):
    with responses.RequestsMock() as rsps:
        if isinstance(failure, Exception):
            rsps.post(CALLBACK, body=failure)
        else:
            rsps.post(CALLBACK, status=int(failure), headers={"Retry-After": "30"} if failure == "429" else {})
        rsps.post(CALLBACK, status=204)
        app = make_app(tmp_path)
        with app.app_context():
            event_id = deliver(app)
            delay = jobs.write_back(services(), "generic", event_id)
            assert delay is not None and row(event_id).status == "pending" and row(event_id).next_attempt_at
            if failure == "429":
                assert delay >= 30
            assert jobs.write_back(services(), "generic", event_id) is None
            assert jobs.write_back(services(), "generic", event_id) is None  # done: nothing more
            assert row(event_id).status == "done" and len(rsps.calls) == 2


def test_a_worker_killed_mid_job_is_taken_over_after_its_lease(tmp_path, database_url):
    with responses.RequestsMock() as rsps:
        rsps.post(CALLBACK, status=204)
        app = make_app(tmp_path, database_url)
        with app.app_context():
            event_id = deliver(app)
            # A worker claims the job and dies before finishing: the row stays running with its lease.
            assert jobs.claim(services(), "generic", event_id) is not None
            assert jobs.write_back(services(), "generic", event_id) is None and not rsps.calls  # still leased
            assert jobs.stale(services()) == []
            later = utcnow() + jobs.LEASE + timedelta(seconds=1)
            assert jobs.stale(services(), now=later) == [("generic", event_id)]
            assert jobs.write_back(services(), "generic", event_id, now=later) is None
            assert row(event_id).status == "done" and len(rsps.calls) == 1


def test_a_restart_between_receiving_and_writing_back_loses_nothing(tmp_path, database_url):
    with responses.RequestsMock() as rsps:
        rsps.post(CALLBACK, status=204)
        app = make_app(tmp_path, database_url)
        with app.app_context():
            event_id = deliver(app)
            services().queue.flush()  # the process stops: its queued message is gone with it
        restarted = make_app(tmp_path, database_url)
        with restarted.app_context():
            assert row(event_id).status == "pending"
            later = utcnow() + jobs.STALE_AFTER + timedelta(seconds=1)
            stale = jobs.stale(services(), now=later)
            assert stale == [("generic", event_id)]
            for source, stale_id in stale:  # what the sweeper does every minute
                services().write_back_task(source, stale_id)
            run_queue()
            assert row(event_id).status == "done" and len(rsps.calls) == 1


def test_one_event_handed_to_two_workers_at_once_is_written_back_once(tmp_path, database_url):
    posts = []

    def slow_callback(request):
        posts.append(request.body)
        time.sleep(0.3)  # long enough for the other worker to try meanwhile
        return 204, {}, ""

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, CALLBACK, callback=slow_callback)
        app = make_app(tmp_path, database_url)
        with app.app_context():
            event_id = deliver(app)
            shared = services()
        start = threading.Barrier(2)

        def worker():
            start.wait()
            jobs.write_back(shared, "generic", event_id)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        with app.app_context():
            assert len(posts) == 1 and row(event_id).status == "done"


def test_a_dead_job_is_not_swept_back(tmp_path):
    with responses.RequestsMock() as rsps:
        rsps.post(CALLBACK, status=400)
        app = make_app(tmp_path)
        with app.app_context():
            event_id = deliver(app)
            jobs.write_back(services(), "generic", event_id)
            assert row(event_id).status == "dead"
            assert jobs.stale(services(), now=utcnow() + timedelta(days=1)) == []
