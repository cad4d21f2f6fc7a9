"""API keys, the credential store and its verification cache, on the embedded store (fakeredis)."""

import hashlib

import fakeredis
import pytest

from shared.auth import CredentialError, CredentialExists, CredentialStore, service_api_key, tier_auth_headers
from shared.auth.credentials import IN_PROCESS_CLIENT_ID, new_api_key, parse_key
from shared.auth.scopes import SCOPES, ScopeError, check_grant, effective_scopes, satisfies


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def redis():
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(redis, clock):
    return CredentialStore(redis, cache_seconds=5, clock=clock)


class CountingRedis:
    """The embedded store, counting the reads verification makes."""

    def __init__(self, redis):
        self.redis = redis
        self.reads = 0

    def hgetall(self, key):
        self.reads += 1
        return self.redis.hgetall(key)

    def __getattr__(self, name):
        return getattr(self.redis, name)


# --- the key and what Redis keeps ----------------------------------------------------------


def test_key_names_its_client_and_redis_keeps_only_the_secret_hash(store, redis):
    credential, key = store.create("web-shop", kind="channel", scopes=["web"], name="Web shop")
    client_id, secret = parse_key(key)
    assert key.startswith("igw_web-shop.") and client_id == "web-shop" and len(secret) >= 43
    stored = redis.hgetall("auth:client:{web-shop}")
    assert stored["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in "".join(stored.values())
    assert stored["kind"] == "channel" and stored["scopes"] == "web" and stored["name"] == "Web shop"
    assert credential.scopes == {"web"} and credential.created_at


def test_verify_returns_the_credential_of_a_good_key_only(store):
    _, key = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    credential = store.verify(key)
    assert (credential.client_id, credential.store_id, credential.scopes) == ("store-s001", "S001", {"store"})
    assert store.verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.verify(key.replace("store-s001", "store-s002")) is None


@pytest.mark.parametrize(
    "key",
    [
        "",
        "igw_",
        "igw_web-shop",
        "igw_web-shop.",
        "Bearer x",
        "igw_web shop.x",
        "igw_" + "a" * 65 + ".x",
        "igw_web-shop." + "x" * 200,
    ],
)
def test_malformed_keys_are_refused_without_a_redis_call(redis, key):
    counting = CountingRedis(redis)
    assert CredentialStore(counting).verify(key) is None
    assert counting.reads == 0


def test_existing_client_id_is_refused_unless_rotated(store):
    _, first = store.create("web-shop", kind="channel", scopes=["web"])
    with pytest.raises(CredentialExists):
        store.create("web-shop", kind="channel", scopes=["web"])
    assert store.verify(first) is not None
    _, second = store.create("web-shop", kind="channel", scopes=["web", "call-centre"], rotate=True)
    assert store.verify(first) is None
    assert store.verify(second).scopes == {"web", "call-centre"}


@pytest.mark.parametrize(
    "client_id, kind, scopes, store_id",
    [
        ("web shop", "channel", ["web"], None),  # client id with a space
        ("web-shop", "customer", ["web"], None),  # unknown kind
        ("web-shop", "channel", ["service"], None),  # a channel may not hold a tier scope
        ("web-shop", "channel", ["web", "inventory:read"], None),
        ("salesforce", "system", ["inventory:admin"], None),
        ("store-s001", "channel", ["store"], None),  # store scope without a store
        ("web-shop", "channel", ["web"], "S001"),  # a store without the store scope
        ("web-shop", "channel", [], None),
        ("web-shop", "channel", ["webshop"], None),  # unknown scope
    ],
)
def test_credentials_the_vocabulary_forbids_are_refused(store, redis, client_id, kind, scopes, store_id):
    with pytest.raises(CredentialError):
        store.create(client_id, kind=kind, scopes=scopes, store_id=store_id)
    assert redis.keys("auth:*") == []


def test_list_shows_every_credential_without_secrets_and_revoke_disables(store):
    store.create("web-shop", kind="channel", scopes=["web"])
    _, key = store.create("operator", kind="operator", scopes=["inventory:admin", "sap:admin"])
    assert store.revoke("operator") is True
    assert store.revoke("nobody") is False
    listed = [credential.to_dict() for credential in store.list()]
    assert [(c["client_id"], c["disabled"]) for c in listed] == [("operator", True), ("web-shop", False)]
    assert all("secret" not in field for c in listed for field in c)
    assert store.verify(key) is None


# --- the verification cache ----------------------------------------------------------------


def test_verification_is_cached_and_revocation_elsewhere_takes_effect_after_the_cache_time(redis, clock):
    worker = CredentialStore(CountingRedis(redis), cache_seconds=5, clock=clock)
    other_worker = CredentialStore(redis, cache_seconds=5, clock=clock)
    _, key = other_worker.create("web-shop", kind="channel", scopes=["web"])
    assert worker.verify(key) is not None
    other_worker.revoke("web-shop")
    clock.now += 4.9
    assert worker.verify(key) is not None  # served from the cache, no Redis call
    assert worker.redis.reads == 1
    clock.now += 0.2
    assert worker.verify(key) is None  # the cache entry expired: Redis says revoked
    assert worker.redis.reads == 2


def test_revocation_in_the_same_process_takes_effect_at_once(store):
    _, key = store.create("web-shop", kind="channel", scopes=["web"])
    assert store.verify(key) is not None
    store.revoke("web-shop")
    assert store.verify(key) is None


def test_a_repeated_bad_key_costs_one_redis_call_per_cache_period(redis, clock):
    counting = CountingRedis(redis)
    store = CredentialStore(counting, cache_seconds=5, clock=clock)
    for _ in range(50):
        assert store.verify("igw_web-shop.guessed-secret") is None
    assert counting.reads == 1
    clock.now += 5.1
    assert store.verify("igw_web-shop.guessed-secret") is None
    assert counting.reads == 2


def test_cache_off_reads_redis_every_time(redis):
    counting = CountingRedis(redis)
    store = CredentialStore(counting, cache_seconds=0)
    _, key = store.create("web-shop", kind="channel", scopes=["web"])
    store.verify(key)
    store.verify(key)
    assert counting.reads == 2


# --- scopes ----------------------------------------------------------------------------------


def test_every_scope_in_the_table_is_grantable_to_some_kind_and_service_only_to_services():
    assert all(scope.kinds for scope in SCOPES.values())
    assert SCOPES["service"].kinds == {"service"}
    assert check_grant("service", ["service"], None) == {"service"}
    with pytest.raises(ScopeError):
        check_grant("operator", ["service"], None)


def test_scopes_a_kind_may_not_hold_are_ignored_when_read_back():
    assert effective_scopes("channel", ["web", "service", "inventory:admin"], None) == {"web"}
    assert effective_scopes("channel", ["store"], None) == frozenset()
    assert effective_scopes("channel", ["store"], "S001") == {"store"}


def test_service_scope_satisfies_tier_scopes_but_not_channel_scopes():
    assert satisfies(frozenset({"service"}), ["inventory:admin"])
    assert satisfies(frozenset({"service"}), ["sap:admin", "salesforce:oci"])
    assert not satisfies(frozenset({"service"}), ["web"])
    assert satisfies(frozenset({"inventory:read"}), ["inventory:write", "inventory:read"])
    assert not satisfies(frozenset({"inventory:read"}), ["inventory:write"])


# --- given and tier-to-tier keys -------------------------------------------------------------


def test_a_given_key_must_belong_to_the_client_it_is_created_for(store):
    with pytest.raises(CredentialError, match="not one of client 'web-shop'"):
        store.create("web-shop", kind="channel", scopes=["web"], api_key=new_api_key("other-shop"))
    with pytest.raises(CredentialError):
        store.create("web-shop", kind="channel", scopes=["web"], api_key="not-a-key")
    assert store.get("web-shop") is None


def test_configured_service_key_is_sent_as_a_bearer_token():
    assert service_api_key("igw_experience-tier.s3cret") == "igw_experience-tier.s3cret"
    assert tier_auth_headers("igw_experience-tier.s3cret") == {"Authorization": "Bearer igw_experience-tier.s3cret"}


def test_in_process_service_key_is_accepted_by_every_store_of_the_process_and_kept_out_of_redis(redis):
    key = service_api_key(None)
    assert service_api_key(None) == key
    credential = CredentialStore(redis).verify(key)
    assert (credential.client_id, credential.kind, credential.scopes) == (IN_PROCESS_CLIENT_ID, "service", {"service"})
    assert credential.process_local
    assert redis.keys("*") == []
