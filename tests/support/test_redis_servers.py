"""The cluster fixture is a real 3-master Redis Cluster that `create_redis` talks to."""

from redis.cluster import RedisCluster

from shared.redis import create_redis

# Enough SKUs that their hash slots fall on all three masters (asserted below).
SKUS = ["MAT-1001", "MAT-2002", "MAT-3003", "MAT-4004", "MAT-5005", "MAT-6006"]

RESERVE_SCRIPT = """
local on_hand = tonumber(redis.call('GET', KEYS[1]) or '0')
local qty = tonumber(ARGV[1])
if on_hand < qty then return 0 end
redis.call('DECRBY', KEYS[1], qty)
redis.call('INCRBY', KEYS[2], qty)
return 1
"""


def test_create_redis_returns_a_cluster_client_for_the_cluster_url(cluster_url, settings_for):
    assert isinstance(create_redis(settings_for(cluster_url)), RedisCluster)


def test_keys_in_different_slots_live_on_all_three_masters(cluster_url, settings_for):
    client = create_redis(settings_for(cluster_url))
    for sku in SKUS:
        client.set(f"inv:{{{sku}}}:pos:S001", sku)

    assert [client.get(f"inv:{{{sku}}}:pos:S001") for sku in SKUS] == SKUS
    owners = {client.get_node_from_key(f"inv:{{{sku}}}:pos:S001").name for sku in SKUS}
    assert len(owners) == 3


def test_hash_tagged_multi_key_lua_script_runs_atomically_in_one_slot(cluster_url, settings_for):
    client = create_redis(settings_for(cluster_url))
    reserve = client.register_script(RESERVE_SCRIPT)
    on_hand, reserved = "inv:{MAT-1001}:pos:S001", "inv:{MAT-1001}:reserved:S001"
    client.set(on_hand, 5)

    assert reserve(keys=[on_hand, reserved], args=[3]) == 1
    assert reserve(keys=[on_hand, reserved], args=[3]) == 0
    assert (client.get(on_hand), client.get(reserved)) == ("2", "3")


def test_cluster_has_three_masters_and_every_slot_served(cluster_url, redis_cluster_nodes):
    seed = redis_cluster_nodes.nodes[0]
    info = seed.cluster_info()
    with seed.client() as node:
        masters = [line for line in node.execute_command("CLUSTER", "NODES").splitlines() if "master" in line]

    assert info["cluster_state"] == "ok"
    assert info["cluster_size"] == "3"
    assert info["cluster_slots_ok"] == "16384"
    assert len(masters) == 3


def test_cluster_url_starts_each_test_empty(cluster_url, settings_for):
    client = create_redis(settings_for(cluster_url))
    assert client.dbsize() == 0
    client.set("inv:{MAT-9999}:pos:S001", 1)
