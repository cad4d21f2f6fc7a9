"""Access tokens the org has issued: who they act for, when they die, and mass expiry."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Session:
    access_token: str
    username: str
    user_id: str
    issued_at: datetime
    expires_at: datetime


class Sessions:
    def __init__(self, org_id: str, *, ttl_seconds: int, clock: Callable[[], datetime]) -> None:
        self._org_id, self._ttl, self._clock = org_id, timedelta(seconds=ttl_seconds), clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def issue(self, username: str, user_id: str) -> Session:
        # Shaped like Salesforce's: the org id, "!", then an opaque part.
        now = self._clock()
        session = Session(f"{self._org_id[:15]}!{secrets.token_urlsafe(72)}", username, user_id, now, now + self._ttl)
        with self._lock:
            self._drop_dead(now)
            self._sessions[session.access_token] = session
        return session

    def find(self, access_token: str, *, max_age_seconds: float | None = None) -> Session | None:
        """The live session of `access_token`; None when unknown, expired, or older than max_age_seconds."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(access_token)
        if session is None or now >= session.expires_at:
            return None
        if max_age_seconds is not None and now >= session.issued_at + timedelta(seconds=max_age_seconds):
            return None
        return session

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
        return count

    def _drop_dead(self, now: datetime) -> None:
        # Caller holds the lock; keeps memory bounded under a client that logs in on every call.
        for token in [t for t, s in self._sessions.items() if now >= s.expires_at]:
            del self._sessions[token]
