"""The As_Of fence of POST /salesforce/v1/availability: per key, never an older value after a newer
one, whichever publisher sends it late; a batch repeated after a crash is still written."""

from __future__ import annotations

from datetime import datetime

from gateway.settings import Settings
from shared.redis import create_redis
from system_apis.salesforce.fence import AsOfFence
from tests.system_apis.salesforce.support import T0, admin, outcome, records

URL = "/salesforce/v1/availability"
HISTORY = "history/Product_Availability__c/Availability_Key__c/MAT-1|S1|web"


def publish(client, *outcomes):
    answer = client.post(URL, json={"outcomes": list(outcomes)})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_a_late_old_batch_after_a_newer_one_leaves_the_newer_value(client, simulator):
    publish(client, outcome(ats=2, ms=200))
    late = publish(client, outcome(ats=9, ms=100), outcome("MAT-2", ats=4, ms=100))
    assert (late["written"], late["superseded"]) == (1, 1)  # MAT-2 is new; MAT-1's value is older
    assert records(simulator)["MAT-1|S1|web"]["Available_To_Sell__c"] == 2
    assert len(admin(simulator, "GET", HISTORY)) == 1


def test_a_value_as_new_as_the_one_written_is_not_sent_again(client, simulator):
    publish(client, outcome(ats=2, ms=200))
    again = publish(client, outcome(ats=2, ms=200))
    assert (again["written"], again["superseded"], again["salesforce_calls"]) == (0, 1, 0)


def test_a_batch_claimed_but_never_written_is_written_when_sent_again(client, simulator, store):
    # As if the system API died between claiming the key and writing to Salesforce.
    AsOfFence(store).claim([("MAT-1", "MAT-1|S1|web", datetime.fromisoformat(outcome(ms=200)["as_of"]))])
    body = publish(client, outcome(ats=2, ms=200))
    assert body["written"] == 1
    assert records(simulator)["MAT-1|S1|web"]["Available_To_Sell__c"] == 2


def test_an_older_value_is_skipped_while_a_newer_one_is_being_written(store):
    fence = AsOfFence(store)
    newer, older = ("MAT-1", "MAT-1|S1|web", T0.replace(second=2)), ("MAT-1", "MAT-1|S1|web", T0.replace(second=1))
    assert fence.claim([newer]) == [True]  # the newer batch is on its way to Salesforce
    assert fence.claim([older]) == [False]
    fence.confirm([newer])
    assert fence.claim([older, ("MAT-2", "MAT-2|S1|web", T0)]) == [False, True]


def test_the_fence_runs_on_redis_cluster(cluster_url):
    client = create_redis(Settings(redis_url=cluster_url))
    fence = AsOfFence(client)
    marks = [(f"MAT-{n}", f"MAT-{n}|S{m}|web", T0) for n in range(20) for m in range(3)]
    assert fence.claim(marks) == [True] * len(marks)
    fence.confirm(marks)
    assert fence.claim(marks) == [False] * len(marks)


# -- the publisher's fencing token: each publisher that takes the lease sends a higher one ----------


def test_a_batch_from_a_publisher_that_lost_its_lease_is_refused_whole(client, simulator):
    assert client.post(URL, json={"fence": 2, "outcomes": [outcome(ats=2, ms=100)]}).status_code == 200
    # The old publisher, paused and back, with a later as_of (its computation) but its stale fence.
    stale = client.post(URL, json={"fence": 1, "outcomes": [outcome(ats=9, ms=200), outcome("MAT-2", ats=4, ms=200)]})
    assert stale.status_code == 409, stale.get_json()
    assert stale.content_type == "application/problem+json"
    assert stale.get_json()["type"].endswith("/stale-fence")
    assert records(simulator)["MAT-1|S1|web"]["Available_To_Sell__c"] == 2
    assert "MAT-2|S1|web" not in records(simulator)


def test_a_new_publisher_is_written_even_when_its_clock_is_behind_its_predecessors(client, simulator):
    publish(client, outcome(ats=2, ms=500))  # no fence: as a batch before fences, the lowest
    assert client.post(URL, json={"fence": 1, "outcomes": [outcome(ats=3, ms=400)]}).get_json()["written"] == 1
    assert client.post(URL, json={"fence": 2, "outcomes": [outcome(ats=4, ms=300)]}).get_json()["written"] == 1
    assert records(simulator)["MAT-1|S1|web"]["Available_To_Sell__c"] == 4


def test_a_stale_fence_is_skipped_per_key_even_when_it_passed_the_first_check(store):
    fence = AsOfFence(store)
    key = ("MAT-1", "MAT-1|S1|web", T0.replace(second=5))
    assert fence.claim([key], fence=1) == [True]  # the old publisher, checked and then paused
    assert fence.claim([("MAT-1", "MAT-1|S1|web", T0.replace(second=1))], fence=2) == [True]  # its successor
    assert fence.claim([key], fence=1) == [False]
