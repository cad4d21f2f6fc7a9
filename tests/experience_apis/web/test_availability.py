"""GET /web/v1/availability: bands, capped quantities, pickup stores, caching (real Redis, in-process tiers)."""

from __future__ import annotations

import re
import time

from tests.experience_apis.web.conftest import event

URL = "/web/v1/availability"
ITEM_KEYS = {"sku", "status", "quantity", "ship_to_home", "pickup_stores"}
STORE_KEYS = {"store", "name", "distance_km", "status", "quantity"}
RAW_FIELDS = (
    "on_hand",
    "reserved",
    "safety_stock",
    "allocated",
    "available_to_sell",
    "available_to_order",
    "in_transit",
    "quality_inspection",
    "blocked",
    "negative",
    "location_group",
)


def items(response) -> dict[str, dict]:
    assert response.status_code == 200, response.get_json()
    return {item["sku"]: item for item in response.get_json()["items"]}


def stock_every_band(rig) -> None:
    rig.count("SKU-BIG", "DC01", 100)  # 100 − 5 % safety stock = 95 sellable
    rig.count("SKU-LOW", "S003", 4)  # 4 − 1 = 3: low stock (≤ 3)
    rig.count("SKU-TEN", "S003", 11)  # 10: exactly the cap
    rig.count("SKU-INCOMING", "DC01", 5, minutes_ago=3)
    rig.stock(event("transfer.shipped", "SKU-INCOMING", "DC01", 5, to_location="S001"))  # 0 on hand, 5 on the way


def test_bands_and_capped_quantities_of_the_web_network(rig):
    stock_every_band(rig)
    found = items(
        rig.client.get(URL, query_string={"sku": ["SKU-BIG", "SKU-LOW", "SKU-TEN", "SKU-INCOMING", "SKU-NONE"]})
    )
    assert {sku: (item["status"], item["quantity"], item["ship_to_home"]) for sku, item in found.items()} == {
        "SKU-BIG": ("in_stock", "10+", True),
        "SKU-LOW": ("low_stock", "3", True),
        "SKU-TEN": ("in_stock", "10", True),
        "SKU-INCOMING": ("backorder", "5", True),
        "SKU-NONE": ("out_of_stock", "0", False),
    }


def test_display_cap_comes_from_settings(build):
    rig = build(web_display_cap=25)
    rig.count("SKU-BIG", "DC01", 100)
    rig.count("SKU-MID", "S003", 21)
    found = items(rig.client.get(URL, query_string={"sku": ["SKU-BIG", "SKU-MID"]}))
    assert (found["SKU-BIG"]["quantity"], found["SKU-MID"]["quantity"]) == ("25+", "20")


def test_no_stock_figure_leaves_the_gateway(rig):
    stock_every_band(rig)
    response = rig.client.get(URL, query_string={"sku": ["SKU-BIG", "SKU-INCOMING"], "postal_code": "10115"})
    body = response.get_json()
    assert set(body) == {"postal_code", "matched_postal_code", "items"}
    for item in body["items"]:
        assert set(item) == ITEM_KEYS
        assert item["pickup_stores"], "the Berlin stores are near 10115"
        for store in item["pickup_stores"]:
            assert set(store) == STORE_KEYS
    text = response.get_data(as_text=True)
    assert not [name for name in RAW_FIELDS if name in text]
    assert not re.search(r'"quantity":\s*"?(9[0-9]|1[0-9]{2})', text)  # 95 sellable never shows exactly


def test_pickup_stores_near_the_postal_code_nearest_first_within_the_radius(rig):
    rig.count("SKU-BIG", "S001", 40)
    rig.count("SKU-BIG", "S002", 2)
    found = items(rig.client.get(URL, query_string={"sku": "SKU-BIG", "postal_code": "10997"}))
    stores = found["SKU-BIG"]["pickup_stores"]
    # Kreuzberg's S002 is ~1 km away, Mitte's S001 ~4 km; Hamburg's S003 is beyond 50 km, DC01 no store.
    assert [(s["store"], s["name"]) for s in stores] == [("S002", "Berlin Kreuzberg"), ("S001", "Berlin Mitte")]
    assert stores[0]["distance_km"] < stores[1]["distance_km"] < 50
    assert all(round(s["distance_km"], 1) == s["distance_km"] for s in stores)
    # S002: 2 − 1 safety = 1 (low); S001: 40 − 1 safety − 2 ring-fenced for stores = 37 → capped.
    assert [(s["status"], s["quantity"]) for s in stores] == [("low_stock", "1"), ("in_stock", "10+")]


def test_pickup_lists_only_web_pickup_stores(rig):
    process = rig.process
    for location, body in {
        "S010": {
            "type": "store",
            "name": "Ship only",
            "latitude": 52.52,
            "longitude": 13.40,
            "channels": ["web"],
            "fulfilment_methods": ["ship"],
        },
        "S011": {
            "type": "store",
            "name": "Store channel only",
            "latitude": 52.52,
            "longitude": 13.40,
            "channels": ["store"],
            "fulfilment_methods": ["pickup"],
        },
        "S012": {
            "type": "store",
            "name": "Alexanderplatz",
            "latitude": 52.521,
            "longitude": 13.41,
            "channels": ["web", "store"],
            "fulfilment_methods": ["pickup"],
        },
    }.items():
        assert process.put(f"/inventory/v1/locations/{location}", json=body).status_code == 201
    found = items(rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "10178"}))
    stores = found["SKU-X"]["pickup_stores"]
    assert [s["store"] for s in stores] == ["S012", "S001", "S002"]
    assert {s["status"] for s in stores} == {"out_of_stock"}  # listed whatever their band


def test_pickup_radius_comes_from_settings(build):
    rig = build(web_pickup_radius_km=300)
    found = items(rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "10115"}))
    assert [s["store"] for s in found["SKU-X"]["pickup_stores"]] == ["S001", "S002", "S003"]  # Hamburg too


def test_without_postal_code_no_pickup_stores_are_listed(rig):
    body = rig.client.get(URL, query_string={"sku": "SKU-X"}).get_json()
    assert body["postal_code"] is None and body["matched_postal_code"] is None
    assert body["items"][0]["pickup_stores"] is None


def test_postal_code_far_from_any_store_lists_none(rig):
    found = items(rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "80331"}))
    assert found["SKU-X"]["pickup_stores"] == []


def test_unknown_postal_code_falls_back_to_the_longest_known_prefix(rig):
    body = rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "10437"}).get_json()
    assert (body["postal_code"], body["matched_postal_code"]) == ("10437", "10435")
    assert [s["store"] for s in body["items"][0]["pickup_stores"]] == ["S001", "S002"]


def test_postal_code_with_no_known_prefix_is_a_422_naming_the_field(rig):
    response = rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "99999"})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == {"query": {"postal_code": ["unknown postal code"]}}


def test_postal_code_table_comes_from_settings(build):
    rig = build(web_postal_codes='{"99999": [52.531, 13.381]}')
    found = items(rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "99999"}))
    assert found["SKU-X"]["pickup_stores"][0]["store"] == "S001"
    assert rig.client.get(URL, query_string={"sku": "SKU-X", "postal_code": "10115"}).status_code == 422


def test_fifty_skus_are_answered_and_fifty_one_refused(rig):
    skus = [f"SKU-{n}" for n in range(51)]
    assert len(rig.client.get(URL, query_string={"sku": skus[:50]}).get_json()["items"]) == 50
    response = rig.client.get(URL, query_string={"sku": skus})
    assert response.status_code == 422
    assert "sku" in response.get_json()["errors"]["query"]


def test_repeated_skus_are_answered_once_in_the_order_asked(rig):
    body = rig.client.get(URL, query_string={"sku": ["B", "A", "B"]}).get_json()
    assert [item["sku"] for item in body["items"]] == ["B", "A"]


def test_missing_sku_unknown_parameters_and_bad_values_are_422(rig):
    for query in (
        {},
        {"sku": "A", "skus": "B"},
        {"sku": "bad sku!"},
        {"sku": "A", "postal_code": "1"},
        {"sku": "A", "channel": "store"},
    ):
        response = rig.client.get(URL, query_string=query)
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"


def test_answer_is_publicly_cacheable_for_the_configured_max_age(build):
    rig = build(web_cache_max_age_seconds=7)
    response = rig.client.get(URL, query_string={"sku": "SKU-X"})
    assert response.headers["Cache-Control"] == "public, max-age=7"
    assert response.headers["Vary"] == "Authorization, X-API-Key"


def test_strong_etag_follows_the_body(rig):
    rig.count("SKU-A", "S003", 3)
    first = rig.client.get(URL, query_string={"sku": "SKU-A"})
    again = rig.client.get(URL, query_string={"sku": "SKU-A"})
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong: no W/ prefix
    assert again.headers["ETag"] == etag
    rig.count("SKU-A", "S003", 30, minutes_ago=1)  # a newer count: the body changes, so does the ETag
    changed = rig.client.get(URL, query_string={"sku": "SKU-A"})
    assert changed.get_json() != first.get_json()
    assert changed.headers["ETag"] != etag


def test_if_none_match_with_the_current_etag_is_a_304_without_body(rig):
    first = rig.client.get(URL, query_string={"sku": "SKU-A", "postal_code": "10115"})
    etag = first.headers["ETag"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = rig.client.get(
            URL, query_string={"sku": "SKU-A", "postal_code": "10115"}, headers={"If-None-Match": header}
        )
        assert response.status_code == 304, header
        assert response.data == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == first.headers["Cache-Control"]


def test_if_none_match_with_a_stale_etag_gets_the_new_body(rig):
    stale = rig.client.get(URL, query_string={"sku": "SKU-A"}).headers["ETag"]
    rig.count("SKU-A", "S003", 30)
    response = rig.client.get(URL, query_string={"sku": "SKU-A"}, headers={"If-None-Match": stale})
    assert response.status_code == 200
    assert response.get_json()["items"][0]["quantity"] == "10+"


def test_a_missing_web_network_group_is_a_502_not_the_shoppers_fault(build):
    rig = build(web_network_group="NO-SUCH-GROUP")
    response = rig.client.get(URL, query_string={"sku": "SKU-A"})
    assert response.status_code == 502
    assert response.get_json()["type"].endswith("/web-network-misconfigured")


def test_an_answer_is_reused_for_the_same_question_only_within_the_cache_lifetime(build):
    rig = build(web_availability_cache_seconds=0.5)
    rig.count("SKU-LOW", "S003", 4)
    first = items(rig.client.get(URL, query_string={"sku": "SKU-LOW"}))["SKU-LOW"]["quantity"]
    rig.count("SKU-LOW", "S003", 3, minutes_ago=1)  # a newer count: 2 sellable
    asked_at = time.monotonic()
    again = items(rig.client.get(URL, query_string={"sku": "SKU-LOW"}))["SKU-LOW"]["quantity"]
    other_question = items(rig.client.get(URL, query_string={"sku": ["SKU-LOW", "SKU-NONE"]}))["SKU-LOW"]["quantity"]
    assert time.monotonic() - asked_at < 0.5, "the host was too slow to observe the cache"
    time.sleep(0.55)  # past the cache lifetime, not waiting for anything to settle
    later = items(rig.client.get(URL, query_string={"sku": "SKU-LOW"}))["SKU-LOW"]["quantity"]
    assert (first, again, other_question, later) == ("3", "3", "2", "2")
