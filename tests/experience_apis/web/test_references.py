"""The process-API references of carts and orders, and the client's cache of the network (pure, no I/O)."""

from __future__ import annotations

from types import SimpleNamespace

from experience_apis.web.client import WebInventory, upstream_key
from experience_apis.web.service import MAX_EXTERNAL_REF, external_ref


def test_references_name_the_client_the_kind_and_the_id():
    assert external_ref("web-shop", "cart", "c-1") == "web:web-shop:cart:c-1"
    assert external_ref("web-shop", "order", "c-1") != external_ref("web-shop", "cart", "c-1")
    assert external_ref("web-shop", "cart", "c-1") != external_ref("web-partner", "cart", "c-1")


def test_references_too_long_for_the_process_api_become_distinct_digests():
    client, cart = "c" * 64, "x" * 64
    long_ref = external_ref(client, "cart", cart)
    assert len(long_ref) <= MAX_EXTERNAL_REF and long_ref.startswith("web#")
    assert long_ref != external_ref(client, "cart", "y" * 64)
    assert long_ref == external_ref(client, "cart", cart)  # stable: the cart is found again


def test_upstream_keys_are_namespaced_bounded_and_distinct():
    key = upstream_key("hold", "web-shop", "cart-1", "k" * 255)
    assert key.startswith("web:") and len(key) <= 255
    assert key != upstream_key("hold", "web-partner", "cart-1", "k" * 255)


class CountingTier:
    def __init__(self):
        self.calls = 0

    def request(self, method, path, **_):
        self.calls += 1
        return SimpleNamespace(json=lambda: [{"id": f"S{self.calls}"}])


def test_locations_are_read_once_per_ttl():
    tier, now = CountingTier(), [0.0]
    inventory = WebInventory(tier, locations_ttl=30, clock=lambda: now[0])
    assert inventory.locations() == inventory.locations() == [{"id": "S1"}]
    now[0] = 31
    assert inventory.locations() == [{"id": "S2"}]
    assert tier.calls == 2
