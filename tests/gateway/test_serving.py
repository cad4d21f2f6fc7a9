"""How `serve` and the simulators configure gunicorn: their own settings, and GUNICORN_CMD_ARGS for the rest."""
from __future__ import annotations

from shared.serving import GunicornServer, gthread_config


def test_gunicorn_cmd_args_from_the_environment_set_what_serve_leaves_open(monkeypatch):
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--worker-connections 12 --timeout 75 --threads 3 --workers 5")
    server = GunicornServer(lambda: None, gthread_config("127.0.0.1", 8080, workers=1, threads=8))
    assert (server.cfg.worker_connections, server.cfg.timeout) == (12, 75)
    # what serve decides stays decided: one worker where the state lives in the process
    assert (server.cfg.workers, server.cfg.threads, server.cfg.bind) == (1, 8, ["127.0.0.1:8080"])


def test_without_gunicorn_cmd_args_our_configuration_stands(monkeypatch):
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    server = GunicornServer(lambda: None, gthread_config("127.0.0.1", 8080, workers=2, threads=8))
    assert (server.cfg.workers, server.cfg.threads, server.cfg.worker_class_str) == (2, 8, "gthread")
