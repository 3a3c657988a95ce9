"""Run the app under gunicorn from Python, so `trustdesk serve` is one command."""

from __future__ import annotations

import gc
import os

from gunicorn.app.base import BaseApplication

from .config import load_settings
from .logs import gunicorn_logconfig


class _Server(BaseApplication):
    """gunicorn with our options; each worker builds its own app (its own engine and model)."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """The worker's app; what it loaded at start (the model, tables) is then left out of garbage collection.

        Those objects live as long as the worker, yet every full collection would
        walk all of them (a couple of hundred thousand: tens of milliseconds, a
        pause that lands on some request). gc.freeze() moves them aside once.
        """
        from .app import create_app

        app = create_app()
        gc.collect()
        gc.freeze()
        return app


def _child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's arbiter and worker
    """Drop a dead worker's live metric files (its counts stay in the totals)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def run(bind: str, workers: int) -> None:
    """Serve until stopped.

    The language detector is loaded here, before gunicorn forks: loaded lazily, it
    cost each worker's first message that needs it half a second (a latency spike
    under load), and loaded before the fork its arrays are shared by all workers.
    """
    from models.language import warm_up

    warm_up()
    # Our app writes one JSON access line per request, so gunicorn's own access log stays off.
    # gunicorn's control socket is one fixed path per user: two services on one machine would
    # fight over it, and we have no use for it.
    _Server({"bind": bind, "workers": workers, "accesslog": None, "timeout": 60, "child_exit": _child_exit,
             "control_socket_disable": True,
             "logconfig_dict": gunicorn_logconfig(load_settings().log_level)}).run()
