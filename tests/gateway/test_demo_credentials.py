"""Demo mode's credentials: one per kind of client, rotated on every start."""

import fakeredis
import pytest

from gateway.demo import DEMO_CLIENTS, create_demo_credentials, demo_keys
from shared.auth import CredentialStore


@pytest.fixture
def store():
    return CredentialStore(fakeredis.FakeRedis(decode_responses=True), cache_seconds=0)


def test_demo_credentials_cover_each_client_and_rotate_on_restart(store):
    first = create_demo_credentials(store)
    assert set(first) == set(DEMO_CLIENTS)
    assert store.verify(first["demo-store-s001"]).store_id == "S001"
    assert store.verify(first["demo-salesforce"]).scopes == {"salesforce:oci"}
    assert store.verify(first["demo-service"]).kind == "service"
    again = create_demo_credentials(store)
    assert store.verify(first["demo-web-shop"]) is None
    assert store.verify(again["demo-web-shop"]).scopes == {"web"}


def test_demo_keys_made_before_the_store_exists_are_the_ones_it_accepts(store):
    keys = demo_keys()
    assert create_demo_credentials(store, keys) == keys
    assert {client_id: store.verify(key).client_id for client_id, key in keys.items()} == {c: c for c in keys}
