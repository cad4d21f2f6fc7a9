"""Liveness and readiness probes: /livez (the process answers) and /readyz (Redis answers)."""

from __future__ import annotations

import logging

import flask
from redis.exceptions import RedisClusterException, RedisError

from shared.errors import Problem

logger = logging.getLogger(__name__)

blueprint = flask.Blueprint("health", __name__)


@blueprint.get("/livez")
def livez():
    return {"status": "ok"}


@blueprint.get("/readyz")
def readyz():
    try:
        flask.current_app.extensions["redis"].ping()
    except (RedisError, RedisClusterException, OSError) as error:
        logger.warning("readiness check failed: redis unreachable (%s)", type(error).__name__)
        raise Problem(
            503, "Redis is not reachable.", title="Not ready", type_slug="not-ready", checks={"redis": "unreachable"}
        ) from None
    return {"status": "ready", "checks": {"redis": "ok"}}
