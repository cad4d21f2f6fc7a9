"""Coalescing: changes gathered per SKU over a short window, then published as one value per key;
and the window itself, widened while the Salesforce system API asks to slow down."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..adapters.changes import Change, stream_id


@dataclass
class PendingChanges:
    """Changes read but not yet published: per SKU the oldest occurred_at (ms) behind it, the
    stream entries to acknowledge once it is, and whether every SKU must be computed again."""

    skus: dict[str, int] = field(default_factory=dict)
    entry_ids: list[str] = field(default_factory=list)
    #: when set, every SKU is due, since this moment (ms); `versions` are published with it
    everything_since: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    #: monotonic time the oldest change of this window was recorded (the window opened)
    first_seen: float | None = None

    def add(self, change: Change, now: float, *, recorded_ago: float = 0.0) -> None:
        """Take `change`, read at monotonic `now` and recorded `recorded_ago` seconds before (see
        `recorded_ago`): its window opens then, not at the read."""
        for sku, occurred_ms in change.skus.items():
            self.skus[sku] = min(occurred_ms, self.skus.get(sku, occurred_ms))
        self.entry_ids.append(change.entry_id)
        self._seen(now - max(0.0, recorded_ago))

    def add_everything(self, since_ms: int, versions: dict[str, str], now: float) -> None:
        self.everything_since = min(since_ms, self.everything_since or since_ms)
        self.versions = versions
        self._seen(now)

    def _seen(self, at: float) -> None:
        self.first_seen = at if self.first_seen is None else min(self.first_seen, at)

    def occurred_ms(self, sku: str) -> int | None:
        """The oldest change behind this SKU's value; None when nothing is known of it."""
        times = [t for t in (self.skus.get(sku), self.everything_since) if t is not None]
        return min(times) if times else None

    def due(self, now: float, window_seconds: float) -> bool:
        return self.first_seen is not None and now - self.first_seen >= window_seconds

    def remaining(self, now: float, window_seconds: float) -> float:
        """Seconds until due (the window not yet opened counts in full)."""
        return window_seconds if self.first_seen is None else max(0.0, self.first_seen + window_seconds - now)

    def __len__(self) -> int:
        return len(self.skus) + (1 if self.everything_since is not None else 0)


class Pace:
    """The coalescing window: `base_ms`, or ×`factor` (at most `max_ms`) while slowed down."""

    def __init__(self, base_ms: int, *, factor: int = 10, max_ms: int = 5000) -> None:
        self.base_ms, self.factor, self.max_ms = base_ms, factor, max(max_ms, base_ms)
        self.slow = False

    @property
    def window_ms(self) -> int:
        return min(self.base_ms * self.factor, self.max_ms) if self.slow else self.base_ms

    @property
    def window_seconds(self) -> float:
        return self.window_ms / 1000

    def observe(self, slow_down: bool) -> bool:
        """Follow the system API's `slow_down`; True when that changed the pace."""
        changed, self.slow = slow_down != self.slow, slow_down
        return changed


def recorded_ago(entry_id: str, wall_ms: int, pace: Pace) -> float:
    """How long before `wall_ms` (this host's clock at the read) the change of `entry_id` (Redis's
    clock) was recorded, as far as its window counts it: a change that came in while the last batch
    was being sent is not held a whole window more. At most half the window, so that neither a
    backlog nor this host's clock running ahead of Redis's takes the coalescing away; nothing while
    the system API asks to slow down."""
    if pace.slow:
        return 0.0
    return min(max(0.0, (wall_ms - stream_id(entry_id)[0]) / 1000), pace.window_seconds / 2)
