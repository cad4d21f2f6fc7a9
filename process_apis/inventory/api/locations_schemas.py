"""Bodies of /inventory/v1/locations and /inventory/v1/location-groups."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..domain.locations import FULFILMENT_METHODS, LOCATION_TYPES, SOURCING_STRATEGIES
from .common_schemas import Channel, Identifier


class LocationSchema(Schema):
    id = fields.String(dump_only=True)
    type = fields.String(required=True, validate=validate.OneOf(LOCATION_TYPES))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    region = fields.String(load_default=None, validate=validate.Length(max=100))
    postal_code = fields.String(load_default=None, validate=validate.Length(max=20))
    latitude = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    channels = fields.List(Channel(), load_default=list, validate=validate.Length(max=20))
    fulfilment_methods = fields.List(
        fields.String(validate=validate.OneOf(FULFILMENT_METHODS)), load_default=list, validate=validate.Length(max=2)
    )


class LocationGroupSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    members = fields.List(Identifier(), required=True, validate=validate.Length(1, 1000))
    channel = Channel(load_default=None)
    sourcing_strategy = fields.String(load_default="priority", validate=validate.OneOf(SOURCING_STRATEGIES))
    fulfilment_method = fields.String(load_default=None, validate=validate.OneOf(FULFILMENT_METHODS))
