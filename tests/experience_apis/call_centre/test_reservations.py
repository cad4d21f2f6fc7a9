"""Holds an agent makes for a customer or an order: made through the process API with channel
call_centre and the agent recorded, all lines or none, idempotent by the client's key; then read,
looked up by reference, released (all or some) and extended."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.support.experience import (
    MAX_LINES,
    MAX_UNITS_PER_LINE,
    ORDER_TTL_SECONDS,
    SKU,
    assert_problem,
    availability,
    channel_client,
    count,
    now,
)

RESERVATIONS = "/call-centre/v1/reservations"
OTHER_SKU = "MAT-9002"


@pytest.fixture
def stocked(process):
    """MAT-9001: 10 at S001, 10 at S002. MAT-9002: 5 at S001, 2 of them for the call centre (the demo
    rules keep 1 unit of safety stock and ring-fence 2 at S001 for the store channel)."""
    count(process, "S001", 10)
    count(process, "S002", 10)
    count(process, "S001", 5, sku=OTHER_SKU)


def hold(agent, *lines, key: str | None = None, **fields):
    body = {
        "agent_id": "agent-17",
        "external_ref": "CASE-42",
        "lines": list(lines) or [{"sku": SKU, "location": "S001", "quantity": 3}],
        **fields,
    }
    return agent.post(RESERVATIONS, json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def held(process, location: str = "S001", sku: str = SKU) -> int:
    return availability(process, location, "call_centre", sku)["reserved"]


def test_a_hold_is_a_call_centre_reservation_recording_the_agent(agent, process, stocked):
    response = hold(agent, note="customer collects Saturday")

    assert response.status_code == 201
    reservation = response.get_json()
    assert response.headers["Location"] == f"{RESERVATIONS}/{reservation['id']}"
    assert (reservation["status"], reservation["agent_id"], reservation["external_ref"]) == (
        "active",
        "agent-17",
        "CASE-42",
    )
    assert reservation["lines"][0]["allocations"] == [{"location": "S001", "quantity": 3}]
    upstream = process.get(f"/inventory/v1/reservations/{reservation['id']}").get_json()
    assert (upstream["channel"], upstream["created_by"], upstream["note"]) == (
        "call_centre",
        "agent-17",
        "customer collects Saturday",
    )
    assert held(process) == 3


def test_a_hold_lasts_the_order_reservation_ttl_unless_asked_shorter(agent, stocked):
    default = hold(agent).get_json()
    shorter = hold(agent, ttl_seconds=600).get_json()

    def lifetime(reservation) -> float:
        return (
            datetime.fromisoformat(reservation["expires_at"]) - datetime.fromisoformat(reservation["created_at"])
        ).total_seconds()

    assert lifetime(default) == pytest.approx(ORDER_TTL_SECONDS, abs=1)
    assert lifetime(shorter) == pytest.approx(600, abs=1)
    problem = assert_problem(hold(agent, ttl_seconds=ORDER_TTL_SECONDS + 1), 422)
    assert "ttl_seconds" in problem["errors"]["json"]


def test_a_repeated_hold_with_the_same_key_is_made_once(agent, process, stocked):
    first = hold(agent, key="hold-1")
    repeat = hold(agent, key="hold-1")

    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.get_json() == first.get_json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert held(process) == 3


def test_the_same_key_with_another_body_is_422(agent, process, stocked):
    hold(agent, key="hold-1")

    assert_problem(
        hold(agent, {"sku": SKU, "location": "S001", "quantity": 1}, key="hold-1"), 422, "idempotency-key-reused"
    )
    assert held(process) == 3


def test_keys_are_scoped_to_the_client(agent, app, redis, process, stocked):
    other_console = channel_client(app, redis, "call-centre-2", ["call-centre"])

    mine, theirs = hold(agent, key="hold-1"), hold(other_console, key="hold-1")

    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert held(process) == 6


def test_a_hold_without_an_idempotency_key_is_400_and_holds_nothing(agent, process, stocked):
    response = agent.post(
        RESERVATIONS,
        json={
            "agent_id": "agent-17",
            "external_ref": "CASE-42",
            "lines": [{"sku": SKU, "location": "S001", "quantity": 1}],
        },
    )

    assert_problem(response, 400, "idempotency-key-missing")
    assert held(process) == 0


def test_a_short_hold_is_409_with_per_line_shortfalls_and_holds_nothing(agent, process, stocked):
    response = hold(
        agent, {"sku": SKU, "location": "S001", "quantity": 2}, {"sku": OTHER_SKU, "location": "S001", "quantity": 3}
    )

    problem = assert_problem(response, 409, "insufficient-stock")
    assert availability(process, "S001", "call_centre", OTHER_SKU)["available_to_sell"] == 2
    shortfalls = [
        (short["line"], short["sku"], short["requested"], short["available"]) for short in problem["shortfalls"]
    ]
    assert shortfalls == [(1, OTHER_SKU, 3, 2)]
    assert (held(process), held(process, sku=OTHER_SKU)) == (0, 0)


@pytest.mark.parametrize(
    "fields, where",
    [
        ({"lines": [{"sku": SKU, "location": "S001", "quantity": MAX_UNITS_PER_LINE + 1}]}, "lines"),
        ({"lines": [{"sku": SKU, "location": "S001", "quantity": 1}] * (MAX_LINES + 1)}, "lines"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": SKU, "location": "S001", "location_group": "WEB-SHIP", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": SKU, "location": "S001", "quantity": 1, "price": 5}]}, "lines"),
        ({"allow_partial": True}, "allow_partial"),
        ({"agent_id": "agent 17"}, "agent_id"),
        ({"agent_id": None}, "agent_id"),
        ({"external_ref": "x" * 65}, "external_ref"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_abusive_or_invalid_holds_are_422_and_never_reach_the_process_api(agent, process, stocked, fields, where):
    body = {
        "agent_id": "agent-17",
        "external_ref": "CASE-42",
        "lines": [{"sku": SKU, "location": "S001", "quantity": 1}],
        **fields,
    }

    problem = assert_problem(agent.post(RESERVATIONS, json=body, headers={"Idempotency-Key": "k"}), 422)

    assert where in problem["errors"]["json"]
    assert process.get("/inventory/v1/reservations", query_string={"external_ref": "CASE-42"}).get_json()["items"] == []


def test_a_place_not_serving_the_call_centre_is_refused_by_the_process_api(agent, stocked):
    # WEB-SHIP is the web's group: the process API's 422 is passed up as it is.
    assert_problem(hold(agent, {"sku": SKU, "location_group": "WEB-SHIP", "quantity": 1}), 422)


def test_a_partial_release_frees_only_the_units_named(agent, process, stocked):
    reservation = hold(agent).get_json()

    response = agent.post(
        f"{RESERVATIONS}/{reservation['id']}/release", json={"lines": [{"sku": SKU, "location": "S001", "quantity": 1}]}
    )

    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["lines"][0]["reserved"]) == ("active", 2)
    assert held(process) == 2
    everything = agent.post(f"{RESERVATIONS}/{reservation['id']}/release", json={})
    assert everything.get_json()["status"] == "released"
    assert held(process) == 0


def test_a_release_repeated_with_its_key_releases_once(agent, process, stocked):
    reservation = hold(agent).get_json()
    release = {"lines": [{"sku": SKU, "location": "S001", "quantity": 1}]}

    for _ in range(2):
        response = agent.post(
            f"{RESERVATIONS}/{reservation['id']}/release", json=release, headers={"Idempotency-Key": "release-1"}
        )
        assert response.status_code == 200

    assert held(process) == 2


def test_extend_sets_the_expiry_from_now_within_the_order_ttl(agent, stocked):
    reservation = hold(agent, ttl_seconds=60).get_json()

    response = agent.post(f"{RESERVATIONS}/{reservation['id']}/extend", json={"ttl_seconds": 1800})

    assert response.status_code == 200
    expires_at = datetime.fromisoformat(response.get_json()["expires_at"])
    assert abs((expires_at - (now() + timedelta(seconds=1800))).total_seconds()) < 5
    assert_problem(
        agent.post(f"{RESERVATIONS}/{reservation['id']}/extend", json={"ttl_seconds": ORDER_TTL_SECONDS + 1}), 422
    )
    assert_problem(agent.post(f"{RESERVATIONS}/{reservation['id']}/extend", json={}), 422)


def test_a_released_hold_cannot_be_extended(agent, stocked):
    reservation = hold(agent).get_json()
    agent.post(f"{RESERVATIONS}/{reservation['id']}/release", json={})

    assert_problem(agent.post(f"{RESERVATIONS}/{reservation['id']}/extend", json={"ttl_seconds": 60}), 409)


def test_a_hold_is_read_by_id(agent, stocked):
    reservation = hold(agent).get_json()

    response = agent.get(f"{RESERVATIONS}/{reservation['id']}")

    assert response.status_code == 200
    assert response.get_json() == reservation


def test_look_up_by_external_ref_lists_the_call_centres_holds_newest_first(agent, stocked):
    first = hold(agent, external_ref="CUST-1").get_json()
    second = hold(agent, {"sku": SKU, "location": "S002", "quantity": 1}, external_ref="CUST-1").get_json()
    hold(agent, external_ref="CUST-2")

    page = agent.get(RESERVATIONS, query_string={"external_ref": "CUST-1"}).get_json()
    first_page = agent.get(RESERVATIONS, query_string={"external_ref": "CUST-1", "limit": 1}).get_json()
    second_page = agent.get(
        RESERVATIONS, query_string={"external_ref": "CUST-1", "limit": 1, "after": first_page["next"]}
    ).get_json()

    assert [item["id"] for item in page["items"]] == [second["id"], first["id"]]
    assert [item["id"] for item in first_page["items"] + second_page["items"]] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    "query",
    [{}, {"external_ref": "CUST 1"}, {"external_ref": "C", "channel": "web"}, {"external_ref": "C", "limit": 101}],
)
def test_look_up_needs_a_valid_reference_and_no_other_filter(agent, query):
    assert_problem(agent.get(RESERVATIONS, query_string=query), 422)


@pytest.mark.parametrize("text", ["x\n", "x\u0000", "\ud800"])
@pytest.mark.parametrize("field", ["note", "agent_id", "external_ref"])
def test_a_hold_with_a_control_character_or_lone_surrogate_is_422_naming_the_field_and_holds_nothing(
    agent, process, stocked, field, text
):
    problem = assert_problem(hold(agent, **{field: text}), 422)

    assert field in problem["errors"]["json"]
    assert held(process) == 0
