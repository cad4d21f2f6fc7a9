"""How `serve` and the simulators configure gunicorn: our settings, then GUNICORN_CMD_ARGS over them."""
from __future__ import annotations

from shared.serving import GunicornServer, gthread_config


def test_gunicorn_cmd_args_from_the_environment_win_over_ours(monkeypatch):
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--worker-connections 12 --timeout 75 --threads 3")
    server = GunicornServer(lambda: None, gthread_config("127.0.0.1", 8080, workers=2, threads=8))
    assert (server.cfg.worker_connections, server.cfg.timeout, server.cfg.threads) == (12, 75, 3)
    assert (server.cfg.workers, server.cfg.bind) == (2, ["127.0.0.1:8080"])  # not named there: ours


def test_without_gunicorn_cmd_args_our_configuration_stands(monkeypatch):
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    server = GunicornServer(lambda: None, gthread_config("127.0.0.1", 8080, workers=2, threads=8))
    assert (server.cfg.workers, server.cfg.threads, server.cfg.worker_class_str) == (2, 8, "gthread")
