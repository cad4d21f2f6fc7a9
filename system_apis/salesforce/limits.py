"""The org's daily API allowance as Salesforce reports it on every REST answer
(`Sforce-Limit-Info: api-usage=N/LIMIT`): the latest reading, a gauge of the share used, and one
warning each time the share crosses the configured threshold upwards."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from shared import metrics

LIMIT_HEADER = "Sforce-Limit-Info"
#: The org's own usage, not a per-app entry (`per-app-api-usage=…`) that may come first.
_API_USAGE = re.compile(r"(?<![\w-])api-usage=(\d+)/(\d+)")

USAGE_SHARE = metrics.gauge(
    "salesforce_api_usage_share", "Share of the Salesforce org's daily API limit used", multiprocess_mode="mostrecent"
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiUsage:
    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0

    def as_dict(self) -> dict:
        return {"used": self.used, "limit": self.limit, "share": round(self.share, 6)}


def parse_limit_info(value: str | None) -> ApiUsage | None:
    """`api-usage=18/15000` (other entries, e.g. `per-app-api-usage=…`, may follow) → ApiUsage."""
    match = _API_USAGE.search(value or "")
    return ApiUsage(int(match.group(1)), int(match.group(2))) if match else None


class UsageMonitor:
    """The latest ApiUsage seen, and whether publishing should slow down (share ≥ threshold)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self._latest: ApiUsage | None = None
        self._above = False

    @property
    def latest(self) -> ApiUsage | None:
        return self._latest

    @property
    def slow_down(self) -> bool:
        return self._above

    def observe(self, header: str | None) -> None:
        usage = parse_limit_info(header)
        if usage is None:
            return
        USAGE_SHARE.set(usage.share)
        with self._lock:
            self._latest = usage
            crossed = usage.share >= self.threshold and not self._above
            self._above = usage.share >= self.threshold
        if crossed:  # once per crossing, not on every answer while above
            logger.warning(
                "Salesforce API usage is above the slow-down share",
                extra={
                    "api_used": usage.used,
                    "api_limit": usage.limit,
                    "api_share": round(usage.share, 4),
                    "slow_down_share": self.threshold,
                },
            )
