"""The rate limiter on its own: the sliding-window estimate, Retry-After, the overshoot a sync interval allows
across processes, failing open when Redis is down, and the limit notation."""

from __future__ import annotations

import logging

import fakeredis
import pytest

from gateway.settings import Settings
from shared import rate_limits
from shared.auth import Credential
from shared.errors import Problem
from shared.rate_limits import RateLimit, RateLimiter, parse_limit

PER_MINUTE_3 = RateLimit(3, 60)
PER_MINUTE_10 = RateLimit(10, 60)


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limiter_on(server: fakeredis.FakeServer, clock: Clock, *, sync_seconds: float = 0.0) -> RateLimiter:
    """One process's limiter (each process has its own client of the one Redis)."""
    redis = fakeredis.FakeRedis(server=server, decode_responses=True)
    return RateLimiter(redis, {"channel": "3/minute", "service": ""}, sync_seconds=sync_seconds, clock=clock)


def admitted(limiter: RateLimiter, limit: RateLimit, requests: int, client_id: str = "web-shop") -> int:
    return sum(limiter.acquire(client_id, limit) == 0 for _ in range(requests))


def channel(client_id: str = "web-shop", **fields) -> Credential:
    return Credential(client_id=client_id, kind="channel", scopes=frozenset({"web"}), **fields)


def test_requests_over_the_limit_are_refused_and_not_counted(server, clock):
    limiter = limiter_on(server, clock)
    redis = fakeredis.FakeRedis(server=server, decode_responses=True)
    decisions = [limiter.acquire("web-shop", PER_MINUTE_3) for _ in range(5)]
    assert [wait == 0 for wait in decisions] == [True, True, True, False, False]
    limiter.acquire("another-shop", PER_MINUTE_3)  # each client counts apart
    assert redis.get("ratelimit:{web-shop}:0") == "3"
    assert 60 < redis.ttl("ratelimit:{web-shop}:0") <= 120
    assert redis.get("ratelimit:{another-shop}:0") == "1"


def test_two_processes_syncing_on_every_request_share_the_limit_exactly(server, clock):
    first, second = limiter_on(server, clock), limiter_on(server, clock)
    decisions = [limiter.acquire("web-shop", PER_MINUTE_10) == 0 for _ in range(10) for limiter in (first, second)]
    assert decisions == [True] * 10 + [False] * 10
    # The one request a sync counted and then refused (the 11th) is taken back by that process's next sync.
    assert fakeredis.FakeRedis(server=server, decode_responses=True).get("ratelimit:{web-shop}:0") == "10"


def test_the_previous_window_weighs_by_the_share_of_it_still_in_the_sliding_window(server, clock):
    limiter = limiter_on(server, clock)
    clock.now = 30.0
    assert admitted(limiter, PER_MINUTE_10, 10) == 10
    clock.now = 75.0  # a quarter into the next window: 10 × 0.75 = 7.5 still count
    assert admitted(limiter, PER_MINUTE_10, 5) == 2
    clock.now = 90.0  # half way: 10 × 0.5 + 2 = 7
    assert admitted(limiter, PER_MINUTE_10, 5) == 3
    clock.now = 180.0  # two windows on: nothing left of either
    assert admitted(limiter, PER_MINUTE_10, 12) == 10


def test_retry_after_is_when_the_next_window_has_faded_the_count_enough(server, clock):
    limiter = limiter_on(server, clock)
    admitted(limiter, PER_MINUTE_3, 3)
    # 3 now weigh 2 (room for one) once a third of the next window has passed: 60 + 20 s.
    assert limiter.acquire("web-shop", PER_MINUTE_3) == 80
    clock.now = 79.0
    assert limiter.acquire("web-shop", PER_MINUTE_3) == 1
    clock.now = 80.0
    assert limiter.acquire("web-shop", PER_MINUTE_3) == 0


def test_retry_after_within_a_window_is_when_the_previous_one_has_faded_enough(server, clock):
    limiter = limiter_on(server, clock)
    admitted(limiter, PER_MINUTE_10, 10)
    clock.now = 75.0
    assert admitted(limiter, PER_MINUTE_10, 2) == 2
    # 10 × (1 − elapsed/60) + 2 ≤ 9 from 78 s on.
    assert limiter.acquire("web-shop", PER_MINUTE_10) == 3
    clock.now = 78.0
    assert limiter.acquire("web-shop", PER_MINUTE_10) == 0


def test_a_refusal_is_a_429_problem_with_retry_after_counted_by_kind(server, clock):
    limiter = limiter_on(server, clock)
    refused_before = rate_limits.refusals.labels("channel")._value.get()
    for _ in range(3):
        limiter.check(channel())
    with pytest.raises(Problem) as refusal:
        limiter.check(channel())
    assert refusal.value.status == 429
    assert refusal.value.headers == {"Retry-After": "80"}
    assert "3 per minute" in refusal.value.detail
    assert rate_limits.refusals.labels("channel")._value.get() == refused_before + 1


def test_a_credentials_own_limit_is_used_instead_of_its_kinds(server, clock):
    limiter = limiter_on(server, clock)  # channel: 3/minute
    roomy, tight = channel("big-shop", rate_limit="5 per minute"), channel("kiosk", rate_limit="1 per minute")

    assert sum(_admits(limiter, roomy) for _ in range(8)) == 5
    assert sum(_admits(limiter, tight) for _ in range(8)) == 1
    assert sum(_admits(limiter, channel("web-shop")) for _ in range(8)) == 3
    with pytest.raises(Problem) as refusal:
        limiter.check(roomy)
    assert "5 per minute" in refusal.value.detail


def _admits(limiter: RateLimiter, credential: Credential) -> bool:
    try:
        limiter.check(credential)
    except Problem:
        return False
    return True


def test_the_channel_default_serves_a_web_shop_not_ten_requests_a_second():
    """A web shop is one client serving every shopper: its default is sized for its peak traffic (see the
    setting's comment), per second so a runaway client is stopped within a second."""
    default = parse_limit(Settings().rate_limit_channel)
    assert default.count / default.period_seconds >= 300
    assert default.period_seconds == 1


def test_public_views_the_in_process_key_and_unlimited_kinds_are_not_limited(server, clock):
    limiter = limiter_on(server, clock)
    for _ in range(10):
        limiter.check(None)
        limiter.check(channel(process_local=True))
        limiter.check(Credential(client_id="experience-tier", kind="service", scopes=frozenset({"service"})))
        limiter.check(Credential(client_id="sap", kind="system", scopes=frozenset()))  # no limit configured
    assert fakeredis.FakeRedis(server=server).keys("*") == []


def test_a_sync_interval_bounds_the_overshoot_of_stale_views(server, clock):
    """Two processes, each admitting 10 requests per 1 s sync interval, see each other's only at syncs: the
    client gets at most limit + 2 × (processes − 1) × 10 in a window, and never less than the limit."""
    limit = RateLimit(100, 60)
    first, second = limiter_on(server, clock, sync_seconds=1.0), limiter_on(server, clock, sync_seconds=1.0)
    total = 0
    for step in range(600):  # every 0.1 s, one request to each process
        clock.now = step / 10
        total += admitted(first, limit, 1) + admitted(second, limit, 1)
    assert limit.count <= total <= limit.count + 2 * (2 - 1) * 10


def test_a_process_refusing_on_its_local_view_still_sends_its_hits_every_interval(server, clock):
    first, second = limiter_on(server, clock, sync_seconds=1.0), limiter_on(server, clock, sync_seconds=1.0)
    assert admitted(first, PER_MINUTE_3, 5) == 3  # the first syncs; two stay local
    clock.now = 1.0
    assert admitted(first, PER_MINUTE_3, 1) == 0  # refused, and its sync sends the two
    assert admitted(second, PER_MINUTE_3, 1) == 0


def test_hits_unsent_at_the_end_of_a_window_count_in_it_at_the_next_windows_first_sync(server, clock):
    limiter = limiter_on(server, clock, sync_seconds=1.0)
    redis = fakeredis.FakeRedis(server=server, decode_responses=True)
    clock.now = 59.5
    assert admitted(limiter, PER_MINUTE_10, 4) == 4  # the first syncs; three stay local
    assert redis.get("ratelimit:{web-shop}:0") == "1"
    clock.now = 60.0
    assert admitted(limiter, PER_MINUTE_10, 1) == 1
    assert redis.get("ratelimit:{web-shop}:0") == "4"
    assert redis.get("ratelimit:{web-shop}:1") == "1"


def test_with_redis_down_requests_are_served_counted_locally_and_sent_once_it_answers(server, clock, caplog):
    limiter = limiter_on(server, clock)
    server.connected = False
    with caplog.at_level(logging.WARNING, logger="shared.rate_limits"):
        assert admitted(limiter, PER_MINUTE_3, 2) == 2
        clock.now += rate_limits.REDIS_RETRY_SECONDS
        # Another client's first request tries Redis again, which fails again: still one warning.
        assert [limiter.acquire("call-centre", PER_MINUTE_3) == 0 for _ in range(4)] == [True] * 3 + [False]
    assert len([record for record in caplog.records if record.name == "shared.rate_limits"]) == 1
    server.connected = True
    clock.now += rate_limits.REDIS_RETRY_SECONDS
    assert admitted(limiter, PER_MINUTE_3, 1) == 1  # its sync sends the two served while Redis was down
    assert fakeredis.FakeRedis(server=server, decode_responses=True).get("ratelimit:{web-shop}:0") == "3"
    assert limiter_on(server, clock).acquire("web-shop", PER_MINUTE_3) > 0  # another process sees them


@pytest.mark.parametrize(
    "text, expected",
    [
        ("600/minute", RateLimit(600, 60)),
        ("10/second", RateLimit(10, 1)),
        ("5000/hour", RateLimit(5000, 3600)),
        ("100/day", RateLimit(100, 86400)),
        ("10/5 minutes", RateLimit(10, 300)),
        (" 10 per Second ", RateLimit(10, 1)),
        ("", None),
        ("  ", None),
    ],
)
def test_limits_parse(text, expected):
    assert parse_limit(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "600",
        "600/fortnight",
        "0/minute",
        "10/0 minutes",
        "-1/second",
        "10/second;600/minute",
        "ten/minute",
        "600/minute extra",
    ],
)
def test_malformed_limits_are_refused_by_the_parser_and_the_settings(text):
    with pytest.raises(ValueError):
        parse_limit(text)
    with pytest.raises(ValueError, match="RATE_LIMIT_CHANNEL"):
        Settings(rate_limit_channel=text)


def test_limits_read_as_they_are_written():
    assert [str(parse_limit(text)) for text in ("600/minute", "10/5 minutes", "100/day", "90/second")] == [
        "600 per minute",
        "10 per 5 minutes",
        "100 per day",
        "90 per second",
    ]


def test_a_negative_sync_interval_is_refused():
    with pytest.raises(ValueError, match="RATE_LIMIT_SYNC_SECONDS"):
        Settings(rate_limit_sync_seconds=-1)
