"""The inventory domain in plain Python: no Flask, no Redis. Tested in microseconds."""
