"""The Salesforce system API's availability contract as the publisher speaks it: POST 1–1000
outcomes with the publisher's fencing token and an Idempotency-Key per batch; a 200 means each was
written or dead-lettered, a 409 `stale-fence` that a publisher with a higher token took over."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import Problem, problem_type
from shared.tier_client import TierClient

from ..domain.outcomes import OutcomeKey, OutcomeValue

PATH = "/salesforce/v1/availability"
MAX_OUTCOMES = 1000
#: The problem type of a batch sent under a fencing token below one the system API has seen.
STALE_FENCE = problem_type("stale-fence")


@dataclass(frozen=True)
class Outcome:
    key: OutcomeKey
    value: OutcomeValue
    as_of: datetime
    occurred_at: datetime | None
    #: the key no longer exists (its value is GONE): forgotten once sent
    retired: bool = False

    def as_json(self) -> dict:
        return {
            "sku": self.key.sku,
            "location": self.key.location,
            "location_group": self.key.location_group,
            "channel": self.key.channel,
            "available_to_sell": self.value.available_to_sell,
            "available_to_order": self.value.available_to_order,
            "status": self.value.status,
            "as_of": self.as_of.isoformat(),
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
        }


@dataclass(frozen=True)
class Acknowledgement:
    acknowledged_at: datetime
    slow_down: bool
    written: int
    dead_lettered: int
    failed: list


def batch_body(outcomes: list[Outcome], fence: int) -> dict:
    return {"fence": fence, "outcomes": [outcome.as_json() for outcome in outcomes]}


def is_stale_fence(problem: Problem) -> bool:
    return problem.status == 409 and problem.type == STALE_FENCE


def batch_key(body: dict) -> str:
    """Deterministic per batch: a retry of the batch is answered from the stored response."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"availability:{digest[:40]}"


def send(tier: TierClient, body: dict) -> Acknowledgement:
    """POST one batch; a Problem unless the system API accounted for every outcome of it."""
    response = tier.request("POST", PATH, json=body, idempotency_key=batch_key(body))
    try:
        answer = response.json()
    except ValueError:
        answer = None
    sent = len(body["outcomes"])
    if not isinstance(answer, dict) or answer.get("received") != sent:
        received = answer.get("received") if isinstance(answer, dict) else None
        raise Problem(
            502,
            f"the Salesforce system API received {received} of {sent} outcomes",
            type_slug="salesforce-system-incomplete",
            upstream=tier.name,
        )
    return Acknowledgement(
        acknowledged_at=_instant(answer.get("acknowledged_at")),
        slow_down=bool(answer.get("slow_down")),
        written=int(answer.get("written") or 0),
        dead_lettered=int(answer.get("dead_lettered") or 0),
        failed=list(answer.get("failed") or []),
    )


def _instant(text) -> datetime:
    """The system API's acknowledged_at; our own clock when it gave none we can read."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
