"""Loads the Lua scripts beside this file. redis-py calls them by SHA and reloads on NOSCRIPT."""

from __future__ import annotations

from functools import cache
from pathlib import Path

LUA_DIR = Path(__file__).with_name("lua")
LEDGER_SCRIPTS = ("apply_events", "hold", "commit", "release", "fulfil", "rekey", "reset_watermarks")


@cache
def source(name: str) -> str:
    text = (LUA_DIR / f"{name}.lua").read_text()
    # Ledger scripts share helpers; Redis has no include, so the helpers go in front.
    return (LUA_DIR / "lib.lua").read_text() + text if name in LEDGER_SCRIPTS else text


class Scripts:
    def __init__(self, redis) -> None:
        names = (*LEDGER_SCRIPTS, "compare_and_set", "dead_letters", "reservation_index", "position_snapshot")
        self._registered = {name: redis.register_script(source(name)) for name in names}

    def __getitem__(self, name: str):
        return self._registered[name]
