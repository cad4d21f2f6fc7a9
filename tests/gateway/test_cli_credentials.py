"""`inventory-gateway credentials create|list|revoke` against a real redis-server."""

import json

import pytest
import redis

from gateway.cli import main
from shared.auth import CredentialStore


@pytest.fixture
def gateway_env(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    return redis_url


def run(capsys, *argv):
    code = main(["credentials", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_create_prints_the_key_once_and_it_verifies(gateway_env, capsys):
    code, out, err = run(
        capsys,
        "create",
        "--client-id",
        "store-s001",
        "--kind",
        "channel",
        "--scope",
        "store",
        "--store",
        "S001",
        "--name",
        "Store 1 associates",
    )
    assert code == 0
    created = json.loads(out)
    assert "cannot be shown again" in err
    assert (created["client_id"], created["store_id"], created["scopes"]) == ("store-s001", "S001", ["store"])
    with redis.Redis.from_url(gateway_env, decode_responses=True) as client:
        credential = CredentialStore(client).verify(created["api_key"])
    assert credential.name == "Store 1 associates"


def test_create_refuses_an_existing_client_and_a_forbidden_scope(gateway_env, capsys):
    assert run(capsys, "create", "--client-id", "web-shop", "--kind", "channel", "--scope", "web")[0] == 0
    code, out, err = run(capsys, "create", "--client-id", "web-shop", "--kind", "channel", "--scope", "web")
    assert (code, out) == (1, "") and "already has a credential" in err
    code, out, err = run(capsys, "create", "--client-id", "pos", "--kind", "channel", "--scope", "service")
    assert (code, out) == (1, "") and "may not hold service" in err


def test_list_shows_no_secrets_and_revoke_disables(gateway_env, capsys):
    _, out, _ = run(
        capsys,
        "create",
        "--client-id",
        "operator",
        "--kind",
        "operator",
        "--scope",
        "inventory:admin",
        "--scope",
        "sap:admin",
    )
    key = json.loads(out)["api_key"]
    assert run(capsys, "revoke", "--client-id", "operator")[:2] == (0, '{"client_id": "operator", "revoked": true}\n')
    code, out, _ = run(capsys, "list")
    assert code == 0
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert listed["client_id"] == "operator" and listed["disabled"] is True
    assert listed["scopes"] == ["inventory:admin", "sap:admin"]
    assert key.partition(".")[2] not in out and "secret" not in out
    assert run(capsys, "revoke", "--client-id", "nobody")[0] == 1


def test_a_credential_keeps_its_own_rate_limit_and_list_shows_each_ones_limit(gateway_env, capsys):
    created = run(
        capsys,
        "create",
        "--client-id",
        "big-shop",
        "--kind",
        "channel",
        "--scope",
        "web",
        "--rate-limit",
        "2000/second",
    )
    assert created[0] == 0 and json.loads(created[1])["rate_limit"] == "2000 per second"
    assert run(capsys, "create", "--client-id", "kiosk", "--kind", "channel", "--scope", "web")[0] == 0
    with redis.Redis.from_url(gateway_env, decode_responses=True) as client:
        assert CredentialStore(client).get("big-shop").rate_limit == "2000 per second"

    listed = {c["client_id"]: c for c in map(json.loads, run(capsys, "list")[1].splitlines())}

    assert (listed["big-shop"]["rate_limit"], listed["big-shop"]["rate_limit_from"]) == (
        "2000 per second",
        "credential",
    )
    assert (listed["kiosk"]["rate_limit"], listed["kiosk"]["rate_limit_from"]) == (
        "500 per second",
        "RATE_LIMIT_CHANNEL",
    )


@pytest.mark.parametrize("limit", ["fast", "0/second", "10/fortnight", "", "-5/minute", "10/second;600/minute"])
def test_create_refuses_a_rate_limit_that_is_not_one(gateway_env, capsys, limit):
    code, out, err = run(
        capsys, "create", "--client-id", "shop", "--kind", "channel", "--scope", "web", f"--rate-limit={limit}"
    )
    assert (code, out) == (1, "") and "rate limit" in err
    with redis.Redis.from_url(gateway_env, decode_responses=True) as client:
        assert CredentialStore(client).get("shop") is None


def test_credentials_need_a_real_redis(monkeypatch, capsys):
    monkeypatch.delenv("REDIS_URL", raising=False)
    code, out, err = run(capsys, "list")
    assert code == 2 and "REDIS_URL" in err


@pytest.mark.parametrize(
    "option",
    [
        ["--client-id", "shop\n"],
        ["--client-id", "shop", "--name", "Web shop\n"],
        ["--client-id", "shop", "--name", "Web\u0000shop"],
        ["--client-id", "shop", "--name", "\ud800"],
        ["--client-id", "shop", "--name", "n" * 201],
        ["--client-id", "shop", "--scope", "store", "--store", "S001\n"],
    ],
)
def test_create_refuses_control_characters_and_overlong_text_in_any_option(gateway_env, capsys, option):
    options = {option[i]: option[i + 1] for i in range(0, len(option), 2)}
    argv = ["create", "--kind", "channel", "--scope", "web", *[item for pair in options.items() for item in pair]]

    code, out, err = run(capsys, *argv)

    assert (code, out) == (1, "") and "error:" in err
    with redis.Redis.from_url(gateway_env, decode_responses=True) as client:
        assert CredentialStore(client).list() == []
