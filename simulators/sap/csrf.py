"""SAP Gateway CSRF protection: a token fetched on a GET/HEAD, bound to a session cookie.

A GET or HEAD with `X-CSRF-Token: Fetch` answers the session's token in `X-CSRF-Token` and sets
the `SAP_SESSIONID_<SID>_<client>` cookie (a new session when the request carries none). A
modifying request must send both the cookie and that token, else 403 with `X-CSRF-Token: Required`.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict

MODIFYING_METHODS = frozenset({"POST", "PUT", "PATCH", "MERGE", "DELETE"})
MAX_SESSIONS = 10_000


class CsrfSessions:
    def __init__(self, system_id: str = "S4H", client: str = "100") -> None:
        self.cookie_name = f"SAP_SESSIONID_{system_id}_{client}"
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, tuple[str, str]] = OrderedDict()  # session id -> (user, token)

    def fetch(self, session_id: str | None, user: str) -> tuple[str, str]:
        """(session id, token): the caller's current session if it is valid, else a new one."""
        with self._lock:
            if session_id and (known := self._tokens.get(session_id)) is not None and known[0] == user:
                self._tokens.move_to_end(session_id)
                return session_id, known[1]
            session_id = secrets.token_urlsafe(32)
            token = secrets.token_urlsafe(18)
            self._tokens[session_id] = (user, token)
            while len(self._tokens) > MAX_SESSIONS:
                self._tokens.popitem(last=False)
            return session_id, token

    def valid(self, session_id: str | None, user: str, token: str | None) -> bool:
        if not session_id or not token:
            return False
        with self._lock:
            known = self._tokens.get(session_id)
        return known is not None and known[0] == user and hmac.compare_digest(known[1], token)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
