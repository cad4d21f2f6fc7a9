"""Pipelined Lua calls on standalone Redis and on Redis Cluster alike.

redis-py refuses EVALSHA inside a cluster pipeline, so on a cluster the calls are grouped by
the node that owns their first key and pipelined on that node's own connection. A call that
meets a slot migration (MOVED/ASK/TRYAGAIN) did not run; it is re-sent alone through the
cluster client, which follows the redirect.
"""
from __future__ import annotations

from collections import defaultdict

from redis.cluster import RedisCluster
from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError

_REDIRECTS = (MovedError, AskError, TryAgainError, ClusterDownError)


def run_scripts(redis, calls: list[tuple]) -> list:
    """Run (script, keys, args) calls in as few round trips as the topology allows; replies in order."""
    if not isinstance(redis, RedisCluster):
        pipe = redis.pipeline(transaction=False)
        for script, keys, args in calls:
            script(keys=keys, args=args, client=pipe)
        return pipe.execute()
    by_node: dict[str, list[int]] = defaultdict(list)
    for index, (_, keys, _) in enumerate(calls):
        by_node[redis.get_node_from_key(keys[0]).name].append(index)
    replies: list = [None] * len(calls)
    for node_name, indexes in by_node.items():
        pipe = redis.get_redis_connection(redis.get_node(node_name=node_name)).pipeline(transaction=False)
        for index in indexes:
            script, keys, args = calls[index]
            script(keys=keys, args=args, client=pipe)
        for index, reply in zip(indexes, pipe.execute(raise_on_error=False)):
            if isinstance(reply, _REDIRECTS):
                script, keys, args = calls[index]
                reply = script(keys=keys, args=args)
            elif isinstance(reply, Exception):
                raise reply
            replies[index] = reply
    return replies
