"""SAP S/4HANA system API: stock and material documents over OData, business events in, canonical events out."""
