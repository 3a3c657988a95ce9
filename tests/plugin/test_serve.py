"""`trustdesk serve` starts the real server (gunicorn) on its embedded defaults; `db upgrade` migrates."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner

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
                response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start within 60 s"
                time.sleep(0.3)
        assert response.status_code == 200 and response.json()["checks"]["integrations"]["generic"] == "not configured"
        assert (tmp_path / "var" / "trustdesk.db").is_file() and (tmp_path / "var" / "secret_key").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_db_upgrade(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0 and "revision 0002" in result.output


def test_bad_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TRUSTDESK_RETENTION_DAYS", "soon")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0 and "TRUSTDESK_RETENTION_DAYS" in result.output
