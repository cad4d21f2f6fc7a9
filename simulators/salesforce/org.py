"""`SalesforceOrg`: everything one simulated org holds (schema and records, sessions, API usage,
query cursors, faults) and the admin operations tests call in-process.

It lives at `app.extensions["salesforce_org"]`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from cryptography import x509

from shared.config import text_or_file
from simulators.salesforce.cursors import QueryCursors
from simulators.salesforce.errors import SalesforceError
from simulators.salesforce.faults import Faults, FaultSettings
from simulators.salesforce.ids import to_18
from simulators.salesforce.records import RecordStore
from simulators.salesforce.schema import STANDARD_OBJECTS, SObjectType
from simulators.salesforce.sessions import Session, Sessions

from .settings import SalesforceSimulatorSettings

DEFAULT_USER = "integration@inventory-gateway.example"
API_VERSIONS = ("58.0", "59.0", "60.0", "61.0", "62.0", "63.0")
ORG_ID = to_18("00D5g000000SIM1")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OrgOptions:
    """Tunables of the org itself (credentials, limits and token TTL come from `SalesforceSimulatorSettings`)."""

    page_size: int = 2000  # records per SOQL page (Salesforce's default batch size)
    users: tuple[str, ...] = (DEFAULT_USER,)  # usernames a JWT bearer assertion may name; the first runs
    # client-credentials calls
    demo: bool = False  # seed Product2 for the demo SKUs at start-up
    faults: FaultSettings = field(default_factory=FaultSettings)
    api_versions: tuple[str, ...] = API_VERSIONS
    objects: tuple[SObjectType, ...] = STANDARD_OBJECTS

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be >= 1")
        if not self.users:
            raise ValueError("the org needs at least one user")


class ApiUsage:
    """Requests counted against the daily limit; the count starts over at midnight UTC."""

    def __init__(self, limit: int, clock: Callable[[], datetime]) -> None:
        self.limit, self._clock = limit, clock
        self._lock = threading.Lock()
        self._used = 0
        self._day: date | None = None

    def count(self) -> int:
        """Count one call and return the usage; past the limit raise 403 REQUEST_LIMIT_EXCEEDED instead."""
        with self._lock:
            self._roll_day()
            if self._used >= self.limit:
                raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", None)
            self._used += 1
            return self._used

    @property
    def used(self) -> int:
        with self._lock:
            self._roll_day()
            return self._used

    def header(self) -> str:
        return f"api-usage={self.used}/{self.limit}"

    def set_used(self, used: int) -> None:
        with self._lock:
            self._roll_day()
            self._used = used

    def _roll_day(self) -> None:
        today = self._clock().astimezone(UTC).date()
        if today != self._day:
            self._used, self._day = 0, today


class SalesforceOrg:
    def __init__(
        self,
        settings: SalesforceSimulatorSettings,
        options: OrgOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not settings.salesforce_client_id or not settings.salesforce_client_secret:
            raise ValueError(
                "the Salesforce simulator needs its connected app: set SALESFORCE_CLIENT_ID and "
                "SALESFORCE_CLIENT_SECRET (there is no built-in default secret)"
            )
        self.settings = settings
        self.options = options or OrgOptions()
        self.clock = clock or utc_now
        self.org_id = ORG_ID
        self.client_id, self.client_secret = settings.salesforce_client_id, settings.salesforce_client_secret
        usernames = list(self.options.users)
        if settings.salesforce_jwt_subject and settings.salesforce_jwt_subject not in usernames:
            usernames.append(settings.salesforce_jwt_subject)
        self.users = {name: to_18(f"0055g{n:010d}") for n, name in enumerate(usernames, start=1)}
        self.jwt_public_key = None
        if settings.sf_sim_jwt_certificate:
            certificate = x509.load_pem_x509_certificate(text_or_file(settings.sf_sim_jwt_certificate).encode())
            self.jwt_public_key = certificate.public_key()
        self.store = RecordStore(self.options.objects, clock=self.clock)
        self.sessions = Sessions(self.org_id, ttl_seconds=settings.sf_sim_token_ttl_seconds, clock=self.clock)
        self.usage = ApiUsage(settings.sf_sim_daily_api_limit, self.clock)
        self.cursors = QueryCursors(page_size=self.options.page_size)
        self.faults = Faults(self.options.faults)
        if self.options.demo:
            self.seed_demo()

    # --- sessions -------------------------------------------------------------------------------------

    def issue_token(self, username: str | None = None) -> Session:
        """A fresh access token acting as `username` (default: the run-as user of client credentials)."""
        username = username or next(iter(self.users))
        return self.sessions.issue(username, self.users[username])

    def session(self, access_token: str) -> Session | None:
        return self.sessions.find(access_token, max_age_seconds=self.faults.settings.expire_tokens_after_seconds)

    def expire_tokens(self) -> int:
        """Invalidate every token issued so far (clients must log in again); returns how many."""
        return self.sessions.expire_all()

    # --- admin views ----------------------------------------------------------------------------------

    def usage_report(self) -> dict:
        return {"used": self.usage.used, "limit": self.usage.limit, "header": self.usage.header()}

    def records(self, object_name: str) -> list[dict]:
        return self.store.records(self._sobject(object_name))

    def history(self, object_name: str, id_or_field: str, value: str | None = None) -> list[dict]:
        """Every committed write of one record, oldest first, by its id or by a field's value."""
        sobject = self._sobject(object_name)
        if value is None:
            return self.store.history(sobject.name, id_or_field)
        field = sobject.field(id_or_field)
        if field is None:
            raise KeyError(f"{sobject.name} has no field {id_or_field}")
        return self.store.history_by_value(sobject.name, field.name, value)

    def platform_events(self, name: str) -> list[dict]:
        return self.store.events(self._sobject(name).name)

    def reset(self, *, demo: bool = False) -> None:
        """Forget records, events, tokens, cursors and usage; restore the initial faults."""
        self.store.clear()
        self.sessions.expire_all()
        self.cursors.clear()
        self.usage.set_used(0)
        self.faults.reset()
        if demo:
            self.seed_demo()

    def seed_demo(self) -> None:
        from simulators.salesforce.seed import seed_demo

        seed_demo(self)

    def _sobject(self, name: str) -> SObjectType:
        sobject = self.store.sobject(name)
        if sobject is None:
            raise KeyError(f"no sObject {name}")
        return sobject
