"""What one buyer may hold (issue 13, point 9): a cart or order (an external_ref of a channel) holds
at most a share of what its channel can sell of a SKU there (the rule set's `max_hold_share`, else
MAX_HOLD_SHARE), checked in the same atomic step as the hold; and refused reservations are kept for
audit only up to MAX_REFUSED_RESERVATIONS_PER_DAY per client, beyond which they are answered alike
but not stored."""

from __future__ import annotations

import threading

import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from shared.redis import create_redis
from tests.process_apis.inventory.support import V1, assert_problem, position, put_rules, receive, reserve
from tests.support.auth import service_client

S1 = {"sku": "MAT-1", "location": "S1"}


@pytest.fixture
def app(redis_url, request):
    settings = Settings.from_env({"REDIS_URL": redis_url, **getattr(request, "param", {})})
    return create_app(settings, create_redis(settings))


@pytest.fixture
def web_half(network):
    """The rule set caps what one web cart or order may hold at half of what web sells."""
    assert put_rules(network, {"max_hold_share": {"web": 0.5}}).status_code == 200
    return network


def test_the_rule_set_carries_the_share_per_channel(web_half):
    assert web_half.get(f"{V1}/rules").get_json()["max_hold_share"] == {"web": 0.5}


@pytest.mark.parametrize("share", [0, 1.5, -0.1, "half"])
def test_a_share_outside_zero_to_one_is_refused(network, share):
    assert_problem(put_rules(network, {"max_hold_share": {"web": share}}), 422)


def test_a_cart_cannot_hold_more_than_its_share_of_a_sku(web_half):
    receive(web_half, 10)

    assert reserve(web_half, {**S1, "quantity": 5}, external_ref="CART-1").status_code == 201
    refused = reserve(web_half, {**S1, "quantity": 1}, external_ref="CART-1")

    body = assert_problem(refused, 409)
    assert body["type"].endswith("/hold-share-exceeded") and body["max_hold_share"] == 0.5
    assert body["limits"] == [
        {"line": 0, "sku": "MAT-1", "location": "S1", "location_group": None, "requested": 1, "held": 5, "limit": 5}
    ]
    assert position(web_half)["reserved"] == 5
    # Another cart has its own share of what is left.
    assert reserve(web_half, {**S1, "quantity": 2}, external_ref="CART-2").status_code == 201
    assert_problem(reserve(web_half, {**S1, "quantity": 3}, external_ref="CART-3"), 409)


def test_a_cart_filled_one_unit_at_a_time_gets_the_same_share_as_at_once(web_half):
    receive(web_half, 10)

    for _ in range(5):
        assert reserve(web_half, {**S1, "quantity": 1}, external_ref="CART-1").status_code == 201
    assert_problem(reserve(web_half, {**S1, "quantity": 1}, external_ref="CART-1"), 409)
    assert position(web_half)["reserved"] == 5


def test_one_request_cannot_pass_the_share_over_two_lines_of_a_sku(web_half):
    receive(web_half, 10, location="S1")
    receive(web_half, 10, location="S2")

    refused = reserve(
        web_half,
        {**S1, "quantity": 4},
        {"sku": "MAT-1", "location_group": "WEB-SHIP", "quantity": 8},
        external_ref="CART-1",
    )

    assert assert_problem(refused, 409)["limits"][0]["line"] == 1
    assert position(web_half, "S1")["reserved"] == position(web_half, "S2")["reserved"] == 0


def test_the_last_unit_can_still_be_held(web_half):
    receive(web_half, 1)

    assert reserve(web_half, {**S1, "quantity": 1}, external_ref="CART-1").status_code == 201


def test_the_share_is_per_channel(web_half):
    receive(web_half, 10)

    assert reserve(web_half, {**S1, "quantity": 8}, channel="store", external_ref="CART-1").status_code == 201


def test_carts_racing_for_one_sku_never_pass_the_share_together(web_half):
    receive(web_half, 10)
    answers: list[int] = []
    start = threading.Barrier(8)

    def hold_one():
        client = service_client(web_half.application)
        start.wait()
        answers.append(reserve(client, {**S1, "quantity": 1}, external_ref="CART-1").status_code)

    threads = [threading.Thread(target=hold_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(answers) == [201] * 5 + [409] * 3
    assert position(web_half)["reserved"] == 5


@pytest.mark.parametrize("app", [{"MAX_HOLD_SHARE": "0.3"}], indirect=True)
def test_the_environment_sets_the_share_of_channels_the_rule_set_does_not_name(network):
    receive(network, 10)

    assert_problem(reserve(network, {**S1, "quantity": 4}, external_ref="CART-1"), 409)
    assert reserve(network, {**S1, "quantity": 3}, external_ref="CART-1").status_code == 201
    assert put_rules(network, {"max_hold_share": {"web": 1.0}}).status_code == 200
    assert reserve(network, {**S1, "quantity": 4}, external_ref="CART-1").status_code == 201


def _stored_refusals(app) -> int:
    redis = app.extensions["redis"]
    return sum(redis.hget(key, "status") == "rejected" for key in redis.scan_iter("inv:res:*"))


@pytest.mark.parametrize("app", [{"MAX_REFUSED_RESERVATIONS_PER_DAY": "2"}], indirect=True)
def test_refused_reservations_beyond_the_daily_cap_are_answered_but_not_stored(app, network):
    receive(network, 1)

    for n in range(4):
        response = reserve(network, {**S1, "quantity": 5}, key=f"short-{n}")
        assert assert_problem(response, 409)["type"].endswith("/insufficient-stock")

    assert _stored_refusals(app) == 2
    # The answer is still kept under its Idempotency-Key: a retry replays it.
    replay = reserve(network, {**S1, "quantity": 5}, key="short-3")
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"
    assert position(network)["reserved"] == 0


def test_a_line_short_of_stock_is_refused_as_short_and_a_partial_one_as_over_the_share(web_half):
    receive(web_half, 4)

    short = assert_problem(reserve(web_half, {**S1, "quantity": 6}, external_ref="CART-1"), 409)
    partial = assert_problem(reserve(web_half, {**S1, "quantity": 6}, external_ref="CART-1", allow_partial=True), 409)

    assert short["type"].endswith("/insufficient-stock")
    assert partial["type"].endswith("/hold-share-exceeded")
    assert position(web_half)["reserved"] == 0
