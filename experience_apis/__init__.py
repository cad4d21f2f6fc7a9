"""Experience APIs: availability shaped for one audience each (web shop, stores, call centre).
What they share lives here: app.py (create_experience_app, the process-API client) and fields.py
(fields, checks and limits); the process API's client itself is process_apis.inventory.contract."""
