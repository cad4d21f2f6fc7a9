"""The inventory process API: events → ledger → availability, reservations and rules."""
