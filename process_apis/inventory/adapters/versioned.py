"""A value read from Redis and kept per process until its version moves.

Readers check the version on every request, so a change is seen at once; the version read can
ride in the same pipeline as the request's other reads (`probe`), costing no extra round trip.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

UNREAD: Any = object()
Value = TypeVar("Value")


class VersionedCache(Generic[Value]):
    redis: Any  # the subclass's client

    def __init__(self) -> None:
        self._cached: tuple[Any, Value] | None = None

    @property
    def version_command(self) -> tuple[str, ...]:
        """The command reading the version, as a (command, key, *args) tuple."""
        raise NotImplementedError

    def probe(self, pipe: Any) -> None:
        """Queue the version read on a pipeline; pass its reply to `current(version=...)`."""
        pipe.execute_command(*self.version_command)

    def version_call(self) -> tuple[str, list[str], list[str]]:
        """The version read as a `run_scripts` call."""
        command, key, *args = self.version_command
        return command, [key], args

    def _load(self, version: Any) -> Value:
        raise NotImplementedError

    @property
    def cached_version(self) -> Any:
        return self._cached[0] if self._cached else UNREAD

    def last(self) -> Value:
        """The value as last read, without asking Redis (read the first time)."""
        return self._cached[1] if self._cached else self.current()

    def current(self, version: Any = UNREAD) -> Value:
        """The value as of `version` (read now when not given); reloaded only when it moved."""
        if version is UNREAD:
            pipe = self.redis.pipeline(transaction=False)
            self.probe(pipe)
            [version] = pipe.execute()
        if self._cached is None or self._cached[0] != version:
            self._cached = (version, self._load(version))
        return self._cached[1]
