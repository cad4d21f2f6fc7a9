"""Salesforce org simulator: OAuth 2.0 token endpoint, REST API (sObjects, upserts, sObject
Collections, Platform Events, SOQL), Sforce-Limit-Info and fault injection.

Where things are: app.py (create_app) · oauth.py (token endpoint) · routes.py (REST) ·
composite.py (collections) · soql.py + cursors.py (queries, paging) · admin.py (/sf-sim/admin) ·
org.py (SalesforceOrg, all state; OrgOptions) · records.py (records, transactions, history) ·
schema.py (objects as data) · values.py (field types) · ids.py · sessions.py · faults.py ·
seed.py (demo products) · driver.py (Order Management traffic) · serve.py (run it alone).
"""
