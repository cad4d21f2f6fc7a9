"""`python -m simulators.salesforce` serves the org with gunicorn over HTTPS (--cert/--key)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import trustme

from gateway.settings import Settings
from simulators.salesforce import serve
from tests.simulators.salesforce.support import CLIENT_ID, CLIENT_SECRET, TOKEN_PATH, make_settings
from tests.support.processes import stop_process
from tests.support.redis_servers import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def https_session(ca_file: Path) -> requests.Session:
    session = requests.Session()
    session.verify = str(ca_file)
    session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment would override `verify`
    return session


def test_the_served_demo_org_answers_over_https(tmp_path, certificate_authority: trustme.CA):
    leaf = certificate_authority.issue_cert("localhost", "127.0.0.1")
    cert, key, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SALESFORCE_CLIENT_ID": CLIENT_ID,
        "SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
    }
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulators.salesforce",
                "--port",
                str(port),
                "--demo",
                "--cert",
                str(cert),
                "--key",
                str(key),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    session, base = https_session(ca_file), f"https://localhost:{port}"
    try:
        deadline, token = time.monotonic() + 30, None
        while token is None and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                answer = session.post(
                    base + TOKEN_PATH,
                    data={"grant_type": "client_credentials"},
                    auth=(CLIENT_ID, CLIENT_SECRET),
                    timeout=2,
                )
                token = answer.json()["access_token"]
            except requests.ConnectionError:
                time.sleep(0.05)
        assert token, (tmp_path / "serve.log").read_text()
        assert answer.json()["instance_url"] == base
        products = session.get(
            f"{base}/services/data/v62.0/query",
            params={"q": "SELECT Id FROM Product2"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert products.status_code == 200 and products.json()["totalSize"] == 20
        assert products.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    finally:
        stop_process(process)


def arguments(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    return parser.parse_args(argv)


def test_serving_refuses_to_start_without_the_connected_app():
    with pytest.raises(ValueError, match="SALESFORCE_CLIENT_ID"):
        serve.serve(arguments(), Settings())


def test_a_certificate_without_its_key_is_refused():
    assert serve.serve(arguments("--cert", "server.pem"), make_settings()) == 2
