"""What several of the process API's schemas share: the identifier and channel fields."""

from __future__ import annotations

from marshmallow import fields

from shared.validators import FullMatch

from ..service.event_parsing import Identifier

__all__ = ["Channel", "Identifier"]

Channel = lambda **kw: fields.String(validate=FullMatch(r"^[a-z][a-z0-9_]{0,31}$"), **kw)  # noqa: E731
