"""SAP S/4HANA simulator: OData v2 stock and material-document services, business events."""
