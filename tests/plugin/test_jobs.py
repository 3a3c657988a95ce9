"""Write-back jobs: done once, retried with backoff honouring Retry-After, dead-lettered, on SQLite and Redis queues."""

from pathlib import Path

import responses
from sqlalchemy import select

from integrations.generic.adapter import signed_headers
from plugin import jobs
from plugin.app import create_app
from plugin.services import services
from plugin.storage import WriteBack

SECRET = "jobs-secret"
CALLBACK = "https://hooks.example.test/trustdesk"
FIXTURE = Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json"


def make_app(tmp_path, database_url=None, redis_url=None):
    config = {"TESTING": True, "data_dir": str(tmp_path / "var"), "generic_webhook_secret": SECRET,
              "generic_callback_url": CALLBACK}
    if database_url:
        config["database_url"] = database_url
    if redis_url:
        config["redis_url"] = redis_url
    return create_app(config)


def deliver(app):
    body = FIXTURE.read_bytes()
    response = app.test_client().post("/webhooks/generic", data=body, headers=signed_headers(SECRET, body))
    assert response.status_code == 200
    return response.json["event_id"]


def run_queued(app) -> int:
    """Execute every task waiting in the queue; returns how many ran."""
    queue = services().queue
    ran = 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        ran += 1
    return ran


def job_row(event_id):
    with services().sessions() as session:
        return session.scalars(select(WriteBack).where(WriteBack.event_id == event_id)).one()


@responses.activate
def test_write_back_happens_once(tmp_path, database_url):
    responses.post(CALLBACK, status=204)
    app = make_app(tmp_path, database_url)
    with app.app_context():
        event_id = deliver(app)
        assert job_row(event_id).status == "pending"
        assert run_queued(app) == 1
        assert job_row(event_id).status == "done" and len(responses.calls) == 1
        assert jobs.write_back(services(), "generic", event_id) is None  # a retried job finds the marker
        deliver(app)  # a redelivery is answered from storage and queues nothing
        assert run_queued(app) == 0 and len(responses.calls) == 1


@responses.activate
def test_rate_limited_write_back_is_rescheduled_after_retry_after(tmp_path):
    responses.post(CALLBACK, status=429, headers={"Retry-After": "120"})
    app = make_app(tmp_path)
    with app.app_context():
        event_id = deliver(app)
        run_queued(app)
        row = job_row(event_id)
        assert row.status == "pending" and row.attempts == 1 and "429" in row.last_error
        assert services().queue.scheduled_count() == 1


@responses.activate
def test_write_back_goes_dead_after_the_last_attempt_and_can_be_retried(tmp_path):
    responses.post(CALLBACK, status=503)
    app = make_app(tmp_path)
    with app.app_context():
        event_id = deliver(app)
        for _ in range(jobs.MAX_ATTEMPTS):
            jobs.write_back(services(), "generic", event_id)
        assert job_row(event_id).status == "dead"
        dead = jobs.dead(services())
        assert [d["event_id"] for d in dead] == [event_id]
        responses.replace(responses.POST, CALLBACK, status=200)
        jobs.retry_dead(services(), dead[0]["id"], services().write_back_task)
        run_queued(app)
        assert job_row(event_id).status == "done"


@responses.activate
def test_a_refused_write_back_is_dead_at_once(tmp_path):
    responses.post(CALLBACK, status=400)
    app = make_app(tmp_path)
    with app.app_context():
        event_id = deliver(app)
        run_queued(app)
        assert job_row(event_id).status == "dead" and job_row(event_id).attempts == 1


@responses.activate
def test_the_redis_queue_carries_the_job(tmp_path, redis_url):
    responses.post(CALLBACK, status=204)
    app = make_app(tmp_path, redis_url=redis_url)
    with app.app_context():
        queue = services().queue
        assert type(queue).__name__ == "RedisHuey"
        queue.flush()
        try:
            event_id = deliver(app)
            assert queue.pending_count() == 1
            run_queued(app)
            assert job_row(event_id).status == "done"
        finally:
            queue.flush()


def test_backoff_grows_with_jitter_and_honours_retry_after():
    low, high = (lambda: 0.0), (lambda: 1.0)
    assert jobs.backoff(1, rng=low) == jobs.BASE_DELAY * 0.5
    assert jobs.backoff(3, rng=high) == jobs.BASE_DELAY * 4 * 1.5
    assert jobs.backoff(1, retry_after=300, rng=high) == 300
    assert jobs.backoff(40, rng=high) == jobs.MAX_DELAY * 1.5
