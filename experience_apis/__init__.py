"""Experience APIs: availability shaped for one audience each (web shop, stores, call centre)."""
