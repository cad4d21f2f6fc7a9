"""The entity model of the two simulated OData services, declared once.

`metadata.py` renders the EDMX documents from it and `odata.py` serializes and filters rows with
it, so the `$metadata` a client parses and the JSON it receives cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

STRING, DECIMAL, DATETIME, TIME, BOOLEAN = "Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.Time", "Edm.Boolean"
STOCK_SERVICE, DOCUMENT_SERVICE = "API_MATERIAL_STOCK_SRV", "API_MATERIAL_DOCUMENT_SRV"


@dataclass(frozen=True)
class Property:
    name: str
    edm_type: str = STRING
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    label: str = ""
    unit: str | None = None  # sap:unit, the property holding the unit of measure
    display_format: str | None = None  # sap:display-format, "Date" for date-only DateTime fields


@dataclass(frozen=True)
class Navigation:
    name: str
    target: str  # entity type name
    many: bool
    association: str


@dataclass(frozen=True)
class EntityType:
    name: str
    set_name: str
    keys: tuple[str, ...]
    properties: tuple[Property, ...]
    navigation: tuple[Navigation, ...] = ()
    creatable: bool = False
    label: str = ""

    @cached_property
    def _by_name(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties}

    def property(self, name: str) -> Property | None:
        return self._by_name.get(name)

    def nav(self, name: str) -> Navigation | None:
        return next((n for n in self.navigation if n.name == name), None)


@dataclass(frozen=True)
class Parameter:
    name: str
    edm_type: str
    max_length: int | None = None
    nullable: bool = False


@dataclass(frozen=True)
class FunctionImport:
    name: str
    return_type: str  # entity type name
    entity_set: str
    parameters: tuple[Parameter, ...]
    http_method: str = "POST"
    label: str = ""


@dataclass(frozen=True)
class Service:
    name: str
    entity_types: tuple[EntityType, ...]
    function_imports: tuple[FunctionImport, ...] = ()

    def entity_set(self, set_name: str) -> EntityType | None:
        return next((t for t in self.entity_types if t.set_name == set_name), None)

    def entity_type(self, type_name: str) -> EntityType:
        return next(t for t in self.entity_types if t.name == type_name)

    def function(self, name: str) -> FunctionImport | None:
        return next((f for f in self.function_imports if f.name == name), None)


def _s(name: str, max_length: int, label: str = "") -> Property:
    return Property(name, STRING, max_length=max_length, label=label)


def _qty(name: str, unit: str, label: str) -> Property:
    return Property(name, DECIMAL, precision=13, scale=3, label=label, unit=unit)


def _date(name: str, label: str) -> Property:
    return Property(name, DATETIME, precision=0, label=label, display_format="Date")


STOCK_KEYS = (
    "Material",
    "Plant",
    "StorageLocation",
    "Batch",
    "Supplier",
    "Customer",
    "WBSElementInternalID",
    "SDDocument",
    "SDDocumentItem",
    "InventorySpecialStockType",
    "InventoryStockType",
)

MATERIAL_STOCK = EntityType(
    "A_MaterialStockType",
    "A_MaterialStock",
    ("Material",),
    (_s("Material", 40, "Material"), _s("MaterialBaseUnit", 3, "Base Unit of Measure")),
    (Navigation("to_MatlStkInAcctMod", "A_MatlStkInAcctModType", True, "assoc_MaterialStock_MatlStkInAcctMod"),),
    label="Material Stock",
)

MATL_STK_IN_ACCT_MOD = EntityType(
    "A_MatlStkInAcctModType",
    "A_MatlStkInAcctMod",
    STOCK_KEYS,
    (
        _s("Material", 40, "Material"),
        _s("Plant", 4, "Plant"),
        _s("StorageLocation", 4, "Storage Location"),
        _s("Batch", 10, "Batch"),
        _s("Supplier", 10, "Supplier"),
        _s("Customer", 10, "Customer"),
        _s("WBSElementInternalID", 24, "WBS Element"),
        _s("SDDocument", 10, "Sales Document"),
        _s("SDDocumentItem", 6, "Item"),
        _s("InventorySpecialStockType", 1, "Special Stock Type"),
        _s("InventoryStockType", 2, "Stock Type"),
        _s("WBSElementExternalID", 24, "WBS Element"),
        _s("MaterialBaseUnit", 3, "Base Unit of Measure"),
        _qty("MatlWrhsStkQtyInMatlBaseUnit", "MaterialBaseUnit", "Quantity in Base Unit"),
    ),
    label="Material Stock in Account Model",
)

DOCUMENT_HEADER = EntityType(
    "A_MaterialDocumentHeaderType",
    "A_MaterialDocumentHeader",
    ("MaterialDocumentYear", "MaterialDocument"),
    (
        _s("MaterialDocumentYear", 4, "Material Doc. Year"),
        _s("MaterialDocument", 10, "Material Document"),
        _s("InventoryTransactionType", 2, "Transaction Type"),
        _date("DocumentDate", "Document Date"),
        _date("PostingDate", "Posting Date"),
        _date("CreationDate", "Entry Date"),
        Property("CreationTime", TIME, precision=0, label="Time of Entry"),
        _s("CreatedByUser", 12, "User Name"),
        _s("MaterialDocumentHeaderText", 25, "Doc.Header Text"),
        _s("ReferenceDocument", 16, "Reference"),
        _s("GoodsMovementCode", 2, "GM Code"),
    ),
    (
        Navigation(
            "to_MaterialDocumentItem",
            "A_MaterialDocumentItemType",
            True,
            "assoc_MaterialDocumentHeader_MaterialDocumentItem",
        ),
    ),
    creatable=True,
    label="Material Document Header",
)

DOCUMENT_ITEM = EntityType(
    "A_MaterialDocumentItemType",
    "A_MaterialDocumentItem",
    ("MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem"),
    (
        _s("MaterialDocumentYear", 4, "Material Doc. Year"),
        _s("MaterialDocument", 10, "Material Document"),
        _s("MaterialDocumentItem", 4, "Material Doc.Item"),
        _s("Material", 40, "Material"),
        _s("Plant", 4, "Plant"),
        _s("StorageLocation", 4, "Storage Location"),
        _s("Batch", 10, "Batch"),
        _s("GoodsMovementType", 3, "Movement Type"),
        _s("InventoryStockType", 2, "Stock Type"),
        _s("InventorySpecialStockType", 1, "Special Stock"),
        _s("Supplier", 10, "Supplier"),
        _s("Customer", 10, "Customer"),
        _s("SalesOrder", 10, "Sales Order"),
        _s("SalesOrderItem", 6, "Sales Ord. Item"),
        _s("PurchaseOrder", 10, "Purchase Order"),
        _s("PurchaseOrderItem", 5, "Item"),
        _s("Delivery", 10, "Delivery"),
        _s("DeliveryItem", 6, "Delivery Item"),
        _s("Reservation", 10, "Reservation"),
        _s("IssuingOrReceivingPlant", 4, "Receiving Plant"),
        _s("IssuingOrReceivingStorageLoc", 4, "Receiving Stor. Loc."),
        _qty("QuantityInEntryUnit", "EntryUnit", "Qty in Unit of Entry"),
        _s("EntryUnit", 3, "Unit of Entry"),
        _qty("QuantityInBaseUnit", "MaterialBaseUnit", "Quantity"),
        _s("MaterialBaseUnit", 3, "Base Unit of Measure"),
        Property("GoodsMovementIsCancelled", BOOLEAN, label="Item has been reversed"),
        _s("ReversedMaterialDocumentYear", 4, "Mat. Doc. Year"),
        _s("ReversedMaterialDocument", 10, "Material Doc."),
        _s("ReversedMaterialDocumentItem", 4, "Mat. Doc. Item"),
        _s("MaterialDocumentItemText", 50, "Text"),
    ),
    creatable=True,
    label="Material Document Item",
)

_CANCEL_KEYS = (Parameter("MaterialDocumentYear", STRING, 4), Parameter("MaterialDocument", STRING, 10))
_POSTING_DATE = Parameter("PostingDate", DATETIME, nullable=True)

SERVICES: dict[str, Service] = {
    STOCK_SERVICE: Service(STOCK_SERVICE, (MATERIAL_STOCK, MATL_STK_IN_ACCT_MOD)),
    DOCUMENT_SERVICE: Service(
        DOCUMENT_SERVICE,
        (DOCUMENT_HEADER, DOCUMENT_ITEM),
        (
            FunctionImport(
                "Cancel", DOCUMENT_HEADER.name, DOCUMENT_HEADER.set_name, (*_CANCEL_KEYS, _POSTING_DATE), label="Cancel"
            ),
            FunctionImport(
                "CancelItem",
                DOCUMENT_HEADER.name,
                DOCUMENT_HEADER.set_name,
                (*_CANCEL_KEYS, Parameter("MaterialDocumentItem", STRING, 4), _POSTING_DATE),
                label="Cancel Item",
            ),
        ),
    ),
}
