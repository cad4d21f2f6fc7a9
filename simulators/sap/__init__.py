"""SAP S/4HANA simulator: OData v2 stock and material-document services, business events.

Where things are: app.py (create_app) · routes.py (OData endpoints) · admin.py (/sap-sim/admin) ·
system.py (SapSystem, all state) · stock.py (stock table, postings) · movements.py (movement types,
as data) · entities.py + metadata.py ($metadata) · odata.py + filters.py (query options, JSON) ·
csrf.py · events.py (CloudEvents broker, signature scheme) · faults.py · seed.py (demo landscape) ·
driver.py (traffic driver) · serve.py (run it alone).
"""
