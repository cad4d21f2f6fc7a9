"""The one app builder every API package's `create_app` calls: wiring shared by all tiers."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import flask
import flask_smorest

from shared import auth, health, metrics, rate_limits, security_headers, swagger_ui
from shared import logging as gateway_logging
from shared.config import SharedSettings
from shared.errors import ProblemApi
from shared.json_bodies import BodyCappedRequest
from shared.redis import create_redis


def create_api_app(
    import_name: str,
    *,
    title: str,
    version: str,
    settings: SharedSettings,
    blueprints: Iterable[flask_smorest.Blueprint],
    auth_kinds: Collection[str],
    redis: Any = None,
    description: str = "",
    docs_prefix: str = "/",
    limiter: Any = None,
) -> flask.Flask:
    """A Flask app with settings, Redis, JSON logs, metrics, probes, problem+json errors and
    an OpenAPI 3.0.3 document at {docs_prefix}openapi.json (Swagger UI at {docs_prefix}docs)
    covering `blueprints`. An API served beside others in one process (the all-in-one shape)
    puts its documents under its own prefix, e.g. docs_prefix="/sap/v1/".

    Every other view needs credentials (shared.auth): an API key of one of `auth_kinds` holding a
    scope the view `@requires`, within its kind's rate limit (`limiter`, default the RATE_LIMIT_*
    settings). Probes (/livez, /readyz), /metrics and the doc routes are public and left out of the
    OpenAPI document.
    """
    gateway_logging.configure_logging(settings.log_level)
    app = flask.Flask(import_name)
    app.request_class = BodyCappedRequest
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=docs_prefix,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": description}} if description else {},
    )
    app.extensions["settings"] = settings
    app.extensions["redis"] = redis if redis is not None else create_redis(settings)

    gateway_logging.init_app(app)
    security_headers.init_app(app)
    metrics.init_app(app, api_name=import_name, token=settings.metrics_token)
    app.register_blueprint(health.blueprint)
    # Our own Swagger UI page, not flask-smorest's: that one loads Swagger UI from a CDN and starts it
    # with an inline script.
    app.register_blueprint(
        swagger_ui.docs_blueprint(f"{docs_prefix}docs", [(title, f"{docs_prefix}openapi.json")], title=title)
    )

    api = ProblemApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["api"] = api
    store = auth.CredentialStore(app.extensions["redis"], cache_seconds=settings.auth_cache_seconds)
    limiter = limiter or rate_limits.create_limiter_for(settings, app.extensions["redis"])
    failed_keys = rate_limits.create_failed_key_throttle_for(settings, app.extensions["redis"])
    auth.init_app(app, store, limiter=limiter, failed_keys=failed_keys, kinds=auth_kinds)
    return app
