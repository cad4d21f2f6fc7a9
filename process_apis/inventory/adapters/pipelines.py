"""Pipelined Lua calls on standalone Redis and on Redis Cluster alike.

Calls go out as plain EVALSHA: a redis-py Script in a pipeline costs an extra SCRIPT EXISTS
round trip every time. A call answered NOSCRIPT (the server restarted or flushed its scripts)
or meeting a slot migration (MOVED/ASK/TRYAGAIN) did not run; it is re-sent alone through the
Script object, which loads the script and follows redirects. redis-py refuses EVALSHA inside a
cluster pipeline, so on a cluster the calls are grouped by the node owning their first key and
pipelined on that node's own connection.
"""

from __future__ import annotations

from collections import defaultdict

from redis.cluster import RedisCluster
from redis.exceptions import AskError, ClusterDownError, MovedError, NoScriptError, TryAgainError

_RESEND_ALONE = (NoScriptError, MovedError, AskError, TryAgainError, ClusterDownError)


def run_scripts(redis, calls: list[tuple]) -> list:
    """Run (script, keys, args) calls in as few round trips as the topology allows; replies in order.
    A call whose `script` is a command name (e.g. "HSET") runs that plain command; on a cluster,
    node groups run in the order their first call appears, so earlier writes land first."""
    if not isinstance(redis, RedisCluster):
        return _pipelined(redis, calls, list(range(len(calls))), [None] * len(calls))
    by_node: dict[str, list[int]] = defaultdict(list)
    for index, (_, keys, _) in enumerate(calls):
        by_node[redis.get_node_from_key(keys[0]).name].append(index)
    replies: list = [None] * len(calls)
    for node_name, indexes in by_node.items():
        _pipelined(redis.get_redis_connection(redis.get_node(node_name=node_name)), calls, indexes, replies)
    return replies


def _pipelined(client, calls: list[tuple], indexes: list[int], replies: list) -> list:
    pipe = client.pipeline(transaction=False)
    for index in indexes:
        script, keys, args = calls[index]
        if isinstance(script, str):
            pipe.execute_command(script, *keys, *args)
        else:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
    for index, reply in zip(indexes, pipe.execute(raise_on_error=False)):
        if isinstance(reply, _RESEND_ALONE) and not isinstance(calls[index][0], str):
            script, keys, args = calls[index]
            reply = script(keys=keys, args=args)
        elif isinstance(reply, Exception):
            raise reply
        replies[index] = reply
    return replies


def run_scripts_then(redis, calls: list[tuple], last: tuple | None) -> list:
    """`run_scripts(calls)`, then `last` once every call has run; the replies of `calls`.

    On one server a pipeline runs in order, so `last` rides in the same round trip. A cluster
    pipeline runs node by node, not in call order, so there `last` goes alone afterwards."""
    if last is None:
        return run_scripts(redis, calls)
    if isinstance(redis, RedisCluster):
        replies = run_scripts(redis, calls)
        run_scripts(redis, [last])
        return replies
    return run_scripts(redis, [*calls, last])[:-1]
