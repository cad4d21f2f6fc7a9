"""The tier client's circuit breaker: open after repeated failures, one trial when half-open, and
calls through a closed breaker never wait for each other."""

from __future__ import annotations

import threading

import pytest

from shared.tier_client import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fail():
    raise ConnectionError("down")


def test_opens_after_fail_max_failures_in_a_row_and_refuses_without_calling():
    breaker = CircuitBreaker(3, 30, clock=Clock())
    calls = []
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(lambda: calls.append(1) or _fail())
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: calls.append(1))
    assert len(calls) == 3 and breaker.current_state == "open"


def test_a_success_resets_the_count_of_failures():
    breaker = CircuitBreaker(2, 30, clock=Clock())
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(_fail)
        assert breaker.call(lambda: "ok") == "ok"
    assert breaker.current_state == "closed"


def test_after_the_reset_timeout_one_trial_decides():
    clock = Clock()
    breaker = CircuitBreaker(1, 10, clock=clock)
    with pytest.raises(ConnectionError):
        breaker.call(_fail)
    clock.now = 10
    assert breaker.current_state == "half_open"
    with pytest.raises(ConnectionError):
        breaker.call(_fail)  # the trial failed: open again, for another 10 s
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "ok")
    clock.now = 20
    assert breaker.call(lambda: "ok") == "ok" and breaker.current_state == "closed"


def test_while_the_trial_runs_other_calls_are_refused():
    clock = Clock()
    breaker = CircuitBreaker(1, 10, clock=clock)
    with pytest.raises(ConnectionError):
        breaker.call(_fail)
    clock.now = 10
    inside, release = threading.Event(), threading.Event()
    trial = threading.Thread(target=breaker.call, args=(lambda: inside.set() or release.wait(5),))
    trial.start()
    assert inside.wait(5)
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "second")
    release.set()
    trial.join(5)
    assert breaker.current_state == "closed"


def test_calls_through_a_closed_breaker_run_at_the_same_time():
    breaker = CircuitBreaker(5, 30)
    both_inside = threading.Barrier(2, timeout=5)
    results = []
    threads = [threading.Thread(target=lambda: results.append(breaker.call(both_inside.wait))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(results) == 2  # a breaker holding a lock during the call would deadlock the barrier
