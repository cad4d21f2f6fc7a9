"""Free text sent to the process API (notes, references, names, reasons) with a line break, a NUL or a lone
surrogate is refused with a 422 problem naming the field, never a 500, and nothing of it is stored."""

from __future__ import annotations

import uuid

import pytest

from tests.process_apis.inventory.support import V1, assert_problem, put_rules, receive
from tests.support.inventory import event_json

#: What the JSON escapes "x\n", "x\u0000" and "\ud800" decode to.
UNCLEAN = ["x\n", "x\u0000", "\ud800"]
#: A query string holds UTF-8, which has no lone surrogate (its bytes decode to U+FFFD).
UNCLEAN_QUERY = UNCLEAN[:2]
LINE = {"sku": "MAT-1", "location": "S1", "quantity": 1}


def _reservation(**fields):
    return {"channel": "web", "external_ref": "ORDER-1", "lines": [LINE], **fields}


def _refused(response, *path: str) -> None:
    body = assert_problem(response, 422)
    errors = body["errors"]
    for name in path:
        assert name in errors, body
        errors = errors[name]


def _reservations(api) -> int:
    return api.get(f"{V1}/availability", query_string={"sku": "MAT-1", "location": "S1"}).get_json()["positions"][0][
        "reserved"
    ]


@pytest.mark.parametrize("text", UNCLEAN)
@pytest.mark.parametrize("field", ["note", "created_by", "external_ref"])
def test_a_reservation_with_unclean_text_is_refused_and_holds_nothing(network, field, text):
    receive(network, 5)

    response = network.post(
        f"{V1}/reservations", json=_reservation(**{field: text}), headers={"Idempotency-Key": uuid.uuid4().hex}
    )

    _refused(response, "json", field)
    assert _reservations(network) == 0


@pytest.mark.parametrize("text", UNCLEAN)
def test_a_new_external_ref_with_unclean_text_is_refused_and_the_reservation_keeps_its_own(network, text):
    receive(network, 5)
    created = network.post(f"{V1}/reservations", json=_reservation(), headers={"Idempotency-Key": "k1"}).get_json()

    _refused(network.patch(f"{V1}/reservations/{created['id']}", json={"external_ref": text}), "json", "external_ref")
    assert network.get(f"{V1}/reservations/{created['id']}").get_json()["external_ref"] == "ORDER-1"


@pytest.mark.parametrize("text", UNCLEAN)
@pytest.mark.parametrize("field", ["name", "region", "postal_code"])
def test_a_location_with_unclean_text_is_refused_and_not_stored(network, field, text):
    response = network.put(f"{V1}/locations/S9", json={"type": "store", field: text})

    _refused(response, "json", field)
    assert network.get(f"{V1}/locations/S9").status_code == 404


@pytest.mark.parametrize("text", UNCLEAN)
def test_a_location_group_with_an_unclean_name_is_refused_and_not_stored(network, text):
    _refused(network.put(f"{V1}/location-groups/G9", json={"name": text, "members": ["S1"]}), "json", "name")
    assert network.get(f"{V1}/location-groups/G9").status_code == 404


@pytest.mark.parametrize("text", UNCLEAN)
@pytest.mark.parametrize(
    "rules",
    [
        lambda text: {"safety_stock": [{"category": text, "units": 1}]},
        lambda text: {"categories": {text: ["MAT-*"]}},
        lambda text: {"categories": {"apparel": [text]}},
    ],
    ids=["safety-stock-category", "category-name", "category-member"],
)
def test_rules_with_unclean_text_are_refused_and_the_rule_set_stays(network, rules, text):
    before = network.get(f"{V1}/rules")

    response = put_rules(network, rules(text), etag=before.headers["ETag"])

    _refused(response, "json")
    assert network.get(f"{V1}/rules").headers["ETag"] == before.headers["ETag"]


@pytest.mark.parametrize("text", UNCLEAN)
def test_a_discard_reason_with_unclean_text_is_refused_and_the_dead_letter_stays_open(network, text):
    body = network.post(f"{V1}/events", json={"events": [event_json("bad", "stock.received", location="NOWHERE")]})
    [dead_letter_id] = [item["dead_letter_id"] for item in body.get_json()["not_applied"]]

    _refused(network.delete(f"{V1}/dead-letters/{dead_letter_id}", json={"reason": text}), "json", "reason")
    assert network.get(f"{V1}/dead-letters/{dead_letter_id}").get_json()["status"] == "open"


@pytest.mark.parametrize("text", UNCLEAN_QUERY)
@pytest.mark.parametrize(
    ("path", "name"), [("reservations", "external_ref"), ("dead-letters", "reason"), ("dead-letters", "after")]
)
def test_a_query_with_unclean_text_is_refused(network, path, name, text):
    _refused(network.get(f"{V1}/{path}", query_string={name: text}), "query", name)


@pytest.mark.parametrize("text", UNCLEAN)
@pytest.mark.parametrize("field", ["detail", "source"])
def test_a_foreign_dead_letter_with_unclean_text_is_refused_and_not_stored(network, field, text):
    entry = {"reason": "unmapped_location", "detail": "no location", "payload": {}, field: text}

    _refused(network.post(f"{V1}/dead-letters", json={"dead_letters": [entry]}), "json", "dead_letters")
    assert network.get(f"{V1}/dead-letters").get_json()["items"] == []
