"""The org's object model as data: which sObjects exist, their key prefixes and fields.

Adding an object or a field is a row in `STANDARD_OBJECTS`; validation (records.py), SOQL
(soql.py) and describe (routes.py) all read these descriptions, none of them names an object.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

STRING, TEXTAREA, PICKLIST, BOOLEAN, DOUBLE, DATETIME, ID = (
    "string",
    "textarea",
    "picklist",
    "boolean",
    "double",
    "datetime",
    "id",
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str = STRING
    label: str = ""
    length: int = 255  # characters, for text types
    required: bool = False  # must be given on create (Salesforce: nillable false, no default)
    external_id: bool = False  # usable as the key of an upsert
    unique: bool = False
    picklist: tuple[str, ...] = ()  # a restricted picklist's values
    writable: bool = True  # system fields are read-only
    default: object = None

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "length": self.length if self.type in (STRING, TEXTAREA, PICKLIST) else 0,
            "nillable": not self.required and self.type != BOOLEAN,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.external_id or self.type == ID,
            "createable": self.writable,
            "updateable": self.writable,
            "defaultValue": self.default,
            "restrictedPicklist": bool(self.picklist),
            "picklistValues": [{"value": v, "label": v, "active": True, "defaultValue": False} for v in self.picklist],
        }


# Every record has these; Salesforce sets them, a client may not.
RECORD_SYSTEM_FIELDS = (
    Field("Id", ID, "Record ID", length=18, writable=False),
    Field("CreatedDate", DATETIME, "Created Date", writable=False),
    Field("LastModifiedDate", DATETIME, "Last Modified Date", writable=False),
    Field("SystemModstamp", DATETIME, "System Modstamp", writable=False),
)
EVENT_SYSTEM_FIELDS = (
    Field("ReplayId", STRING, "Replay ID", writable=False),
    Field("EventUuid", STRING, "Event UUID", length=36, writable=False),
    Field("CreatedDate", DATETIME, "Created Date", writable=False),
)


@dataclass(frozen=True)
class SObjectType:
    name: str
    label: str
    key_prefix: str  # the first three characters of every Id of this object
    own_fields: tuple[Field, ...]
    custom: bool = False
    event: bool = False  # a Platform Event: published, never stored as a record
    fields: dict[str, Field] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        system = EVENT_SYSTEM_FIELDS if self.event else RECORD_SYSTEM_FIELDS
        object.__setattr__(self, "fields", {f.name: f for f in system + self.own_fields})

    def field(self, name: str) -> Field | None:
        """The field called `name`; Salesforce field names are case-insensitive."""
        found = self.fields.get(name)
        if found is None:
            found = next((f for f in self.fields.values() if f.name.lower() == name.lower()), None)
        return found

    def external_id_field(self, name: str) -> Field | None:
        found = self.field(name)
        return found if found is not None and (found.external_id or found.type == ID) else None

    def describe(self, base: str, *, with_fields: bool = False) -> dict:
        urls = {
            "sobject": f"{base}/sobjects/{self.name}",
            "describe": f"{base}/sobjects/{self.name}/describe",
            "rowTemplate": f"{base}/sobjects/{self.name}/{{ID}}",
        }
        description = {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label + "s",
            "keyPrefix": self.key_prefix,
            "custom": self.custom,
            "queryable": not self.event,
            "createable": True,
            "updateable": not self.event,
            "deletable": not self.event,
            "searchable": not self.event,
            "retrieveable": not self.event,
            "urls": urls,
        }
        if with_fields:
            description["fields"] = [f.describe() for f in self.fields.values()]
        return description


AVAILABILITY_FIELDS = (
    Field("SKU__c", STRING, "SKU", length=80, required=True),
    Field("Location__c", STRING, "Location or Location Group", length=80, required=True),
    Field("Location_Type__c", PICKLIST, "Location Type", picklist=("location", "location_group")),
    Field("Channel__c", STRING, "Channel", length=80),
    Field("Available_To_Sell__c", DOUBLE, "Available to Sell"),
    Field("Available_To_Order__c", DOUBLE, "Available to Order"),
    Field("Status__c", STRING, "Status", length=40),
    Field("As_Of__c", DATETIME, "As Of"),
)

STANDARD_OBJECTS = (
    SObjectType(
        "Product2",
        "Product",
        "01t",
        (
            Field("Name", STRING, "Product Name", required=True),
            Field("ProductCode", STRING, "Product Code"),
            Field("StockKeepingUnit", STRING, "Product SKU", length=180, external_id=True, unique=True),
            Field("IsActive", BOOLEAN, "Active", default=False),
            Field("Description", TEXTAREA, "Product Description", length=4000),
        ),
    ),
    SObjectType(
        "Product_Availability__c",
        "Product Availability",
        "a0A",
        (
            Field("Availability_Key__c", STRING, "Availability Key", external_id=True, unique=True),
            *AVAILABILITY_FIELDS,
        ),
        custom=True,
    ),
    SObjectType(
        "Inventory_Availability__e",
        "Inventory Availability",
        "e00",
        (
            Field("Availability_Key__c", STRING, "Availability Key"),
            *AVAILABILITY_FIELDS,
        ),
        custom=True,
        event=True,
    ),
)
