"""The versioned availability rule set: read it, replace it with optimistic concurrency."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.errors import Problem

from ..domain.rules import (
    AllocationRule,
    LowStockRule,
    RuleSet,
    SafetyStockRule,
    Selector,
    TransitTimeRule,
    ambiguous_selectors,
    ambiguous_transit_times,
)

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory

#: The rule set as stored: the JSON document PUT /rules validated, instants as ISO 8601 text.
RuleDocument = dict[str, Any]

_SELECTOR_FIELDS = ("sku", "category", "location", "location_type", "channel")


def _selector(rule: dict[str, Any]) -> Selector:
    return Selector(**{name: rule.get(name) for name in _SELECTOR_FIELDS})


def parse_rule_set(document: RuleDocument) -> RuleSet:
    """Domain rules from a stored (already validated) rule document."""
    return RuleSet(
        safety_stock=tuple(
            SafetyStockRule(_selector(r), units=r.get("units"), percent=r.get("percent"))
            for r in document.get("safety_stock", ())
        ),
        allocations=tuple(
            AllocationRule(**{**r, "starts_at": _instant(r.get("starts_at")), "ends_at": _instant(r.get("ends_at"))})
            for r in document.get("allocations", ())
        ),
        low_stock=tuple(LowStockRule(_selector(r), threshold=r["threshold"]) for r in document.get("low_stock", ())),
        categories={name: tuple(patterns) for name, patterns in document.get("categories", {}).items()},
        channels_selling_incoming=tuple(document.get("channels_selling_incoming", ())),
        transit_times=tuple(TransitTimeRule(**r) for r in document.get("transit_times", ())),
        max_hold_share=dict(document.get("max_hold_share", {})),
    )


def _instant(value: str | datetime | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def etag(version: int) -> str:
    return f'"rules-v{version}"'


def current(inventory: Inventory) -> tuple[int, RuleDocument]:
    version, document, _ = inventory.rules.current()
    return version, document


def replace(inventory: Inventory, document: RuleDocument, *, if_match: str | None) -> int:
    """Store `document` as the next version, if `if_match` names the current one."""
    if not if_match:
        raise Problem(
            428,
            "PUT /rules needs If-Match with the ETag of the rule set you changed",
            type_slug="precondition-required",
        )
    rules = parse_rule_set(document)
    repeated = [
        *ambiguous_selectors(rules.safety_stock),
        *ambiguous_selectors(rules.low_stock),
        *ambiguous_transit_times(rules.transit_times),
    ]
    if repeated:
        raise Problem(
            422,
            "two rules of one kind have the same selector, so which wins would be arbitrary",
            errors={"selectors": [str(s) for s in repeated]},
        )
    version, _ = current(inventory)
    if if_match.strip() not in (etag(version), "*"):
        raise Problem(
            412, f"the rule set has changed: its ETag is now {etag(version)}", headers={"ETag": etag(version)}
        )
    # The version compared above may move before we write; the store re-checks atomically.
    stored, new_version = inventory.rules.replace(document, version)
    if not stored:
        raise Problem(
            412, f"the rule set has changed: its ETag is now {etag(new_version)}", headers={"ETag": etag(new_version)}
        )
    return new_version
