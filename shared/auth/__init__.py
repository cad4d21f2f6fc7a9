"""Credentials, scopes and their enforcement for every tier (API keys; see credentials.py).

store = CredentialStore(redis)
auth.init_app(app, store, limiter=rate_limits.create_limiter_for(settings, redis), kinds=TIER_KINDS)

@blp.route("/availability")
class Availability(MethodView):
    @requires("inventory:read")
    def get(self): ...
"""

from .credentials import (
    Credential,
    CredentialError,
    CredentialExists,
    CredentialStore,
    new_api_key,
    service_api_key,
    tier_api_key,
    tier_auth_headers,
)
from .extension import current_credential, init_app, public, require_store, requires, undeclared_routes
from .scopes import CHANNEL_KINDS, KINDS, SCOPES, TIER_KINDS

__all__ = [
    "CHANNEL_KINDS",
    "KINDS",
    "SCOPES",
    "TIER_KINDS",
    "Credential",
    "CredentialError",
    "CredentialExists",
    "CredentialStore",
    "current_credential",
    "init_app",
    "new_api_key",
    "public",
    "require_store",
    "requires",
    "service_api_key",
    "tier_api_key",
    "tier_auth_headers",
    "undeclared_routes",
]
