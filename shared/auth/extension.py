"""The Flask side of credentials: who is calling (before every request), what each view requires
(`@requires`, `@public`), the object-level store check, and the OpenAPI security documentation.

Secure by default: a view that declares neither `@requires(...)` nor `@public` is refused (403), and
`undeclared_routes(app)` lists such views so a test can assert there are none.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import flask
from flask_smorest import Blueprint

from shared import metrics
from shared.errors import Problem

from .credentials import Credential, CredentialStore
from .scopes import KINDS, SCOPES, satisfies

REALM = "inventory-gateway"
SECURITY_SCHEME = "ApiKey"
API_KEY_HEADER = "X-API-Key"
#: Probes, metrics, Flask's static files (public assets by nature; only when a static folder exists) and
#: the OpenAPI document / Swagger UI (flask-smorest's "api-docs" blueprint).
PUBLIC_ENDPOINTS = frozenset({"health.livez", "health.readyz", "metrics", "static"})
PUBLIC_BLUEPRINT_SUFFIX = "api-docs"
_REQUIRED = "_auth_required_scopes"
_PUBLIC = "_auth_public"

auth_refusals = metrics.counter(
    "gateway_auth_refusals_total", "Requests refused by authentication or scope checks", ("reason",)
)


def requires(*scopes: str) -> Callable:
    """Declare the scopes a view needs (any one of them suffices) and document them in OpenAPI:
    the ApiKey security requirement, the scopes (`x-scopes`) and the 401/403/429 problem responses.
    Put it on a MethodView method or on a view function, in any order among flask-smorest's decorators."""
    if not scopes:
        raise TypeError("requires() needs at least one scope; use @public for an open view")
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}")
    document = Blueprint.doc(
        security=[{SECURITY_SCHEME: []}],
        responses={"401": "UNAUTHORIZED", "403": "FORBIDDEN", "429": "TOO_MANY_REQUESTS"},
        **{"x-scopes": list(scopes)},
    )

    def decorator(view: Callable) -> Callable:
        documented = document(view)
        setattr(documented, _REQUIRED, tuple(scopes))
        return documented

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as open to anyone, without credentials (probes, documents, signed webhooks)."""
    setattr(view, _PUBLIC, True)
    return view


def current_credential() -> Credential | None:
    """The credential of the request being served (None on a public view or outside a request)."""
    return flask.g.get("credential") if flask.has_request_context() else None


def require_store(store_id: str) -> None:
    """Object-level check: a credential bound to one store may act for that store only (403 otherwise)."""
    credential = current_credential()
    if credential is not None and credential.store_id is not None and credential.store_id != store_id:
        auth_refusals.labels("other_store").inc()
        raise Problem(
            403,
            f"This credential is for store {credential.store_id}; it cannot act for store {store_id}.",
            type_slug="other-store",
        )


def init_app(
    app: flask.Flask,
    store: CredentialStore,
    *,
    limiter=None,
    failed_keys=None,
    kinds: Collection[str] = KINDS,
) -> None:
    """Require credentials on every non-public view of `app`, accepting only `kinds` of client
    (the process and system APIs pass `TIER_KINDS`), then count each authorised request against its
    client's rate limit with `limiter` (a `shared.rate_limits.RateLimiter`; 429 when over). Invalid keys
    are counted per source address by `failed_keys` (a `shared.rate_limits.FailedKeyThrottle`; 429 beyond
    its limit).
    Call it after the blueprints are registered (the OpenAPI security scheme goes into their spec)."""
    accepted_kinds = frozenset(kinds)
    app.extensions["credentials"] = store

    def authenticate() -> None:
        rule = flask.request.url_rule
        # Flask sets provide_automatic_options on each Rule it adds; werkzeug's Rule does not declare it.
        if flask.request.method == "OPTIONS" and rule is not None and rule.provide_automatic_options:  # type: ignore[attr-defined]
            return  # Flask answers it (Allow header) without running any view code
        requirement = _requirement(app, flask.request.endpoint, flask.request.method)
        if requirement is None:
            return
        credential = _authenticated(store, failed_keys)
        flask.g.credential = credential
        flask.g.client_id = credential.client_id  # the scope of its Idempotency-Keys (shared.idempotency)
        if credential.kind not in accepted_kinds:
            auth_refusals.labels("kind").inc()
            raise Problem(403, f"A {credential.kind} credential cannot call this API.", type_slug="forbidden-kind")
        if not requirement:
            auth_refusals.labels("undeclared").inc()
            raise Problem(403, "This operation declares no scope, so nobody may call it.")
        if not satisfies(credential.effective_scopes, requirement):
            auth_refusals.labels("scope").inc()
            raise Problem(
                403,
                f"This operation needs the scope {' or '.join(requirement)}.",
                type_slug="insufficient-scope",
                required_scopes=list(requirement),
            )
        if limiter is not None:
            limiter.check(credential)  # only now: refused requests do not use up the client's budget

    app.before_request(authenticate)
    api = app.extensions.get("api")
    if api is not None:
        api.spec.components.security_scheme(
            SECURITY_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "igw_<client_id>.<secret>",
                "description": "An API key (`inventory-gateway credentials create`), sent as `Authorization: "
                "Bearer <key>` or `X-API-Key: <key>`. Each operation lists the scopes it accepts "
                "(any one suffices) under `x-scopes`.",
            },
        )


def _authenticated(store: CredentialStore, failed_keys) -> Credential:
    api_key = _presented_key(flask.request.headers)
    credential = store.verify(api_key) if api_key else None
    if credential is None:
        auth_refusals.labels("invalid_key" if api_key else "missing_key").inc()
        if api_key and failed_keys is not None:
            failed_keys.count_failure(flask.request.remote_addr or "unknown")
        challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if api_key else "")
        detail = (
            "The API key is not valid."
            if api_key
            else "Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`."
        )
        raise Problem(401, detail, headers={"WWW-Authenticate": challenge})
    return credential


def _presented_key(headers) -> str | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get(API_KEY_HEADER, "").strip() or None


def _requirement(app: flask.Flask, endpoint: str | None, method: str) -> tuple[str, ...] | None:
    """None for an open request (public view, or no view: 404/405 answer as usual), else the scopes
    the view requires (empty when it declares none)."""
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0].endswith(PUBLIC_BLUEPRINT_SUFFIX):
        return None
    view = _handler(app.view_functions.get(endpoint), method)
    if view is None:
        return None  # a method the view lacks: 405 as usual
    if getattr(view, _PUBLIC, False):
        return None
    return getattr(view, _REQUIRED, ())


def _handler(view_function: Any, method: str) -> Callable | None:
    view_class = getattr(view_function, "view_class", None)
    if view_class is None:
        return view_function
    handler = getattr(view_class, method.lower(), None)
    if handler is None and method == "HEAD":
        handler = getattr(view_class, "get", None)
    return handler


def undeclared_routes(app: flask.Flask) -> list[str]:
    """'METHOD /rule' of every view that neither requires scopes nor is public: each would answer 403."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if _requirement(app, rule.endpoint, method) == ():
                found.append(f"{method} {rule.rule}")
    return found
