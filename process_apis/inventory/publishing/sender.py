"""One batch of outcomes to the Salesforce system API: sent until it is taken (kept and sent again
while the API is unavailable), dead-lettered if refused for good; the metrics and the slow-down
pace follow the answers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared import metrics
from shared.errors import Problem
from shared.tier_client import TierClient, retry_after_seconds

from . import contract
from .coalescing import Pace

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory

log = logging.getLogger(__name__)

#: Seconds before a refused batch is sent again: first, then doubling up to the last.
RETRY_WAITS = (0.2, 30.0)
#: Refusals of the batch itself (a contract bug): it would be refused forever, so it is dead-lettered.
#: Any other 4xx passes or is fixed outside the batch (a timeout, a request in flight, too many
#: requests; credentials or the URL wrong): the batch is kept and sent again.
CONTRACT_REFUSALS = frozenset({400, 413, 422})
#: The publisher is not let in (401, 403) or is at the wrong address (404): a deployment mistake,
#: not the batch's; dead-lettering would drop every batch until someone notices.
MISCONFIGURED = frozenset({401, 403, 404})
#: The dead-letter reason and source of a batch the system API refused for good.
OUTCOMES_REFUSED = "outcomes_refused"
PUBLISHER_SOURCE = "publisher"

FRESHNESS = metrics.histogram(
    "inventory_publish_freshness_seconds",
    "From the oldest event behind a published availability value to its acknowledgement by the Salesforce system API",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
OUTCOMES = metrics.counter(
    "inventory_publish_outcomes_total", "Availability outcomes acknowledged, by result", ("result",)
)
BATCHES = metrics.counter("inventory_publish_batches_total", "Outcome batches sent, by result", ("result",))
SLOW_DOWN = metrics.gauge(
    "inventory_publish_slow_down",
    "1 while the Salesforce system API asks to coalesce harder",
    multiprocess_mode="livemax",
)


class Stopped(Exception):
    """Asked to stop while a batch waited to be sent again; its entries stay pending."""


class LeaseLost(Exception):
    """Another publisher may be active now: this one must not send."""


class Sender:
    def __init__(
        self,
        inventory: Inventory,
        tier: TierClient,
        pace: Pace,
        *,
        fence: Callable[[], int | None],
    ) -> None:
        self.inventory, self.tier, self.pace = inventory, tier, pace
        self.fence = fence  # the publisher's fencing token while it holds its lease, else None
        self.longest_pause = RETRY_WAITS[1]

    def send(self, batch: list[contract.Outcome], stop: threading.Event) -> None:
        """Send one batch until the system API takes it; remember what it was sent."""
        fence = self.fence()
        if fence is None:
            raise LeaseLost
        body = contract.batch_body(batch, fence)
        self.inventory.published.mark_unconfirmed([outcome.key for outcome in batch])
        wait = RETRY_WAITS[0]
        while True:
            if self.fence() != fence:
                raise LeaseLost
            try:
                acknowledgement = contract.send(self.tier, body)
                break
            except Problem as problem:
                if contract.is_stale_fence(problem):  # a successor sent under a higher token
                    raise LeaseLost from problem
                if problem.status in CONTRACT_REFUSALS:
                    self.dead_letter(batch, body, problem)
                    return
                pause = min(retry_after_seconds(problem.headers.get("Retry-After")) or wait, self.longest_pause)
                self.kept(batch, problem, pause)
                wait = min(wait * 2, self.longest_pause)
                if stop.wait(pause):
                    raise Stopped from problem
        if self.fence() != fence:
            # The send outlived the lease: a successor may have published newer values already, so
            # this one records nothing; its entries stay pending and the successor computes them again.
            raise LeaseLost
        self.acknowledged(batch, acknowledgement)

    def kept(self, batch: list[contract.Outcome], problem: Problem, pause: float) -> None:
        """Count and report a batch the system API did not take; it is sent again after `pause`."""
        extra = {"status": problem.status, "detail": problem.detail, "outcomes": len(batch), "retry_in_seconds": pause}
        if problem.status in MISCONFIGURED:
            BATCHES.labels("misconfigured").inc()
            log.error(
                "the Salesforce system API refused the publisher with %s: check SALESFORCE_SYSTEM_URL and the "
                "credentials it is called with. Availability is not reaching Salesforce; the batch is kept "
                "and sent again",
                problem.status,
                extra=extra,
            )
            return
        BATCHES.labels("unavailable" if problem.status == 503 else "refused").inc()
        log.warning("the Salesforce system API did not take a batch; it is kept and sent again", extra=extra)

    def dead_letter(self, batch: list[contract.Outcome], body: dict, problem: Problem) -> None:
        """A batch refused for good (a contract bug) would block every later one: it goes to the
        dead-letter queue with the reason, and its keys stay unconfirmed, so they go again with their
        next change, or when the entry is re-driven after the fix (its SKUs are published again)."""
        BATCHES.labels("dead_lettered").inc()
        [entry_id] = self.inventory.dead_letters.add_many(
            [(OUTCOMES_REFUSED, f"{problem.status}: {problem.detail}", body, PUBLISHER_SOURCE)], correlation_id=None
        )
        log.error(
            "the Salesforce system API refused a batch of availability outcomes; dead-lettered",
            extra={
                "status": problem.status,
                "detail": problem.detail,
                "outcomes": len(batch),
                "dead_letter_id": entry_id,
            },
        )

    def acknowledged(self, batch: list[contract.Outcome], acknowledgement: contract.Acknowledgement) -> None:
        BATCHES.labels("acknowledged").inc()
        OUTCOMES.labels("written").inc(acknowledgement.written)
        OUTCOMES.labels("dead_lettered").inc(acknowledgement.dead_lettered)
        for outcome in batch:
            if outcome.occurred_at is not None:
                FRESHNESS.observe(max(0.0, (acknowledgement.acknowledged_at - outcome.occurred_at).total_seconds()))
        if acknowledgement.failed:
            log.warning(
                "the Salesforce system API dead-lettered outcomes",
                extra={"failed": acknowledgement.failed[:20], "count": len(acknowledgement.failed)},
            )
        self.inventory.published.store({o.key: None if o.retired else o.value for o in batch})
        if self.pace.observe(acknowledgement.slow_down):
            SLOW_DOWN.set(1 if self.pace.slow else 0)
            log.warning(
                "the Salesforce system API %s: coalescing window now %d ms",
                "asks to slow down" if self.pace.slow else "no longer asks to slow down",
                self.pace.window_ms,
                extra={"slow_down": self.pace.slow, "window_ms": self.pace.window_ms},
            )
