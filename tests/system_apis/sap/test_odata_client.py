"""The OData client against SAP's protocol: CSRF tokens, full paging, bounded read retries,
the circuit breaker, timeouts, and SAP error bodies as problem+json."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from shared.errors import Problem
from shared.tier_client import Timeouts
from system_apis.sap.client import SapODataClient
from tests.system_apis.sap.fake_odata import ROOT, FakeSap

STOCK = "API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod"


def _records(n: int) -> list[dict]:
    return [
        {
            "Material": f"MAT-{i:04d}",
            "Plant": "1010",
            "StorageLocation": "0001",
            "InventoryStockType": "01",
            "MatlWrhsStkQtyInMatlBaseUnit": "1.000",
        }
        for i in range(n)
    ]


def _client(fake: FakeSap, **options) -> SapODataClient:
    return SapODataClient(app=fake.app(), root=ROOT, **{"attempts": 3, **options})


def _read_all(client: SapODataClient) -> list[str]:
    return [r["Material"] for page in client.pages(STOCK) for r in page.records]


def test_client_pages_with_skip_and_top_until_the_inline_count():
    fake = FakeSap(records=_records(25))
    materials = _read_all(_client(fake, page_size=10))
    assert materials == [f"MAT-{i:04d}" for i in range(25)]
    skips = [r["args"].get("$skip") for r in fake.requests if r["path"].endswith("A_MatlStkInAcctMod")]
    assert skips == ["0", "10", "20"]
    assert all(
        r["args"]["$inlinecount"] == "allpages" and r["args"]["$format"] == "json"
        for r in fake.requests
        if r["path"].endswith("A_MatlStkInAcctMod")
    )


@pytest.mark.parametrize("absolute", [True, False])
def test_client_follows_next_links_absolute_or_relative_to_the_service(absolute):
    fake = FakeSap(records=_records(23), server_page_size=5, absolute_next=absolute)
    assert len(_read_all(_client(fake, page_size=1000))) == 23
    tokens = [r["args"].get("$skiptoken") for r in fake.requests if r["path"].endswith("A_MatlStkInAcctMod")]
    assert tokens == [None, "5", "10", "15", "20"]


def test_filter_is_sent_percent_encoded_with_odata_literals():
    fake = FakeSap(records=[])
    list(_client(fake).pages(STOCK, {"$filter": "Plant eq '1010' and Material eq 'O''Neil'"}))
    assert fake.requests[-1]["args"]["$filter"] == "Plant eq '1010' and Material eq 'O''Neil'"


def test_reads_are_retried_through_transient_server_errors():
    fake = FakeSap(records=_records(3), faults=[503, 500])
    assert len(_read_all(_client(fake))) == 3


def test_sap_error_message_is_carried_into_the_problem():
    fake = FakeSap(faults=[500, 500, 500])
    with pytest.raises(Problem) as raised:
        _read_all(_client(fake))
    problem = raised.value
    assert problem.status == 502
    assert "Injected fault 500" in problem.detail
    assert problem.extensions["sap_code"] == "/IWBEP/CM_MGW_RT/500"
    assert problem.extensions["upstream_status"] == 500


def test_sap_unavailable_after_the_bounded_retries_is_503_with_retry_after():
    fake = FakeSap(faults=[503, 503, 503, 503])
    with pytest.raises(Problem) as raised:
        _read_all(_client(fake))
    assert raised.value.status == 503
    assert "Retry-After" in raised.value.headers
    assert len(fake.requests) == 3  # attempts, not more
    assert fake.faults == [503]


def test_not_found_stays_404_with_sap_message():
    fake = FakeSap()
    with pytest.raises(Problem) as raised:
        _client(fake).get("API_MATERIAL_DOCUMENT_SRV/Nothing")
    assert raised.value.status == 404


def test_a_body_that_is_not_json_is_a_bad_gateway():
    with pytest.raises(Problem) as raised:
        _client(FakeSap()).get("not-json")
    assert raised.value.status == 502


def test_breaker_opens_after_repeated_failures_and_fails_fast():
    fake = FakeSap(faults=[503] * 10)
    client = _client(fake, attempts=1, breaker_fail_max=2, breaker_reset_seconds=60)
    for _ in range(2):
        with pytest.raises(Problem):
            client.get("API_MATERIAL_STOCK_SRV/")
    calls = len(fake.requests)
    with pytest.raises(Problem) as raised:
        client.get("API_MATERIAL_STOCK_SRV/")
    assert raised.value.status == 503 and "circuit open" in raised.value.detail
    assert raised.value.headers["Retry-After"] == "60"
    assert len(fake.requests) == calls


def test_a_write_fetches_a_csrf_token_on_a_get_and_sends_it_with_the_session_cookie():
    fake = FakeSap()
    client = _client(fake)
    client.request("POST", client.url("API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader"), json={"x": 1})
    fetch, post = fake.requests
    assert (fetch["method"], fetch["headers"]["X-Csrf-Token"]) == ("GET", "Fetch")
    assert post["method"] == "POST" and post["headers"]["X-Csrf-Token"] in fake.sessions.values()
    assert "SAP_SESSIONID=" in post["headers"]["Cookie"]
    assert fake.posted == [{"x": 1}]


def test_an_expired_csrf_token_is_fetched_again_once():
    fake = FakeSap()
    client = _client(fake)
    url = client.url("API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader")
    client.request("POST", url, json={"n": 1})
    fake.expire_sessions()
    client.request("POST", url, json={"n": 2})
    assert [r["method"] for r in fake.requests] == ["GET", "POST", "POST", "GET", "POST"]
    assert fake.posted == [{"n": 1}, {"n": 2}]


def test_a_write_is_not_retried_on_a_server_error():
    fake = FakeSap()
    client = _client(fake)
    url = client.url("API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader")
    client.request("GET", client.url("API_MATERIAL_STOCK_SRV/"))  # holds a token now
    fake.faults = [500, 500]
    with pytest.raises(Problem):
        client.request("POST", url, json={})
    assert fake.faults == [500]


def test_basic_auth_is_sent_and_a_rejected_logon_is_a_bad_gateway():
    fake = FakeSap(records=_records(1), user="COMM_USER", password="secret")
    assert len(_read_all(_client(fake, user="COMM_USER", password="secret"))) == 1
    with pytest.raises(Problem) as raised:
        _read_all(_client(fake, user="COMM_USER", password="wrong"))
    assert raised.value.status == 502 and "Logon failed" in raised.value.detail


@pytest.fixture
def sap_over_http():
    fake = FakeSap(records=_records(2), delay_seconds=0.5)
    server = make_server("127.0.0.1", 0, fake.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_port}{ROOT}"
    server.shutdown()


def test_over_http_a_read_timeout_is_retried_then_answered(sap_over_http):
    fake, url = sap_over_http
    fake.faults = ["slow"]
    client = SapODataClient(url, timeouts=Timeouts(connect=1, read=0.2), attempts=2)
    assert len([r for page in client.pages(STOCK) for r in page.records]) == 2


def test_over_http_sap_that_keeps_timing_out_is_unavailable(sap_over_http):
    fake, url = sap_over_http
    fake.faults = ["slow", "slow"]
    client = SapODataClient(url, timeouts=Timeouts(connect=1, read=0.2), attempts=2)
    with pytest.raises(Problem) as raised:
        client.get("API_MATERIAL_STOCK_SRV/")
    assert raised.value.status == 503 and "ReadTimeout" in raised.value.detail


def test_over_http_absolute_next_links_are_rebased_onto_the_configured_host(sap_over_http):
    fake, url = sap_over_http
    fake.records, fake.server_page_size = _records(7), 3
    client = SapODataClient(url, attempts=1)
    assert len([r for page in client.pages(STOCK) for r in page.records]) == 7
