"""The availability publisher against a real redis-server and a real HTTP receiver speaking the
Salesforce system API's contract: events, reservations, expiry and rule changes each arrive as
outcomes with the process API's own values; a Salesforce outage loses nothing; a key's values
never go back in time; of two publishers on one Redis only one is active."""

from __future__ import annotations

import itertools
import threading
import uuid
from contextlib import contextmanager

import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from process_apis.inventory.bootstrap import bootstrap
from process_apis.inventory.publisher import Publisher
from process_apis.inventory.sweeper import sweep_once
from shared.redis import create_redis
from shared.tier_client import TierClient, Timeouts
from tests.support.auth import service_client
from tests.support.availability_receiver import AvailabilityReceiver, availability_of, wait_until
from tests.support.inventory import event_json
from tests.support.processes import serving

V1 = "/inventory/v1"
S1_KEYS = [("MAT-1", "S1", None, "web"), ("MAT-1", "S1", None, "store"), ("MAT-1", None, "WEB-SHIP", "web")]
_ids = itertools.count(1)


@pytest.fixture
def settings(redis_url):
    return Settings.from_env({"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"})


@pytest.fixture
def app(settings):
    return create_app(settings, create_redis(settings))


@pytest.fixture
def api(app):
    return with_network(service_client(app))


def with_network(client):
    """S1 serves web and store, S2 web; WEB-SHIP groups both for the web; safety stock 1."""
    for location, channels in (("S1", ["web", "store"]), ("S2", ["web"])):
        assert client.put(f"{V1}/locations/{location}", json={"type": "store", "channels": channels}).status_code == 201
    assert (
        client.put(f"{V1}/location-groups/WEB-SHIP", json={"members": ["S1", "S2"], "channel": "web"}).status_code
        == 201
    )
    set_rules(client, {"safety_stock": [{"units": 1}]})
    return client


@pytest.fixture
def receiver():
    receiver = AvailabilityReceiver()
    with serving(receiver.app) as url:
        receiver.url = url
        yield receiver


def tier_for(receiver) -> TierClient:
    return TierClient("salesforce-system", receiver.url, timeouts=Timeouts(1, 3), attempts=2, breaker_reset_seconds=0.2)


class Running:
    """A publisher running in a thread, as in a worker."""

    def __init__(self, inventory, receiver, **options) -> None:
        self.publisher = Publisher(inventory, tier_for(receiver), window_ms=50, **options)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.publisher.run, args=(self.stopping,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@contextmanager
def running(inventory, receiver, **options):
    runner = Running(inventory, receiver, **options)
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def publishing(app, api, receiver):
    with running(app.extensions["inventory"], receiver) as runner:
        yield runner.publisher


def set_rules(api, document: dict) -> None:
    etag = api.get(f"{V1}/rules").headers["ETag"]
    assert api.put(f"{V1}/rules", json=document, headers={"If-Match": etag}).status_code == 200


def receive(api, quantity: int, sku: str = "MAT-1", location: str = "S1") -> None:
    n = next(_ids)
    event = event_json(f"r-{n}", "stock.received", sku=sku, location=location, quantity=quantity, ms=n)
    assert api.post(f"{V1}/events", json={"events": [event]}).get_json()["applied"] == 1


def reserve(api, quantity: int, **extra) -> dict:
    body = {
        "channel": "web",
        "external_ref": f"CART-{next(_ids)}",
        "lines": [{"sku": "MAT-1", "location": "S1", "quantity": quantity}],
        **extra,
    }
    response = api.post(f"{V1}/reservations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def availability(api):
    def get(params: dict) -> dict:
        response = api.get(f"{V1}/availability", query_string=params)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return get


def in_step(receiver, api, keys) -> bool:
    """Whether the receiver's last value of every key is the process API's availability of it."""
    last = receiver.last_values()
    return all(last.get(key) == availability_of(availability(api), key) for key in keys)


def sellable(receiver, key) -> int:
    return receiver.history(key)[-1]["available_to_sell"]


def test_an_event_publishes_each_channel_of_its_location_and_each_group_holding_it(api, receiver, publishing):
    receive(api, 7)
    assert wait_until(lambda: in_step(receiver, api, S1_KEYS))
    assert set(receiver.last_values()) == set(S1_KEYS)  # S2 holds nothing of MAT-1
    assert receiver.last_values()[("MAT-1", "S1", None, "web")] == (6, 6, "in_stock")  # 7 less safety stock 1
    assert receiver.history(("MAT-1", "S1", None, "web"))[-1]["occurred_at"] is not None


def test_a_reservation_and_its_release_publish_the_units_held_and_freed(api, receiver, publishing):
    key = ("MAT-1", "S1", None, "web")
    receive(api, 10)
    assert wait_until(lambda: in_step(receiver, api, S1_KEYS))
    reservation = reserve(api, 3)
    assert wait_until(lambda: sellable(receiver, key) == 6)
    assert in_step(receiver, api, S1_KEYS)
    assert api.post(f"{V1}/reservations/{reservation['id']}/release", json={}).status_code == 200
    assert wait_until(lambda: sellable(receiver, key) == 9)
    assert in_step(receiver, api, S1_KEYS)


def test_an_expired_reservation_publishes_the_units_it_released(app, api, receiver, publishing):
    key = ("MAT-1", None, "WEB-SHIP", "web")
    receive(api, 10)
    reserve(api, 4, ttl_seconds=1)
    assert wait_until(lambda: in_step(receiver, api, S1_KEYS) and sellable(receiver, key) == 5)
    assert wait_until(lambda: sweep_once(app.extensions["inventory"]) == 1, timeout=5)
    assert wait_until(lambda: sellable(receiver, key) == 9)
    assert in_step(receiver, api, S1_KEYS)


def test_a_rule_change_publishes_every_sku_again(api, receiver, publishing):
    receive(api, 10, sku="MAT-1")
    receive(api, 5, sku="MAT-2", location="S2")
    assert wait_until(lambda: len(receiver.last_values()) == 5)
    set_rules(api, {"safety_stock": [{"units": 3}]})
    assert wait_until(
        lambda: (
            sellable(receiver, ("MAT-1", "S1", None, "web")) == 7
            and sellable(receiver, ("MAT-2", "S2", None, "web")) == 2
        )
    )
    assert wait_until(lambda: in_step(receiver, api, list(receiver.last_values())))


def test_a_location_that_stops_serving_a_channel_publishes_that_key_as_gone(api, receiver, publishing):
    receive(api, 10)
    assert wait_until(lambda: in_step(receiver, api, S1_KEYS))
    assert api.put(f"{V1}/locations/S1", json={"type": "store", "channels": ["web"]}).status_code == 200
    assert wait_until(lambda: receiver.last_values()[("MAT-1", "S1", None, "store")] == (0, 0, "out_of_stock"))
    assert in_step(receiver, api, [("MAT-1", "S1", None, "web"), ("MAT-1", None, "WEB-SHIP", "web")])


@pytest.mark.slow
def test_an_unavailable_salesforce_delays_outcomes_but_loses_none(api, receiver, publishing):
    receiver.refuse_next = 6
    for n in range(12):
        receive(api, n + 1, sku=f"MAT-{n % 3}", location=("S1", "S2")[n % 2])
    keys = {(f"MAT-{n % 3}", ("S1", "S2")[n % 2], None, "web") for n in range(12)}
    assert wait_until(lambda: keys <= set(receiver.last_values()) and in_step(receiver, api, receiver.last_values()))
    assert receiver.refused == 6 and receiver.refuse_next == 0


def test_a_batch_refused_for_good_is_dead_lettered_and_its_keys_go_again_with_their_next_change(
    api, receiver, publishing
):
    def dead_letters() -> list[dict]:
        return api.get(f"{V1}/dead-letters", query_string={"reason": "outcomes_refused"}).get_json()["items"]

    receiver.reject_next = 1
    receive(api, 5)
    assert wait_until(lambda: len(dead_letters()) == 1)
    [entry] = dead_letters()
    assert entry["source"] == "publisher" and entry["detail"].startswith("422")
    assert {
        tuple(o[k] for k in ("sku", "location", "location_group", "channel")) for o in entry["payload"]["outcomes"]
    } == set(S1_KEYS)
    assert receiver.outcome_count() == 0

    receive(api, 1, sku="MAT-1", location="S2")  # the next change of MAT-1 sends the refused keys again
    assert wait_until(lambda: in_step(receiver, api, [*S1_KEYS, ("MAT-1", "S2", None, "web")]))


def test_a_redriven_refused_batch_publishes_its_skus_again(api, receiver, publishing):
    receiver.reject_next = 1
    receive(api, 5)
    assert wait_until(
        lambda: api.get(f"{V1}/dead-letters", query_string={"reason": "outcomes_refused"}).get_json()["items"]
    )
    [entry] = api.get(f"{V1}/dead-letters", query_string={"reason": "outcomes_refused"}).get_json()["items"]

    answer = api.post(f"{V1}/dead-letters/{entry['id']}/redrive")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "redriven"
    assert wait_until(lambda: in_step(receiver, api, S1_KEYS))


class Refusing:
    """WSGI middleware answering the next `count` requests with `status`, as a system API does to a
    caller with wrong credentials (401, 403) or at a wrong path (404)."""

    def __init__(self, app, status: int, count: int) -> None:
        self.app, self.status, self.count = app, status, count

    def __call__(self, environ, start_response):
        if self.count > 0:
            self.count -= 1
            start_response(f"{self.status} Refused", [("Content-Type", "application/problem+json")])
            return [b'{"type": "about:blank", "title": "Refused", "status": %d, "detail": "not allowed"}' % self.status]
        return self.app(environ, start_response)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_batch_refused_for_credentials_or_address_is_kept_and_sent_again_not_dead_lettered(api, app, status):
    receiver = AvailabilityReceiver()
    with serving(Refusing(receiver.app, status, count=2)) as url:
        receiver.url = url
        with running(app.extensions["inventory"], receiver):
            receive(api, 5)
            assert wait_until(lambda: in_step(receiver, api, S1_KEYS))
    assert api.get(f"{V1}/dead-letters", query_string={"reason": "outcomes_refused"}).get_json()["items"] == []


def test_a_send_that_outlived_the_lease_records_and_acknowledges_nothing(app, api, receiver):
    inventory = app.extensions["inventory"]
    with running(inventory, receiver, lease_seconds=0.8) as runner:
        receive(api, 2)  # the publisher settled (safety stock 1): the next change is read before its batch goes
        assert wait_until(lambda: bool(receiver.history(S1_KEYS[0])) and sellable(receiver, S1_KEYS[0]) == 1)
        receiver.delay_seconds = 2.0  # longer than the lease below
        receive(api, 4)  # sellable 5
        assert wait_until(lambda: receiver.in_flight == 1)
        successor = inventory.leases.publisher(60)
        # As if the publisher paused past its lease mid-send: the lease gone, a successor holding it.
        redis = inventory.changes.redis
        assert wait_until(lambda: redis.delete(inventory.leases.keys.publisher_lease) >= 0 and successor.take())
        assert wait_until(lambda: receiver.in_flight == 0 and not runner.publisher.held)
    assert receiver.outcome_count() > 0  # the receiver took the batch...
    assert all(
        value is None or value.available_to_sell != 5  # ...but it was not recorded as published
        for value in inventory.published.read(["MAT-1"]).values()
    )
    assert inventory.changes.redis.xpending(inventory.changes.key, "publisher")["pending"] >= 1  # nor acknowledged
    successor.release()


def test_values_of_a_key_never_go_back_in_time_under_concurrent_changes(app, api, receiver, publishing):
    receive(api, 50)
    failures = []

    def change(seed: int) -> None:
        client = service_client(app)
        try:
            for n in range(10):
                if n % 3 == 2:
                    reserve(client, 1)
                else:
                    receive(client, seed + n + 1, sku=("MAT-1", "MAT-2")[n % 2], location=("S1", "S2")[seed % 2])
        except AssertionError as error:
            failures.append(error)

    threads = [threading.Thread(target=change, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert wait_until(lambda: len(receiver.last_values()) >= 6 and in_step(receiver, api, receiver.last_values()))
    for key in receiver.last_values():
        moments = [outcome["as_of"] for outcome in receiver.history(key)]
        assert moments == sorted(moments), key
    assert receiver.most_in_flight == 1


def test_of_two_publishers_on_one_redis_one_is_active_and_the_other_takes_over(settings, api, receiver):
    receiver.delay_seconds = 0.02
    first_inventory, second_inventory = (bootstrap(settings, create_redis(settings)) for _ in range(2))
    with running(first_inventory, receiver) as first, running(second_inventory, receiver) as second:
        assert wait_until(lambda: first.publisher.held or second.publisher.held)
        active, standby = (first, second) if first.publisher.held else (second, first)
        receive(api, 8)
        assert wait_until(lambda: in_step(receiver, api, S1_KEYS))
        assert not standby.publisher.held and not standby.publisher.joined
        assert receiver.most_in_flight == 1

        active.stop()  # a stopping publisher lets go of its lease
        assert not active.publisher.held
        assert wait_until(lambda: standby.publisher.held and standby.publisher.joined)
        receive(api, 4)
        assert wait_until(lambda: in_step(receiver, api, S1_KEYS) and sellable(receiver, S1_KEYS[0]) == 11)


def test_on_a_redis_cluster_events_reservations_and_rule_changes_are_published(cluster_url, receiver):
    app = create_app(Settings.from_env({"REDIS_URL": cluster_url, "LOG_LEVEL": "WARNING"}))
    api = with_network(service_client(app))
    with running(app.extensions["inventory"], receiver):
        receive(api, 10)
        receive(api, 6, sku="MAT-2", location="S2")
        reserve(api, 2)
        assert wait_until(lambda: len(receiver.last_values()) == 5 and sellable(receiver, S1_KEYS[0]) == 7)
        set_rules(api, {"safety_stock": [{"units": 2}]})
        assert wait_until(lambda: sellable(receiver, ("MAT-2", "S2", None, "web")) == 4)
        assert wait_until(lambda: in_step(receiver, api, list(receiver.last_values())))
