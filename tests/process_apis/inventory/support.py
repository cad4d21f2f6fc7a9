"""Helpers of the process API's HTTP tests (tests/process_apis/inventory/api/ and their
neighbours): send events, read availability, reserve, and check a problem+json answer."""

from __future__ import annotations

import uuid

from tests.support.inventory import event_json

V1 = "/inventory/v1"
PROBLEM = "application/problem+json"

_ids = iter(range(1, 1_000_000))


def send(api, *events):
    response = api.post(f"{V1}/events", json={"events": list(events)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def receive(api, quantity, location="S1", sku="MAT-1", **extra):
    body = send(
        api,
        event_json(
            f"r-{next(_ids)}", "stock.received", sku=sku, location=location, quantity=quantity, ms=next(_ids), **extra
        ),
    )
    assert body["applied"] == 1


def availability(api, **params):
    response = api.get(f"{V1}/availability", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def position(api, location="S1", sku="MAT-1", channel=None):
    params = {"sku": sku, "location": location, **({"channel": channel} if channel else {})}
    [found] = availability(api, **params)["positions"]
    return found


def reserve(api, *lines, key=None, channel="web", external_ref="ORDER-1", **extra):
    body = {"channel": channel, "external_ref": external_ref, "lines": list(lines), **extra}
    return api.post(f"{V1}/reservations", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status and body["type"].startswith("https://")
    assert not {"code", "message"} & body.keys()
    return body


def put_rules(api, document, etag=None):
    etag = etag or api.get(f"{V1}/rules").headers["ETag"]
    return api.put(f"{V1}/rules", json=document, headers={"If-Match": etag})
