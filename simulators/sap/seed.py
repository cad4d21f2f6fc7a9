"""The demo landscape of the simulated S/4: plants and storage locations that map onto the
gateway's demo locations, 20 materials, and some stock of every stock type everywhere.

Plant 1010 is the DC (Kassel); plant 1110 holds the two Berlin stores as storage locations
0001 and 0002; plant 1210 is the Hamburg store.
"""

from __future__ import annotations

import random

from simulators.demo_catalogue import DEMO_SKUS
from simulators.sap.movements import BLOCKED, IN_TRANSIT, QUALITY_INSPECTION, UNRESTRICTED

# "PLANT/SLOC" -> gateway location id (the SAP_LOCATION_MAP format)
DEMO_LOCATION_MAP = {"1010/0001": "DC01", "1110/0001": "S001", "1110/0002": "S002", "1210/0001": "S003"}
DC_PLANTS = frozenset({"1010"})
DEMO_MATERIALS = DEMO_SKUS  # SAP calls them materials
BASE_UNIT = "PC"
CARTON, CARTON_SIZE = "KAR", 12  # every demo material also comes in cartons of 12 pieces


def seed_demo(system, *, seed: int = 7) -> None:
    """Load the demo landscape into a SapSystem (or a bare StockTable); the same seed, the same stock."""
    stock = getattr(system, "stock", system)
    rng = random.Random(seed)
    for material in DEMO_MATERIALS:
        stock.add_material(material, BASE_UNIT, {CARTON: CARTON_SIZE})
    for location in DEMO_LOCATION_MAP:
        plant, sloc = location.split("/")
        stock.add_storage_location(plant, sloc)
        dc = plant in DC_PLANTS
        for material in DEMO_MATERIALS:
            quantities = {
                UNRESTRICTED: rng.randint(300, 600) if dc else rng.randint(20, 60),
                QUALITY_INSPECTION: rng.randint(2, 10) if dc else rng.randint(1, 4),
                BLOCKED: rng.randint(1, 5) if dc else rng.randint(1, 3),
                IN_TRANSIT: rng.randint(12, 36) if dc else rng.randint(2, 8),
            }
            for stock_type, quantity in quantities.items():
                stock.set_quantity(material, plant, sloc, stock_type, quantity)
