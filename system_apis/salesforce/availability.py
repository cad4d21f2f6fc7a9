"""Salesforce Omnichannel Inventory (OCI) availability reads in canonical terms: OCI's request
becomes GET /inventory/v1/availability calls, the answer OCI's locations / locationGroups.

The process API knows how much is in transit towards a location, not when it lands, so
in_transit becomes one future with `expectedDate: null`.
"""

from __future__ import annotations

from process_apis.inventory.contract import InventoryClient


def inventory_record(entry: dict, effective: str) -> dict:
    futures = [{"expectedDate": None, "quantity": entry["in_transit"]}] if entry.get("in_transit") else []
    return {
        "stockKeepingUnit": entry["sku"],
        "availableToFulfill": entry["available_to_sell"],
        "availableToOrder": entry["available_to_order"],
        "onHand": entry["on_hand"],
        "reserved": entry["reserved"],
        "safetyStockCount": entry["safety_stock"],
        "futures": futures,
        "effectiveDate": effective,
    }


def read_availability(inventory: InventoryClient, request: dict, default_channel: str) -> dict:
    skus, channel = request["stockKeepingUnits"], request["channel"] or default_channel
    answer: dict[str, list[dict]] = {"locations": [], "locationGroups": []}
    if request["locationIdentifiers"]:
        read = inventory.availability(skus=skus, locations=request["locationIdentifiers"], channel=channel)
        by_location: dict[str, list] = {location: [] for location in request["locationIdentifiers"]}
        for position in read["positions"]:
            by_location.setdefault(position["location"], []).append(inventory_record(position, read["as_of"]))
        answer["locations"] = [
            {"locationIdentifier": location, "inventoryRecords": records} for location, records in by_location.items()
        ]
    # The process API reads one group per call; OCI allows up to 100 in a request.
    for group in request["locationGroupIdentifiers"] or ():
        read = inventory.availability(skus=skus, location_group=group, channel=channel)
        answer["locationGroups"].append(
            {
                "locationGroupIdentifier": group,
                "inventoryRecords": [inventory_record(entry, read["as_of"]) for entry in read["groups"]],
            }
        )
    return answer
