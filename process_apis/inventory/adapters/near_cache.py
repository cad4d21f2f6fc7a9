"""Near cache: Redis values kept in this process and dropped as soon as Redis says they changed.

Redis's server-assisted client-side caching (`CLIENT TRACKING ... REDIRECT`, Redis >= 6, RESP2):
misses are read over connections whose keys Redis tracks; when a tracked key changes, Redis
publishes its name on `__redis__:invalidate` to this process's subscriber connection and the
entry goes. A read that would answer from the cache first sends PING down the subscriber and
applies every invalidation that arrives before its answer: Redis answers it after every
invalidation it sent for writes done by then, so a read sees every write (from any process) that
was answered before it began. Draining what has arrived is not enough: Redis may write the
invalidation to the subscriber after the writer's reply, and on a busy host it can be descheduled
in between (seen here: one read in ~100 stale under load). The PING costs a round trip per read
that hits, shared by the reads waiting at once; still far less than the reads it saves (here
~1.8x the direct read's speed for one position, ~16x for 100). Should the subscriber's connection fail,
everything cached is dropped and reads go straight to Redis until it is back.

redis-py's own client cache would do this, but it needs Redis >= 7.4 with RESP3 and does not
serve pipelined reads; this one works on every Redis the gateway supports, standalone only.
Replies are shared between threads: callers treat them as read-only. `create_reads` picks the near
cache or direct reads for a store.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.metrics import counter

from ..settings import InventorySettings

logger = logging.getLogger(__name__)

INVALIDATE_CHANNEL = "__redis__:invalidate"
#: Commands the cache serves, and how their RESP2 replies become what redis-py's client returns.
SHAPES = {
    "GET": lambda reply: reply,
    "HGET": lambda reply: reply,
    "HGETALL": lambda reply: dict(zip(reply[::2], reply[1::2])),
    "SMEMBERS": set,
}
WATCH_SECONDS = 0.1  # how often the watcher drains the subscriber when no read does
HEARTBEAT_SECONDS = 5.0
RECONNECT_SECONDS = (0.1, 5.0)  # first and longest wait between subscriber reconnects
MAX_IDLE_CONNECTIONS = 64
_MISSING = object()
_NO_ENTRY: dict = {}

READS = counter(
    "gateway_near_cache_reads_total",
    "Reads asked of the near cache, by how they were answered "
    "(hit: from this process; miss: from Redis, then kept; bypass: from Redis, the cache being off)",
    ("result",),
)
_HITS, _MISSES, _BYPASSES = READS.labels("hit"), READS.labels("miss"), READS.labels("bypass")

Command = tuple  # (command, key, *args), e.g. ("HGET", "inv:rules", "version")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def direct_read(client, commands: Sequence[Command]) -> list:
    """The replies of read `commands` from Redis itself, in one pipeline."""
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    return pipe.execute()


def create_reads(settings: InventorySettings, client) -> NearCache | DirectReads:
    """What hot reads go through: a near cache on a standalone Redis, Redis itself otherwise (the
    embedded store answers in-process already; a cluster would need a subscriber per node)."""
    if settings.near_cache_entries and type(client) is redis.Redis:
        return NearCache(client, max_entries=settings.near_cache_entries)
    return DirectReads(client)


class DirectReads:
    """The same `read` without a cache: the embedded store, a cluster, or NEAR_CACHE_ENTRIES=0."""

    def __init__(self, client) -> None:
        self.client = client

    def read(self, commands: Sequence[Command]) -> list:
        return direct_read(self.client, commands)


class NearCache:
    """`read(commands)` answers from this process when it can, from Redis otherwise."""

    # Per-process state, made by _start() in the process that uses it (a forked worker makes its own).
    _lock: threading.Lock
    _drain_lock: threading.Lock
    _entries: dict[str, dict[Command, object]]
    _in_flight: dict[str, int]
    _dirty: set[str]
    _idle: list[tuple[redis.Connection, int]]
    _subscriber: redis.Connection | None
    _redirect: int | None
    _epoch: int
    _ping_sent_at: float | None
    _last_ping: float
    _barriers: int

    def __init__(self, client: redis.Redis, *, max_entries: int) -> None:
        self.client = client
        self.max_entries = max_entries
        self.disabled: str | None = None  # why it never serves (Redis without CLIENT TRACKING)
        self._pid: int | None = None
        self._start_lock = threading.Lock()

    # -- reads ----------------------------------------------------------------------------------
    def read(self, commands: Sequence[Command]) -> list:
        barrier = False  # whether the subscriber caught up with every write answered so far
        arrived = getattr(self, "_barriers", 0)  # a catch-up begun later serves this read too
        while True:
            if not (self._serving() and self._drain(barrier=arrived if barrier else None)):
                _BYPASSES.inc(len(commands))
                return direct_read(self.client, commands)
            with self._lock:
                replies = [self._entries.get(command[1], _NO_ENTRY).get(command, _MISSING) for command in commands]
                missing = [i for i, reply in enumerate(replies) if reply is _MISSING]
                if barrier or len(missing) == len(commands):
                    for i in missing:
                        key = commands[i][1]
                        self._in_flight[key] = self._in_flight.get(key, 0) + 1
                    break
            barrier = True  # a hit: catch up first, then look again
        _HITS.inc(len(commands) - len(missing))
        if not missing:
            return replies
        _MISSES.inc(len(missing))
        fetched, tracked_in = None, None
        try:
            fetched, tracked_in = self._fetch([commands[i] for i in missing])
        finally:
            self._settle([commands[i] for i in missing], fetched, tracked_in)
        for i, reply in zip(missing, fetched):
            replies[i] = reply
        return replies

    def _fetch(self, commands: list[Command]) -> tuple[list, int | None]:
        """The replies of `commands` and the epoch whose subscriber Redis announces their changes
        to: read over a tracked connection. When that fails, straight from Redis with its retries,
        and None: such replies are not tracked, so they must not be kept."""
        try:
            connection, enabled_in = self._checkout()
        except redis.ResponseError as error:
            if "unknown" in str(error).lower():  # CLIENT TRACKING unknown: Redis < 6 or a proxy
                self._disable(f"CLIENT TRACKING refused ({error})")
            return direct_read(self.client, commands), None  # else the subscriber went while connecting
        except (redis.ConnectionError, redis.TimeoutError):
            return direct_read(self.client, commands), None
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            replies = [SHAPES[command[0]](connection.read_response()) for command in commands]
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            return direct_read(self.client, commands), None
        except BaseException:  # an error reply leaves the rest unread: the connection is done
            connection.disconnect()
            raise
        self._checkin(connection, enabled_in)
        return replies, enabled_in

    def _settle(self, commands: list[Command], replies: list | None, tracked_in: int | None) -> None:
        """Keep the replies of a miss if Redis tracks their keys for the current subscriber, unless
        their key was invalidated while they were in flight: such a reply may predate the write
        the invalidation announced."""
        with self._lock:
            kept = replies if replies is not None and tracked_in == self._epoch else None
            for index, command in enumerate(commands):
                key = command[1]
                if kept is not None and key not in self._dirty:
                    self._entries.setdefault(key, {})[command] = kept[index]
                left = self._in_flight.get(key, 1) - 1
                if left:
                    self._in_flight[key] = left
                else:
                    self._in_flight.pop(key, None)
                    self._dirty.discard(key)
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest entry

    # -- invalidations --------------------------------------------------------------------------
    def _drain(self, *, barrier: int | None = None) -> bool:
        """Apply every invalidation the subscriber has received; with `barrier` (the catch-ups begun
        when the read arrived), every one Redis sent before the read: up to the answer of a PING
        sent since, by this read or by a concurrent one (so a burst of reads shares one round
        trip). False when the subscriber is not connected."""
        with self._drain_lock:
            subscriber = self._subscriber
            if subscriber is None:
                return False
            try:
                # A catch-up is counted before its PING goes and ends inside this lock: one counted
                # after the read arrived was sent after it, and is complete once the lock is ours.
                if barrier is not None and self._barriers <= barrier:
                    self._barriers += 1
                    token = f"barrier-{self._barriers}"
                    subscriber.send_command("PING", token)
                    # Bounded by the socket timeout: a subscriber that stops answering is lost.
                    while not self._apply(subscriber.read_response(push_request=True), token):
                        pass
                while subscriber.can_read(timeout=0):
                    self._apply(subscriber.read_response(push_request=True))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                self._lost(f"subscriber connection failed: {error}")
                return False
        return True

    def _apply(self, message, barrier: str | None = None) -> bool:
        """Apply one message of the subscriber; True when it is the answer to the PING `barrier`."""
        kind = _text(message[0])
        if kind == "pong":
            self._ping_sent_at = None  # any answer shows the connection alive
            return barrier is not None and _text(message[1]) == barrier
        if kind != "message":
            return False
        keys = message[2]
        with self._lock:
            if keys is None:  # FLUSHDB / FLUSHALL: everything changed
                self._entries.clear()
                self._dirty.update(self._in_flight)
                return False
            for key in keys:
                self._entries.pop(key, None)
                if key in self._in_flight:
                    self._dirty.add(key)
        return False

    def _lost(self, reason: str) -> None:
        """The subscriber is gone, and with it every invalidation Redis would have sent: forget
        everything, and every tracked connection (they redirect to a client that no longer exists)."""
        logger.warning("near cache off until Redis is back: %s", reason)
        with self._lock:
            self._epoch += 1
            self._entries.clear()
            self._dirty.update(self._in_flight)
            subscriber, self._subscriber = self._subscriber, None
            idle, self._idle = self._idle, []
        for connection in [subscriber, *(c for c, _ in idle)]:
            if connection is not None:
                connection.disconnect()

    def _disable(self, reason: str) -> None:
        self.disabled = reason
        logger.warning("near cache disabled, availability reads go to Redis every time: %s", reason)
        self._lost(reason)

    # -- connections ----------------------------------------------------------------------------
    def _serving(self) -> bool:
        if self.max_entries <= 0 or self.disabled:
            return False
        if self._pid != os.getpid():
            self._start()
        return self._subscriber is not None

    def _start(self) -> None:
        """Fresh state in this process (first use, or a forked worker) and its watcher thread."""
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._lock = threading.Lock()  # entries, in-flight keys, connections, epoch
            self._drain_lock = threading.Lock()  # the subscriber's socket
            self._entries = {}
            self._in_flight = {}
            self._dirty = set()
            self._idle = []  # a parent's connections are not ours
            self._subscriber = None
            self._redirect = None
            self._epoch = 0
            self._ping_sent_at = None
            self._last_ping = 0.0
            self._barriers = 0
            self._pid = os.getpid()
            try:
                self._subscribe()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                logger.warning("near cache waiting for Redis: %s", error)
            threading.Thread(target=_watch, args=(weakref.ref(self), self._pid), name="near-cache", daemon=True).start()

    def _connection(self) -> redis.Connection:
        pool = self.client.connection_pool
        # A failed connection is dropped, never silently reconnected: a new socket is not tracked.
        # RESP2 whatever the client speaks: invalidations come as pub/sub messages, replies as SHAPES expects.
        options = {**pool.connection_kwargs, "health_check_interval": 0, "retry": Retry(NoBackoff(), 0), "protocol": 2}
        connection = pool.connection_class(**options)
        connection.connect()
        return connection

    def _subscribe(self) -> None:
        # Subscriber reads pass push_request: hiredis reports pub/sub messages as pushes, which
        # redis-py otherwise hands to a handler and waits on for another reply.
        subscriber = self._connection()
        try:
            subscriber.send_command("CLIENT", "ID")
            client_id = subscriber.read_response()
            subscriber.send_command("SUBSCRIBE", INVALIDATE_CHANNEL)
            subscriber.read_response(push_request=True)
        except BaseException:
            subscriber.disconnect()
            raise
        with self._lock:
            self._epoch += 1
            self._subscriber, self._redirect = subscriber, client_id
            self._ping_sent_at = None

    def _checkout(self) -> tuple[redis.Connection, int]:
        """A connection whose reads Redis tracks for the current subscriber, and that epoch."""
        with self._lock:
            while self._idle:
                connection, enabled_in = self._idle.pop()
                if enabled_in == self._epoch:
                    return connection, enabled_in
                connection.disconnect()
            redirect, epoch = self._redirect, self._epoch
        if redirect is None:
            raise redis.ConnectionError("no subscriber to redirect invalidations to")
        connection = self._connection()
        try:
            connection.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", redirect)
            connection.read_response()
        except BaseException:
            connection.disconnect()
            raise
        return connection, epoch

    def _checkin(self, connection: redis.Connection, epoch: int) -> None:
        with self._lock:
            if epoch == self._epoch and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append((connection, epoch))
                return
        connection.disconnect()

    def _heartbeat(self) -> None:
        """PING the subscriber now and then: a connection that stopped answering is lost."""
        now = time.monotonic()
        timeout = self.client.connection_pool.connection_kwargs.get("socket_timeout") or 2.0
        with self._drain_lock:
            subscriber = self._subscriber
            if subscriber is None:
                return
            if self._ping_sent_at is not None and now - self._ping_sent_at > timeout:
                self._lost(f"no answer to PING within {timeout}s")
            elif self._ping_sent_at is None and now - self._last_ping >= HEARTBEAT_SECONDS:
                try:
                    subscriber.send_command("PING")
                except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                    self._lost(f"subscriber connection failed: {error}")
                    return
                self._ping_sent_at = self._last_ping = now


def _watch(cache_ref: weakref.ref, pid: int) -> None:
    """The watcher thread: keeps the subscriber drained while no read comes, checks it answers, and
    reconnects it; ends with the cache (it holds it only weakly) or in a forked child."""
    wait = RECONNECT_SECONDS[0]
    while True:
        cache = cache_ref()
        if cache is None or cache._pid != pid or cache.disabled:
            return
        if cache._subscriber is None:
            try:
                cache._subscribe()
                wait = RECONNECT_SECONDS[0]
                logger.info("near cache on: invalidations from Redis flow again")
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                del cache
                time.sleep(wait)
                wait = min(wait * 2, RECONNECT_SECONDS[1])
            continue
        if cache._drain():
            cache._heartbeat()
        del cache
        time.sleep(WATCH_SECONDS)
