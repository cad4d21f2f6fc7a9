"""/docs in a real browser: headless Chromium renders Swagger UI's operations from a served gateway with
every request off the loopback sent to a proxy that is not there, so the page works offline (no CDN)
and under the gateway's Content-Security-Policy (no inline script). Skipped without chromium locally;
a failure in CI (CI set), like the Redis tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import requests

from tests.support.sap_gateway import start_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BROWSER_SECONDS = 60


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "chromium not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    gateway = start_gateway(
        {"REDIS_URL": "", "LOG_LEVEL": "WARNING"}, "--demo", logfile=tmp_path_factory.mktemp("docs") / "serve.log"
    )
    yield gateway
    gateway.stop()


def rendered(chromium: str, url: str, profile) -> str:
    """The DOM of `url` once its scripts ran, as headless Chromium builds it with nothing beyond the loopback
    reachable (Chromium sends loopback requests directly, everything else to the dead proxy)."""
    command = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--proxy-server=127.0.0.1:9",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_SECONDS, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("path", ["/docs", "/sap/v1/docs"])
def test_swagger_ui_renders_every_operation_offline_under_the_content_security_policy(chromium, served, tmp_path, path):
    dom = rendered(chromium, served.base_url + path, tmp_path / "profile")
    assert re.search(r'class="[^"]*\bopblock\b', dom), dom[-3000:]
    assert "swagger-ui" in dom and "Failed to load API definition" not in dom


def test_no_page_the_gateway_serves_names_a_cdn(served):
    for path in [
        "/docs",
        "/sap/v1/docs",
        "/salesforce/v1/docs",
        "/web/v1/docs",
        "/store/v1/docs",
        "/call-centre/v1/docs",
    ]:
        html = requests.get(served.base_url + path, timeout=10).text
        assert not re.search(r"cdn\.|jsdelivr|unpkg", html), path
