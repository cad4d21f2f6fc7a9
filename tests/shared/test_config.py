import dataclasses

import pytest

from gateway.settings import Settings


def test_defaults_apply_when_environment_is_empty():
    settings = Settings.from_env({})

    assert settings.redis_url is None
    assert settings.redis_cluster is False
    assert settings.redis_timeout_seconds == 2.0
    assert settings.log_level == "INFO"
    assert (settings.host, settings.port, settings.workers, settings.threads) == ("127.0.0.1", 8080, 2, 8)
    assert settings.max_body_bytes == 4 * 1024 * 1024
    assert settings.idempotency_ttl_seconds == 86400
    assert settings.idempotency_lock_seconds == 30
    assert settings.dedup_ttl_seconds == 7 * 86400
    assert (settings.delta_journal_seconds, settings.delta_journal_max) == (86400, 512)
    assert (settings.reservation_default_ttl_seconds, settings.reservation_max_ttl_seconds) == (900, 14400)
    assert settings.sweeper_interval_seconds == 0.5
    assert settings.demo is False


def test_environment_overrides_defaults():
    settings = Settings.from_env(
        {
            "REDIS_URL": "redis://cache:6380/2",
            "REDIS_TIMEOUT_SECONDS": "0.5",
            "LOG_LEVEL": "debug",
            "GATEWAY_PORT": "9000",
            "GATEWAY_WORKERS": "4",
            "MAX_BODY_BYTES": "1024",
            "IDEMPOTENCY_TTL_SECONDS": "172800",
            "RESERVATION_MAX_TTL_SECONDS": "3600",
            "SWEEPER_INTERVAL_SECONDS": "2",
            "GATEWAY_DEMO": "yes",
        }
    )

    assert settings.redis_url == "redis://cache:6380/2"
    assert settings.redis_timeout_seconds == 0.5
    assert settings.log_level == "DEBUG"
    assert settings.port == 9000
    assert settings.workers == 4
    assert settings.max_body_bytes == 1024
    assert settings.idempotency_ttl_seconds == 172800
    assert settings.reservation_max_ttl_seconds == 3600
    assert settings.sweeper_interval_seconds == 2.0
    assert settings.demo is True


@pytest.mark.parametrize("url", ["redis+cluster://10.0.0.1:7000", "rediss+cluster://10.0.0.1:7000"])
def test_cluster_scheme_implies_cluster_mode(url):
    assert Settings.from_env({"REDIS_URL": url}).redis_cluster is True


def test_cluster_flag_turns_plain_url_into_cluster_mode():
    assert Settings.from_env({"REDIS_URL": "redis://10.0.0.1:7000", "REDIS_CLUSTER": "true"}).redis_cluster is True


def test_empty_redis_url_means_embedded_store():
    assert Settings.from_env({"REDIS_URL": ""}).redis_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_PORT", "eighty"),
        ("GATEWAY_PORT", "70000"),
        ("GATEWAY_DEMO", "maybe"),
        ("REDIS_URL", "http://localhost:6379"),
        ("REDIS_TIMEOUT_SECONDS", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("IDEMPOTENCY_TTL_SECONDS", "3600"),
        ("GATEWAY_THREADS", "0"),
        ("RESERVATION_MAX_TTL_SECONDS", "60"),
    ],
)
def test_invalid_value_raises_error_naming_the_variable(variable, value):
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: value})


def test_settings_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1


def test_describe_lists_every_setting_with_its_variable_and_default():
    rows = {env: (default, help_text) for env, default, help_text in Settings.describe()}

    assert len(rows) == len(dataclasses.fields(Settings))
    assert rows["GATEWAY_PORT"][0] == 8080
    assert all(help_text for _, help_text in rows.values())
