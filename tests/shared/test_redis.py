"""`create_redis` picks the store from settings; every client speaks str and runs Lua."""

import logging

import fakeredis
import redis

from shared.redis import create_redis, is_embedded


def test_no_url_gives_the_embedded_store_with_lua_and_a_warning(settings_for, caplog):
    settings = settings_for(None)
    with caplog.at_level(logging.WARNING, logger="shared.redis"):
        client = create_redis(settings)

    assert is_embedded(settings)
    assert isinstance(client, fakeredis.FakeRedis)
    assert (
        client.eval(
            "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", 1, "inv:{MAT-1}:probe", "42"
        )
        == "42"
    )
    [warning] = [r for r in caplog.records if r.name == "shared.redis"]
    assert warning.levelno == logging.WARNING
    assert "embedded" in warning.getMessage() and "nothing persists" in warning.getMessage()


def test_embedded_clients_of_one_process_share_data(settings_for):
    writer, reader = create_redis(settings_for(None)), create_redis(settings_for(None))
    writer.set("inv:{MAT-1}:shared", "yes")
    assert reader.get("inv:{MAT-1}:shared") == "yes"


def test_redis_url_gives_a_standalone_client_returning_str(redis_url, settings_for):
    client = create_redis(settings_for(redis_url))

    assert isinstance(client, redis.Redis) and not is_embedded(settings_for(redis_url))
    client.set("inv:{MAT-1}:probe", 7)
    assert client.get("inv:{MAT-1}:probe") == "7"
    assert client.eval("return redis.call('INCR', KEYS[1])", 1, "inv:{MAT-1}:probe") == 8
