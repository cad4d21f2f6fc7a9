"""Serving a WSGI app with gunicorn from our own commands (`serve`, `sap-sim`, `sf-sim`)."""
from __future__ import annotations

from collections.abc import Callable

from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    """gunicorn's documented custom-application pattern: the configuration as a dict, the app from a
    factory that runs in each worker after the fork (so state and threads belong to the worker)."""

    def __init__(self, app_factory: Callable, config: dict) -> None:
        self._app_factory, self._config = app_factory, config
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._config.items():
            self.cfg.set(name, value)
        # GUNICORN_CMD_ARGS, as the gunicorn command reads it (e.g. "--timeout 60 --worker-connections
        # 200"), for every setting not decided here: gunicorn's other settings stay reachable, and the
        # ones decided here (bind, workers: one where the state lives in the process) stay decided.
        from_env = self.cfg.get_cmd_args_from_env()
        if from_env:
            for name, value in vars(self.cfg.parser().parse_args(from_env)).items():
                if value is not None and name.lower() not in self._config and name not in ("args", "config"):
                    self.cfg.set(name.lower(), value)

    def load(self):
        return self._app_factory()


def gthread_config(host: str, port: int, *, workers: int = 1, threads: int = 8, **extra) -> dict:
    """Threaded workers, no gunicorn access log (every app logs one JSON line per request itself)."""
    return {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "accesslog": None, **extra}
