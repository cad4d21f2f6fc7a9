"""Fields, checks and limits the channel APIs share: identifiers, instants, the abuse limits of
OWASP API4/API6 from ExperienceSettings (units per line, lines per reservation), read at request time so each
app's own settings govern its requests, the lifetime of a channel's reservations, and the
incoming-shipment part of an answer.
"""

from __future__ import annotations

import flask
from marshmallow import Schema, ValidationError, fields, validate

# The process API's published identifier rule (its OpenAPI pattern), so a channel never refuses an
# id the process API would accept, nor passes one on that it would refuse.
from process_apis.inventory import contract
from process_apis.inventory.contract import IDENTIFIER, IDENTIFIER_RULE
from shared.errors import Problem

from .settings import ExperienceSettings


def current_settings() -> ExperienceSettings:
    return flask.current_app.extensions["settings"]


def _env(setting: str) -> str:
    return ExperienceSettings.env(setting)


def reservation_ttl(settings: ExperienceSettings, setting: str) -> int:
    """The lifetime a channel setting gives reservations (`order_reservation_ttl_seconds`,
    `web_hold_ttl_seconds`), capped by RESERVATION_MAX_TTL_SECONDS: the process API refuses a longer
    one, and ExperienceSettings does not check one against the other."""
    return min(getattr(settings, setting), settings.reservation_max_ttl_seconds)


class AtMostSetting(validate.Validator):
    """A quantity (or a list's length) of at most the value of one ExperienceSettings field of the app
    serving the request, e.g. `AtMostSetting("max_units_per_line")`."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    def limit(self, settings: ExperienceSettings) -> tuple[int, str]:
        """The limit, and what sets it (as the environment names it)."""
        return getattr(settings, self.setting), _env(self.setting)

    def __call__(self, value):
        limit, source = self.limit(current_settings())
        measured = len(value) if isinstance(value, (list, tuple)) else value
        if measured > limit:
            raise ValidationError(f"Must be at most {limit} ({source}).")
        return value


class AtMostReservationTtl(AtMostSetting):
    """Seconds, at most the lifetime a channel setting gives reservations (see reservation_ttl)."""

    def limit(self, settings: ExperienceSettings) -> tuple[int, str]:
        limit, source = super().limit(settings)
        capped = reservation_ttl(settings, self.setting)
        if capped < limit:
            return capped, f"{source}, capped by {_env('reservation_max_ttl_seconds')}"
        return limit, source


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and contract.is_identifier(value)


class IdentifierRule(validate.Validator):
    def __call__(self, value):
        if not is_identifier(value):
            raise ValidationError(f"Must be {IDENTIFIER_RULE}.")
        return value


def Identifier(metadata: dict | None = None, **kwargs) -> fields.String:  # noqa: N802 (a field factory)
    return fields.String(
        validate=IdentifierRule(), metadata={"pattern": IDENTIFIER.pattern, **(metadata or {})}, **kwargs
    )


def Instant(description: str = "", **kwargs) -> fields.String:  # noqa: N802
    """An ISO 8601 instant, passed on as the process API wrote it."""
    return fields.String(
        metadata={"format": "date-time", **({"description": description} if description else {})}, **kwargs
    )


def LineQuantity(metadata: dict | None = None, **kwargs) -> fields.Integer:  # noqa: N802
    """Whole units, 1 to MAX_UNITS_PER_LINE."""
    metadata = dict(metadata or {})
    limit = f"whole units, 1 to {_env('max_units_per_line')} (default {ExperienceSettings.max_units_per_line})"
    metadata["description"] = "; ".join(filter(None, [limit, metadata.get("description")]))
    return fields.Integer(
        strict=True, validate=[validate.Range(min=1), AtMostSetting("max_units_per_line")], metadata=metadata, **kwargs
    )


def Lines(schema, **kwargs) -> fields.List:  # noqa: N802
    """1 to MAX_LINES_PER_RESERVATION lines of `schema`."""
    limit = f"1 to {_env('max_lines_per_reservation')} lines (default {ExperienceSettings.max_lines_per_reservation})"
    return fields.List(
        fields.Nested(schema),
        metadata={"description": limit},
        validate=[validate.Length(min=1), AtMostSetting("max_lines_per_reservation")],
        **kwargs,
    )


def check_path_ids(**values: str) -> None:
    """422 (problem, errors by location as webargs nests them) unless every path id follows the rule."""
    invalid = {name: [f"Must be {IDENTIFIER_RULE}."] for name, value in values.items() if not is_identifier(value)}
    if invalid:
        raise Problem(422, "The request has invalid fields; see `errors`.", errors={"path": invalid})


class IncomingSchema(Schema):
    """A shipment on its way to a location."""

    quantity = fields.Integer()
    expected_at = Instant("null: no ETA given nor ruled", allow_none=True)
    from_location = fields.String(allow_none=True, metadata={"description": "null: units no shipment explains"})
