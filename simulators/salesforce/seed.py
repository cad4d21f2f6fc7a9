"""The demo org: a Product2 for each demo SKU (MAT-1001..MAT-1020, as the SAP simulator's materials)."""

from __future__ import annotations

from simulators.demo_catalogue import DEMO_SKUS


def seed_demo(org) -> None:
    product = org.store.sobject("Product2")
    with org.store.transaction() as transaction:
        for number, sku in enumerate(DEMO_SKUS, start=1):
            transaction.upsert(
                product,
                "StockKeepingUnit",
                sku,
                {"Name": f"Demo product {number}", "ProductCode": sku, "IsActive": True},
            )
