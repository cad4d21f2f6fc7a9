"""Bodies of /inventory/v1/locations and /inventory/v1/location-groups."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.validators import Text

from ..domain.locations import FULFILMENT_METHODS, LOCATION_TYPES, SOURCING_STRATEGIES
from .common_schemas import Channel, Identifier


class LocationSchema(Schema):
    id = fields.String(dump_only=True)
    type = fields.String(required=True, validate=validate.OneOf(LOCATION_TYPES))
    name = Text(200, min_length=0, load_default="")
    region = Text(100, min_length=0, load_default=None)
    postal_code = Text(20, min_length=0, load_default=None)
    latitude = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    channels = fields.List(Channel(), load_default=list, validate=validate.Length(max=20))
    fulfilment_methods = fields.List(
        fields.String(validate=validate.OneOf(FULFILMENT_METHODS)), load_default=list, validate=validate.Length(max=2)
    )


class LocationGroupSchema(Schema):
    id = fields.String(dump_only=True)
    name = Text(200, min_length=0, load_default="")
    members = fields.List(Identifier(), required=True, validate=validate.Length(1, 1000))
    channel = Channel(load_default=None)
    sourcing_strategy = fields.String(load_default="priority", validate=validate.OneOf(SOURCING_STRATEGIES))
    fulfilment_method = fields.String(load_default=None, validate=validate.OneOf(FULFILMENT_METHODS))
