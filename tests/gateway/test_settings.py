"""The gateway's settings are every tier's settings composed: each environment variable is one setting, and
a setting two tiers both read (the SAP simulator and the SAP system API both take SAP_USER) is declared
alike in both, so the composition cannot depend on which declaration it happens to take."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.settings import Settings
from shared.config import SharedSettings


def _declarations() -> dict[str, list[tuple[type, dataclasses.Field]]]:
    declared: dict[str, list[tuple[type, dataclasses.Field]]] = {}
    for cls in Settings.__mro__:
        for name, field in vars(cls).get("__dataclass_fields__", {}).items():
            if name in vars(cls).get("__annotations__", {}):
                declared.setdefault(name, []).append((cls, field))
    return declared


def test_each_environment_variable_is_one_setting():
    envs = [env for env, _, _ in Settings.describe()]
    assert len(envs) == len(set(envs))


def test_a_setting_declared_by_several_tiers_is_declared_alike():
    for name, declarations in _declarations().items():
        (_, first), *others = declarations
        for cls, field in others:
            assert (field.metadata["env"], field.default, field.metadata["help"]) == (
                first.metadata["env"],
                first.default,
                first.metadata["help"],
            ), f"{name} in {cls.__name__}"


def test_every_tier_settings_class_reads_its_own_part_from_the_environment():
    environment = {"SAP_USER": "COMM", "WEB_DISPLAY_CAP": "7", "REDIS_TIMEOUT_SECONDS": "1.5"}
    from experience_apis.settings import ExperienceSettings
    from simulators.sap.settings import SapSimulatorSettings
    from system_apis.sap.settings import SapSettings

    assert SapSettings.from_env(environment).sap_user == "COMM"
    assert SapSimulatorSettings.from_env(environment).sap_user == "COMM"
    assert ExperienceSettings.from_env(environment).web_display_cap == 7
    assert not hasattr(ExperienceSettings.from_env(environment), "sap_user")
    for cls in (SapSettings, ExperienceSettings, SharedSettings):
        assert cls.from_env(environment).redis_timeout_seconds == 1.5


@pytest.mark.parametrize(
    "variable, value",
    [
        ("SAP_WEBHOOK_AUTH", "token"),
        ("WEB_PICKUP_RADIUS_KM", "0"),
        ("GATEWAY_PORT", "0"),
        ("RATE_LIMIT_CHANNEL", "lots"),
        ("RESERVATION_MAX_TTL_SECONDS", "60"),
        ("MAX_CLOCK_SKEW_SECONDS", "-1"),
        ("SAP_TIME_ZONE", "CET+1"),
        ("SAP_TIME_ZONE", "Europe"),
        ("SAP_TIME_ZONE", "../etc/passwd"),
    ],
)
def test_every_tiers_checks_run_in_the_composition(variable, value):
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: value})


def test_sap_time_zone_is_an_iana_name_checked_at_start():
    assert Settings.from_env({"SAP_TIME_ZONE": " Europe/Berlin "}).sap_time_zone == "Europe/Berlin"
    with pytest.raises(ValueError, match="SAP_TIME_ZONE"):
        Settings(sap_time_zone="Mars/Olympus_Mons")
