"""Helpers for what the tests start: stopping a child process, serving a WSGI app over real HTTP."""
from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate `process` and wait for it; kill it when it does not exit within `timeout`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in threads (werkzeug); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
