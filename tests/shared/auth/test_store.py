"""The credential store's Redis commands on a real redis-server and on a real Redis Cluster."""

import pytest

from gateway.settings import Settings
from shared.auth import CredentialExists, CredentialStore
from shared.redis import create_redis


@pytest.fixture(
    params=[pytest.param("standalone", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.cluster)]
)
def store(request):
    url = request.getfixturevalue("redis_url" if request.param == "standalone" else "cluster_url")
    return CredentialStore(create_redis(Settings(redis_url=url)), cache_seconds=0)


def test_create_rotate_verify_list_and_revoke(store):
    _, first = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    store.create("salesforce", kind="system", scopes=["salesforce:oci"])
    with pytest.raises(CredentialExists):
        store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    _, rotated = store.create("store-s001", kind="channel", scopes=["store"], store_id="S002", rotate=True)
    assert store.verify(first) is None
    assert store.verify(rotated).store_id == "S002"
    assert store.revoke("salesforce")
    assert [(c.client_id, c.disabled) for c in store.list()] == [("salesforce", True), ("store-s001", False)]
