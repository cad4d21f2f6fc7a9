"""Reading Salesforce's Sforce-Limit-Info header and deciding when to slow down."""

from __future__ import annotations

import logging

import pytest

from system_apis.salesforce.limits import USAGE_SHARE, ApiUsage, UsageMonitor, parse_limit_info


@pytest.mark.parametrize(
    "header, usage",
    [
        ("api-usage=18/15000", ApiUsage(18, 15000)),
        ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)", ApiUsage(25, 5000)),
        ("per-app-api-usage=17/250(appName=sample-app), api-usage=3/100", ApiUsage(3, 100)),
        ("", None),
        (None, None),
        ("api-usage=lots", None),
    ],
)
def test_limit_header_is_parsed(header, usage):
    assert parse_limit_info(header) == usage


def test_share_of_a_zero_limit_counts_as_spent():
    assert ApiUsage(0, 0).share == 1.0


def test_slow_down_follows_the_share_and_warns_once_per_crossing(caplog):
    monitor = UsageMonitor(0.8)
    with caplog.at_level(logging.WARNING, logger="system_apis.salesforce.limits"):
        readings = []
        for used in (79, 80, 95, 10, 85):
            monitor.observe(f"api-usage={used}/100")
            readings.append(monitor.slow_down)
    assert readings == [False, True, True, False, True]
    assert [record.api_used for record in caplog.records] == [80, 85]
    assert monitor.latest == ApiUsage(85, 100)
    assert USAGE_SHARE._value.get() == 0.85


def test_an_answer_without_the_header_keeps_the_last_reading():
    monitor = UsageMonitor(0.5)
    monitor.observe("api-usage=60/100")
    monitor.observe(None)
    assert monitor.latest == ApiUsage(60, 100) and monitor.slow_down
