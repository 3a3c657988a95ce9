"""`trustdesk serve` starts the real server (gunicorn) on its embedded defaults; `db upgrade` migrates."""

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner

from integrations.generic.adapter import signed_headers

from plugin.cli import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_checks(tmp_path):
    exe = shutil.which("trustdesk") or str(Path(sys.executable).with_name("trustdesk"))
    port = free_port()
    env = {**os.environ, "TRUSTDESK_DATA_DIR": str(tmp_path / "var")}
    server = subprocess.Popen([exe, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # still booting
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start within 60 s"
                time.sleep(0.3)
        assert response.status_code == 200 and response.json()["checks"]["integrations"]["generic"] == "not configured"
        assert (tmp_path / "var" / "trustdesk.db").is_file() and (tmp_path / "var" / "secret_key").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)


class _Callbacks(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        _Callbacks.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_one_command_runs_everything_webhook_to_callback(tmp_path):
    callbacks = HTTPServer(("127.0.0.1", 0), _Callbacks)
    threading.Thread(target=callbacks.serve_forever, daemon=True).start()
    exe = shutil.which("trustdesk") or str(Path(sys.executable).with_name("trustdesk"))
    port = free_port()
    env = {**os.environ, "TRUSTDESK_DATA_DIR": str(tmp_path / "var"), "TRUSTDESK_GENERIC_WEBHOOK_SECRET": "s",
           "TRUSTDESK_GENERIC_CALLBACK_URL": f"http://127.0.0.1:{callbacks.server_address[1]}/hook"}
    server = subprocess.Popen([exe, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = json.dumps({"event_id": "e-serve", "ticket": {"id": "9", "messages": [
            {"author_role": "agent", "body": "Please contact the seller directly."}]}}).encode()
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.post(f"http://127.0.0.1:{port}/webhooks/generic", data=body,
                                         headers=signed_headers("s", body), timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # still booting
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert response.status_code == 200
        while not _Callbacks.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _Callbacks.received and _Callbacks.received[0]["event_id"] == "e-serve"
    finally:
        server.terminate()
        server.wait(timeout=30)
        callbacks.shutdown()


def test_db_upgrade(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    from alembic.script import ScriptDirectory

    from plugin.storage import MIGRATIONS

    result = CliRunner().invoke(main, ["db", "upgrade"])
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert result.exit_code == 0 and f"revision {head}" in result.output


def test_bad_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TRUSTDESK_RETENTION_DAYS", "soon")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0 and "TRUSTDESK_RETENTION_DAYS" in result.output


def test_a_worker_leaves_what_it_loaded_at_start_out_of_garbage_collection(tmp_path, monkeypatch):
    import gc

    from plugin.server import _Server

    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    server = _Server({"bind": "127.0.0.1:0", "workers": 1})
    try:
        app = server.load()
        assert app.name and gc.get_freeze_count() > 10_000  # the model and the app, frozen once
    finally:
        gc.unfreeze()


def test_the_language_detector_is_loaded_before_gunicorn_forks_its_workers(tmp_path, monkeypatch):
    """Loaded lazily, each worker's first message that needs it would wait half a second for it."""
    from models import language
    from plugin import server

    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setattr(language, "_identifier", None)
    loaded_at_start = []
    monkeypatch.setattr(server._Server, "run", lambda self: loaded_at_start.append(language._identifier is not None))
    server.run("127.0.0.1:0", 1)
    assert loaded_at_start == [True]
