"""What both simulators' fault injection shares: the current fault settings (a frozen dataclass
with a `seed`), changed and reset under a lock, and one seeded `random.Random` every die is rolled
with, so the same seed and the same sequence of calls give the same faults."""

from __future__ import annotations

import dataclasses
import random
import threading


class SeededFaults:
    """Subclasses set `settings_type` and roll their dice with `_roll` while holding `_lock`."""

    settings_type: type

    def __init__(self, initial=None) -> None:
        self._lock = threading.Lock()
        self._initial = initial or self.settings_type()
        self._settings = self._initial
        self._random = random.Random(self._initial.seed)

    @property
    def settings(self):
        return self._settings

    def update(self, **changes):
        """Change some settings (ValueError on an unknown name or bad value); a new seed re-seeds."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self.settings_type)}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._settings = dataclasses.replace(self._settings, **changes)
            if "seed" in changes:
                self._random = random.Random(self._settings.seed)
            return self._settings

    def reset(self):
        with self._lock:
            self._settings = self._initial
            self._random = random.Random(self._initial.seed)
            return self._settings

    def _roll(self, rate: float) -> bool:
        """One die against `rate` (call with `_lock` held)."""
        return rate > 0 and self._random.random() < rate
