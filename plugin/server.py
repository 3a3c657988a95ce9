"""Run the app under gunicorn from Python, so `trustdesk serve` is one command."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    """gunicorn with our options; each worker builds its own app (its own engine and model)."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        return create_app()


def run(bind: str, workers: int) -> None:
    """Serve until stopped."""
    _Server({"bind": bind, "workers": workers, "accesslog": "-", "timeout": 60}).run()
