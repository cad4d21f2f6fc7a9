"""The scope vocabulary of every API, and which kinds of client may hold which scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CHANNEL, SERVICE, SYSTEM, OPERATOR = "channel", "service", "system", "operator"
KINDS = (CHANNEL, SERVICE, SYSTEM, OPERATOR)
#: Kinds the process and system APIs accept: a channel app never calls them, whatever scopes it holds.
TIER_KINDS = frozenset({SERVICE, SYSTEM, OPERATOR})
CHANNEL_KINDS = frozenset({CHANNEL})

#: The scope of tier-to-tier service accounts; it satisfies every requirement of a tier scope.
SERVICE_SCOPE = "service"
#: The scope of store associates; a credential holding it is bound to one store.
STORE_SCOPE = "store"


@dataclass(frozen=True)
class Scope:
    description: str
    kinds: frozenset[str]

    @property
    def for_channels(self) -> bool:
        return CHANNEL in self.kinds


def _kinds(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


#: The one table of scopes: what each opens, and the kinds of credential allowed to hold it.
SCOPES: dict[str, Scope] = {
    "web": Scope("the web experience API (the web shop)", _kinds(CHANNEL)),
    STORE_SCOPE: Scope("the store experience API, for the one store on the credential", _kinds(CHANNEL)),
    "call-centre": Scope("the call-centre experience API (agents)", _kinds(CHANNEL)),
    "inventory:read": Scope(
        "read positions, availability and reservations of the process API", _kinds(SERVICE, SYSTEM, OPERATOR)
    ),
    "inventory:write": Scope(
        "post events and change reservations through the process API", _kinds(SERVICE, SYSTEM, OPERATOR)
    ),
    "inventory:admin": Scope("rules, locations, location groups, dead letters and replay", _kinds(SERVICE, OPERATOR)),
    "sap:admin": Scope("SAP stock sync and material-document replay", _kinds(SERVICE, OPERATOR)),
    "salesforce:oci": Scope(
        "Salesforce calling the OCI-shaped availability and reservation API", _kinds(SERVICE, SYSTEM, OPERATOR)
    ),
    "salesforce:publish": Scope(
        "the availability publisher sending outcomes to the Salesforce system API", _kinds(SERVICE, OPERATOR)
    ),
    SERVICE_SCOPE: Scope("tier to tier: every operation of the process and system APIs", _kinds(SERVICE)),
}


class ScopeError(ValueError):
    """A scope, kind or store binding that the vocabulary does not allow."""


def check_grant(kind: str, scopes: Iterable[str], store_id: str | None) -> frozenset[str]:
    """The scopes as a set, or ScopeError when `kind` may not hold one of them."""
    if kind not in KINDS:
        raise ScopeError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    granted = frozenset(scopes)
    if not granted:
        raise ScopeError("a credential needs at least one scope")
    unknown = sorted(granted - SCOPES.keys())
    if unknown:
        raise ScopeError(f"unknown scope(s) {', '.join(unknown)}; one of {', '.join(SCOPES)}")
    refused = sorted(scope for scope in granted if kind not in SCOPES[scope].kinds)
    if refused:
        raise ScopeError(f"a {kind} credential may not hold {', '.join(refused)}")
    if (STORE_SCOPE in granted) != (store_id is not None):
        raise ScopeError("the store scope needs a store id, and a store id needs the store scope")
    return granted


def effective_scopes(kind: str, scopes: Iterable[str], store_id: str | None) -> frozenset[str]:
    """What a stored credential may really do: a scope its kind may not hold (say one written into
    Redis by hand) is ignored, and so is `store` without a store to bind it to."""
    return frozenset(
        scope
        for scope in scopes
        if scope in SCOPES and kind in SCOPES[scope].kinds and (scope != STORE_SCOPE or store_id)
    )


def satisfies(held: frozenset[str], required: Iterable[str]) -> bool:
    """True when `held` grants any one of `required`; `service` grants every tier scope."""
    return any(scope in held or (SERVICE_SCOPE in held and not SCOPES[scope].for_channels) for scope in required)
