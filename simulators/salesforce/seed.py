"""The demo org: a Product2 for each demo SKU (MAT-1001..MAT-1020, the SAP simulator's materials)."""

from __future__ import annotations

from simulators.sap.seed import DEMO_MATERIALS


def seed_demo(org) -> None:
    product = org.store.sobject("Product2")
    with org.store.transaction() as transaction:
        for number, sku in enumerate(DEMO_MATERIALS, start=1):
            transaction.upsert(product, "StockKeepingUnit", sku,
                               {"Name": f"Demo product {number}", "ProductCode": sku, "IsActive": True})
