"""What the Salesforce system API does outward: availability outcomes become Product_Availability__c
upserts (or Inventory_Availability__e Platform Events), and every outcome ends written or
dead-lettered with Salesforce's reason. Nothing above this module knows those names."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from process_apis.inventory.contract import InventoryClient
from shared import metrics
from shared.errors import Problem

from .client import CallMeter, SalesforceClient
from .fence import STALE_FENCE, AsOfFence
from .limits import UsageMonitor
from .reservations import Reservations
from .settings import SalesforceSettings

logger = logging.getLogger(__name__)

AVAILABILITY_OBJECT = "Product_Availability__c"
EXTERNAL_ID_FIELD = "Availability_Key__c"
AVAILABILITY_EVENT = "Inventory_Availability__e"
SOURCE = "salesforce"
#: Record errors that say "not now" rather than "never": the record is sent again (bounded).
TRANSIENT_ERRORS = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "REQUEST_RUNNING_TOO_LONG",
        "SERVER_UNAVAILABLE",
        "QUERY_TIMEOUT",
        "TXN_SECURITY_METERING_ERROR",
    }
)

# Freshness (event → acknowledged) is measured once, by the publisher (inventory_publish_freshness_seconds).
OUTCOMES = metrics.counter("salesforce_availability_outcomes_total", "Availability outcomes by result", ("result",))


@dataclass
class SalesforceSystem:
    """The wired parts the services work with (see app.py)."""

    settings: SalesforceSettings
    salesforce: SalesforceClient
    inventory: InventoryClient
    usage: UsageMonitor
    reservations: Reservations
    fence: AsOfFence


def availability_key(outcome: dict) -> str:
    return f"{outcome['sku']}|{outcome['location'] or outcome['location_group']}|{outcome['channel']}"


def salesforce_fields(outcome: dict) -> dict:
    """An outcome as Product_Availability__c (and Inventory_Availability__e) fields."""
    return {
        EXTERNAL_ID_FIELD: availability_key(outcome),
        "SKU__c": outcome["sku"],
        "Location__c": outcome["location"] or outcome["location_group"],
        "Location_Type__c": "location" if outcome["location"] else "location_group",
        "Channel__c": outcome["channel"],
        "Available_To_Sell__c": outcome["available_to_sell"],
        "Available_To_Order__c": outcome["available_to_order"],
        "Status__c": outcome["status"],
        "As_Of__c": outcome["as_of"].isoformat(),
    }


def newest_per_key(outcomes: list[dict]) -> list[int]:
    """Indexes of the outcomes to write: per key the latest as_of (the later one on a tie)."""
    newest: dict[str, int] = {}
    for index, outcome in enumerate(outcomes):
        key = availability_key(outcome)
        if key not in newest or outcome["as_of"] >= outcomes[newest[key]]["as_of"]:
            newest[key] = index
    return sorted(newest.values())


def dead_letter_reason(error_code: str) -> str:
    """Salesforce's errorCode as a dead-letter reason (lower snake case, as the process API wants)."""
    reason = re.sub(r"[^a-z0-9_]", "_", error_code.lower()).strip("_")[:64]
    return reason if reason[:1].isalpha() else f"salesforce_{reason}"[:64]


def publish_availability(
    system: SalesforceSystem,
    outcomes: list[dict],
    *,
    fence: int = 0,
    record_attempts: int | None = None,
    record_backoff: float = 0.05,
) -> dict:
    """Write every outcome (the newest per key, and only if newer than what was sent before: see
    fence.py) to Salesforce; dead-letter the ones Salesforce refuses. Records refused for a transient
    reason are sent again, up to `record_attempts` times in all. Raises a 503 Problem when Salesforce
    cannot be reached: nothing is acknowledged then, and a repeat of the batch is written again.
    A batch under a publisher `fence` below one seen before is a 409 Problem (`stale-fence`): its
    publisher lost its lease to another, which sends the current values."""
    if not system.fence.admit(fence):
        OUTCOMES.labels("fenced").inc(len(outcomes))
        raise Problem(
            409,
            f"publisher fence {fence} is stale: a publisher with a higher fence took over",
            type_slug=STALE_FENCE,
        )
    meter = CallMeter()
    newest = newest_per_key(outcomes)
    marks = [_mark(outcomes[index]) for index in newest]
    chosen = [index for index, newer in zip(newest, system.fence.claim(marks, fence)) if newer]
    refused = _write_all(
        system,
        outcomes,
        chosen,
        meter,
        attempts=record_attempts or system.settings.upstream_attempts,
        backoff=record_backoff,
    )
    system.fence.confirm([_mark(outcomes[index]) for index in chosen if index not in refused], fence)
    failed = _dead_letter(system, outcomes, refused)
    now = datetime.now(UTC)
    written, superseded = len(chosen) - len(refused), len(outcomes) - len(chosen)
    OUTCOMES.labels("written").inc(written)
    OUTCOMES.labels("dead_lettered").inc(len(refused))
    OUTCOMES.labels("superseded").inc(superseded)
    usage = system.usage.latest
    return {
        "received": len(outcomes),
        "written": written,
        "dead_lettered": len(failed),
        "superseded": superseded,
        "failed": failed,
        "salesforce_calls": meter.calls,
        "api_usage": usage.as_dict() if usage else None,
        "slow_down": system.usage.slow_down,
        "acknowledged_at": now.isoformat(),
    }


def _mark(outcome: dict) -> tuple[str, str, datetime]:
    return outcome["sku"], availability_key(outcome), outcome["as_of"]


def _write_all(
    system: SalesforceSystem,
    outcomes: list[dict],
    indexes: list[int],
    meter: CallMeter,
    *,
    attempts: int,
    backoff: float,
) -> dict[int, dict]:
    """Write the outcomes at `indexes`; Salesforce's error for each one it finally refused, by index."""
    pending, refused = indexes, {}
    for attempt in range(1, attempts + 1):
        results = _write(system, [salesforce_fields(outcomes[index]) for index in pending], meter)
        again = []
        for index, result in zip(pending, results):
            if result["success"]:
                continue
            error = (result["errors"] or [{"errorCode": "UNKNOWN", "message": "Salesforce gave no reason"}])[0]
            if error["errorCode"] in TRANSIENT_ERRORS and attempt < attempts:
                again.append(index)
            else:
                refused[index] = error
        if not again:
            break
        pending = again
        time.sleep(backoff * 2 ** (attempt - 1))
    return refused


def _write(system: SalesforceSystem, records: list[dict], meter: CallMeter) -> list[dict]:
    if system.settings.salesforce_outbound == "platform_event":
        return system.salesforce.publish(AVAILABILITY_EVENT, records, meter)
    return system.salesforce.upsert(AVAILABILITY_OBJECT, EXTERNAL_ID_FIELD, records, meter)


def _dead_letter(system: SalesforceSystem, outcomes: list[dict], refused: dict[int, dict]) -> list[dict]:
    if not refused:
        return []
    indexes = sorted(refused)
    entries = [
        {
            "reason": dead_letter_reason(refused[index]["errorCode"]),
            "detail": refused[index]["message"] or refused[index]["errorCode"],
            "source": SOURCE,
            "payload": {
                "outcome": _plain(outcomes[index]),
                "key": availability_key(outcomes[index]),
                "salesforce_error": refused[index],
            },
        }
        for index in indexes
    ]
    ids = system.inventory.dead_letter(entries, key_prefix="salesforce-availability")
    logger.warning(
        "Salesforce refused availability outcomes; dead-lettered",
        extra={"dead_lettered": len(ids), "error_codes": sorted({refused[i]["errorCode"] for i in indexes})},
    )
    return [
        {
            "index": index,
            "key": availability_key(outcomes[index]),
            "error_code": refused[index]["errorCode"],
            "message": refused[index]["message"],
            "dead_letter_id": dead_letter_id,
        }
        for index, dead_letter_id in zip(indexes, ids)
    ]


def _plain(outcome: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in outcome.items()}
