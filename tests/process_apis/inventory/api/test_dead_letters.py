"""The dead-letter queue over HTTP against a real redis-server: listed by reason a page at a time,
re-driven after the fix, discarded with a reason; a system API's own dead letters."""

from __future__ import annotations

from tests.process_apis.inventory.support import V1, assert_problem, position, send
from tests.support.inventory import event_json


def dead_letter(api, *events):
    return [item["dead_letter_id"] for item in send(api, *events)["not_applied"]]


def test_dead_letters_are_listed_by_reason_a_page_at_a_time(network):
    unknown = dead_letter(network, *[event_json(f"u{i}", "stock.received", location="NOWHERE") for i in range(3)])
    dead_letter(network, event_json("frac", "stock.received", quantity=0.5))

    first = network.get(f"{V1}/dead-letters", query_string={"reason": "unknown_location", "limit": 2}).get_json()
    second = network.get(
        f"{V1}/dead-letters", query_string={"reason": "unknown_location", "limit": 2, "after": first["next"]}
    ).get_json()

    assert len(first["items"]) == 2 and first["next"]
    assert len(second["items"]) == 1 and second["next"] is None
    assert sorted(item["id"] for item in first["items"] + second["items"]) == sorted(unknown)
    everything = network.get(f"{V1}/dead-letters").get_json()
    assert len(everything["items"]) == 4 and everything["next"] is None


def test_redriving_after_the_fix_applies_the_event_and_closes_the_entry(network):
    [entry_id] = dead_letter(network, event_json("late-store", "stock.received", location="S9", quantity=6))
    network.put(f"{V1}/locations/S9", json={"type": "store"})

    response = network.post(f"{V1}/dead-letters/{entry_id}/redrive")

    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["outcome"]) == ("redriven", "applied")
    assert position(network, "S9")["on_hand"] == 6
    assert network.get(f"{V1}/dead-letters").get_json()["items"] == []
    assert [
        e["id"] for e in network.get(f"{V1}/dead-letters", query_string={"status": "redriven"}).get_json()["items"]
    ] == [entry_id]
    assert_problem(network.post(f"{V1}/dead-letters/{entry_id}/redrive"), 409)


def test_a_redrive_that_still_fails_is_a_422_and_stays_open(network):
    [entry_id] = dead_letter(network, event_json("still", "stock.received", location="S9"))

    problem = assert_problem(network.post(f"{V1}/dead-letters/{entry_id}/redrive"), 422)

    assert problem["reason"] == "unknown_location"
    entry = network.get(f"{V1}/dead-letters/{entry_id}").get_json()
    assert (entry["status"], entry["attempts"]) == ("open", 1) and "unknown_location" in entry["last_error"]


def test_discarding_keeps_the_entry_closed_with_the_reason(network):
    [entry_id] = dead_letter(network, event_json("test", "stock.received", location="S9"))

    response = network.delete(f"{V1}/dead-letters/{entry_id}", json={"reason": "test event sent by mistake"})

    assert response.status_code == 200
    entry = network.get(f"{V1}/dead-letters/{entry_id}").get_json()
    assert (entry["status"], entry["discard_reason"]) == ("discarded", "test event sent by mistake")
    assert network.get(f"{V1}/dead-letters").get_json()["items"] == []
    discarded = network.get(f"{V1}/dead-letters", query_string={"status": "discarded"}).get_json()["items"]
    assert [e["id"] for e in discarded] == [entry_id]
    assert_problem(network.delete(f"{V1}/dead-letters/{entry_id}", json={"reason": "again"}), 409)


def test_discarding_needs_a_reason(network):
    [entry_id] = dead_letter(network, event_json("test", "stock.received", location="S9"))

    assert_problem(network.delete(f"{V1}/dead-letters/{entry_id}", json={}), 422)
    assert network.get(f"{V1}/dead-letters/{entry_id}").get_json()["status"] == "open"


def test_a_system_api_can_dead_letter_what_it_cannot_map_and_it_is_listed_with_its_reason(network):
    item = {
        "reason": "unmapped_location",
        "detail": "plant 1010 / sloc 0009 is not mapped",
        "payload": {"MaterialDocument": "4900000001", "MaterialDocumentItem": "0001"},
        "source": "sap",
    }
    response = network.post(
        f"{V1}/dead-letters", json={"dead_letters": [item, {**item, "reason": "unknown_movement_type"}]}
    )

    assert response.status_code == 201
    ids = response.get_json()["dead_letter_ids"]
    assert len(ids) == 2
    listed = network.get(f"{V1}/dead-letters", query_string={"reason": "unmapped_location"}).get_json()["items"]
    assert [(e["id"], e["source"], e["payload"]) for e in listed] == [(ids[0], "sap", item["payload"])]


def test_a_foreign_dead_letter_needs_a_reason_code(network):
    assert_problem(
        network.post(
            f"{V1}/dead-letters", json={"dead_letters": [{"reason": "Not A Code", "detail": "x", "payload": {}}]}
        ),
        422,
    )
