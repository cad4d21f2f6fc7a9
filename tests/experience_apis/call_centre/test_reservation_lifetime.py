"""RESERVATION_MAX_TTL_SECONDS caps an agent's holds, below an ORDER_RESERVATION_TTL_SECONDS set
longer than it: the call centre asks the process API for no lifetime it would refuse."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from tests.support.experience import SKU, assert_problem, count

RESERVATIONS = "/call-centre/v1/reservations"
MAX_TTL_SECONDS = 3600


@pytest.fixture
def settings(redis_url, settings_for):
    return settings_for(
        redis_url,
        log_level="WARNING",
        order_reservation_ttl_seconds=2 * MAX_TTL_SECONDS,
        reservation_max_ttl_seconds=MAX_TTL_SECONDS,
    )


def hold(agent, **fields):
    return agent.post(
        RESERVATIONS,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={
            "agent_id": "agent-17",
            "external_ref": "CASE-42",
            "lines": [{"sku": SKU, "location": "S001", "quantity": 1}],
            **fields,
        },
    )


def lifetime(reservation: dict) -> float:
    return (
        datetime.fromisoformat(reservation["expires_at"]) - datetime.fromisoformat(reservation["created_at"])
    ).total_seconds()


def test_a_hold_lasts_at_most_the_reservation_max_ttl(agent, process):
    count(process, "S001", 10)

    response = hold(agent)

    assert response.status_code == 201, response.get_json()
    assert lifetime(response.get_json()) == pytest.approx(MAX_TTL_SECONDS, abs=1)


def test_a_longer_hold_or_extension_than_the_reservation_max_ttl_is_422(agent, process):
    count(process, "S001", 10)
    reservation = hold(agent, ttl_seconds=MAX_TTL_SECONDS).get_json()

    problem = assert_problem(hold(agent, ttl_seconds=MAX_TTL_SECONDS + 1), 422)
    assert problem["errors"]["json"]["ttl_seconds"] == [
        f"Must be at most {MAX_TTL_SECONDS} (ORDER_RESERVATION_TTL_SECONDS, capped by RESERVATION_MAX_TTL_SECONDS)."
    ]
    assert_problem(
        agent.post(f"{RESERVATIONS}/{reservation['id']}/extend", json={"ttl_seconds": MAX_TTL_SECONDS + 1}), 422
    )
    assert (
        agent.post(f"{RESERVATIONS}/{reservation['id']}/extend", json={"ttl_seconds": MAX_TTL_SECONDS}).status_code
        == 200
    )
